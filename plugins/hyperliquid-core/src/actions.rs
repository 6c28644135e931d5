//! Every action this crate signs, with the exact key order the signature covers,
//! and strict parsing of action JSON received in any key order.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::approve_agent::ApproveAgent;
use crate::cloid::Cloid;
use crate::order::{OrderAction, OrderWire};

/// `cancel` body: key `cancels`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelAction {
    /// Orders to cancel.
    pub cancels: Vec<CancelWire>,
}

/// One cancel by exchange order id: keys `a, o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelWire {
    /// Asset id (`a`).
    #[serde(rename = "a")]
    pub asset: u32,
    /// Exchange order id (`o`).
    #[serde(rename = "o")]
    pub oid: u64,
}

/// `cancelByCloid` body: key `cancels`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelByCloidAction {
    /// Orders to cancel.
    pub cancels: Vec<CancelByCloidWire>,
}

/// One cancel by client order id: keys `asset, cloid` (not `a`/`o`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelByCloidWire {
    /// Asset id.
    pub asset: u32,
    /// Client order id.
    pub cloid: Cloid,
}

/// Which order a modify replaces: an exchange order id or a client order id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OrderRef {
    /// Exchange order id (a JSON integer).
    Oid(u64),
    /// Client order id (a JSON string).
    Cloid(Cloid),
}

/// One modification: keys `oid, order`. The body of `modify` and each element of
/// `batchModify`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Modify {
    /// The order to replace.
    pub oid: OrderRef,
    /// Its replacement.
    pub order: OrderWire,
}

/// `batchModify` body: key `modifies`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchModifyAction {
    /// The modifications.
    pub modifies: Vec<Modify>,
}

/// `scheduleCancel` body: key `time`, omitted to clear the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleCancelAction {
    /// Millisecond timestamp at which all orders get cancelled; `None` clears it.
    /// A JSON `null` is read as absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<u64>,
}

/// `updateLeverage` body: keys `asset, isCross, leverage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateLeverageAction {
    /// Asset id.
    pub asset: u32,
    /// Cross (true) or isolated (false) margin.
    #[serde(rename = "isCross")]
    pub is_cross: bool,
    /// Leverage, at least 1.
    pub leverage: u32,
}

/// `updateIsolatedMargin` body: keys `asset, isBuy, ntli`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateIsolatedMarginAction {
    /// Asset id.
    pub asset: u32,
    /// Position side (the SDK always sends `true`).
    #[serde(rename = "isBuy")]
    pub is_buy: bool,
    /// Margin change in micro-USDC (negative removes margin); see [`crate::usd_int`].
    pub ntli: i64,
}

/// Any action this crate can sign. Serializes with `type` first, then the body's
/// keys in signature order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type")]
pub enum Action {
    /// Place orders.
    #[serde(rename = "order")]
    Order(OrderAction),
    /// Cancel by exchange order id.
    #[serde(rename = "cancel")]
    Cancel(CancelAction),
    /// Cancel by client order id.
    #[serde(rename = "cancelByCloid")]
    CancelByCloid(CancelByCloidAction),
    /// Replace one order.
    #[serde(rename = "modify")]
    Modify(Modify),
    /// Replace several orders.
    #[serde(rename = "batchModify")]
    BatchModify(BatchModifyAction),
    /// Set or clear the dead man's switch.
    #[serde(rename = "scheduleCancel")]
    ScheduleCancel(ScheduleCancelAction),
    /// Change leverage.
    #[serde(rename = "updateLeverage")]
    UpdateLeverage(UpdateLeverageAction),
    /// Add or remove isolated margin.
    #[serde(rename = "updateIsolatedMargin")]
    UpdateIsolatedMargin(UpdateIsolatedMarginAction),
    /// Burn a nonce.
    #[serde(rename = "noop")]
    Noop,
    /// Authorize an API (agent) wallet; user-signed, not L1.
    #[serde(rename = "approveAgent")]
    ApproveAgent(ApproveAgent),
}

/// The `type` of an [`Action`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionType {
    /// `order`.
    Order,
    /// `cancel`.
    Cancel,
    /// `cancelByCloid`.
    CancelByCloid,
    /// `modify`.
    Modify,
    /// `batchModify`.
    BatchModify,
    /// `scheduleCancel`.
    ScheduleCancel,
    /// `updateLeverage`.
    UpdateLeverage,
    /// `updateIsolatedMargin`.
    UpdateIsolatedMargin,
    /// `noop`.
    Noop,
    /// `approveAgent`.
    ApproveAgent,
}

impl ActionType {
    /// The L1 actions a trading connector sends: every type but the
    /// user-signed `approveAgent`.
    pub const TRADING: [ActionType; 9] = [
        ActionType::Order,
        ActionType::Cancel,
        ActionType::CancelByCloid,
        ActionType::Modify,
        ActionType::BatchModify,
        ActionType::ScheduleCancel,
        ActionType::UpdateLeverage,
        ActionType::UpdateIsolatedMargin,
        ActionType::Noop,
    ];

    /// The wire name (`"order"`, `"cancelByCloid"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ActionType::Order => "order",
            ActionType::Cancel => "cancel",
            ActionType::CancelByCloid => "cancelByCloid",
            ActionType::Modify => "modify",
            ActionType::BatchModify => "batchModify",
            ActionType::ScheduleCancel => "scheduleCancel",
            ActionType::UpdateLeverage => "updateLeverage",
            ActionType::UpdateIsolatedMargin => "updateIsolatedMargin",
            ActionType::Noop => "noop",
            ActionType::ApproveAgent => "approveAgent",
        }
    }

    /// The type with this wire name, if supported.
    pub fn from_wire_name(name: &str) -> Option<Self> {
        Self::TRADING
            .into_iter()
            .chain([ActionType::ApproveAgent])
            .find(|kind| kind.as_str() == name)
    }
}

/// Why action JSON was refused.
#[derive(Debug, thiserror::Error)]
pub enum ActionParseError {
    /// Not JSON at all.
    #[error("action is not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// Not a JSON object.
    #[error("action is not a JSON object")]
    NotAnObject,
    /// No `type` key, or it is not a string.
    #[error("action has no string `type`")]
    MissingType,
    /// A `type` this crate does not sign.
    #[error("unsupported action type {0:?}")]
    UnknownType(String),
    /// Known `type`, but missing, unknown or ill-typed fields.
    #[error("invalid `{action}` action: {source}", action = action.as_str())]
    InvalidFields {
        /// The action type.
        action: ActionType,
        /// What serde found wrong.
        #[source]
        source: serde_json::Error,
    },
}

impl Action {
    /// The action's `type`.
    pub fn action_type(&self) -> ActionType {
        match self {
            Action::Order(_) => ActionType::Order,
            Action::Cancel(_) => ActionType::Cancel,
            Action::CancelByCloid(_) => ActionType::CancelByCloid,
            Action::Modify(_) => ActionType::Modify,
            Action::BatchModify(_) => ActionType::BatchModify,
            Action::ScheduleCancel(_) => ActionType::ScheduleCancel,
            Action::UpdateLeverage(_) => ActionType::UpdateLeverage,
            Action::UpdateIsolatedMargin(_) => ActionType::UpdateIsolatedMargin,
            Action::Noop => ActionType::Noop,
            Action::ApproveAgent(_) => ActionType::ApproveAgent,
        }
    }

    /// Parses action JSON with keys in any order. Unknown types and missing,
    /// unknown or ill-typed fields are refused.
    pub fn from_json(text: &str) -> Result<Self, ActionParseError> {
        let value = serde_json::from_str(text).map_err(ActionParseError::Json)?;
        Self::from_value(value)
    }

    /// Like [`Action::from_json`], from an already parsed JSON value.
    pub fn from_value(value: Value) -> Result<Self, ActionParseError> {
        let Value::Object(mut body) = value else {
            return Err(ActionParseError::NotAnObject);
        };
        let kind = match body.remove("type") {
            Some(Value::String(name)) => {
                ActionType::from_wire_name(&name).ok_or(ActionParseError::UnknownType(name))?
            }
            _ => return Err(ActionParseError::MissingType),
        };
        let parsed = match kind {
            ActionType::Order => body_as(body).map(Action::Order),
            ActionType::Cancel => body_as(body).map(Action::Cancel),
            ActionType::CancelByCloid => body_as(body).map(Action::CancelByCloid),
            ActionType::Modify => body_as(body).map(Action::Modify),
            ActionType::BatchModify => body_as(body).map(Action::BatchModify),
            ActionType::ScheduleCancel => body_as(body).map(Action::ScheduleCancel),
            ActionType::UpdateLeverage => body_as(body).map(Action::UpdateLeverage),
            ActionType::UpdateIsolatedMargin => body_as(body).map(Action::UpdateIsolatedMargin),
            ActionType::Noop => body_as::<NoopBody>(body).map(|NoopBody {}| Action::Noop),
            ActionType::ApproveAgent => body_as(body).map(Action::ApproveAgent),
        };
        parsed.map_err(|source| ActionParseError::InvalidFields {
            action: kind,
            source,
        })
    }
}

/// The (empty) body of `noop`; exists to refuse extra keys.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoopBody {}

fn body_as<T: DeserializeOwned>(body: Map<String, Value>) -> Result<T, serde_json::Error> {
    serde_json::from_value(Value::Object(body))
}

impl<'de> Deserialize<'de> for Action {
    /// Same rules as [`Action::from_value`].
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Action::from_value(value).map_err(serde::de::Error::custom)
    }
}
