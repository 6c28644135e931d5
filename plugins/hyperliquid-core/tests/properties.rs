//! Property tests of the tick, lot and wire rules.

use hyperliquid_core::{
    MarketKind, PriceError, Rounding, WireDecimal, is_valid_price, normalize_price, normalize_size,
    to_wire,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn any_decimal(max_scale: u32) -> impl Strategy<Value = Decimal> {
    (0u64..1_000_000_000_000, 0..=max_scale)
        .prop_map(|(mantissa, scale)| Decimal::new(mantissa as i64, scale))
}

fn any_market() -> impl Strategy<Value = (u32, MarketKind)> {
    prop_oneof![
        (0u32..=6).prop_map(|sz| (sz, MarketKind::Perp)),
        (0u32..=8).prop_map(|sz| (sz, MarketKind::Spot)),
    ]
}

fn rounding_mode() -> impl Strategy<Value = Rounding> {
    prop_oneof![
        Just(Rounding::Nearest),
        Just(Rounding::Down),
        Just(Rounding::Up)
    ]
}

proptest! {
    #[test]
    fn normalized_price_is_valid(px in any_decimal(12), (sz, kind) in any_market(), mode in rounding_mode()) {
        match normalize_price(px, sz, kind, mode) {
            Ok(out) => {
                prop_assert!(is_valid_price(out, sz, kind), "{} -> {}", px, out);
                match mode {
                    Rounding::Down => prop_assert!(out <= px),
                    Rounding::Up => prop_assert!(out >= px),
                    _ => {}
                }
            }
            Err(PriceError::RoundsToZero { .. }) => prop_assert!(mode != Rounding::Up),
            Err(other) => prop_assert!(false, "{}: {}", px, other),
        }
    }

    #[test]
    fn normalizing_a_valid_price_is_identity(px in any_decimal(12), (sz, kind) in any_market(), mode in rounding_mode()) {
        if let Ok(valid) = normalize_price(px, sz, kind, mode) {
            for again in [Rounding::Exact, Rounding::Nearest, Rounding::Down, Rounding::Up] {
                prop_assert_eq!(normalize_price(valid, sz, kind, again), Ok(valid));
            }
        }
    }

    #[test]
    fn normalized_size_is_on_lot(sz in any_decimal(12), sz_decimals in 0u32..=8, mode in rounding_mode()) {
        if let Ok(out) = normalize_size(sz, sz_decimals, mode) {
            prop_assert!(out.scale() <= sz_decimals);
            prop_assert_eq!(normalize_size(out, sz_decimals, Rounding::Exact), Ok(out));
        }
    }

    #[test]
    fn wire_text_round_trips(value in any_decimal(8)) {
        let text = to_wire(value).unwrap();
        prop_assert!(!text.contains('e') && !text.ends_with('.'));
        prop_assert!(!text.contains('.') || !text.ends_with('0'));
        let parsed: WireDecimal = text.parse().unwrap();
        prop_assert_eq!(parsed.value(), value);
        prop_assert!(parsed.is_canonical());
        prop_assert_eq!(WireDecimal::from_decimal(value).unwrap(), parsed);
    }

    #[test]
    fn more_than_eight_decimals_is_refused(mantissa in 1i64..1_000_000, extra in 1u32..=3) {
        // A non-zero digit past the 8th decimal (well above float noise).
        let value = Decimal::new(mantissa * 10 + 1, 8 + extra);
        prop_assert!(to_wire(value).is_err());
    }
}
