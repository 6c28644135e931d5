//! What the plugin supports, and Bybit's rate limits as client-side
//! buckets (UTA defaults: per UID and endpoint per second, and 600
//! requests per 5 s per IP).

use abi_stable::std_types::RVec;
use plugin_api::{
    DeadManSwitch, Manifest, ModifySize, OrderKind, RateLimitBucket, TimeInForce, TriggerReference,
};

/// Every request: 600 per 5 s per IP.
pub const IP: &str = "ip";
/// `/v5/order/create` (a batch counts each order).
pub const CREATE: &str = "create";
/// `/v5/order/amend`.
pub const AMEND: &str = "amend";
/// `/v5/order/cancel` and `cancel-all`.
pub const CANCEL: &str = "cancel";
/// Order and execution queries.
pub const QUERY: &str = "query";

/// The scheme REST requests are signed with.
pub const REST_SCHEME: &str = "bybit-rest";
/// The scheme a socket's `auth` is signed with.
pub const AUTH_SCHEME: &str = "bybit-ws-auth";

fn bucket(id: &str, capacity: u32, window_ms: u64) -> RateLimitBucket {
    RateLimitBucket {
        id: id.into(),
        capacity,
        window_ms,
    }
}

/// The manifest.
pub fn manifest() -> Manifest {
    Manifest {
        exchange: "bybit".into(),
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
            TimeInForce::FOK,
            TimeInForce::POST_ONLY,
        ]),
        action_window: 0,
        signing_schemes: RVec::from(vec![REST_SCHEME.into(), AUTH_SCHEME.into()]),
        rate_limits: RVec::from(vec![
            bucket(IP, 600, 5_000),
            bucket(CREATE, 10, 1_000),
            bucket(AMEND, 10, 1_000),
            bucket(CANCEL, 10, 1_000),
            bucket(QUERY, 50, 1_000),
        ]),
        // DCP: for accounts Bybit enabled it for (others get the venue's
        // refusal when the host arms it).
        dead_man_switch: DeadManSwitch::CONNECTION_BASED,
        max_batch: bybit_core::order::MAX_BATCH as u32,
        dead_man_min_lead_ms: crate::dcp::MIN_LEAD_MS,
        dead_man_max_per_day: 0,
        modify_size: ModifySize::TOTAL,
        // `triggerBy` MarkPrice or LastPrice.
        trigger_references: RVec::from(vec![TriggerReference::MARK, TriggerReference::LAST]),
        // TP/SL on create come back as venue-made orders without the
        // client ids the host would track them by: exits are the host's.
        attached_exits: false,
        // `/v5/order/amend` changes an untriggered conditional order.
        modify_triggers: true,
    }
}
