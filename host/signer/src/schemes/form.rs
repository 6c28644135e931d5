//! Query pairs as the Binance and Bybit schemes receive them, and the text
//! they sign: `plugin_api::query`'s encoding, which the plugins send.

use serde::Deserialize;

/// One `key=value` pair, written `["key", "value"]` in requests.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Pair(pub String, pub String);

/// The pairs, encoded (`plugin_api::query`, the encoding the plugins send).
pub fn encode(pairs: &[Pair]) -> String {
    plugin_api::query::encode(pairs.iter().map(|Pair(key, value)| (key, value)))
}

/// The value of the first pair named `key`.
pub fn value<'a>(pairs: &'a [Pair], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|Pair(name, _)| name == key)
        .map(|Pair(_, value)| value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(key: &str, value: &str) -> Pair {
        Pair(key.to_owned(), value.to_owned())
    }

    #[test]
    fn encodes_the_pairs_in_order_and_finds_values() {
        let pairs = [pair("symbol", "BTCUSDT"), pair("id", "my:id/1")];
        assert_eq!(encode(&pairs), "symbol=BTCUSDT&id=my%3Aid%2F1");
        assert_eq!(value(&pairs, "id"), Some("my:id/1"));
        assert_eq!(value(&pairs, "quantity"), None);
    }
}
