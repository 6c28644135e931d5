//! `Dec`: the fixed-point decimal that carries prices and sizes across the ABI.
//!
//! Exchanges send prices and sizes as decimal strings. Parsing them into a
//! mantissa and a scale is exact, allocation-free and cheap to move across the
//! boundary; binary floating point never appears.

use std::fmt;
use std::str::FromStr;

use abi_stable::StableAbi;
use rust_decimal::Decimal;

/// An exact decimal number: `mantissa × 10^-scale`.
///
/// Values compare by numeric value (`1.50 == 1.5`).
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Default)]
pub struct Dec {
    /// The digits of the number, as a signed integer.
    pub mantissa: i64,
    /// How many of those digits are decimals (at most 18).
    pub scale: u32,
}

/// The largest scale a [`Dec`] may have.
pub const MAX_SCALE: u32 = 18;

/// Why a string or a [`Decimal`] could not become a [`Dec`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecError {
    /// The text is not a plain decimal number (digits, one optional point,
    /// an optional leading minus).
    #[error("`{0}` is not a decimal number")]
    Syntax(String),
    /// The number has more significant digits or decimals than a `Dec` holds.
    #[error("`{0}` does not fit a 64-bit mantissa with at most 18 decimals")]
    Overflow(String),
}

impl Dec {
    /// Zero.
    pub const ZERO: Dec = Dec {
        mantissa: 0,
        scale: 0,
    };

    /// Builds a value from its parts.
    pub const fn new(mantissa: i64, scale: u32) -> Dec {
        Dec { mantissa, scale }
    }

    /// Parses a plain decimal string such as `"65432.1"`, `"-0.001"` or `"7"`.
    ///
    /// Exponents, signs other than a leading `-`, spaces and empty strings are
    /// refused; trailing zeros are kept in the scale (`"1.50"` has scale 2).
    pub fn parse(text: &str) -> Result<Dec, DecError> {
        let bytes = text.as_bytes();
        let (negative, digits) = match bytes.first() {
            Some(b'-') => (true, &bytes[1..]),
            _ => (false, bytes),
        };
        if digits.is_empty() {
            return Err(DecError::Syntax(text.to_owned()));
        }
        let mut mantissa: i64 = 0;
        let mut scale: u32 = 0;
        let mut seen_point = false;
        let mut seen_digit = false;
        for &byte in digits {
            match byte {
                b'0'..=b'9' => {
                    seen_digit = true;
                    mantissa = mantissa
                        .checked_mul(10)
                        .and_then(|m| m.checked_add(i64::from(byte - b'0')))
                        .ok_or_else(|| DecError::Overflow(text.to_owned()))?;
                    if seen_point {
                        scale += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => return Err(DecError::Syntax(text.to_owned())),
            }
        }
        if !seen_digit {
            return Err(DecError::Syntax(text.to_owned()));
        }
        if scale > MAX_SCALE {
            return Err(DecError::Overflow(text.to_owned()));
        }
        Ok(Dec {
            mantissa: if negative { -mantissa } else { mantissa },
            scale,
        })
    }

    /// Converts to a [`Decimal`] for arithmetic.
    pub fn to_decimal(self) -> Decimal {
        Decimal::from_i128_with_scale(i128::from(self.mantissa), self.scale.min(MAX_SCALE))
    }

    /// Converts from a [`Decimal`], dropping trailing zeros first.
    pub fn from_decimal(value: Decimal) -> Result<Dec, DecError> {
        let normalized = value.normalize();
        let mantissa = i64::try_from(normalized.mantissa())
            .map_err(|_| DecError::Overflow(normalized.to_string()))?;
        Ok(Dec {
            mantissa,
            scale: normalized.scale(),
        })
    }

    /// True when the value is zero.
    pub fn is_zero(self) -> bool {
        self.mantissa == 0
    }

    /// True when the value is below zero.
    pub fn is_negative(self) -> bool {
        self.mantissa < 0
    }
}

impl PartialEq for Dec {
    fn eq(&self, other: &Dec) -> bool {
        self.to_decimal() == other.to_decimal()
    }
}

impl Eq for Dec {}

impl PartialOrd for Dec {
    fn partial_cmp(&self, other: &Dec) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Dec {
    fn cmp(&self, other: &Dec) -> std::cmp::Ordering {
        self.to_decimal().cmp(&other.to_decimal())
    }
}

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_decimal(), f)
    }
}

impl fmt::Debug for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Dec {
    type Err = DecError;

    fn from_str(text: &str) -> Result<Dec, DecError> {
        Dec::parse(text)
    }
}

impl From<Dec> for Decimal {
    fn from(value: Dec) -> Decimal {
        value.to_decimal()
    }
}

impl TryFrom<Decimal> for Dec {
    type Error = DecError;

    fn try_from(value: Decimal) -> Result<Dec, DecError> {
        Dec::from_decimal(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_decimals_exactly() {
        assert_eq!(Dec::parse("65432.1").unwrap(), Dec::new(654321, 1));
        assert_eq!(Dec::parse("-0.001").unwrap(), Dec::new(-1, 3));
        assert_eq!(Dec::parse("7").unwrap(), Dec::new(7, 0));
        assert_eq!(Dec::parse("1500.0").unwrap().to_string(), "1500.0");
        assert_eq!(Dec::parse("1.50").unwrap(), Dec::parse("1.5").unwrap());
    }

    #[test]
    fn refuses_what_is_not_a_plain_decimal() {
        for bad in [
            "", "-", ".", "1e5", "1.2.3", " 1", "+1", "0x10", "NaN", "1,5",
        ] {
            assert!(
                matches!(Dec::parse(bad), Err(DecError::Syntax(_))),
                "{bad:?} should be a syntax error"
            );
        }
    }

    #[test]
    fn refuses_numbers_that_do_not_fit() {
        assert!(matches!(
            Dec::parse("99999999999999999999"),
            Err(DecError::Overflow(_))
        ));
        assert!(matches!(
            Dec::parse("0.0000000000000000001"),
            Err(DecError::Overflow(_))
        ));
    }

    #[test]
    fn round_trips_through_decimal() {
        let value = Dec::parse("123.4500").unwrap();
        let back = Dec::from_decimal(value.to_decimal()).unwrap();
        assert_eq!(back, value);
        assert_eq!(back.scale, 2, "trailing zeros are dropped on the way back");
    }
}
