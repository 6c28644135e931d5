//! `0x`-prefixed hexadecimal text helpers shared by the fixed-size identifiers.

/// Decodes `0x` followed by exactly `2 * N` hex digits (either letter case).
pub(crate) fn decode_fixed<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.strip_prefix("0x")?;
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out).ok()?;
    Some(out)
}

/// Encodes bytes as `0x` followed by lower-case hex digits.
pub(crate) fn encode_prefixed(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("0x");
    out.push_str(&hex::encode(bytes));
    out
}
