//! Binance's error replies: an HTTP status and `{"code", "msg"}`.

/// A refusal as Binance answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status (400 for most business errors).
    pub status: u16,
    /// Negative Binance code.
    pub code: i64,
    /// Binance's text.
    pub msg: String,
}

impl ApiError {
    /// An HTTP 400 error.
    pub fn new(code: i64, msg: impl Into<String>) -> Self {
        Self {
            status: 400,
            code,
            msg: msg.into(),
        }
    }

    /// The same error with another HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// `-1102`: a mandatory parameter is missing or malformed.
    pub fn mandatory(name: &str) -> Self {
        Self::new(
            -1102,
            format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
        )
    }

    /// `-1121`: unknown symbol.
    pub fn symbol() -> Self {
        Self::new(-1121, "Invalid symbol.")
    }

    /// `-2013`: order does not exist (query).
    pub fn no_such_order() -> Self {
        Self::new(-2013, "Order does not exist.")
    }

    /// `-2011`: unknown order (cancel).
    pub fn unknown_order() -> Self {
        Self::new(-2011, "Unknown order sent.")
    }

    /// `-1022`: signature not valid.
    pub fn signature() -> Self {
        Self::new(-1022, "Signature for this request is not valid.")
    }

    /// `-2015`: key unknown.
    pub fn api_key() -> Self {
        Self::new(-2015, "Invalid API-key, IP, or permissions for action.").with_status(401)
    }

    /// `-1021`: timestamp outside the recv window.
    pub fn timestamp() -> Self {
        Self::new(
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        )
    }

    /// `-1125`: unknown listen key.
    pub fn listen_key() -> Self {
        Self::new(-1125, "This listenKey does not exist.")
    }

    /// `-1007`: the outcome is unknown (HTTP 408).
    pub fn unknown_outcome() -> Self {
        Self::new(
            -1007,
            "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
        )
        .with_status(408)
    }

    /// HTTP 503 "Unknown error, …": the request reached the engine but no
    /// answer came back, so the execution status is unknown. Binance's
    /// gateway sends it as `{"timestamp","path","msg"}` without a code (see
    /// [`super::rest::error_response_at`]); `code` is 0.
    pub fn unknown_error() -> Self {
        Self::new(
            0,
            "Unknown error, please check your request or try again later.",
        )
        .with_status(503)
    }

    /// `-1003` with HTTP 429, or 418 once banned.
    pub fn too_many(limit: u32, banned: bool) -> Self {
        let error = Self::new(
            -1003,
            format!(
                "Too many requests; current limit is {limit} requests per minute. Please use the websocket for live updates to avoid polling the API."
            ),
        );
        error.with_status(if banned { 418 } else { 429 })
    }
}
