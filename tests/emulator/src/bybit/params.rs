//! Request parameters (from a query string or a JSON body) and Bybit's error
//! replies.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// A refusal with Bybit's `retCode` and `retMsg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// `retCode`.
    pub code: i64,
    /// `retMsg`.
    pub msg: String,
}

impl Reject {
    /// A refusal.
    pub fn new(code: i64, msg: impl Into<String>) -> Self {
        Self {
            code,
            msg: msg.into(),
        }
    }

    /// `10001`, a parameter error.
    pub fn params(msg: impl Into<String>) -> Self {
        Self::new(PARAMS, msg)
    }
}

pub use bybit_core::codes::{
    API_KEY, DUPLICATE_LINK_ID, INSUFFICIENT_BALANCE, LEVERAGE_NOT_MODIFIED, MIN_NOTIONAL,
    ORDER_NOT_FOUND, PARAMS, RATE_LIMIT, REDUCE_ONLY, SIGN, TIMESTAMP, TRIGGER_FALLING,
    TRIGGER_RISING,
};

/// Request parameters by name.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Map<String, Value>);

impl Params {
    /// From a JSON object.
    pub fn from_value(value: Value) -> Result<Self, Reject> {
        match value {
            Value::Object(map) => Ok(Self(map)),
            _ => Err(Reject::params("params error: body must be a JSON object")),
        }
    }

    /// From decoded query pairs (every value a string).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
    }

    /// A parameter as text (numbers and booleans as they print); empty text counts as absent.
    pub fn text(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A required text parameter.
    pub fn required(&self, key: &str) -> Result<String, Reject> {
        self.text(key)
            .ok_or_else(|| Reject::params(format!("params error: {key} is required")))
    }

    /// An optional decimal (a string or a number).
    pub fn decimal(&self, key: &str) -> Result<Option<Decimal>, Reject> {
        let Some(text) = self.text(key) else {
            return Ok(None);
        };
        text.parse::<Decimal>()
            .or_else(|_| Decimal::from_scientific(&text))
            .map(Some)
            .map_err(|_| Reject::params(format!("params error: {key} invalid")))
    }

    /// An optional boolean (`true`/`false`, as JSON or text).
    pub fn flag(&self, key: &str) -> Result<bool, Reject> {
        match self.text(key).as_deref() {
            None | Some("false") | Some("False") | Some("0") => Ok(false),
            Some("true") | Some("True") | Some("1") => Ok(true),
            Some(_) => Err(Reject::params(format!("params error: {key} invalid"))),
        }
    }

    /// An optional integer.
    pub fn integer(&self, key: &str) -> Result<Option<i64>, Reject> {
        let Some(text) = self.text(key) else {
            return Ok(None);
        };
        text.parse::<i64>()
            .map(Some)
            .map_err(|_| Reject::params(format!("params error: {key} invalid")))
    }

    /// `category`, which must be `linear` where trading is concerned.
    pub fn linear(&self) -> Result<(), Reject> {
        match self.text("category").as_deref() {
            Some("linear") => Ok(()),
            Some(other) => Err(Reject::params(format!(
                "params error: category {other} is not supported here"
            ))),
            None => Err(Reject::params("params error: category is required")),
        }
    }
}
