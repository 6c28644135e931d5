//! Every `number_formatting` case of the public vector file, including the ones
//! that must fail.

use crate::{decimal, vectors};
use hyperliquid_core::{
    MarketKind, Rounding, WireError, is_valid_price, max_price_decimals, normalize_price,
    normalize_size, slippage_price, to_wire, usd_int,
};
use serde_json::Value;

fn cases(group: &str) -> Vec<Value> {
    vectors()["number_formatting"][group]
        .as_array()
        .unwrap_or_else(|| panic!("{group}"))
        .clone()
}

fn market(case: &Value) -> MarketKind {
    match case["market"].as_str().expect("market") {
        "perp" => MarketKind::Perp,
        "spot" => MarketKind::Spot,
        other => panic!("market {other}"),
    }
}

fn sz_decimals(case: &Value) -> u32 {
    case["sz_decimals"].as_u64().expect("sz_decimals") as u32
}

#[test]
fn float_to_wire_cases() {
    let cases = cases("float_to_wire");
    assert_eq!(cases.len(), 12);
    for case in cases {
        let input = decimal(&case["input"]);
        let result = to_wire(input);
        if case["raises"].as_bool().expect("raises") {
            assert_eq!(
                result,
                Err(WireError::TooManyDecimals { value: input }),
                "{case}"
            );
        } else {
            assert_eq!(
                result.as_deref(),
                Ok(case["output"].as_str().expect("output")),
                "{case}"
            );
        }
    }
}

#[test]
fn float_to_usd_int_cases() {
    for case in cases("float_to_usd_int") {
        assert_eq!(
            usd_int(decimal(&case["input"])),
            Ok(case["output"].as_i64().expect("output")),
            "{case}"
        );
    }
}

#[test]
fn price_size_rounding_cases() {
    let cases = cases("price_size_rounding");
    assert_eq!(cases.len(), 6);
    for case in cases {
        let kind = market(&case);
        let sz_decimals = sz_decimals(&case);
        assert_eq!(
            u64::from(max_price_decimals(sz_decimals, kind)),
            case["max_price_decimals"].as_u64().expect("max"),
            "{case}"
        );
        let raw_px = decimal(&case["raw_px"]);
        assert_eq!(
            is_valid_price(raw_px, sz_decimals, kind),
            case["raw_px_already_valid"]
                .as_bool()
                .expect("already valid"),
            "{case}"
        );
        let px = normalize_price(raw_px, sz_decimals, kind, Rounding::Nearest).expect("px");
        assert_eq!(
            to_wire(px).expect("wire"),
            case["px_wire"].as_str().expect("px_wire"),
            "{case}"
        );
        assert_eq!(
            is_valid_price(px, sz_decimals, kind),
            case["px_wire_valid"].as_bool().expect("valid"),
            "{case}"
        );
        assert!(
            normalize_price(raw_px, sz_decimals, kind, Rounding::Exact).is_err(),
            "{case}: exact mode must refuse an invalid price"
        );
        let sz =
            normalize_size(decimal(&case["raw_sz"]), sz_decimals, Rounding::Nearest).expect("sz");
        assert_eq!(
            to_wire(sz).expect("wire"),
            case["sz_wire"].as_str().expect("sz_wire"),
            "{case}"
        );
    }
}

#[test]
fn price_validity_cases() {
    for case in cases("price_validity") {
        assert_eq!(
            is_valid_price(decimal(&case["px"]), sz_decimals(&case), market(&case)),
            case["valid"].as_bool().expect("valid"),
            "{case}"
        );
    }
}

#[test]
fn slippage_price_cases() {
    for case in cases("slippage_price") {
        let kind = market(&case);
        let sz_decimals = sz_decimals(&case);
        let px = slippage_price(
            decimal(&case["reference_px"]),
            case["is_buy"].as_bool().expect("is_buy"),
            decimal(&case["slippage"]),
            sz_decimals,
            kind,
        )
        .expect("slippage");
        assert_eq!(
            to_wire(px).expect("wire"),
            case["px_wire"].as_str().expect("px_wire"),
            "{case}"
        );
        assert!(is_valid_price(px, sz_decimals, kind), "{case}");
    }
}
