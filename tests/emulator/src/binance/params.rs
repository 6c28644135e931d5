//! Request parameters: the query string followed by a form body (Binance's
//! `totalParams`), or a WebSocket API `params` object; the query wins when a
//! name appears twice.

use rust_decimal::Decimal;
use serde_json::Value;

use super::errors::ApiError;

/// Request parameters by name, in the order received.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// From a query string and a form body.
    pub fn from_query_and_body(query: &str, body: &str) -> Result<Self, ApiError> {
        let mut pairs = decode(query)?;
        for (key, value) in decode(body)? {
            if !pairs.iter().any(|(k, _)| *k == key) {
                pairs.push((key, value));
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

    /// A parameter (empty counts as absent).
    pub fn text(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A required parameter.
    pub fn required(&self, key: &str) -> Result<&str, ApiError> {
        self.text(key).ok_or_else(|| ApiError::mandatory(key))
    }

    /// An optional decimal.
    pub fn decimal(&self, key: &str) -> Result<Option<Decimal>, ApiError> {
        self.text(key)
            .map(|t| {
                t.parse::<Decimal>()
                    .or_else(|_| Decimal::from_scientific(t))
                    .map_err(|_| ApiError::mandatory(key))
            })
            .transpose()
    }

    /// An optional unsigned integer.
    pub fn integer(&self, key: &str) -> Result<Option<u64>, ApiError> {
        self.text(key)
            .map(|t| t.parse::<u64>().map_err(|_| ApiError::mandatory(key)))
            .transpose()
    }

    /// An optional boolean (`true`/`false`).
    pub fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.text(key) {
            None | Some("false") | Some("FALSE") => Ok(false),
            Some("true") | Some("TRUE") => Ok(true),
            Some(_) => Err(ApiError::mandatory(key)),
        }
    }
}

/// Decodes `a=1&b=2` (percent and `+` escapes).
pub fn decode(text: &str) -> Result<Vec<(String, String)>, ApiError> {
    text.split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            Ok((unescape(key)?, unescape(value)?))
        })
        .collect()
}

fn unescape(text: &str) -> Result<String, ApiError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        ApiError::new(-1100, "Illegal characters found in a parameter.")
                    })?;
                out.push(hex);
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| ApiError::new(-1100, "Illegal characters found in a parameter."))
}

/// `quote_plus` encoding, as the WebSocket API's signed text uses.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
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
        assert_eq!(escape("my:id/1"), "my%3Aid%2F1");
    }
}
