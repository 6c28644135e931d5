//! Exact decimals as JSON numbers, fast.

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

/// Powers of ten that are exact doubles (10^0 … 10^22).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Decimals with at most this many significant digits survive a trip
/// through the nearest `f64` and its shortest representation unchanged.
const EXACT_DIGITS: u128 = 1_000_000_000_000_000; // 10^15

/// A decimal written as a JSON number equal to it exactly (`65000.5`, never
/// `65000.499999…`), as the seed schema's subscribers expect numbers.
///
/// Integers are written as integers. Other values with at most 15
/// significant digits go through the nearest `f64`, which is exact for them
/// (mantissa and power of ten are exact doubles and the division is
/// correctly rounded; the shortest representation of that double is the
/// decimal itself) — very small or large ones may come out in exponent
/// form (`1.25e-5`), still exactly equal. Longer decimals are written
/// digit for digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonDecimal(pub Decimal);

impl Serialize for JsonDecimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = self.0.normalize();
        let mantissa = value.mantissa();
        let scale = value.scale() as usize;
        if scale == 0
            && let Ok(integer) = i64::try_from(mantissa)
        {
            return serializer.serialize_i64(integer);
        }
        if mantissa.unsigned_abs() < EXACT_DIGITS && scale < POW10.len() {
            return serializer.serialize_f64(mantissa as f64 / POW10[scale]);
        }
        match serde_json::value::RawValue::from_string(value.to_string()) {
            Ok(raw) => raw.serialize(serializer),
            Err(error) => Err(serde::ser::Error::custom(error)),
        }
    }
}

impl From<Decimal> for JsonDecimal {
    fn from(value: Decimal) -> JsonDecimal {
        JsonDecimal(value)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn json(text: &str) -> String {
        serde_json::to_string(&JsonDecimal(text.parse().unwrap())).unwrap()
    }

    #[test]
    fn numbers_come_out_exact() {
        assert_eq!(json("65000.50"), "65000.5");
        assert_eq!(json("100006"), "100006");
        assert_eq!(json("-0.001"), "-0.001");
        assert_eq!(json("0"), "0");
        assert_eq!(json("0.30000000000000004"), "0.30000000000000004");
        assert_eq!(json("123456789012345678.5"), "123456789012345678.5");
    }

    proptest! {
        #[test]
        fn every_decimal_reads_back_equal(mantissa in any::<i64>(), scale in 0u32..20) {
            let value = Decimal::new(mantissa, scale);
            let text = serde_json::to_string(&JsonDecimal(value)).unwrap();
            // Read the JSON number back as a decimal (exponent form allowed).
            let back = Decimal::from_scientific(&text).or_else(|_| text.parse::<Decimal>()).unwrap();
            prop_assert_eq!(back, value, "{} became {}", value, text);
        }
    }
}
