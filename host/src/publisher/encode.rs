//! Hand-written JSON for the hottest message, the book: exact decimals
//! written from their integer digits, strings escaped by `serde_json`, into
//! one buffer without intermediate values.

use rust_decimal::Decimal;

use crate::book::{BookLevel, OrderBook};

/// Appends `text` as a JSON string.
pub fn string(out: &mut Vec<u8>, text: &str) {
    // Writing a `&str` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// Appends an unsigned integer.
pub fn unsigned(out: &mut Vec<u8>, value: u64) {
    append_short(out, itoa::Buffer::new().format(value).as_bytes());
}

/// Appends a few bytes one at a time: for the short runs of digits written
/// here, cheaper than the `memcpy` call `extend_from_slice` makes (which
/// was a third of the encoding's time, see `docs/benchmarks.md`).
fn append_short(out: &mut Vec<u8>, bytes: &[u8]) {
    for &byte in bytes {
        out.push(byte);
    }
}

/// Appends `value` as a JSON number exactly equal to it, without trailing
/// zeros: `65000.5`, `-0.001`, and integers as integers (`100006`), as
/// [`super::JsonDecimal`] writes them.
pub fn decimal(out: &mut Vec<u8>, value: Decimal) {
    let mantissa = value.mantissa();
    if mantissa == 0 {
        out.push(b'0');
        return;
    }
    let magnitude = mantissa.unsigned_abs();
    let mut wide = itoa::Buffer::new();
    let mut narrow = itoa::Buffer::new();
    // Almost every price and size fits 64 bits, which format far faster.
    let all_digits = match u64::try_from(magnitude) {
        Ok(magnitude) => narrow.format(magnitude),
        Err(_) => wide.format(magnitude),
    }
    .as_bytes();
    // Trailing zeros of the fraction go (what `Decimal::normalize` does,
    // without its divisions).
    let mut scale = value.scale() as usize;
    let mut digits = all_digits;
    while scale > 0 && digits.ends_with(b"0") {
        digits = &digits[..digits.len() - 1];
        scale -= 1;
    }
    if mantissa < 0 {
        out.push(b'-');
    }
    if scale == 0 {
        append_short(out, digits);
    } else if digits.len() > scale {
        let (integer, fraction) = digits.split_at(digits.len() - scale);
        append_short(out, integer);
        out.push(b'.');
        append_short(out, fraction);
    } else {
        append_short(out, b"0.");
        out.resize(out.len() + scale - digits.len(), b'0');
        append_short(out, digits);
    }
}

fn optional_decimal(out: &mut Vec<u8>, value: Option<Decimal>) {
    match value {
        Some(value) => decimal(out, value),
        None => out.extend_from_slice(b"null"),
    }
}

fn levels(out: &mut Vec<u8>, levels: &[BookLevel]) {
    out.push(b'[');
    for (i, level) in levels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        decimal(out, level.price);
        out.push(b',');
        decimal(out, level.size);
        out.push(b',');
        unsigned(out, level.orders.into());
        out.push(b']');
    }
    out.push(b']');
}

/// Appends the body of `market.<exchange>.book.<symbol>` (see
/// `docs/events.md`): the top `depth` levels of each side, best first, the
/// best prices, mid, spread, the venue's sequence number and the exchange
/// time in ns.
pub fn book(out: &mut Vec<u8>, exchange: &str, symbol: &str, book: &OrderBook, depth: usize) {
    let (bids, asks) = book.depth(depth);
    out.extend_from_slice(b"{\"exchange\":");
    string(out, exchange);
    out.extend_from_slice(b",\"symbol\":");
    string(out, symbol);
    out.extend_from_slice(b",\"bids\":");
    levels(out, bids);
    out.extend_from_slice(b",\"asks\":");
    levels(out, asks);
    out.extend_from_slice(b",\"best_bid\":");
    optional_decimal(out, book.best_bid().map(|level| level.price));
    out.extend_from_slice(b",\"best_ask\":");
    optional_decimal(out, book.best_ask().map(|level| level.price));
    out.extend_from_slice(b",\"mid\":");
    optional_decimal(out, book.mid());
    out.extend_from_slice(b",\"spread\":");
    optional_decimal(out, book.spread());
    out.extend_from_slice(b",\"seq\":");
    unsigned(out, book.seq());
    out.extend_from_slice(b",\"exchange_time\":");
    unsigned(out, book.time_ms().saturating_mul(1_000_000));
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::publisher::JsonDecimal;

    fn text(value: Decimal) -> String {
        let mut out = Vec::new();
        decimal(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn decimals_come_out_exact_and_short() {
        for (value, expected) in [
            ("65000.50", "65000.5"),
            ("100006", "100006"),
            ("100006.000", "100006"),
            ("-0.001", "-0.001"),
            ("0.00001", "0.00001"),
            ("0", "0"),
            ("-0.0", "0"),
            ("123456789012345678.5", "123456789012345678.5"),
            (
                "-79228162514264337593543950335",
                "-79228162514264337593543950335",
            ),
        ] {
            assert_eq!(text(value.parse().unwrap()), expected, "{value}");
        }
    }

    proptest! {
        #[test]
        fn every_decimal_reads_back_equal_and_as_serde_writes_it(
            mantissa in any::<i64>(),
            scale in 0u32..28,
        ) {
            let value = Decimal::new(mantissa, scale);
            let written = text(value);
            let back: serde_json::Value = serde_json::from_str(&written).unwrap();
            let serde: serde_json::Value =
                serde_json::from_str(&serde_json::to_string(&JsonDecimal(value)).unwrap()).unwrap();
            // Integers are integers in both; everything else the same number.
            prop_assert_eq!(back.is_i64() || back.is_u64(), serde.is_i64() || serde.is_u64());
            let exact = written.parse::<Decimal>().unwrap();
            prop_assert_eq!(exact, value, "{} became {}", value, written);
        }

        #[test]
        fn every_96_bit_decimal_is_written_as_its_shortest_exact_text(
            mantissa in -(1i128 << 96) + 1..(1i128 << 96),
            scale in 0u32..29,
        ) {
            let value = Decimal::from_i128_with_scale(mantissa, scale);
            prop_assert_eq!(text(value), value.normalize().to_string());
        }
    }

    #[test]
    fn a_book_body_has_every_field_in_its_documented_shape() {
        let level = |price: &str, size: &str, orders| BookLevel {
            price: price.parse().unwrap(),
            size: size.parse().unwrap(),
            orders,
        };
        let mut book = OrderBook::new();
        book.apply_snapshot(
            [
                level("65000.0", "1.50", 3),
                level("64999", "0.1", 1),
                level("64998", "2", 1),
            ],
            [level("65001", "0.2", 2)],
            7,
            1_700_000_000_000,
        );
        let mut out = Vec::new();
        super::book(&mut out, "hl\"x", "BTC-USD", &book, 2);
        let body: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "exchange": "hl\"x",
                "symbol": "BTC-USD",
                "bids": [[65000, 1.5, 3], [64999, 0.1, 1]],
                "asks": [[65001, 0.2, 2]],
                "best_bid": 65000,
                "best_ask": 65001,
                "mid": 65000.5,
                "spread": 1,
                "seq": 7,
                "exchange_time": 1_700_000_000_000_000_000u64,
            })
        );

        let mut empty = Vec::new();
        super::book(&mut empty, "hl", "BTC-USD", &OrderBook::new(), 20);
        let body: serde_json::Value = serde_json::from_slice(&empty).unwrap();
        assert_eq!(body["bids"], serde_json::json!([]));
        assert_eq!(body["mid"], serde_json::Value::Null);
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = Vec::new();
        string(&mut out, "a\"b\\c\n");
        assert_eq!(out, br#""a\"b\\c\n""#);
    }
}
