//! The command protocol's messages (see `docs/command-protocol.md`).

use rust_decimal::Decimal;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::Role;
use crate::order::{
    ClientOrderId, Exit, OrderType, PositionAction, TimeInForce, TradeType, TriggerReference,
};
use crate::trading::{CommandError, MarginMode, OrderCommand};

/// An exact decimal from a JSON string (`"0.1"`) or a JSON number of at most
/// 15 significant digits (`0.1`), which reads back exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExactDecimal(pub Decimal);

impl<'de> Deserialize<'de> for ExactDecimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ExactDecimal, D::Error> {
        let parse = |text: &str| {
            Decimal::from_str_exact(text.trim())
                .or_else(|_| Decimal::from_scientific(text.trim()))
                .map_err(|_| de::Error::custom(format!("`{text}` is not a decimal number")))
        };
        match Value::deserialize(deserializer)? {
            Value::String(text) => parse(&text).map(ExactDecimal),
            Value::Number(number) => {
                let value = parse(&number.to_string())?;
                let fractional = !(number.is_i64() || number.is_u64());
                if fractional
                    && value.normalize().mantissa().unsigned_abs() >= 1_000_000_000_000_000
                {
                    return Err(de::Error::custom(format!(
                        "{number} has more than 15 significant digits; send it as a string"
                    )));
                }
                Ok(ExactDecimal(value))
            }
            other => Err(de::Error::custom(format!(
                "expected a decimal, found {other}"
            ))),
        }
    }
}

/// Fields of `buy` and `sell`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrderFields {
    /// The exchange (may be left out when the host has one).
    #[serde(default)]
    pub exchange: Option<String>,
    /// The host symbol.
    pub trading_pair: String,
    /// `LIMIT`, `MARKET`, `LIMIT_MAKER`, `STOP_MARKET`, `STOP_LIMIT`,
    /// `TAKE_PROFIT_MARKET` or `TAKE_PROFIT_LIMIT`.
    pub order_type: OrderType,
    /// Required for limit orders.
    #[serde(default)]
    pub price: Option<ExactDecimal>,
    /// Size in base units.
    pub amount: ExactDecimal,
    /// `GTC` (default), `IOC` or `FOK`.
    #[serde(default)]
    pub time_in_force: TimeInForce,
    /// `OPEN` or `CLOSE` (reduce-only).
    #[serde(default)]
    pub position_action: Option<PositionAction>,
    /// Reduce-only (the same as `position_action: CLOSE`; the two must
    /// agree when both are given).
    #[serde(default)]
    pub reduce_only: Option<bool>,
    /// A client order id of the caller's choosing.
    #[serde(default)]
    pub client_order_id: Option<ClientOrderId>,
    /// Market orders: the worst price accepted, in percent from the mid
    /// (trigger orders executing at market: from the trigger price).
    #[serde(default)]
    pub max_slippage_percent: Option<ExactDecimal>,
    /// `STOP_*` and `TAKE_PROFIT_*` orders: the price that triggers them.
    #[serde(default)]
    pub trigger_price: Option<ExactDecimal>,
    /// `STOP_*` and `TAKE_PROFIT_*` orders: `MARK` (default) or `LAST`, the
    /// price their trigger watches.
    #[serde(default)]
    pub trigger_reference: Option<TriggerReference>,
    /// A take-profit placed, reduce-only, for what fills once the order is
    /// done: `{trigger_price, price (limit; none: at market),
    /// trigger_reference}`.
    #[serde(default)]
    pub take_profit: Option<ExitFields>,
    /// A stop-loss, as `take_profit`.
    #[serde(default)]
    pub stop_loss: Option<ExitFields>,
}

/// A take-profit or stop-loss attached to a new order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitFields {
    /// The price that fires it.
    pub trigger_price: ExactDecimal,
    /// The limit it places once fired; none: at market.
    #[serde(default)]
    pub price: Option<ExactDecimal>,
    /// `MARK` (default) or `LAST`.
    #[serde(default)]
    pub trigger_reference: Option<TriggerReference>,
}

impl ExitFields {
    fn exit(self) -> Exit {
        Exit {
            trigger_price: self.trigger_price.0,
            price: self.price.map(|price| price.0),
            trigger_reference: self.trigger_reference,
        }
    }
}

impl NewOrderFields {
    /// The order these fields ask for, on `side`; refused when
    /// `reduce_only` and `position_action` contradict each other.
    pub fn order_command(self, side: TradeType) -> Result<OrderCommand, CommandError> {
        let contradiction = match (self.reduce_only, self.position_action) {
            (Some(false), Some(PositionAction::Close)) => Some("false"),
            (Some(true), Some(PositionAction::Open)) => Some("true"),
            _ => None,
        };
        if let Some(value) = contradiction {
            return Err(CommandError::InvalidOrder(format!(
                "`reduce_only`: {value} contradicts `position_action` {}",
                if value == "true" { "OPEN" } else { "CLOSE" }
            )));
        }
        Ok(OrderCommand {
            trading_pair: self.trading_pair,
            trade_type: side,
            order_type: self.order_type,
            time_in_force: self.time_in_force,
            price: self.price.map(|p| p.0),
            amount: self.amount.0,
            position_action: self.position_action,
            reduce_only: self.reduce_only.unwrap_or(false),
            client_order_id: self.client_order_id,
            max_slippage_percent: self.max_slippage_percent.map(|p| p.0),
            trigger_price: self.trigger_price.map(|p| p.0),
            trigger_reference: self.trigger_reference,
            take_profit: self.take_profit.map(ExitFields::exit),
            stop_loss: self.stop_loss.map(ExitFields::exit),
            parent: None,
        })
    }
}

/// Fields naming one order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderFields {
    /// The exchange (may be left out when the host has one).
    #[serde(default)]
    pub exchange: Option<String>,
    /// The order.
    pub client_order_id: ClientOrderId,
}

/// Fields of `modify`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModifyFields {
    /// The exchange (may be left out when the host has one).
    #[serde(default)]
    pub exchange: Option<String>,
    /// The order.
    pub client_order_id: ClientOrderId,
    /// The new price.
    #[serde(default)]
    pub price: Option<ExactDecimal>,
    /// The new size.
    #[serde(default)]
    pub amount: Option<ExactDecimal>,
}

/// Fields of `cancel_all` and `open_orders`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairFields {
    /// The exchange (all exchanges when left out).
    #[serde(default)]
    pub exchange: Option<String>,
    /// Only this pair.
    #[serde(default)]
    pub trading_pair: Option<String>,
}

/// Fields of `kill_switch` and `release_kill_switch`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillSwitchFields {
    /// The exchange (all exchanges when left out).
    #[serde(default)]
    pub exchange: Option<String>,
    /// Why (published, and given to refused orders).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Fields of `snapshot`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeFields {
    /// The exchange (all exchanges when left out).
    #[serde(default)]
    pub exchange: Option<String>,
}

/// Fields of `fills` and `history`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowFields {
    /// The exchange (all exchanges when left out).
    #[serde(default)]
    pub exchange: Option<String>,
    /// Only this pair.
    #[serde(default)]
    pub trading_pair: Option<String>,
    /// From this time on, ms since the epoch.
    #[serde(default)]
    pub since_ms: Option<u64>,
    /// Before this time, ms since the epoch.
    #[serde(default)]
    pub until_ms: Option<u64>,
    /// The most items in the reply, the newest (at most, and by default,
    /// [`crate::commands::PAGE`]).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Fields of `set_leverage` and `set_margin_mode` (the venues set the two
/// together, so both commands take both).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeverageFields {
    /// The exchange (may be left out when the host has one).
    #[serde(default)]
    pub exchange: Option<String>,
    /// The market.
    pub trading_pair: String,
    /// The leverage, a whole number from 1 to the market's maximum.
    pub leverage: u32,
    /// `cross` or `isolated`.
    pub margin_mode: MarginMode,
}

/// Fields of `batch`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchFields {
    /// The exchange (may be left out when the host has one).
    #[serde(default)]
    pub exchange: Option<String>,
    /// The elements: `buy`, `sell`, `cancel` and `modify` commands, each
    /// read and answered on its own.
    pub commands: Vec<Value>,
}

/// Fields of `replay`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayFields {
    /// The family: `orders.<exchange>` or `account.<exchange>`.
    pub family: String,
    /// The last event the caller has (`run` and `seq` from its envelope);
    /// from the oldest kept event when left out.
    #[serde(default)]
    pub after: Option<crate::publisher::history::Position>,
    /// The most events in the reply (at most, and by default,
    /// [`crate::commands::PAGE`]).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A command.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// A new buy order.
    Buy(NewOrderFields),
    /// A new sell order.
    Sell(NewOrderFields),
    /// Cancel one order.
    Cancel(OrderFields),
    /// Cancel every live order (of one exchange or pair).
    CancelAll(PairFields),
    /// Cancel every live order and refuse new ones until released.
    KillSwitch(KillSwitchFields),
    /// Take new orders again after a kill switch.
    ReleaseKillSwitch(KillSwitchFields),
    /// A strategy is alive: the dead man's switch may be refreshed.
    Heartbeat(PairFields),
    /// Read the configuration file again and apply what changed.
    Reload,
    /// Change an order's price or size.
    Modify(ModifyFields),
    /// One order's state.
    GetOrder(OrderFields),
    /// Live orders.
    OpenOrders(PairFields),
    /// The host's state.
    Status(PairFields),
    /// Open orders, balances, positions and books' state, with where each
    /// stands in its event family.
    Snapshot(ExchangeFields),
    /// A page of kept order or account events after a position.
    Replay(ReplayFields),
    /// Balances now.
    Balances(ExchangeFields),
    /// Positions now.
    Positions(PairFields),
    /// The configured markets' rules and each exchange's capabilities.
    Markets(PairFields),
    /// Fills from the journal, by time and market.
    Fills(WindowFields),
    /// Orders from the journal, by time and market.
    History(WindowFields),
    /// Several places, cancels and modifies for one exchange, sent as the
    /// venue's batches.
    Batch(BatchFields),
    /// Set a market's leverage (and margin mode) on the exchange.
    SetLeverage(LeverageFields),
    /// Set a market's margin mode (and leverage) on the exchange.
    SetMarginMode(LeverageFields),
}

impl Command {
    /// The command's `cmd`.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Buy(_) => "buy",
            Command::Sell(_) => "sell",
            Command::Cancel(_) => "cancel",
            Command::CancelAll(_) => "cancel_all",
            Command::KillSwitch(_) => "kill_switch",
            Command::ReleaseKillSwitch(_) => "release_kill_switch",
            Command::Heartbeat(_) => "heartbeat",
            Command::Reload => "reload",
            Command::Modify(_) => "modify",
            Command::GetOrder(_) => "get_order",
            Command::OpenOrders(_) => "open_orders",
            Command::Status(_) => "status",
            Command::Snapshot(_) => "snapshot",
            Command::Replay(_) => "replay",
            Command::Balances(_) => "balances",
            Command::Positions(_) => "positions",
            Command::Markets(_) => "markets",
            Command::Fills(_) => "fills",
            Command::History(_) => "history",
            Command::Batch(_) => "batch",
            Command::SetLeverage(_) => "set_leverage",
            Command::SetMarginMode(_) => "set_margin_mode",
        }
    }

    /// The least role a CURVE client needs to send it (`zmq.curve`).
    pub fn role(&self) -> Role {
        match self {
            Command::KillSwitch(_) | Command::ReleaseKillSwitch(_) | Command::Reload => Role::Admin,
            Command::Buy(_)
            | Command::Sell(_)
            | Command::Cancel(_)
            | Command::CancelAll(_)
            | Command::Heartbeat(_)
            | Command::Modify(_)
            | Command::Batch(_)
            | Command::SetLeverage(_)
            | Command::SetMarginMode(_) => Role::Trade,
            Command::GetOrder(_)
            | Command::OpenOrders(_)
            | Command::Status(_)
            | Command::Snapshot(_)
            | Command::Replay(_)
            | Command::Balances(_)
            | Command::Positions(_)
            | Command::Markets(_)
            | Command::Fills(_)
            | Command::History(_) => Role::Read,
        }
    }
}

/// A request: a command and the caller's correlation id.
#[derive(Debug, Clone)]
pub struct Request {
    /// Echoed in the reply.
    pub id: Value,
    /// The command.
    pub command: Command,
}

/// An error reply's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    /// A stable code.
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// A reply.
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    /// The request's `id` (null when it could not be read).
    pub id: Value,
    /// Whether the command was carried out.
    pub ok: bool,
    /// The result, when `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The error, when not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

impl Reply {
    /// A successful reply.
    pub fn ok(id: Value, result: Value) -> Reply {
        Reply {
            id,
            ok: true,
            result: Some(result),
            error: None,
        }
    }

    /// An error reply.
    pub fn error(id: Value, code: &str, message: impl Into<String>) -> Reply {
        Reply {
            id,
            ok: false,
            result: None,
            error: Some(ErrorBody {
                code: code.to_owned(),
                message: message.into(),
            }),
        }
    }
}

/// Reads a request, or says precisely why it cannot be read (with the id
/// when there is one).
pub fn parse_request(bytes: &[u8]) -> Result<Request, Box<Reply>> {
    let refuse = |id: Value, message: String| Box::new(Reply::error(id, "bad_request", message));
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| refuse(Value::Null, format!("not JSON: {error}")))?;
    let Value::Object(mut object) = value else {
        return Err(refuse(Value::Null, "a request is a JSON object".into()));
    };
    let id = object.remove("id").unwrap_or(Value::Null);
    if !object.contains_key("cmd") {
        return Err(refuse(id, "missing `cmd`".into()));
    }
    match serde_json::from_value::<Command>(Value::Object(object)) {
        Ok(command) => Ok(Request { id, command }),
        Err(error) => {
            // Only a refused command is read a second time, to name the
            // field at fault: the accepted ones are never copied.
            let message = error.to_string();
            let field = serde_json::from_slice::<serde_json::Map<String, Value>>(bytes)
                .ok()
                .and_then(|object| culprit(&object, &message).map(str::to_owned));
            match field {
                Some(field) => Err(refuse(id, format!("`{field}`: {message}"))),
                None => Err(refuse(id, message)),
            }
        }
    }
}

/// The field a type or value error is about (serde does not say for a
/// tagged enum): the one that fails the same way on its own beside `cmd`.
/// Errors about unknown or missing fields and commands name them already.
fn culprit<'a>(object: &'a serde_json::Map<String, Value>, message: &str) -> Option<&'a str> {
    if ["unknown", "missing"]
        .iter()
        .any(|named| message.starts_with(named))
    {
        return None;
    }
    let cmd = object.get("cmd")?;
    object
        .iter()
        .filter(|(field, _)| !matches!(field.as_str(), "cmd" | "id"))
        .find(|(field, value)| {
            let alone = serde_json::json!({ "cmd": cmd, *field: value });
            serde_json::from_value::<Command>(alone)
                .is_err_and(|error| error.to_string() == message)
        })
        .map(|(field, _)| field.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_strings_are_exact() {
        let request = parse_request(
            br#"{"id":7,"cmd":"buy","trading_pair":"BTC-USD","order_type":"LIMIT","price":65000.1,"amount":"0.001"}"#,
        )
        .unwrap();
        let Command::Buy(fields) = request.command else {
            panic!()
        };
        assert_eq!(fields.price.unwrap().0, "65000.1".parse().unwrap());
        assert_eq!(fields.amount.0, "0.001".parse().unwrap());
        assert_eq!(request.id, 7);
    }

    #[test]
    fn kill_switch_commands_take_an_optional_reason_and_exchange() {
        let request = parse_request(br#"{"cmd":"kill_switch","reason":"drill"}"#).unwrap();
        let Command::KillSwitch(fields) = request.command else {
            panic!()
        };
        assert_eq!(fields.reason.as_deref(), Some("drill"));
        assert!(matches!(
            parse_request(br#"{"cmd":"release_kill_switch","exchange":"hl"}"#)
                .unwrap()
                .command,
            Command::ReleaseKillSwitch(KillSwitchFields {
                exchange: Some(_),
                ..
            })
        ));
        let error = parse_request(br#"{"cmd":"kill_switch","why":"x"}"#).unwrap_err();
        assert!(error.error.unwrap().message.contains("unknown field `why`"));
    }

    #[test]
    fn nonsense_gets_a_precise_error() {
        for (bytes, needle) in [
            (&b"not json"[..], "not JSON"),
            (b"[1]", "JSON object"),
            (br#"{"id":1}"#, "missing `cmd`"),
            (br#"{"id":1,"cmd":"fly"}"#, "unknown variant `fly`"),
            (br#"{"id":1,"cmd":"buy","trading_pair":"BTC-USD","order_type":"LIMIT","amount":1,"prise":1}"#, "unknown field `prise`"),
            (br#"{"id":1,"cmd":"buy","trading_pair":"BTC-USD","order_type":"STOP","amount":1}"#, "unknown variant `STOP`"),
            (br#"{"id":1,"cmd":"sell","trading_pair":"BTC-USD","order_type":"LIMIT","amount":"lots"}"#, "not a decimal"),
            (br#"{"id":1,"cmd":"cancel","client_order_id":"0x12"}"#, "client order id"),
            (br#"{"id":1,"cmd":"cancel","client_order_id":7}"#, "`client_order_id`: invalid type"),
            (br#"{"id":1,"cmd":"buy","trading_pair":"BTC-USD","order_type":"LIMIT","amount":"1","reduce_only":"yes"}"#, "`reduce_only`: invalid type"),
        ] {
            let reply = parse_request(bytes).unwrap_err();
            let error = reply.error.unwrap();
            assert_eq!(error.code, "bad_request");
            assert!(error.message.contains(needle), "{}: {}", String::from_utf8_lossy(bytes), error.message);
        }
    }
}
