//! Pre-trade risk checks: hard limits per market that hold whatever a
//! strategy sends. An order that breaks one is refused before anything
//! reaches the exchange, with the limit named. The limits can be replaced
//! while the host runs.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError, RwLock};

use rust_decimal::Decimal;

use crate::config::Limits;
use crate::order::{NewOrder, PositionAction, TradeType};

/// The window of `max_orders_per_second`, ms.
const RATE_WINDOW_MS: u64 = 1_000;

/// What the account already holds and has asked for in one market.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exposure {
    /// The signed position, base units.
    pub position: Decimal,
    /// Live buy orders' remaining size.
    pub open_buys: Decimal,
    /// Live sell orders' remaining size.
    pub open_sells: Decimal,
    /// Live orders.
    pub open_orders: u32,
}

/// Which limit an order breaks, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("risk limit {limit}: {detail}")]
pub struct Refusal {
    /// The config key.
    pub limit: &'static str,
    /// The numbers.
    pub detail: String,
}

fn refuse(limit: &'static str, detail: String) -> Result<(), Refusal> {
    Err(Refusal { limit, detail })
}

/// Checks one order against one market's limits; `mid` is the book's mid
/// (for the price band), `recent_orders` the orders accepted in the last
/// second.
pub fn check(
    limits: &Limits,
    order: &NewOrder,
    mid: Option<Decimal>,
    exposure: &Exposure,
    recent_orders: u32,
) -> Result<(), Refusal> {
    if let Some(max) = limits.max_order_size
        && order.amount > max
    {
        return refuse(
            "max_order_size",
            format!("size {} is above {max}", order.amount),
        );
    }
    // Saturating: a value too large to compute is above every limit.
    let notional = order.price.saturating_mul(order.amount);
    if let Some(max) = limits.max_order_notional
        && notional > max
    {
        return refuse(
            "max_order_notional",
            format!("value {notional} is above {max}"),
        );
    }
    if let Some(max) = limits.max_open_orders
        && exposure.open_orders >= max
    {
        return refuse(
            "max_open_orders",
            format!("{} orders are open already", exposure.open_orders),
        );
    }
    let reduces = order.position_action == Some(PositionAction::Close);
    if let Some(max) = limits.max_position
        && !reduces
    {
        // As if every live order on this side filled too.
        let worst = match order.trade_type {
            TradeType::Buy => exposure
                .position
                .saturating_add(exposure.open_buys)
                .saturating_add(order.amount),
            TradeType::Sell => exposure
                .position
                .saturating_sub(exposure.open_sells)
                .saturating_sub(order.amount),
        };
        if worst.abs() > max {
            return refuse(
                "max_position",
                format!("the position could reach {worst}, beyond ±{max}"),
            );
        }
    }
    if let Some(band) = limits.price_band_percent {
        let Some(mid) = mid.filter(|mid| !mid.is_zero()) else {
            return refuse(
                "price_band_percent",
                "no mid price to check the price against (the book is not in sync)".to_owned(),
            );
        };
        let distance = order
            .price
            .saturating_sub(mid)
            .checked_div(mid)
            .map_or(Decimal::MAX, |ratio| {
                ratio.saturating_mul(Decimal::ONE_HUNDRED).abs()
            });
        if distance > band {
            return refuse(
                "price_band_percent",
                format!(
                    "price {} is {}% from the mid {mid}, beyond {band}%",
                    order.price,
                    distance.round_dp(4)
                ),
            );
        }
    }
    if let Some(max) = limits.max_orders_per_second
        && recent_orders >= max
    {
        return refuse(
            "max_orders_per_second",
            format!("{recent_orders} orders in the last second"),
        );
    }
    Ok(())
}

/// The limits of every market of one exchange, and the recent orders the
/// per-second limit counts.
#[derive(Debug, Default)]
pub struct RiskLimits {
    limits: RwLock<HashMap<String, Limits>>,
    recent: Mutex<HashMap<String, VecDeque<u64>>>,
}

impl RiskLimits {
    /// Limits by host symbol.
    pub fn new(limits: HashMap<String, Limits>) -> RiskLimits {
        RiskLimits {
            limits: RwLock::new(limits),
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// Replaces every market's limits.
    pub fn replace(&self, limits: HashMap<String, Limits>) {
        *self.limits.write().unwrap_or_else(PoisonError::into_inner) = limits;
    }

    /// One market's limits (none for an unknown market).
    pub fn of(&self, symbol: &str) -> Limits {
        self.limits
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(symbol)
            .cloned()
            .unwrap_or_default()
    }

    /// Checks an order (see [`check`]); `exposure` is asked for only when a
    /// limit needs it. An order that passes is counted for the per-second
    /// limit.
    pub fn admit(
        &self,
        order: &NewOrder,
        mid: Option<Decimal>,
        exposure: impl FnOnce() -> Exposure,
        now_ms: u64,
    ) -> Result<(), Refusal> {
        let limits = self.of(&order.trading_pair);
        let exposure = if limits.max_open_orders.is_some() || limits.max_position.is_some() {
            exposure()
        } else {
            Exposure::default()
        };
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let times = recent.entry(order.trading_pair.clone()).or_default();
        while times
            .front()
            .is_some_and(|&at| at + RATE_WINDOW_MS <= now_ms)
        {
            times.pop_front();
        }
        let count = u32::try_from(times.len()).unwrap_or(u32::MAX);
        check(&limits, order, mid, &exposure, count)?;
        if limits.max_orders_per_second.is_some() {
            times.push_back(now_ms);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
