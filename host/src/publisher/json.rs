//! Exact decimals as JSON numbers.

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

/// A decimal written as a JSON number with its exact digits (`65000.5`,
/// never `65000.499999…`), as the seed schema's subscribers expect numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonDecimal(pub Decimal);

impl Serialize for JsonDecimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.0.normalize().to_string();
        match serde_json::value::RawValue::from_string(text) {
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
