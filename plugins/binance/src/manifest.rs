//! What the plugin can do.

use abi_stable::std_types::RVec;
use plugin_api::{
    DeadManSwitch, Manifest, ModifySize, OrderKind, RateLimitBucket, TimeInForce, TriggerReference,
};

/// The exchange name configs refer to, as the signer's keyring names the
/// venue.
pub const EXCHANGE: &str = "binance-usdm";

/// The signing scheme of REST requests.
pub const SCHEME: &str = "binance-rest";
/// The signing scheme of WebSocket API requests (and `session.logon`).
pub const SOCKET_SCHEME: &str = "binance-ws-api";

/// The IP's request weight: 2400 per minute (`X-MBX-USED-WEIGHT-1M`).
pub const REQUEST_WEIGHT: &str = "request_weight";
/// The account's orders per 10 s: 300 (`X-MBX-ORDER-COUNT-10S`).
pub const ORDERS_10S: &str = "orders_10s";
/// The account's orders per minute: 1200 (`X-MBX-ORDER-COUNT-1M`).
pub const ORDERS_1M: &str = "orders_1m";

/// Each bucket: id, capacity, window (ms), and the answer header that
/// says how much of it the venue counts as used.
pub const BUCKETS: [(&str, u32, u64, &str); 3] = [
    (REQUEST_WEIGHT, 2_400, 60_000, "x-mbx-used-weight-1m"),
    (ORDERS_10S, 300, 10_000, "x-mbx-order-count-10s"),
    (ORDERS_1M, 1_200, 60_000, "x-mbx-order-count-1m"),
];

/// The shortest countdown the plugin arms, ms: Binance checks countdowns
/// about every 10 ms, so the lead is the request's way there.
const DEAD_MAN_MIN_LEAD_MS: u64 = 5_000;

/// The plugin's manifest.
pub fn manifest() -> Manifest {
    Manifest {
        exchange: EXCHANGE.into(),
        plugin_version: env!("CARGO_PKG_VERSION").into(),
        order_kinds: RVec::from(vec![
            OrderKind::LIMIT,
            OrderKind::MARKET,
            OrderKind::LIMIT_MAKER,
            // Through the algo service.
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
        // Timestamps, not nonces: requests under way never overtake one
        // another on Binance.
        action_window: 0,
        signing_schemes: RVec::from(vec![SCHEME.into(), SOCKET_SCHEME.into()]),
        rate_limits: BUCKETS
            .iter()
            .map(|(id, capacity, window_ms, _)| RateLimitBucket {
                id: (*id).into(),
                capacity: *capacity,
                window_ms: *window_ms,
            })
            .collect(),
        dead_man_switch: DeadManSwitch::COUNTDOWN_PER_MARKET,
        // One order per request (`POST /fapi/v1/order`).
        max_batch: crate::jobs::MAX_BATCH_PLACE as u32,
        dead_man_min_lead_ms: DEAD_MAN_MIN_LEAD_MS,
        dead_man_max_per_day: 0,
        // `PUT /fapi/v1/order` amends in place; its quantity is the new
        // total, fills included.
        modify_size: ModifySize::TOTAL,
        // Algo orders' `workingType` MARK_PRICE or CONTRACT_PRICE.
        trigger_references: RVec::from(vec![TriggerReference::MARK, TriggerReference::LAST]),
        // USDⓈ-M takes no exits with an order: they are the host's.
        attached_exits: false,
        // Algo orders are not modified: cancelled and placed anew.
        modify_triggers: false,
    }
}
