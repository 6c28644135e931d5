//! Wire formatting of decimals and Hyperliquid's tick and lot rules.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Most decimals a wire number may carry.
const WIRE_DECIMALS: u32 = 8;
/// Residue below which digits past the 8th decimal are treated as binary-float noise
/// (the official SDK's `float_to_wire` tolerance, 1e-12).
const NOISE_TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 12);
/// Most significant figures of a non-integer price.
const PRICE_SIG_FIGS: u32 = 5;
/// Micro-USDC per USDC.
const USD_INT_SCALE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// Which kind of market a price belongs to; decides the decimal budget of prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MarketKind {
    /// Perpetual futures: prices have at most `6 - szDecimals` decimals.
    Perp,
    /// Spot pairs: prices have at most `8 - szDecimals` decimals.
    Spot,
}

/// How a value that breaks a tick or lot rule is brought into line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Do not round: a value that breaks a rule is an error naming the rule.
    Exact,
    /// Round to the nearest allowed value, ties to even.
    Nearest,
    /// Round toward zero (a lower price or smaller size).
    Down,
    /// Round away from zero (a higher price or larger size).
    Up,
}

impl Rounding {
    fn strategy(self) -> Option<RoundingStrategy> {
        match self {
            Rounding::Exact => None,
            Rounding::Nearest => Some(RoundingStrategy::MidpointNearestEven),
            Rounding::Down => Some(RoundingStrategy::ToZero),
            Rounding::Up => Some(RoundingStrategy::AwayFromZero),
        }
    }
}

/// Why a decimal cannot be written as a wire number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Digits past the 8th decimal would be lost.
    #[error("{value} has more than 8 decimals; refusing to round it")]
    TooManyDecimals {
        /// The offending value.
        value: Decimal,
    },
    /// Prices, sizes and trigger prices cannot be negative.
    #[error("{value} is negative")]
    Negative {
        /// The offending value.
        value: Decimal,
    },
    /// The text is not plain decimal digits (`123`, `0.5`).
    #[error("{text:?} is not a plain non-negative decimal number")]
    Syntax {
        /// The offending text.
        text: String,
    },
}

/// Why a price breaks, or cannot be brought into line with, the tick rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    /// Prices cannot be negative.
    #[error("price {price} is negative")]
    Negative {
        /// The offending price.
        price: Decimal,
    },
    /// A non-integer price has more than 5 significant figures.
    #[error("price {price} has {actual} significant figures; non-integer prices allow at most 5")]
    TooManySignificantFigures {
        /// The offending price.
        price: Decimal,
        /// Its significant figures.
        actual: u32,
    },
    /// A price has more decimals than the market allows.
    #[error("price {price} has {actual} decimals; this market allows at most {max}")]
    TooManyDecimals {
        /// The offending price.
        price: Decimal,
        /// Its decimals.
        actual: u32,
        /// The market's limit (`6|8 - szDecimals`).
        max: u32,
    },
    /// Rounding a non-zero price gave zero.
    #[error("price {price} rounds to zero")]
    RoundsToZero {
        /// The price before rounding.
        price: Decimal,
    },
    /// A slippage fraction outside `[0, 1)`.
    #[error("slippage {slippage} is outside [0, 1)")]
    InvalidSlippage {
        /// The offending fraction.
        slippage: Decimal,
    },
    /// The arithmetic left the range of `Decimal`.
    #[error("price arithmetic overflowed")]
    Overflow,
}

/// Why a size breaks, or cannot be brought into line with, the lot rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// Sizes cannot be negative.
    #[error("size {size} is negative")]
    Negative {
        /// The offending size.
        size: Decimal,
    },
    /// The size is not a multiple of `10^-szDecimals`.
    #[error("size {size} is not a multiple of 10^-{sz_decimals}")]
    NotLotMultiple {
        /// The offending size.
        size: Decimal,
        /// The market's size decimals.
        sz_decimals: u32,
    },
    /// Rounding a non-zero size gave zero.
    #[error("size {size} rounds to zero at {sz_decimals} decimals")]
    RoundsToZero {
        /// The size before rounding.
        size: Decimal,
        /// The market's size decimals.
        sz_decimals: u32,
    },
}

/// Why an amount cannot be expressed in integer micro-USDC.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsdIntError {
    /// The amount has more than 6 decimals.
    #[error("{amount} USDC is not a whole number of micro-USDC")]
    NotRepresentable {
        /// The offending amount.
        amount: Decimal,
    },
    /// The amount does not fit an `i64` of micro-USDC.
    #[error("{amount} USDC is out of range")]
    OutOfRange {
        /// The offending amount.
        amount: Decimal,
    },
}

/// Canonical wire text of a decimal, as the official SDK's `float_to_wire` writes it.
///
/// Plain digits, no exponent, no trailing zeros or trailing `.`, `"0"` for zero (never
/// `"-0"`), at most 8 decimals. Digits past the 8th decimal are an error unless
/// they add up to less than `1e-12` — that residue can only be binary-float noise
/// from a value that passed through `f64` upstream (`0.30000000000000004` → `"0.3"`),
/// which the SDK absorbs the same way. Negative values are written with a `-`; use
/// [`WireDecimal`] for prices and sizes, which rejects them.
pub fn to_wire(value: Decimal) -> Result<String, WireError> {
    let rounded =
        value.round_dp_with_strategy(WIRE_DECIMALS, RoundingStrategy::MidpointNearestEven);
    if (rounded - value).abs() >= NOISE_TOLERANCE {
        return Err(WireError::TooManyDecimals { value });
    }
    if rounded.is_zero() {
        return Ok("0".to_owned());
    }
    Ok(rounded.normalize().to_string())
}

/// A non-negative decimal as wire text (`p`, `s`, `triggerPx`), keeping the exact
/// text it was built or parsed from.
///
/// Built from a [`Decimal`] it is canonical ([`to_wire`]). Parsed from JSON it keeps
/// the sender's text byte for byte (for example `"2000.0"`), because that text is
/// what the signature covers; [`WireDecimal::is_canonical`] tells the two apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WireDecimal {
    text: String,
    value: Decimal,
}

impl WireDecimal {
    /// Canonical wire text of a non-negative decimal.
    pub fn from_decimal(value: Decimal) -> Result<Self, WireError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(WireError::Negative { value });
        }
        let text = to_wire(value)?;
        let value = value.round_dp(WIRE_DECIMALS).normalize();
        Ok(Self { text, value })
    }

    /// The wire text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The numeric value.
    pub fn value(&self) -> Decimal {
        self.value
    }

    /// Whether the text is exactly what [`to_wire`] would produce for its value.
    pub fn is_canonical(&self) -> bool {
        to_wire(self.value).is_ok_and(|canonical| canonical == self.text)
    }
}

impl FromStr for WireDecimal {
    type Err = WireError;

    /// Accepts `digits` or `digits.digits` (no sign, exponent or blank parts).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let syntax = || WireError::Syntax {
            text: text.to_owned(),
        };
        let (int, frac) = text.split_once('.').unwrap_or((text, "0"));
        let digits_only = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !digits_only(int) || !digits_only(frac) {
            return Err(syntax());
        }
        let value = Decimal::from_str_exact(text).map_err(|_| syntax())?;
        Ok(Self {
            text: text.to_owned(),
            value,
        })
    }
}

impl fmt::Display for WireDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for WireDecimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for WireDecimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Most decimals a price may have: `6 - szDecimals` (perp) or `8 - szDecimals` (spot),
/// never below zero.
pub fn max_price_decimals(sz_decimals: u32, kind: MarketKind) -> u32 {
    let budget: u32 = match kind {
        MarketKind::Perp => 6,
        MarketKind::Spot => 8,
    };
    budget.saturating_sub(sz_decimals)
}

/// Checks a price against the tick rules, naming the first rule it breaks.
///
/// Integer prices are always valid; other prices need at most 5 significant figures
/// and at most [`max_price_decimals`] decimals.
pub fn check_price(price: Decimal, sz_decimals: u32, kind: MarketKind) -> Result<(), PriceError> {
    if price.is_sign_negative() && !price.is_zero() {
        return Err(PriceError::Negative { price });
    }
    let normalized = price.normalize();
    if normalized.is_integer() {
        return Ok(());
    }
    let sig_figs = significant_figures(normalized);
    if sig_figs > PRICE_SIG_FIGS {
        return Err(PriceError::TooManySignificantFigures {
            price,
            actual: sig_figs,
        });
    }
    let max = max_price_decimals(sz_decimals, kind);
    if normalized.scale() > max {
        return Err(PriceError::TooManyDecimals {
            price,
            actual: normalized.scale(),
            max,
        });
    }
    Ok(())
}

/// Whether a price satisfies the tick rules (see [`check_price`]).
pub fn is_valid_price(price: Decimal, sz_decimals: u32, kind: MarketKind) -> bool {
    check_price(price, sz_decimals, kind).is_ok()
}

/// Brings a price into line with the tick rules.
///
/// A valid price is returned unchanged (trailing zeros dropped). Otherwise
/// [`Rounding::Exact`] returns the broken rule, and the other modes round like the
/// SDK: first to 5 significant figures, then to [`max_price_decimals`], both in the
/// requested direction.
pub fn normalize_price(
    price: Decimal,
    sz_decimals: u32,
    kind: MarketKind,
    rounding: Rounding,
) -> Result<Decimal, PriceError> {
    let broken = match check_price(price, sz_decimals, kind) {
        Ok(()) => return Ok(price.normalize()),
        Err(err) => err,
    };
    match (rounding.strategy(), broken) {
        (_, negative @ PriceError::Negative { .. }) | (None, negative) => Err(negative),
        (Some(strategy), _) => round_price(price, max_price_decimals(sz_decimals, kind), strategy),
    }
}

/// Limit price of a market order emulated as an IOC: `mid·(1+slippage)` to buy,
/// `mid·(1−slippage)` to sell, rounded to nearest like the SDK (5 significant
/// figures, then the market's decimals).
pub fn slippage_price(
    mid: Decimal,
    is_buy: bool,
    slippage: Decimal,
    sz_decimals: u32,
    kind: MarketKind,
) -> Result<Decimal, PriceError> {
    if slippage.is_sign_negative() || slippage >= Decimal::ONE {
        return Err(PriceError::InvalidSlippage { slippage });
    }
    if mid.is_sign_negative() && !mid.is_zero() {
        return Err(PriceError::Negative { price: mid });
    }
    let factor = if is_buy {
        Decimal::ONE + slippage
    } else {
        Decimal::ONE - slippage
    };
    let raw = mid.checked_mul(factor).ok_or(PriceError::Overflow)?;
    round_price(
        raw,
        max_price_decimals(sz_decimals, kind),
        RoundingStrategy::MidpointNearestEven,
    )
}

fn round_price(
    price: Decimal,
    max_decimals: u32,
    strategy: RoundingStrategy,
) -> Result<Decimal, PriceError> {
    let rounded = price
        .round_sf_with_strategy(PRICE_SIG_FIGS, strategy)
        .ok_or(PriceError::Overflow)?
        .round_dp_with_strategy(max_decimals, strategy)
        .normalize();
    if rounded.is_zero() && !price.is_zero() {
        return Err(PriceError::RoundsToZero { price });
    }
    Ok(rounded)
}

/// Brings a size into line with the lot rule (a multiple of `10^-szDecimals`).
///
/// [`Rounding::Exact`] rejects a size that is not a multiple; the other modes round
/// in the requested direction. A non-zero size that rounds to zero is an error.
pub fn normalize_size(
    size: Decimal,
    sz_decimals: u32,
    rounding: Rounding,
) -> Result<Decimal, SizeError> {
    if size.is_sign_negative() && !size.is_zero() {
        return Err(SizeError::Negative { size });
    }
    let on_lot = size.round_dp_with_strategy(sz_decimals, RoundingStrategy::ToZero);
    if on_lot == size {
        return Ok(size.normalize());
    }
    let Some(strategy) = rounding.strategy() else {
        return Err(SizeError::NotLotMultiple { size, sz_decimals });
    };
    let rounded = size
        .round_dp_with_strategy(sz_decimals, strategy)
        .normalize();
    if rounded.is_zero() {
        return Err(SizeError::RoundsToZero { size, sz_decimals });
    }
    Ok(rounded)
}

/// Amount in integer micro-USDC (`updateIsolatedMargin.ntli`); negative amounts
/// stay negative. Amounts with more than 6 decimals are an error, never rounded.
pub fn usd_int(amount: Decimal) -> Result<i64, UsdIntError> {
    let micros = amount
        .checked_mul(USD_INT_SCALE)
        .ok_or(UsdIntError::OutOfRange { amount })?;
    if !micros.is_integer() {
        return Err(UsdIntError::NotRepresentable { amount });
    }
    micros.to_i64().ok_or(UsdIntError::OutOfRange { amount })
}

/// Significant figures of a normalized decimal: the digits of its mantissa.
fn significant_figures(normalized: Decimal) -> u32 {
    let mantissa = normalized.mantissa().unsigned_abs();
    if mantissa == 0 {
        0
    } else {
        mantissa.ilog10() + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    #[test]
    fn wire_text_is_canonical() {
        assert_eq!(to_wire(d("2000.000")).unwrap(), "2000");
        assert_eq!(to_wire(d("0.0000001")).unwrap(), "0.0000001");
        assert_eq!(to_wire(d("-0.0")).unwrap(), "0");
        assert_eq!(
            to_wire(d("100000000000000000000")).unwrap(),
            "100000000000000000000"
        );
    }

    #[test]
    fn wire_decimal_rejects_bad_text_and_negatives() {
        for bad in ["", "1.", ".5", "-1", "+1", "1e5", "1.2.3", " 1", "0x10"] {
            assert!(bad.parse::<WireDecimal>().is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            WireDecimal::from_decimal(d("-1")),
            Err(WireError::Negative { value: d("-1") })
        );
        let kept: WireDecimal = "2000.0".parse().unwrap();
        assert_eq!(kept.as_str(), "2000.0");
        assert!(!kept.is_canonical());
        assert!(
            WireDecimal::from_decimal(d("2000.0"))
                .unwrap()
                .is_canonical()
        );
    }

    #[test]
    fn exact_mode_names_the_broken_rule() {
        assert!(matches!(
            normalize_price(d("1234.56"), 0, MarketKind::Perp, Rounding::Exact),
            Err(PriceError::TooManySignificantFigures { actual: 6, .. })
        ));
        assert!(matches!(
            normalize_price(d("0.0012345"), 0, MarketKind::Perp, Rounding::Exact),
            Err(PriceError::TooManyDecimals {
                actual: 7,
                max: 6,
                ..
            })
        ));
        assert!(matches!(
            normalize_price(d("0.001"), 4, MarketKind::Perp, Rounding::Exact),
            Err(PriceError::TooManyDecimals {
                actual: 3,
                max: 2,
                ..
            })
        ));
        assert!(matches!(
            normalize_price(d("-1"), 0, MarketKind::Perp, Rounding::Nearest),
            Err(PriceError::Negative { .. })
        ));
        assert!(matches!(
            normalize_size(d("0.123"), 2, Rounding::Exact),
            Err(SizeError::NotLotMultiple { sz_decimals: 2, .. })
        ));
    }

    #[test]
    fn directional_rounding() {
        let px = d("3210.567");
        assert_eq!(
            normalize_price(px, 4, MarketKind::Perp, Rounding::Down).unwrap(),
            d("3210.5")
        );
        assert_eq!(
            normalize_price(px, 4, MarketKind::Perp, Rounding::Up).unwrap(),
            d("3210.6")
        );
        assert_eq!(
            normalize_size(d("0.129"), 2, Rounding::Down).unwrap(),
            d("0.12")
        );
        assert_eq!(
            normalize_size(d("0.121"), 2, Rounding::Up).unwrap(),
            d("0.13")
        );
        assert!(matches!(
            normalize_size(d("0.004"), 2, Rounding::Down),
            Err(SizeError::RoundsToZero { .. })
        ));
        assert!(matches!(
            normalize_price(d("0.0000004"), 0, MarketKind::Perp, Rounding::Nearest),
            Err(PriceError::RoundsToZero { .. })
        ));
    }

    #[test]
    fn usd_int_is_exact() {
        assert_eq!(usd_int(d("-2.5")).unwrap(), -2_500_000);
        assert!(matches!(
            usd_int(d("0.0000001")),
            Err(UsdIntError::NotRepresentable { .. })
        ));
        assert!(matches!(
            usd_int(Decimal::MAX),
            Err(UsdIntError::OutOfRange { .. })
        ));
    }

    #[test]
    fn slippage_must_be_a_fraction() {
        assert!(matches!(
            slippage_price(d("100"), true, d("1"), 0, MarketKind::Perp),
            Err(PriceError::InvalidSlippage { .. })
        ));
        assert!(matches!(
            slippage_price(d("100"), true, d("-0.01"), 0, MarketKind::Perp),
            Err(PriceError::InvalidSlippage { .. })
        ));
    }
}
