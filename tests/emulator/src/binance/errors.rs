//! Binance's error replies: an HTTP status and `{"code", "msg"}`. The codes
//! and their words are `binance-core`'s ([`VenueError`]); this adds the
//! HTTP status each is sent with.

use binance_core::{VenueError, codes};

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

impl From<VenueError> for ApiError {
    fn from(error: VenueError) -> Self {
        Self {
            status: 400,
            code: error.code,
            msg: error.msg,
        }
    }
}

impl ApiError {
    /// An HTTP 400 error.
    pub fn new(code: i64, msg: impl Into<String>) -> Self {
        VenueError::new(code, msg).into()
    }

    /// The same error with another HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// `-1102`: a mandatory parameter is missing or malformed.
    pub fn mandatory(name: &str) -> Self {
        VenueError::mandatory(name).into()
    }

    /// `-1121`: unknown symbol.
    pub fn symbol() -> Self {
        VenueError::symbol().into()
    }

    /// `-2013`: order does not exist (query).
    pub fn no_such_order() -> Self {
        VenueError::no_such_order().into()
    }

    /// `-2011`: unknown order (cancel).
    pub fn unknown_order() -> Self {
        VenueError::unknown_order().into()
    }

    /// `-1022`: signature not valid.
    pub fn signature() -> Self {
        VenueError::signature().into()
    }

    /// `-2015`: key unknown.
    pub fn api_key() -> Self {
        Self::from(VenueError::api_key()).with_status(401)
    }

    /// `-1021`: timestamp outside the recv window.
    pub fn timestamp() -> Self {
        VenueError::timestamp().into()
    }

    /// `-1125`: unknown listen key.
    pub fn listen_key() -> Self {
        VenueError::listen_key().into()
    }

    /// `-1007`: the outcome is unknown (HTTP 408).
    pub fn unknown_outcome() -> Self {
        Self::from(VenueError::timeout()).with_status(408)
    }

    /// HTTP 503 "Unknown error, …": the request reached the engine but no
    /// answer came back, so the execution status is unknown. Binance's
    /// gateway sends it as `{"timestamp","path","msg"}` without a code (see
    /// [`super::rest::error_response_at`]); `code` is 0.
    pub fn unknown_error() -> Self {
        Self::new(0, binance_core::errors::UNKNOWN_ERROR_TEXT).with_status(503)
    }

    /// `-1003` with HTTP 429, or 418 once banned.
    pub fn too_many(limit: u32, banned: bool) -> Self {
        let error = Self::new(
            codes::TOO_MANY_REQUESTS,
            format!(
                "Too many requests; current limit is {limit} requests per minute. Please use the websocket for live updates to avoid polling the API."
            ),
        );
        error.with_status(if banned { 418 } else { 429 })
    }
}
