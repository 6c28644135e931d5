//! Classification of `/exchange` answers into what is known about the action's fate.
//!
//! The rule that matters: only answers that prove the action was not applied are
//! [`ExchangeOutcome::Rejected`] or [`ExchangeOutcome::NotProcessed`]; anything
//! unexpected (5xx, unknown shapes, count mismatches) is
//! [`ExchangeOutcome::Unknown`], because the action may have been applied.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::actions::Action;
use crate::cloid::Cloid;

/// Answer shape an action calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpectedResponse {
    /// `{"type":"order"}` with this many statuses (`order`, `batchModify`).
    Orders(usize),
    /// `{"type":"cancel"}` with this many statuses (`cancel`, `cancelByCloid`).
    Cancels(usize),
    /// `{"type":"default"}` (everything else).
    Default,
}

impl ExpectedResponse {
    /// The answer shape `action` calls for.
    pub fn for_action(action: &Action) -> Self {
        match action {
            Action::Order(order) => Self::Orders(order.orders.len()),
            Action::BatchModify(batch) => Self::Orders(batch.modifies.len()),
            Action::Cancel(cancel) => Self::Cancels(cancel.cancels.len()),
            Action::CancelByCloid(cancel) => Self::Cancels(cancel.cancels.len()),
            Action::Modify(_)
            | Action::ScheduleCancel(_)
            | Action::UpdateLeverage(_)
            | Action::UpdateIsolatedMargin(_)
            | Action::Noop
            | Action::ApproveAgent(_) => Self::Default,
        }
    }
}

/// What an exchange error text says about why something was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// Price breaks the tick rules.
    PriceTick,
    /// Order value below the minimum ($10 / 10 quote units).
    MinNotional,
    /// Post-only (ALO) order would have crossed.
    PostOnlyWouldCross,
    /// IOC order found nothing to match.
    IocNoMatch,
    /// Not enough margin.
    InsufficientMargin,
    /// Not enough spot balance.
    InsufficientSpotBalance,
    /// Reduce-only order would increase the position.
    ReduceOnly,
    /// Invalid TP/SL trigger price.
    BadTriggerPrice,
    /// No liquidity for a market order.
    NoLiquidity,
    /// Open-interest cap or open-interest rate limit.
    OpenInterest,
    /// Price too far from the oracle.
    OracleDeviation,
    /// Position would exceed the margin tier limit.
    MaxPosition,
    /// Cancel target never placed, already cancelled or filled.
    OrderNotFound,
    /// The recovered signer is not a known user or API wallet (often a bad
    /// signature or wrong chain).
    UnknownSigner,
    /// Nonce too old, reused or out of window.
    Nonce,
    /// The HTTP layer refused the request (4xx other than 408/429).
    BadRequest,
    /// Any other error text.
    Other,
}

impl RejectReason {
    /// Maps an exchange error text to a reason (case-insensitive substring match).
    pub fn from_message(message: &str) -> Self {
        const PATTERNS: [(&str, RejectReason); 16] = [
            ("tick size", RejectReason::PriceTick),
            ("invalid price", RejectReason::PriceTick),
            ("minimum value of", RejectReason::MinNotional),
            (
                "post only order would have immediately matched",
                RejectReason::PostOnlyWouldCross,
            ),
            ("could not immediately match", RejectReason::IocNoMatch),
            ("insufficient margin", RejectReason::InsufficientMargin),
            (
                "insufficient spot balance",
                RejectReason::InsufficientSpotBalance,
            ),
            (
                "reduce only order would increase position",
                RejectReason::ReduceOnly,
            ),
            ("invalid tp/sl price", RejectReason::BadTriggerPrice),
            ("no liquidity available", RejectReason::NoLiquidity),
            ("open interest", RejectReason::OpenInterest),
            ("too far from oracle", RejectReason::OracleDeviation),
            ("margin tier limit", RejectReason::MaxPosition),
            (
                "never placed, already canceled, or filled",
                RejectReason::OrderNotFound,
            ),
            ("user or api wallet", RejectReason::UnknownSigner),
            ("nonce", RejectReason::Nonce),
        ];
        let lower = message.to_ascii_lowercase();
        PATTERNS
            .iter()
            .find(|(pattern, _)| lower.contains(pattern))
            .map_or(RejectReason::Other, |(_, reason)| *reason)
    }
}

/// Fate of one order in an `order` or `batchModify` answer.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderStatus {
    /// Resting on the book.
    Resting {
        /// Exchange order id.
        oid: u64,
        /// Client order id, when the order had one.
        cloid: Option<Cloid>,
    },
    /// Filled (fully, for what the answer reports).
    Filled {
        /// Filled size.
        total_sz: Decimal,
        /// Average fill price.
        avg_px: Decimal,
        /// Exchange order id.
        oid: u64,
        /// Client order id, when the order had one.
        cloid: Option<Cloid>,
    },
    /// Grouped TP/SL child waiting for its parent to fill.
    WaitingForFill,
    /// Trigger order waiting for its trigger.
    WaitingForTrigger,
    /// Refused; this order was not placed.
    Rejected {
        /// Classified reason.
        reason: RejectReason,
        /// Exchange text.
        message: String,
    },
    /// A status shape never seen before; the order may or may not be live.
    Unknown {
        /// The status as received.
        raw: Value,
    },
}

/// Fate of one cancel in a `cancel` or `cancelByCloid` answer.
#[derive(Debug, Clone, PartialEq)]
pub enum CancelStatus {
    /// Cancelled.
    Success,
    /// Refused; nothing was cancelled.
    Rejected {
        /// Classified reason.
        reason: RejectReason,
        /// Exchange text.
        message: String,
    },
    /// A status shape never seen before.
    Unknown {
        /// The status as received.
        raw: Value,
    },
}

/// Body of an accepted request.
#[derive(Debug, Clone, PartialEq)]
pub enum Ack {
    /// `{"type":"default"}`.
    Default,
    /// One status per order, in submission order.
    Orders(Vec<OrderStatus>),
    /// One status per cancel, in submission order.
    Cancels(Vec<CancelStatus>),
}

/// Why the fate of a request cannot be told.
#[derive(Debug, Clone, PartialEq)]
pub enum UnknownReason {
    /// HTTP 5xx: the action may have been applied.
    ServerError {
        /// HTTP status.
        status: u16,
    },
    /// An HTTP status that is neither 200, 4xx nor 5xx.
    UnexpectedHttpStatus {
        /// HTTP status.
        status: u16,
    },
    /// HTTP 200 with a body that is not JSON.
    MalformedBody {
        /// The body as text (lossy UTF-8).
        body: String,
    },
    /// HTTP 200 with JSON of a shape never seen before.
    UnexpectedShape {
        /// The body as received.
        body: Value,
    },
    /// An answer of another kind than the action calls for.
    ResponseTypeMismatch {
        /// What the action calls for.
        expected: ExpectedResponse,
        /// The `response.type` received.
        received: String,
    },
    /// Number of statuses differs from the number of orders or cancels sent.
    StatusCountMismatch {
        /// Items sent.
        expected: usize,
        /// Statuses received.
        received: usize,
    },
}

/// What is known about a request after its answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ExchangeOutcome {
    /// The exchange processed the request; per-item fates are inside.
    Accepted(Ack),
    /// The exchange refused the whole request; nothing was applied.
    Rejected {
        /// Classified reason.
        reason: RejectReason,
        /// Exchange text.
        message: String,
    },
    /// Not processed (rate limit, request timeout); safe to retry later.
    NotProcessed {
        /// Seconds from the `Retry-After` header, when it holds a number.
        retry_after_secs: Option<u64>,
    },
    /// The action may or may not have been applied; reconcile before retrying.
    Unknown {
        /// Why the fate is unknown.
        reason: UnknownReason,
    },
}

/// Classifies an `/exchange` answer.
///
/// `retry_after` is the raw `Retry-After` header, if any. HTTP 429 and 408 →
/// [`ExchangeOutcome::NotProcessed`]; other 4xx (422 = body not deserializable)
/// → [`ExchangeOutcome::Rejected`] with [`RejectReason::BadRequest`]; 5xx and
/// anything unexpected → [`ExchangeOutcome::Unknown`]. On HTTP 200,
/// `{"status":"err"}` rejects the whole request, and a single error status
/// answering a batch of several items is a whole-batch pre-validation rejection.
pub fn classify_response(
    expected: ExpectedResponse,
    http_status: u16,
    retry_after: Option<&str>,
    body: &[u8],
) -> ExchangeOutcome {
    match http_status {
        200 => classify_body(expected, body),
        408 | 429 => ExchangeOutcome::NotProcessed {
            retry_after_secs: retry_after.and_then(|text| text.trim().parse().ok()),
        },
        400..=499 => ExchangeOutcome::Rejected {
            reason: RejectReason::BadRequest,
            message: String::from_utf8_lossy(body).into_owned(),
        },
        500..=599 => unknown(UnknownReason::ServerError {
            status: http_status,
        }),
        status => unknown(UnknownReason::UnexpectedHttpStatus { status }),
    }
}

fn unknown(reason: UnknownReason) -> ExchangeOutcome {
    ExchangeOutcome::Unknown { reason }
}

fn classify_body(expected: ExpectedResponse, body: &[u8]) -> ExchangeOutcome {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return unknown(UnknownReason::MalformedBody {
            body: String::from_utf8_lossy(body).into_owned(),
        });
    };
    let status = json.get("status").and_then(Value::as_str);
    let response = json.get("response");
    match (status, response) {
        (Some("err"), Some(Value::String(message))) => ExchangeOutcome::Rejected {
            reason: RejectReason::from_message(message),
            message: message.clone(),
        },
        (Some("ok"), Some(response)) => classify_ok(expected, response)
            .unwrap_or_else(|| unknown(UnknownReason::UnexpectedShape { body: json.clone() })),
        _ => unknown(UnknownReason::UnexpectedShape { body: json.clone() }),
    }
}

/// `None` when the `response` object has an unexpected shape.
fn classify_ok(expected: ExpectedResponse, response: &Value) -> Option<ExchangeOutcome> {
    let kind = response.get("type")?.as_str()?;
    let outcome = match (kind, expected) {
        ("default", ExpectedResponse::Default) => ExchangeOutcome::Accepted(Ack::Default),
        ("order", ExpectedResponse::Orders(sent)) => {
            classify_statuses(statuses(response)?, sent, order_status, Ack::Orders)
        }
        ("cancel", ExpectedResponse::Cancels(sent)) => {
            classify_statuses(statuses(response)?, sent, cancel_status, Ack::Cancels)
        }
        ("default" | "order" | "cancel", _) => unknown(UnknownReason::ResponseTypeMismatch {
            expected,
            received: kind.to_owned(),
        }),
        _ => return None,
    };
    Some(outcome)
}

fn statuses(response: &Value) -> Option<&Vec<Value>> {
    response.get("data")?.get("statuses")?.as_array()
}

/// Per-item status types that can carry an exchange error.
trait ItemStatus: Sized {
    fn rejection(&self) -> Option<(RejectReason, &str)>;
}

impl ItemStatus for OrderStatus {
    fn rejection(&self) -> Option<(RejectReason, &str)> {
        match self {
            OrderStatus::Rejected { reason, message } => Some((*reason, message)),
            _ => None,
        }
    }
}

impl ItemStatus for CancelStatus {
    fn rejection(&self) -> Option<(RejectReason, &str)> {
        match self {
            CancelStatus::Rejected { reason, message } => Some((*reason, message)),
            _ => None,
        }
    }
}

fn classify_statuses<T: ItemStatus>(
    raw: &[Value],
    sent: usize,
    parse: fn(&Value) -> T,
    wrap: fn(Vec<T>) -> Ack,
) -> ExchangeOutcome {
    let items: Vec<T> = raw.iter().map(parse).collect();
    if items.len() == sent {
        return ExchangeOutcome::Accepted(wrap(items));
    }
    if let [single] = items.as_slice()
        && sent > 1
        && let Some((reason, message)) = single.rejection()
    {
        return ExchangeOutcome::Rejected {
            reason,
            message: message.to_owned(),
        };
    }
    unknown(UnknownReason::StatusCountMismatch {
        expected: sent,
        received: items.len(),
    })
}

/// `{"error": "<text>"}` → its text.
fn error_text(status: &Value) -> Option<&str> {
    single_entry(status, "error")?.as_str()
}

/// The value of `key` when `status` is an object with exactly that one key.
fn single_entry<'a>(status: &'a Value, key: &str) -> Option<&'a Value> {
    let object = status.as_object()?;
    if object.len() == 1 {
        object.get(key)
    } else {
        None
    }
}

fn order_status(status: &Value) -> OrderStatus {
    parse_order_status(status).unwrap_or_else(|| OrderStatus::Unknown {
        raw: status.clone(),
    })
}

fn parse_order_status(status: &Value) -> Option<OrderStatus> {
    match status {
        Value::String(text) => match text.as_str() {
            "waitingForFill" => Some(OrderStatus::WaitingForFill),
            "waitingForTrigger" => Some(OrderStatus::WaitingForTrigger),
            _ => None,
        },
        _ => {
            if let Some(message) = error_text(status) {
                return Some(OrderStatus::Rejected {
                    reason: RejectReason::from_message(message),
                    message: message.to_owned(),
                });
            }
            if let Some(resting) = single_entry(status, "resting") {
                return Some(OrderStatus::Resting {
                    oid: resting.get("oid")?.as_u64()?,
                    cloid: optional_cloid(resting)?,
                });
            }
            let filled = single_entry(status, "filled")?;
            Some(OrderStatus::Filled {
                total_sz: decimal_field(filled, "totalSz")?,
                avg_px: decimal_field(filled, "avgPx")?,
                oid: filled.get("oid")?.as_u64()?,
                cloid: optional_cloid(filled)?,
            })
        }
    }
}

/// `Some(None)` when absent or null, `None` when present but malformed.
fn optional_cloid(object: &Value) -> Option<Option<Cloid>> {
    match object.get("cloid") {
        None | Some(Value::Null) => Some(None),
        Some(value) => value.as_str()?.parse().ok().map(Some),
    }
}

fn decimal_field(object: &Value, key: &str) -> Option<Decimal> {
    Decimal::from_str(object.get(key)?.as_str()?).ok()
}

fn cancel_status(status: &Value) -> CancelStatus {
    if status.as_str() == Some("success") {
        return CancelStatus::Success;
    }
    match error_text(status) {
        Some(message) => CancelStatus::Rejected {
            reason: RejectReason::from_message(message),
            message: message.to_owned(),
        },
        None => CancelStatus::Unknown {
            raw: status.clone(),
        },
    }
}
