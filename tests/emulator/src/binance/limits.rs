//! Binance's order-rate counters: orders per account over the current 10 s
//! and 1 min windows, reported in the REST `X-MBX-ORDER-COUNT-*` headers and
//! the WebSocket API's `rateLimits` (the request weight is counted with the
//! ban fault, [`super::faults::FaultState::admit`]).

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::account::AccountId;

/// `REQUEST_WEIGHT` per minute when no lower limit is set.
pub const WEIGHT_PER_MINUTE: u32 = 2_400;
/// `ORDERS` per 10 s.
pub const ORDERS_PER_10S: u32 = 300;
/// `ORDERS` per minute.
pub const ORDERS_PER_MINUTE: u32 = 1_200;

/// Orders of one account in the current windows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderCount {
    /// In the current 10 s window.
    pub ten_seconds: u32,
    /// In the current minute.
    pub minute: u32,
}

#[derive(Debug, Default)]
struct Windows {
    ten_seconds: (u64, u32),
    minute: (u64, u32),
}

/// Order counts per account.
#[derive(Debug, Default)]
pub struct OrderCounters(Mutex<HashMap<AccountId, Windows>>);

fn bump(window: &mut (u64, u32), index: u64) -> u32 {
    if window.0 != index {
        *window = (index, 0);
    }
    window.1 = window.1.saturating_add(1);
    window.1
}

impl OrderCounters {
    /// Counts one order request of `user` at `now`.
    pub fn count(&self, user: AccountId, now: u64) -> OrderCount {
        let mut table = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let windows = table.entry(user).or_default();
        OrderCount {
            ten_seconds: bump(&mut windows.ten_seconds, now / 10_000),
            minute: bump(&mut windows.minute, now / 60_000),
        }
    }
}

/// The WebSocket API's `rateLimits`: the request weight used this minute
/// against `weight_limit`, and the account's order counts after an order
/// request.
pub fn rate_limits(weight: u32, weight_limit: u32, orders: Option<OrderCount>) -> Value {
    let mut limits = vec![json!({
        "rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
        "limit": weight_limit, "count": weight,
    })];
    if let Some(orders) = orders {
        limits.push(json!({
            "rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
            "limit": ORDERS_PER_10S, "count": orders.ten_seconds,
        }));
        limits.push(json!({
            "rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1,
            "limit": ORDERS_PER_MINUTE, "count": orders.minute,
        }));
    }
    Value::Array(limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_restart_with_each_window_and_per_account() {
        let counters = OrderCounters::default();
        let (a, b) = (AccountId::numbered(1), AccountId::numbered(2));
        let counts: Vec<(u32, u32)> = [(a, 1_000), (a, 9_999), (b, 9_999), (a, 10_000)]
            .into_iter()
            .map(|(user, now)| {
                let count = counters.count(user, now);
                (count.ten_seconds, count.minute)
            })
            .collect();
        assert_eq!(counts, [(1, 1), (2, 2), (1, 1), (1, 3)]);
        assert_eq!(counters.count(a, 60_000).minute, 1);
    }
}
