//! The query-string encoding venues that sign their query text (Binance,
//! Bybit) are sent: `key=value` pairs in the order given, joined by `&`,
//! each key and value percent-encoded except the RFC 3986 unreserved
//! characters (`A–Z a–z 0–9 - . _ ~`), with upper-case hex digits. The
//! plugin that sends a query and the signer that signs it both use this, so
//! the signed text is the sent text.

/// The pairs, encoded in the order given.
pub fn encode<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> String {
    let mut out = String::new();
    for (index, (key, value)) in pairs.into_iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        push_component(&mut out, key.as_ref());
        out.push('=');
        push_component(&mut out, value.as_ref());
    }
    out
}

/// Appends one key or value, percent-encoded.
pub fn push_component(out: &mut String, text: &str) {
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

    #[test]
    fn encodes_in_order_keeping_only_unreserved_characters() {
        let pairs = [
            ("symbol", "BTCUSDT"),
            ("price", "9000.5"),
            ("batchOrders", r#"[{"a":"b c"}]"#),
            ("id", "x~y_z-1"),
            ("note", "é"),
        ];
        assert_eq!(
            encode(pairs),
            "symbol=BTCUSDT&price=9000.5&batchOrders=%5B%7B%22a%22%3A%22b%20c%22%7D%5D&id=x~y_z-1&note=%C3%A9"
        );
        assert_eq!(encode(Vec::<(&str, &str)>::new()), "");
    }
}
