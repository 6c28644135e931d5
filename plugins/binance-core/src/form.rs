//! Request parameters and the one text encoding Binance signs and
//! receives: `key=value` pairs in the order given, joined by `&`, each key
//! and value percent-encoded except the RFC 3986 unreserved characters
//! (`A–Z a–z 0–9 - . _ ~`), with upper-case hex digits (a space is `%20`).
//! Decoding also takes `+` for a space, as form bodies write it.

use rust_decimal::Decimal;

use crate::errors::VenueError;

/// Named parameters, in order (a name may repeat; the first wins when read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// No parameters.
    pub fn new() -> Params {
        Params(Vec::new())
    }

    /// Parameters from `(name, value)` pairs, in order.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Params {
        Params(
            pairs
                .into_iter()
                .map(|(key, value)| (key.into(), value.into()))
                .collect(),
        )
    }

    /// Adds a parameter at the end.
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Params {
        self.0.push((key.into(), value.into()));
        self
    }

    /// The pairs, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// True when there is no parameter.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The pairs, encoded: the text sent and signed.
    pub fn encode(&self) -> String {
        plugin_api::query::encode(self.0.iter().map(|(key, value)| (key, value)))
    }

    /// Parameters from encoded text (`a=1&b=x%3Ay`); `-1100` for a bad
    /// escape or text that is not UTF-8.
    pub fn decode(text: &str) -> Result<Params, VenueError> {
        text.split('&')
            .filter(|part| !part.is_empty())
            .map(|part| {
                let (key, value) = part.split_once('=').unwrap_or((part, ""));
                Ok((unescape(key)?, unescape(value)?))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Params)
    }
}

/// Where named parameters are read from, with Binance's reading of them:
/// an empty value counts as absent, and a value that cannot be read is a
/// [`VenueError`] with the code Binance answers.
pub trait Lookup {
    /// The raw value of the first parameter named `key`.
    fn param(&self, key: &str) -> Option<&str>;

    /// A parameter (empty counts as absent).
    fn text(&self, key: &str) -> Option<&str> {
        self.param(key).filter(|value| !value.is_empty())
    }

    /// A required parameter (`-1102` when absent).
    fn required(&self, key: &str) -> Result<&str, VenueError> {
        self.text(key).ok_or_else(|| VenueError::mandatory(key))
    }

    /// An optional decimal (`-1102` when it is not one).
    fn decimal(&self, key: &str) -> Result<Option<Decimal>, VenueError> {
        self.text(key)
            .map(|text| {
                text.parse::<Decimal>()
                    .or_else(|_| Decimal::from_scientific(text))
                    .map_err(|_| VenueError::mandatory(key))
            })
            .transpose()
    }

    /// An optional unsigned integer (`-1102` when it is not one).
    fn integer(&self, key: &str) -> Result<Option<u64>, VenueError> {
        self.text(key)
            .map(|text| text.parse::<u64>().map_err(|_| VenueError::mandatory(key)))
            .transpose()
    }

    /// An optional flag, `true` or `false` in either case (absent: false).
    fn flag(&self, key: &str) -> Result<bool, VenueError> {
        match self.text(key) {
            None | Some("false" | "FALSE") => Ok(false),
            Some("true" | "TRUE") => Ok(true),
            Some(_) => Err(VenueError::mandatory(key)),
        }
    }
}

impl Lookup for Params {
    fn param(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }
}

/// Appends `text` percent-encoded (`plugin_api::query`, the encoding every
/// venue that signs its query text is sent).
pub use plugin_api::query::push_component as push_encoded;

/// `text` percent-encoded.
pub fn encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_encoded(&mut out, text);
    out
}

/// Decodes one percent-encoded component (`+` is a space).
pub fn unescape(text: &str) -> Result<String, VenueError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' => {
                let byte = bytes
                    .get(index + 1..index + 3)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .ok_or_else(VenueError::illegal_characters)?;
                out.push(byte);
                index += 2;
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8(out).map_err(|_| VenueError::illegal_characters())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_in_order_keeping_only_unreserved_characters() {
        let params = Params::from_pairs([
            ("symbol", "BTCUSDT"),
            ("price", "9000.5"),
            ("batchOrders", r#"[{"a":"b c"}]"#),
            ("id", "x~y_z-1"),
            ("note", "é"),
        ]);
        assert_eq!(
            params.encode(),
            "symbol=BTCUSDT&price=9000.5&batchOrders=%5B%7B%22a%22%3A%22b%20c%22%7D%5D&id=x~y_z-1&note=%C3%A9"
        );
        assert_eq!(Params::new().encode(), "");
    }

    #[test]
    fn decoding_undoes_encoding_and_reads_form_spaces() {
        let params = Params::from_pairs([("id", "my:id/1"), ("s", "x y"), ("e", "")]);
        assert_eq!(Params::decode(&params.encode()).unwrap(), params);
        let form = Params::decode("s=x+y&a=1&a=2").unwrap();
        assert_eq!(form.text("s"), Some("x y"));
        assert_eq!(form.text("a"), Some("1"), "the first wins");
        let error = Params::decode("a=%G1").unwrap_err();
        assert_eq!(error.code, crate::codes::ILLEGAL_CHARS);
    }

    #[test]
    fn lookups_read_as_binance_does() {
        let params = Params::from_pairs([
            ("q", "1.50"),
            ("e", "1E-3"),
            ("n", "12"),
            ("f", "TRUE"),
            ("x", ""),
            ("bad", "one"),
        ]);
        assert_eq!(params.decimal("q").unwrap(), Some(Decimal::new(150, 2)));
        assert_eq!(params.decimal("e").unwrap(), Some(Decimal::new(1, 3)));
        assert_eq!(params.integer("n").unwrap(), Some(12));
        assert!(params.flag("f").unwrap());
        assert!(!params.flag("absent").unwrap());
        assert_eq!(params.text("x"), None);
        let error = params.required("x").unwrap_err();
        assert_eq!(error.code, crate::codes::MANDATORY_PARAM);
        assert!(error.msg.contains("'x'"), "{error}");
        assert!(params.decimal("bad").is_err());
        assert!(params.integer("q").is_err());
        assert!(params.flag("bad").is_err());
    }
}
