//! The query-string encoding Binance and Bybit sign: `key=value` pairs in the
//! order given, joined by `&`, each key and value percent-encoded except the
//! RFC 3986 unreserved characters (`A–Z a–z 0–9 - . _ ~`), with upper-case
//! hex digits. A plugin must send exactly this text.

use serde::Deserialize;

/// One `key=value` pair, written `["key", "value"]` in requests.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Pair(pub String, pub String);

/// The pairs, encoded.
pub fn encode(pairs: &[Pair]) -> String {
    let mut out = String::new();
    for (index, Pair(key, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        push_encoded(&mut out, key);
        out.push('=');
        push_encoded(&mut out, value);
    }
    out
}

/// The value of the first pair named `key`.
pub fn value<'a>(pairs: &'a [Pair], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|Pair(name, _)| name == key)
        .map(|Pair(_, value)| value.as_str())
}

fn push_encoded(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(key: &str, value: &str) -> Pair {
        Pair(key.to_owned(), value.to_owned())
    }

    #[test]
    fn encodes_in_order_keeping_only_unreserved_characters() {
        let pairs = [
            pair("symbol", "BTCUSDT"),
            pair("price", "9000.5"),
            pair("batchOrders", r#"[{"a":"b c"}]"#),
            pair("id", "x~y_z-1"),
            pair("note", "é"),
        ];
        assert_eq!(
            encode(&pairs),
            "symbol=BTCUSDT&price=9000.5&batchOrders=%5B%7B%22a%22%3A%22b%20c%22%7D%5D&id=x~y_z-1&note=%C3%A9"
        );
        assert_eq!(encode(&[]), "");
        assert_eq!(value(&pairs, "price"), Some("9000.5"));
        assert_eq!(value(&pairs, "quantity"), None);
    }
}
