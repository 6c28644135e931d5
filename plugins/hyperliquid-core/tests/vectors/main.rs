//! Tests driven by the public vector file (a copy under `tests/fixtures/`).

mod markets;
mod number_formatting;
mod signing;

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

/// The public vector file (a copy kept inside this crate).
pub fn vectors() -> Value {
    serde_json::from_str(include_str!("../fixtures/hyperliquid_signing_public.json"))
        .expect("fixture is valid JSON")
}

/// A JSON number or numeric string as an exact decimal (accepts `1e-08`).
pub fn decimal(value: &Value) -> Decimal {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        other => panic!("not a number: {other}"),
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .unwrap_or_else(|err| panic!("{text}: {err}"))
}
