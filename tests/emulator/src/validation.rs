//! Order checks that need no account state: size and lot, tick, minimum
//! value, post-only crossing, trigger side. Each failure carries the exchange's
//! text and the status the order ends in.

use hyperliquid_core::{MarketKind, check_price};
use rust_decimal::Decimal;

use crate::book::Book;
use crate::market::MarketSpec;
use crate::orders::{OrderState, Trigger};

/// Text of the post-only window fault.
pub const POST_ONLY_WINDOW: &str =
    "Only post-only orders allowed immediately after network upgrade";
/// Text of a cancel or modify whose target is not an open order of the user.
pub const NOT_OPEN: &str = "Order was never placed, already canceled, or filled.";

/// Why an order was refused, and the status it is recorded with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Final status.
    pub status: OrderState,
    /// Exchange text, ending in ` asset=N`.
    pub message: String,
}

impl Rejection {
    /// A rejection of an order on `asset`.
    pub fn new(status: OrderState, text: &str, asset: u32) -> Self {
        Self {
            status,
            message: format!("{text} asset={asset}"),
        }
    }
}

/// Size, lot and price rules, including the trigger price.
pub fn check_numbers(
    spec: &MarketSpec,
    px: Decimal,
    sz: Decimal,
    trigger_px: Option<Decimal>,
) -> Result<(), Rejection> {
    let reject = |status, text| Err(Rejection::new(status, text, spec.asset));
    if sz.is_zero() {
        return reject(OrderState::Rejected, "Order has zero size.");
    }
    if spec.floor_size(sz) != sz {
        return reject(OrderState::Rejected, "Order has invalid size.");
    }
    for price in std::iter::once(px).chain(trigger_px) {
        if price.is_zero() {
            return reject(OrderState::Rejected, "Order has invalid price.");
        }
        let off_grid = match spec.tick {
            Some(tick) => !(price % tick).is_zero(),
            None => check_price(price, spec.sz_decimals, spec.kind).is_err(),
        };
        if off_grid {
            return reject(
                OrderState::TickRejected,
                "Price must be divisible by tick size.",
            );
        }
    }
    Ok(())
}

/// The minimum order value ($10 perps, 10 quote units spot).
pub fn check_min_notional(
    spec: &MarketSpec,
    px: Decimal,
    sz: Decimal,
    quote_name: &str,
) -> Result<(), Rejection> {
    if px * sz >= spec.min_notional {
        return Ok(());
    }
    let text = match spec.kind {
        MarketKind::Perp => "Order must have minimum value of $10.".to_owned(),
        MarketKind::Spot => format!("Order must have minimum value of 10 {quote_name}."),
    };
    Err(Rejection::new(
        OrderState::MinTradeNtlRejected,
        &text,
        spec.asset,
    ))
}

/// A post-only order must not cross the book.
pub fn check_post_only(
    spec: &MarketSpec,
    book: &Book,
    is_buy: bool,
    px: Decimal,
) -> Result<(), Rejection> {
    if !book.crosses(is_buy, px) {
        return Ok(());
    }
    let show = |side: Option<Decimal>| {
        side.map_or_else(|| "None".to_owned(), |p| p.normalize().to_string())
    };
    let text = format!(
        "Post only order would have immediately matched, bbo was {}@{}.",
        show(book.best_bid()),
        show(book.best_ask())
    );
    Err(Rejection::new(
        OrderState::BadAloPxRejected,
        &text,
        spec.asset,
    ))
}

/// A TP/SL whose trigger price the mark already reached is refused.
pub fn check_trigger(
    spec: &MarketSpec,
    trigger: &Trigger,
    is_buy: bool,
    mark: Decimal,
) -> Result<(), Rejection> {
    if trigger.reached(is_buy, mark) {
        return Err(Rejection::new(
            OrderState::BadTriggerPxRejected,
            "Invalid TP/SL price.",
            spec.asset,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::TriggerKind;

    fn btc() -> MarketSpec {
        MarketSpec {
            coin: "BTC".into(),
            asset: 0,
            sz_decimals: 5,
            kind: MarketKind::Perp,
            max_leverage: 40,
            funding: Decimal::ZERO,
            tokens: None,
            tick: None,
            min_notional: crate::market::MIN_NOTIONAL,
        }
    }

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn texts_match_the_exchange() {
        let spec = btc();
        assert_eq!(
            check_numbers(&spec, d("65000.5"), d("0.001"), None)
                .unwrap_err()
                .message,
            "Price must be divisible by tick size. asset=0"
        );
        assert_eq!(
            check_numbers(&spec, d("65000"), d("0.000001"), None)
                .unwrap_err()
                .message,
            "Order has invalid size. asset=0"
        );
        check_numbers(&spec, d("123456"), d("0.00001"), None).unwrap();
        assert_eq!(
            check_min_notional(&spec, d("65000"), d("0.0001"), "USDC")
                .unwrap_err()
                .message,
            "Order must have minimum value of $10. asset=0"
        );
        let trigger = Trigger {
            px: d("60000"),
            is_market: true,
            kind: TriggerKind::StopLoss,
            on_last_trade: false,
            fired: false,
        };
        // A stop-loss sell fires when the mark falls to 60000: fine at 65000, not at 59000.
        check_trigger(&spec, &trigger, false, d("65000")).unwrap();
        assert_eq!(
            check_trigger(&spec, &trigger, false, d("59000"))
                .unwrap_err()
                .status,
            OrderState::BadTriggerPxRejected
        );
    }
}
