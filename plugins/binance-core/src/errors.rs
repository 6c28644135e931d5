//! Binance's error answers: `{"code", "msg"}` with a negative code, what
//! each code proves about the request, and the classification of a whole
//! answer (HTTP status and body) — including the answers without a code
//! (HTTP 503 and 408), which Binance tells apart by their text.

use std::fmt;

use serde::Deserialize;

/// Binance's error codes (USDⓈ-M futures), by name.
pub mod codes {
    /// An unknown error occurred while processing the request.
    pub const UNKNOWN: i64 = -1000;
    /// Internal error; unable to process the request (not processed).
    pub const DISCONNECTED: i64 = -1001;
    /// Too many requests: the request weight is spent.
    pub const TOO_MANY_REQUESTS: i64 = -1003;
    /// An unexpected answer from the message bus: execution status unknown.
    pub const UNEXPECTED_RESP: i64 = -1006;
    /// Timeout waiting for the backend: send and execution status unknown.
    pub const TIMEOUT: i64 = -1007;
    /// Throttled by system-level protection (not processed).
    pub const SERVER_BUSY: i64 = -1008;
    /// Too many new orders (the order count is spent).
    pub const TOO_MANY_ORDERS: i64 = -1015;
    /// The timestamp is outside the receive window, or more than 1 s ahead.
    pub const INVALID_TIMESTAMP: i64 = -1021;
    /// The signature is not valid.
    pub const INVALID_SIGNATURE: i64 = -1022;
    /// Illegal characters in a parameter.
    pub const ILLEGAL_CHARS: i64 = -1100;
    /// A mandatory parameter was not sent, empty or malformed.
    pub const MANDATORY_PARAM: i64 = -1102;
    /// A parameter was sent that is not needed.
    pub const UNNECESSARY_PARAM: i64 = -1106;
    /// Precision over the maximum for the asset.
    pub const BAD_PRECISION: i64 = -1111;
    /// Invalid time in force.
    pub const INVALID_TIF: i64 = -1115;
    /// Invalid order type.
    pub const INVALID_ORDER_TYPE: i64 = -1116;
    /// Invalid side.
    pub const INVALID_SIDE: i64 = -1117;
    /// Invalid symbol.
    pub const BAD_SYMBOL: i64 = -1121;
    /// The listen key does not exist.
    pub const INVALID_LISTEN_KEY: i64 = -1125;
    /// A parameter's value is not valid.
    pub const INVALID_PARAMETER: i64 = -1130;
    /// The receive window is over 60 000 ms.
    pub const BAD_RECV_WINDOW: i64 = -1131;
    /// The new order was rejected.
    pub const NEW_ORDER_REJECTED: i64 = -2010;
    /// Cancel rejected: unknown order sent.
    pub const CANCEL_REJECTED: i64 = -2011;
    /// The order does not exist.
    pub const NO_SUCH_ORDER: i64 = -2013;
    /// The API key's format is invalid.
    pub const BAD_API_KEY_FMT: i64 = -2014;
    /// Invalid API key, IP, or permissions for the action.
    pub const REJECTED_MBX_KEY: i64 = -2015;
    /// The balance is insufficient.
    pub const BALANCE_NOT_SUFFICIENT: i64 = -2018;
    /// The margin is insufficient.
    pub const MARGIN_NOT_SUFFICIENT: i64 = -2019;
    /// Unable to fill (FOK).
    pub const UNABLE_TO_FILL: i64 = -2020;
    /// The order would immediately trigger.
    pub const ORDER_WOULD_IMMEDIATELY_TRIGGER: i64 = -2021;
    /// A reduce-only order was rejected.
    pub const REDUCE_ONLY_REJECT: i64 = -2022;
    /// The most open orders are reached.
    pub const MAX_OPEN_ORDER_EXCEEDED: i64 = -2025;
    /// Quantity less than or equal to zero.
    pub const QTY_LE_ZERO: i64 = -4003;
    /// Quantity less than the minimum.
    pub const QTY_LESS_THAN_MIN: i64 = -4004;
    /// Quantity greater than the maximum.
    pub const QTY_GREATER_THAN_MAX: i64 = -4005;
    /// Price less than the minimum.
    pub const PRICE_LESS_THAN_MIN: i64 = -4013;
    /// Price not a multiple of the tick size.
    pub const PRICE_NOT_INCREASED_BY_TICK: i64 = -4014;
    /// The client order id is not valid.
    pub const INVALID_CLIENT_ORDER_ID: i64 = -4015;
    /// A limit price above the PERCENT_PRICE cap.
    pub const PRICE_HIGHER_THAN_CAP: i64 = -4016;
    /// Quantity not a multiple of the step size.
    pub const QTY_NOT_INCREASED_BY_STEP: i64 = -4023;
    /// A limit price below the PERCENT_PRICE floor.
    pub const PRICE_LOWER_THAN_FLOOR: i64 = -4024;
    /// Only LIMIT orders of the same side may be modified.
    pub const INVALID_MODIFY: i64 = -4028;
    /// The margin type asked for is the symbol's already.
    pub const NO_NEED_TO_CHANGE_MARGIN_TYPE: i64 = -4046;
    /// A second open order with this client order id.
    pub const DUPLICATED_CLIENT_ORDER_ID: i64 = -4116;
    /// Conditional order types belong to the Algo Order API.
    pub const ALGO_ORDER_REQUIRED: i64 = -4120;
    /// A market order's counterparty price is beyond PERCENT_PRICE.
    pub const MARKET_BEYOND_PERCENT_PRICE: i64 = -4131;
    /// The notional is below the minimum (reduce-only orders are exempt).
    pub const MIN_NOTIONAL: i64 = -4164;
    /// A FOK order could not fill.
    pub const FOK_REJECT: i64 = -5021;
    /// A post-only (GTX) order would have taken liquidity.
    pub const GTX_REJECT: i64 = -5022;
    /// The order was modified too many times.
    pub const MODIFY_LIMIT: i64 = -5026;
    /// A modify that changes nothing.
    pub const NO_NEED_TO_MODIFY: i64 = -5027;
    /// The timestamp is outside the matching engine's receive window.
    pub const ME_RECV_WINDOW: i64 = -5028;
}

/// A refusal as Binance words it: a negative code and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueError {
    /// The code (0 for the gateway's answers without one).
    pub code: i64,
    /// Binance's text.
    pub msg: String,
}

impl fmt::Display for VenueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.msg)
    }
}

impl std::error::Error for VenueError {}

impl VenueError {
    /// An error with a code and a text.
    pub fn new(code: i64, msg: impl Into<String>) -> VenueError {
        VenueError {
            code,
            msg: msg.into(),
        }
    }

    /// `-1102`: a mandatory parameter is missing or malformed.
    pub fn mandatory(name: &str) -> VenueError {
        VenueError::new(
            codes::MANDATORY_PARAM,
            format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
        )
    }

    /// `-1100`: illegal characters in a parameter.
    pub fn illegal_characters() -> VenueError {
        VenueError::new(
            codes::ILLEGAL_CHARS,
            "Illegal characters found in a parameter.",
        )
    }

    /// `-1130`: a parameter's value is not valid.
    pub fn invalid(name: &str) -> VenueError {
        VenueError::new(
            codes::INVALID_PARAMETER,
            format!("Data sent for parameter '{name}' is not valid."),
        )
    }

    /// `-1121`: unknown symbol.
    pub fn symbol() -> VenueError {
        VenueError::new(codes::BAD_SYMBOL, "Invalid symbol.")
    }

    /// `-2013`: the order does not exist (query, modify).
    pub fn no_such_order() -> VenueError {
        VenueError::new(codes::NO_SUCH_ORDER, "Order does not exist.")
    }

    /// `-2011`: unknown order (cancel).
    pub fn unknown_order() -> VenueError {
        VenueError::new(codes::CANCEL_REJECTED, "Unknown order sent.")
    }

    /// `-1022`: the signature is not valid.
    pub fn signature() -> VenueError {
        VenueError::new(
            codes::INVALID_SIGNATURE,
            "Signature for this request is not valid.",
        )
    }

    /// `-2015`: unknown key.
    pub fn api_key() -> VenueError {
        VenueError::new(
            codes::REJECTED_MBX_KEY,
            "Invalid API-key, IP, or permissions for action.",
        )
    }

    /// `-1021`: the timestamp is outside the receive window.
    pub fn timestamp() -> VenueError {
        VenueError::new(
            codes::INVALID_TIMESTAMP,
            "Timestamp for this request is outside of the recvWindow.",
        )
    }

    /// `-1125`: unknown listen key.
    pub fn listen_key() -> VenueError {
        VenueError::new(codes::INVALID_LISTEN_KEY, "This listenKey does not exist.")
    }

    /// `-1007`: the outcome is unknown (sent with HTTP 408).
    pub fn timeout() -> VenueError {
        VenueError::new(
            codes::TIMEOUT,
            "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
        )
    }

    /// `-4116`: an open order has this client order id.
    pub fn duplicated_client_id() -> VenueError {
        VenueError::new(
            codes::DUPLICATED_CLIENT_ORDER_ID,
            "ClientOrderId is duplicated.",
        )
    }

    /// `-4015`: the client order id is not valid.
    pub fn invalid_client_id() -> VenueError {
        VenueError::new(
            codes::INVALID_CLIENT_ORDER_ID,
            "Client order id is not valid.",
        )
    }

    /// `-4120`: a conditional type sent to the order endpoint.
    pub fn algo_required() -> VenueError {
        VenueError::new(
            codes::ALGO_ORDER_REQUIRED,
            "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.",
        )
    }

    /// `-5022`: a post-only order would have taken.
    pub fn gtx_would_take() -> VenueError {
        VenueError::new(
            codes::GTX_REJECT,
            "Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history",
        )
    }
}

/// The text of HTTP 503 answers whose request reached the engine and whose
/// outcome is unknown.
pub const UNKNOWN_ERROR_TEXT: &str = "Unknown error, please check your request or try again later.";

/// Why Binance refused something, as far as its code tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    /// Not enough margin or balance.
    InsufficientMargin,
    /// The price is not on the tick, or below the minimum.
    PriceTick,
    /// The price is outside the PERCENT_PRICE band.
    PriceBand,
    /// The quantity is not a valid lot.
    LotSize,
    /// The notional is below the minimum.
    MinNotional,
    /// A post-only order would have taken.
    PostOnlyWouldCross,
    /// A reduce-only order would not reduce.
    ReduceOnly,
    /// An open order already has this client order id.
    DuplicateClientId,
    /// Too many open orders.
    TooManyOpenOrders,
    /// An unknown or closed symbol.
    MarketClosed,
    /// A malformed request.
    InvalidRequest,
    /// The key, its signature or its permissions.
    Authentication,
    /// A FOK or IOC order found nothing to match.
    NoLiquidity,
    /// Any other refusal.
    Other,
}

/// What an answer proves about its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// Done (HTTP 2xx).
    Done,
    /// Refused; nothing happened.
    Rejected(Reject),
    /// The named order (or listen key) does not exist.
    NotFound,
    /// Not processed: safe to send again; `resign` when the request must
    /// be prepared and signed anew (its timestamp is stale).
    NotProcessed {
        /// A new timestamp is needed.
        resign: bool,
    },
    /// It may or may not have happened.
    Unknown,
}

/// What one error code proves.
pub fn meaning(code: i64) -> Meaning {
    use codes::*;
    let rejected = Meaning::Rejected;
    match code {
        UNKNOWN | UNEXPECTED_RESP | TIMEOUT => Meaning::Unknown,
        DISCONNECTED | TOO_MANY_REQUESTS | SERVER_BUSY | TOO_MANY_ORDERS => {
            Meaning::NotProcessed { resign: false }
        }
        INVALID_TIMESTAMP | ME_RECV_WINDOW => Meaning::NotProcessed { resign: true },
        INVALID_SIGNATURE | BAD_API_KEY_FMT | REJECTED_MBX_KEY => rejected(Reject::Authentication),
        CANCEL_REJECTED | NO_SUCH_ORDER | INVALID_LISTEN_KEY => Meaning::NotFound,
        BALANCE_NOT_SUFFICIENT | MARGIN_NOT_SUFFICIENT => rejected(Reject::InsufficientMargin),
        UNABLE_TO_FILL | FOK_REJECT => rejected(Reject::NoLiquidity),
        REDUCE_ONLY_REJECT => rejected(Reject::ReduceOnly),
        MAX_OPEN_ORDER_EXCEEDED => rejected(Reject::TooManyOpenOrders),
        QTY_LE_ZERO | QTY_LESS_THAN_MIN | QTY_GREATER_THAN_MAX | QTY_NOT_INCREASED_BY_STEP => {
            rejected(Reject::LotSize)
        }
        PRICE_LESS_THAN_MIN | PRICE_NOT_INCREASED_BY_TICK => rejected(Reject::PriceTick),
        PRICE_HIGHER_THAN_CAP | PRICE_LOWER_THAN_FLOOR | MARKET_BEYOND_PERCENT_PRICE => {
            rejected(Reject::PriceBand)
        }
        DUPLICATED_CLIENT_ORDER_ID => rejected(Reject::DuplicateClientId),
        MIN_NOTIONAL => rejected(Reject::MinNotional),
        GTX_REJECT => rejected(Reject::PostOnlyWouldCross),
        BAD_SYMBOL => rejected(Reject::MarketClosed),
        ILLEGAL_CHARS
        | MANDATORY_PARAM
        | UNNECESSARY_PARAM
        | BAD_PRECISION
        | INVALID_TIF
        | INVALID_ORDER_TYPE
        | INVALID_SIDE
        | INVALID_PARAMETER
        | BAD_RECV_WINDOW
        | ORDER_WOULD_IMMEDIATELY_TRIGGER
        | INVALID_CLIENT_ORDER_ID
        | INVALID_MODIFY
        | ALGO_ORDER_REQUIRED => rejected(Reject::InvalidRequest),
        _ => rejected(Reject::Other),
    }
}

/// An answer, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// What it proves.
    pub meaning: Meaning,
    /// Binance's code, when the body had one.
    pub code: Option<i64>,
    /// Binance's text (or the body, or the status, when it had none).
    pub message: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<i64>,
    msg: Option<String>,
}

/// Classifies an answer by its HTTP status and body. A 2xx is done. A
/// body with a code says what the code proves, whatever the status. Then:
/// 429 and 418 are not processed; a 503 is not processed only when its
/// text says so ("Service Unavailable", "Internal error"), and unknown
/// otherwise (above all "Unknown error, …", which reached the engine);
/// every other answer without a code (408, other 5xx, a 4xx page) is
/// unknown: only Binance's code proves a refusal.
pub fn classify(status: u16, body: &str) -> Answer {
    let parsed: Option<ErrorBody> = serde_json::from_str(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|body| body.msg.clone())
        .unwrap_or_else(|| {
            let text = body.trim();
            if text.is_empty() {
                format!("HTTP {status}")
            } else {
                text.chars().take(200).collect()
            }
        });
    if (200..300).contains(&status) {
        return Answer {
            meaning: Meaning::Done,
            code: None,
            message,
        };
    }
    let code = parsed.and_then(|body| body.code).filter(|code| *code < 0);
    let meaning = match (code, status) {
        (Some(code), _) => meaning(code),
        (None, 429 | 418) => Meaning::NotProcessed { resign: false },
        (None, 503)
            if message.starts_with("Service Unavailable")
                || message.starts_with("Internal error") =>
        {
            Meaning::NotProcessed { resign: false }
        }
        (None, _) => Meaning::Unknown,
    };
    Answer {
        meaning,
        code,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(status: u16, body: &str) -> Meaning {
        classify(status, body).meaning
    }

    #[test]
    fn codes_say_what_they_prove() {
        assert_eq!(
            of(
                400,
                r#"{"code":-5022,"msg":"Due to the order could not be executed as maker"}"#
            ),
            Meaning::Rejected(Reject::PostOnlyWouldCross)
        );
        assert_eq!(
            of(400, r#"{"code":-2019,"msg":"Margin is insufficient."}"#),
            Meaning::Rejected(Reject::InsufficientMargin)
        );
        assert_eq!(
            of(
                400,
                r#"{"code":-4164,"msg":"Order's notional must be no smaller than 5"}"#
            ),
            Meaning::Rejected(Reject::MinNotional)
        );
        assert_eq!(
            of(
                400,
                r#"{"code":-4116,"msg":"ClientOrderId is duplicated."}"#
            ),
            Meaning::Rejected(Reject::DuplicateClientId)
        );
        assert_eq!(
            of(400, r#"{"code":-2011,"msg":"Unknown order sent."}"#),
            Meaning::NotFound
        );
        assert_eq!(
            of(400, r#"{"code":-2013,"msg":"Order does not exist."}"#),
            Meaning::NotFound
        );
        assert_eq!(
            of(
                400,
                r#"{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}"#
            ),
            Meaning::NotProcessed { resign: true }
        );
        assert_eq!(
            of(
                401,
                r#"{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}"#
            ),
            Meaning::Rejected(Reject::Authentication)
        );
        assert_eq!(
            of(
                400,
                r#"{"code":-1022,"msg":"Signature for this request is not valid."}"#
            ),
            Meaning::Rejected(Reject::Authentication)
        );
        assert_eq!(
            of(400, r#"{"code":-4120,"msg":"Order type not supported"}"#),
            Meaning::Rejected(Reject::InvalidRequest)
        );
        assert_eq!(
            of(400, r#"{"code":-9999,"msg":"new"}"#),
            Meaning::Rejected(Reject::Other)
        );
    }

    #[test]
    fn unknown_outcomes_are_never_rejections() {
        let timeout = classify(
            408,
            r#"{"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}"#,
        );
        assert_eq!(timeout.meaning, Meaning::Unknown);
        assert_eq!(timeout.code, Some(-1007));
        let gateway = classify(
            503,
            r#"{"timestamp":1,"path":"/fapi/v1/order","msg":"Unknown error, please check your request or try again later."}"#,
        );
        assert_eq!(gateway.meaning, Meaning::Unknown);
        assert_eq!(gateway.message, UNKNOWN_ERROR_TEXT);
        assert_eq!(of(502, "Bad Gateway"), Meaning::Unknown);
        assert_eq!(of(400, "<html>bad</html>"), Meaning::Unknown);
        assert_eq!(of(400, r#"{"code":-1006,"msg":"x"}"#), Meaning::Unknown);
    }

    #[test]
    fn not_processed_answers_may_go_again() {
        let limited = classify(429, r#"{"code":-1003,"msg":"Too many requests"}"#);
        assert_eq!(limited.meaning, Meaning::NotProcessed { resign: false });
        assert_eq!(of(418, ""), Meaning::NotProcessed { resign: false });
        assert_eq!(
            of(503, "Service Unavailable."),
            Meaning::NotProcessed { resign: false }
        );
        assert_eq!(
            of(
                503,
                r#"{"msg":"Internal error; unable to process your request. Please try again."}"#
            ),
            Meaning::NotProcessed { resign: false }
        );
        assert_eq!(of(200, "{}"), Meaning::Done);
    }
}
