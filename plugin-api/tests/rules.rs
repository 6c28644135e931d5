//! Quantization edge cases for tick-based and significant-figure rules.

use abi_stable::std_types::ROption;
use plugin_api::rules::{Rounding, RuleViolation};
use plugin_api::{Dec, PriceRule, TradingRule};
use rust_decimal::Decimal;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn dec(text: &str) -> Dec {
    Dec::parse(text).unwrap()
}

/// Binance-style: tick 0.10, step 0.001, min 0.001, min notional 5.
fn tick_rule() -> TradingRule {
    TradingRule {
        price: PriceRule {
            tick: dec("0.10"),
            max_significant_figures: 0,
            max_decimals: ROption::RNone,
            integers_always_valid: false,
            min_price: dec("0.10"),
            max_price: dec("1000000"),
        },
        size_step: dec("0.001"),
        min_size: dec("0.001"),
        max_size: dec("1000"),
        min_notional: dec("5"),
        reduce_only_exempt_from_min_notional: true,
    }
}

/// Hyperliquid-style perp with szDecimals 3: 5 significant figures, at most
/// 6 − 3 = 3 decimals, integers always valid.
fn sig_fig_rule() -> TradingRule {
    TradingRule {
        price: PriceRule {
            tick: Dec::ZERO,
            max_significant_figures: 5,
            max_decimals: ROption::RSome(3),
            integers_always_valid: true,
            min_price: Dec::ZERO,
            max_price: Dec::ZERO,
        },
        size_step: dec("0.001"),
        min_size: Dec::ZERO,
        max_size: Dec::ZERO,
        min_notional: dec("10"),
        reduce_only_exempt_from_min_notional: false,
    }
}

#[test]
fn tick_prices_round_each_way_and_exact_refuses() {
    let rule = tick_rule();
    assert_eq!(
        rule.quantize_price(d("100.07"), Rounding::Nearest),
        Ok(d("100.1"))
    );
    assert_eq!(
        rule.quantize_price(d("100.07"), Rounding::Down),
        Ok(d("100"))
    );
    assert_eq!(
        rule.quantize_price(d("100.01"), Rounding::Up),
        Ok(d("100.1"))
    );
    assert_eq!(
        rule.quantize_price(d("100.30"), Rounding::Exact),
        Ok(d("100.3"))
    );
    assert_eq!(
        rule.quantize_price(d("100.05"), Rounding::Exact),
        Err(RuleViolation::PriceTick {
            price: d("100.05"),
            tick: d("0.1")
        })
    );
    // Ties go to the even tick.
    assert_eq!(
        rule.quantize_price(d("100.05"), Rounding::Nearest),
        Ok(d("100"))
    );
    assert_eq!(
        rule.quantize_price(d("100.15"), Rounding::Nearest),
        Ok(d("100.2"))
    );
}

#[test]
fn price_bounds_and_signs() {
    let rule = tick_rule();
    assert_eq!(
        rule.quantize_price(d("0"), Rounding::Nearest),
        Err(RuleViolation::PriceNotPositive(d("0")))
    );
    assert_eq!(
        rule.quantize_price(d("-5"), Rounding::Nearest),
        Err(RuleViolation::PriceNotPositive(d("-5")))
    );
    // Rounds down to zero: refused, never sent as 0.
    assert!(matches!(
        rule.quantize_price(d("0.04"), Rounding::Down),
        Err(RuleViolation::PriceNotPositive(_))
    ));
    assert!(matches!(
        rule.quantize_price(d("2000000"), Rounding::Nearest),
        Err(RuleViolation::PriceAboveMax { .. })
    ));
}

#[test]
fn significant_figures_and_decimals() {
    let rule = sig_fig_rule();
    assert_eq!(
        rule.quantize_price(d("1234.56"), Rounding::Nearest),
        Ok(d("1234.6"))
    );
    assert_eq!(
        rule.quantize_price(d("0.123456"), Rounding::Nearest),
        Ok(d("0.123"))
    );
    assert_eq!(
        rule.quantize_price(d("0.0012344"), Rounding::Nearest),
        Ok(d("0.001"))
    );
    assert_eq!(
        rule.quantize_price(d("1234.56"), Rounding::Down),
        Ok(d("1234.5"))
    );
    assert_eq!(
        rule.quantize_price(d("1234.51"), Rounding::Up),
        Ok(d("1234.6"))
    );
    assert_eq!(
        rule.quantize_price(d("1234.56"), Rounding::Exact),
        Err(RuleViolation::PriceSignificantFigures {
            price: d("1234.56"),
            max: 5
        })
    );
    assert_eq!(
        rule.quantize_price(d("1.2345"), Rounding::Exact),
        Err(RuleViolation::PriceDecimals {
            price: d("1.2345"),
            max: 3
        })
    );
}

#[test]
fn integer_prices_are_always_valid_and_big_prices_become_integers() {
    let rule = sig_fig_rule();
    assert_eq!(
        rule.quantize_price(d("123456"), Rounding::Exact),
        Ok(d("123456"))
    );
    assert_eq!(
        rule.quantize_price(d("123456.7"), Rounding::Nearest),
        Ok(d("123457"))
    );
    assert_eq!(
        rule.quantize_price(d("123456.7"), Rounding::Down),
        Ok(d("123456"))
    );
    assert!(rule.price.is_valid(d("99999")));
    assert!(!rule.price.is_valid(d("12345.6")));
}

#[test]
fn rounding_up_can_carry_into_a_new_digit() {
    let rule = sig_fig_rule();
    assert_eq!(
        rule.quantize_price(d("99999.5"), Rounding::Up),
        Ok(d("100000"))
    );
    assert_eq!(
        rule.quantize_price(d("9.99999"), Rounding::Nearest),
        Ok(d("10"))
    );
}

#[test]
fn sizes_round_to_the_step_and_never_up_over_a_bound() {
    let rule = tick_rule();
    assert_eq!(
        rule.quantize_size(d("0.12345"), Rounding::Down),
        Ok(d("0.123"))
    );
    assert_eq!(
        rule.quantize_size(d("0.1235"), Rounding::Nearest),
        Ok(d("0.124"))
    );
    assert_eq!(
        rule.quantize_size(d("0.0004"), Rounding::Down),
        Err(RuleViolation::SizeNotPositive(d("0")))
    );
    assert_eq!(
        rule.quantize_size(d("0.0015"), Rounding::Exact),
        Err(RuleViolation::SizeStep {
            size: d("0.0015"),
            step: d("0.001")
        })
    );
    assert!(matches!(
        rule.quantize_size(d("1000.001"), Rounding::Exact),
        Err(RuleViolation::SizeAboveMax { .. })
    ));
    assert_eq!(
        rule.quantize_size(d("0"), Rounding::Nearest),
        Err(RuleViolation::SizeNotPositive(d("0")))
    );
}

#[test]
fn minimum_notional_with_reduce_only_exemption() {
    let rule = tick_rule();
    assert_eq!(rule.check_notional(d("100"), d("0.05"), false), Ok(d("5")));
    assert_eq!(
        rule.check_notional(d("100"), d("0.04"), false),
        Err(RuleViolation::NotionalBelowMin {
            notional: d("4"),
            min: d("5")
        })
    );
    assert_eq!(rule.check_notional(d("100"), d("0.04"), true), Ok(d("4")));
    let hyperliquid = sig_fig_rule();
    assert!(
        hyperliquid
            .check_notional(d("100"), d("0.05"), true)
            .is_err()
    );
}

#[test]
fn violations_read_well() {
    let error = tick_rule()
        .quantize_price(d("100.05"), Rounding::Exact)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "price 100.05 is not a multiple of the tick 0.1"
    );
}

#[test]
fn numbers_too_large_to_compute_with_are_refused_not_panicked_on() {
    let rule = sig_fig_rule();
    assert_eq!(
        rule.quantize_size(d("1e26"), Rounding::Down),
        Err(RuleViolation::TooLarge {
            field: "size",
            value: d("1e26")
        })
    );
    assert!(matches!(
        tick_rule().quantize_price(Decimal::MAX, Rounding::Down),
        Err(RuleViolation::TooLarge { field: "price", .. })
    ));
    assert_eq!(
        rule.check_notional(d("1e18"), d("1e12"), false),
        Err(RuleViolation::NotionalTooLarge {
            price: d("1e18"),
            size: d("1e12")
        })
    );
    assert_eq!(
        RuleViolation::NotionalTooLarge {
            price: d("1e18"),
            size: d("1e12")
        }
        .to_string(),
        "order value 1000000000000000000 × 1000000000000 is too large"
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn rounding() -> impl Strategy<Value = Rounding> {
        prop::sample::select(vec![Rounding::Nearest, Rounding::Down, Rounding::Up])
    }

    /// Any decimal at all, from the smallest to the largest.
    fn any_decimal() -> impl Strategy<Value = Decimal> {
        (any::<[u32; 3]>(), 0u32..=28, any::<bool>()).prop_map(
            |([lo, mid, hi], scale, negative)| Decimal::from_parts(lo, mid, hi, negative, scale),
        )
    }

    proptest! {
        #[test]
        fn no_number_panics_the_rules(price in any_decimal(), size in any_decimal(), mode in rounding()) {
            for rule in [tick_rule(), sig_fig_rule()] {
                let _ = rule.quantize_price(price, mode);
                let _ = rule.quantize_size(size, mode);
                let _ = rule.check_notional(price, size, false);
            }
        }

        #[test]
        fn a_quantized_price_is_valid_and_stable(
            mantissa in 1i64..10_000_000_000,
            scale in 0u32..10,
            mode in rounding(),
        ) {
            let price = Decimal::new(mantissa, scale);
            for rule in [tick_rule(), sig_fig_rule()] {
                if let Ok(quantized) = rule.quantize_price(price, mode) {
                    prop_assert!(rule.price.is_valid(quantized), "{quantized} from {price}");
                    prop_assert_eq!(rule.quantize_price(quantized, Rounding::Exact), Ok(quantized));
                    match mode {
                        Rounding::Down => prop_assert!(quantized <= price),
                        Rounding::Up => prop_assert!(quantized >= price),
                        _ => {}
                    }
                }
            }
        }

        #[test]
        fn a_quantized_size_is_on_the_step(mantissa in 1i64..10_000_000, scale in 0u32..8, mode in rounding()) {
            let size = Decimal::new(mantissa, scale);
            let rule = tick_rule();
            if let Ok(quantized) = rule.quantize_size(size, mode) {
                prop_assert_eq!(rule.quantize_size(quantized, Rounding::Exact), Ok(quantized));
                prop_assert!(quantized >= d("0.001") && quantized <= d("1000"));
            }
        }
    }
}
