//! Request parameters: the query string followed by a form body (Binance's
//! `totalParams`), or a WebSocket API `params` object; the query wins when a
//! name appears twice. Decoding and the reading of each value are
//! `binance-core`'s ([`binance_core::Lookup`]), as the plugin writes them.

use binance_core::Lookup;
use serde_json::Value;

use super::errors::ApiError;

/// Request parameters by name, in the order received.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Lookup for Params {
    fn param(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl Params {
    /// From a query string and a form body.
    pub fn from_query_and_body(query: &str, body: &str) -> Result<Self, ApiError> {
        let mut pairs = binance_core::Params::decode(query)?.pairs().to_vec();
        for (key, value) in binance_core::Params::decode(body)?.pairs() {
            if !pairs.iter().any(|(k, _)| k == key) {
                pairs.push((key.clone(), value.clone()));
            }
        }
        Ok(Self(pairs))
    }

    /// From a WebSocket API `params` object (numbers and booleans as text).
    pub fn from_object(params: &Value) -> Self {
        let pairs = params
            .as_object()
            .map(|object| {
                object
                    .iter()
                    .filter_map(|(k, v)| {
                        let text = match v {
                            Value::String(s) => s.clone(),
                            Value::Number(n) => n.to_string(),
                            Value::Bool(b) => b.to_string(),
                            Value::Array(_) | Value::Object(_) => v.to_string(),
                            Value::Null => return None,
                        };
                        Some((k.clone(), text))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self(pairs)
    }

    /// The same parameters as `binance-core` holds them.
    pub fn to_core(&self) -> binance_core::Params {
        binance_core::Params::from_pairs(self.0.iter().cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_wins_over_body_and_escapes_decode() {
        let p = Params::from_query_and_body("a=1&id=my%3Aid%2F1&s=x+y", "a=2&b=3").unwrap();
        assert_eq!(p.text("a"), Some("1"));
        assert_eq!(p.text("b"), Some("3"));
        assert_eq!(p.text("id"), Some("my:id/1"));
        assert_eq!(p.text("s"), Some("x y"));
    }
}
