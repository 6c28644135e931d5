//! Validation and quantization of prices and sizes against a
//! [`TradingRule`], over exact decimals.
//!
//! The same code serves every venue: tick-based rules (Binance, Bybit) and
//! significant-figure rules (Hyperliquid) are both fields of [`PriceRule`].

use rust_decimal::{Decimal, RoundingStrategy};

use crate::{Dec, PriceRule, TradingRule};

/// What to do with a number that does not fit the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Refuse it: the caller asked for exactly this number.
    Exact,
    /// Round to the nearest valid number (ties to even).
    Nearest,
    /// Round toward zero (a buyer's price, any size).
    Down,
    /// Round away from zero (a seller's price).
    Up,
}

impl Rounding {
    fn strategy(self) -> RoundingStrategy {
        match self {
            Rounding::Exact | Rounding::Nearest => RoundingStrategy::MidpointNearestEven,
            Rounding::Down => RoundingStrategy::ToZero,
            Rounding::Up => RoundingStrategy::AwayFromZero,
        }
    }
}

/// A number the rule does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleViolation {
    /// Prices must be positive.
    #[error("price {0} is not positive")]
    PriceNotPositive(Decimal),
    /// The price is not a multiple of the tick.
    #[error("price {price} is not a multiple of the tick {tick}")]
    PriceTick {
        /// The price.
        price: Decimal,
        /// The tick.
        tick: Decimal,
    },
    /// The price has too many significant figures.
    #[error("price {price} has more than {max} significant figures")]
    PriceSignificantFigures {
        /// The price.
        price: Decimal,
        /// The limit.
        max: u32,
    },
    /// The price has too many decimals.
    #[error("price {price} has more than {max} decimals")]
    PriceDecimals {
        /// The price.
        price: Decimal,
        /// The limit.
        max: u32,
    },
    /// The price is below the minimum.
    #[error("price {price} is below the minimum {min}")]
    PriceBelowMin {
        /// The price.
        price: Decimal,
        /// The minimum.
        min: Decimal,
    },
    /// The price is above the maximum.
    #[error("price {price} is above the maximum {max}")]
    PriceAboveMax {
        /// The price.
        price: Decimal,
        /// The maximum.
        max: Decimal,
    },
    /// Sizes must be positive.
    #[error("size {0} is not positive")]
    SizeNotPositive(Decimal),
    /// The size is not a multiple of the step.
    #[error("size {size} is not a multiple of the lot step {step}")]
    SizeStep {
        /// The size.
        size: Decimal,
        /// The step.
        step: Decimal,
    },
    /// The size is below the minimum (after rounding).
    #[error("size {size} is below the minimum {min}")]
    SizeBelowMin {
        /// The size.
        size: Decimal,
        /// The minimum.
        min: Decimal,
    },
    /// The size is above the maximum.
    #[error("size {size} is above the maximum {max}")]
    SizeAboveMax {
        /// The size.
        size: Decimal,
        /// The maximum.
        max: Decimal,
    },
    /// The price or size is too large to compute with (quantizing it, or
    /// its product with the other, leaves the exact decimal range).
    #[error("{field} {value} is too large")]
    TooLarge {
        /// `price` or `size`.
        field: &'static str,
        /// The number as given.
        value: Decimal,
    },
    /// Price × size leaves the exact decimal range.
    #[error("order value {price} × {size} is too large")]
    NotionalTooLarge {
        /// The price.
        price: Decimal,
        /// The size.
        size: Decimal,
    },
    /// The order's value is below the venue's minimum.
    #[error("order value {notional} is below the minimum {min}")]
    NotionalBelowMin {
        /// Price × size.
        notional: Decimal,
        /// The minimum.
        min: Decimal,
    },
}

/// `value` rounded onto a multiple of `unit`; too large for the decimal
/// range is refused as `field`.
fn on_grid(
    value: Decimal,
    unit: Decimal,
    strategy: RoundingStrategy,
    field: &'static str,
) -> Result<Decimal, RuleViolation> {
    value
        .checked_div(unit)
        .map(|units| units.round_dp_with_strategy(0, strategy))
        .and_then(|units| units.checked_mul(unit))
        .map(|on_grid| on_grid.normalize())
        .ok_or(RuleViolation::TooLarge { field, value })
}

fn nonzero(value: Dec) -> Option<Decimal> {
    (!value.is_zero()).then(|| value.to_decimal().normalize())
}

impl PriceRule {
    /// Brings `price` onto the rule, or refuses it in [`Rounding::Exact`]
    /// mode (naming the rule it breaks).
    pub fn quantize(&self, price: Decimal, mode: Rounding) -> Result<Decimal, RuleViolation> {
        if price <= Decimal::ZERO {
            return Err(RuleViolation::PriceNotPositive(price));
        }
        let strategy = mode.strategy();
        let mut result = price;
        if let Some(tick) = nonzero(self.tick) {
            let on_tick = on_grid(result, tick, strategy, "price")?;
            if mode == Rounding::Exact && on_tick != price {
                return Err(RuleViolation::PriceTick { price, tick });
            }
            result = on_tick;
        }
        let integer_exempt = self.integers_always_valid && result.fract().is_zero();
        if self.max_significant_figures > 0 && !integer_exempt {
            let limit = Decimal::from(10u64.pow(self.max_significant_figures.min(18)));
            let rounded = if self.integers_always_valid && result.abs() >= limit {
                // Too many integer digits for the figure limit: the nearest
                // valid price is an integer.
                result.round_dp_with_strategy(0, strategy)
            } else {
                result
                    .round_sf_with_strategy(self.max_significant_figures, strategy)
                    .unwrap_or(result)
            };
            if mode == Rounding::Exact && rounded != result {
                return Err(RuleViolation::PriceSignificantFigures {
                    price,
                    max: self.max_significant_figures,
                });
            }
            result = rounded;
        }
        if let Some(max) = self.max_decimals.into_option() {
            let rounded = result.round_dp_with_strategy(max, strategy);
            if mode == Rounding::Exact && rounded != result {
                return Err(RuleViolation::PriceDecimals { price, max });
            }
            result = rounded;
        }
        if result <= Decimal::ZERO {
            return Err(RuleViolation::PriceNotPositive(result));
        }
        if let Some(min) = nonzero(self.min_price)
            && result < min
        {
            return Err(RuleViolation::PriceBelowMin { price: result, min });
        }
        if let Some(max) = nonzero(self.max_price)
            && result > max
        {
            return Err(RuleViolation::PriceAboveMax { price: result, max });
        }
        Ok(result.normalize())
    }

    /// True when `price` already satisfies the rule.
    pub fn is_valid(&self, price: Decimal) -> bool {
        self.quantize(price, Rounding::Exact).is_ok()
    }
}

impl TradingRule {
    /// Brings `price` onto the price rule; see [`PriceRule::quantize`].
    pub fn quantize_price(&self, price: Decimal, mode: Rounding) -> Result<Decimal, RuleViolation> {
        self.price.quantize(price, mode)
    }

    /// Brings `size` onto the lot step and checks its bounds. Rounding never
    /// lifts a size over a bound: a size that rounds below the minimum is
    /// refused, not rounded up.
    pub fn quantize_size(&self, size: Decimal, mode: Rounding) -> Result<Decimal, RuleViolation> {
        if size <= Decimal::ZERO {
            return Err(RuleViolation::SizeNotPositive(size));
        }
        let mut result = size;
        if let Some(step) = nonzero(self.size_step) {
            let on_step = on_grid(size, step, mode.strategy(), "size")?;
            if mode == Rounding::Exact && on_step != size {
                return Err(RuleViolation::SizeStep { size, step });
            }
            result = on_step;
        }
        if result <= Decimal::ZERO {
            return Err(RuleViolation::SizeNotPositive(result));
        }
        if let Some(min) = nonzero(self.min_size)
            && result < min
        {
            return Err(RuleViolation::SizeBelowMin { size: result, min });
        }
        if let Some(max) = nonzero(self.max_size)
            && result > max
        {
            return Err(RuleViolation::SizeAboveMax { size: result, max });
        }
        Ok(result.normalize())
    }

    /// Checks the venue's minimum order value; returns the value (price ×
    /// size), which is refused when it is too large to compute.
    pub fn check_notional(
        &self,
        price: Decimal,
        size: Decimal,
        reduce_only: bool,
    ) -> Result<Decimal, RuleViolation> {
        let notional = price
            .checked_mul(size)
            .ok_or(RuleViolation::NotionalTooLarge { price, size })?;
        let Some(min) = nonzero(self.min_notional) else {
            return Ok(notional);
        };
        if reduce_only && self.reduce_only_exempt_from_min_notional {
            return Ok(notional);
        }
        if notional < min {
            return Err(RuleViolation::NotionalBelowMin { notional, min });
        }
        Ok(notional)
    }
}
