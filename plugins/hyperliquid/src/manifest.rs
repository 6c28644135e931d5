//! What the plugin can do.

use abi_stable::std_types::RVec;
use plugin_api::{
    DeadManSwitch, Manifest, ModifySize, OrderKind, RateLimitBucket, TimeInForce, TriggerReference,
};

/// The id of the IP weight bucket (1200 per minute, shared by `/info` and
/// `/exchange`).
pub const IP_WEIGHT: &str = "ip_weight";

/// The id of the address bucket: actions of the account, a batch counting
/// per order. 10 000 to start, one more per USDC traded (learned from
/// `userRateLimit`), one per 10 s once spent.
pub const ADDRESS: &str = "address";

/// The id of the address bucket for cancels, which the venue lets go
/// further: `min(cap + 100000, 2·cap)`. Every action spends from it.
pub const ADDRESS_CANCEL: &str = "address_cancel";

/// The address limit an account starts with.
const ADDRESS_BUFFER: u32 = 10_000;

/// Once spent, the address limit gives one action per this many ms.
const ADDRESS_REFILL_MS: u64 = 10_000;

/// The cancel limit for an address cap: `min(cap + 100000, 2·cap)`.
pub fn cancel_cap(cap: u64) -> u64 {
    cap.saturating_add(100_000).min(cap.saturating_mul(2))
}

/// The plugin's manifest.
pub fn manifest() -> Manifest {
    Manifest {
        exchange: "hyperliquid".into(),
        plugin_version: env!("CARGO_PKG_VERSION").into(),
        order_kinds: RVec::from(vec![
            OrderKind::LIMIT,
            OrderKind::MARKET,
            OrderKind::LIMIT_MAKER,
            OrderKind::STOP_MARKET,
            OrderKind::STOP_LIMIT,
            OrderKind::TAKE_PROFIT_MARKET,
            OrderKind::TAKE_PROFIT_LIMIT,
        ]),
        time_in_force: RVec::from(vec![
            TimeInForce::GTC,
            TimeInForce::IOC,
            TimeInForce::POST_ONLY,
        ]),
        // Hyperliquid keeps the 100 highest nonces of a signer and refuses
        // an action below them. Actions under way take their nonces in any
        // order, so one can be overtaken by up to 2 × (40 − 1) = 78 later
        // ones: fewer than 100.
        action_window: 40,
        signing_schemes: RVec::from(vec!["hyperliquid-l1".into()]),
        rate_limits: RVec::from(vec![
            RateLimitBucket {
                id: IP_WEIGHT.into(),
                capacity: 1200,
                window_ms: 60_000,
            },
            RateLimitBucket {
                id: ADDRESS.into(),
                capacity: ADDRESS_BUFFER,
                window_ms: u64::from(ADDRESS_BUFFER) * ADDRESS_REFILL_MS,
            },
            RateLimitBucket {
                id: ADDRESS_CANCEL.into(),
                capacity: 2 * ADDRESS_BUFFER,
                window_ms: 2 * u64::from(ADDRESS_BUFFER) * ADDRESS_REFILL_MS,
            },
        ]),
        dead_man_switch: DeadManSwitch::SCHEDULED_TIME,
        // A batch's IP weight grows by one every 40 orders.
        max_batch: 40,
        dead_man_min_lead_ms: 5_000,
        dead_man_max_per_day: 10,
        // A modify is a new order (a new oid) for the size given.
        modify_size: ModifySize::REMAINING,
        // Trigger orders fire on the mark price.
        trigger_references: RVec::from(vec![TriggerReference::MARK]),
        // An entry and its TP/SL go out as one `normalTpsl` order action.
        attached_exits: true,
        // `batchModify` takes a trigger order like any other.
        modify_triggers: true,
    }
}
