//! What the plugin can do.

use abi_stable::std_types::RVec;
use plugin_api::{
    BookSync, ClientIdFormat, DeadManSwitch, Manifest, OrderKind, RateLimitBucket, TimeInForce,
};

/// The id of the IP weight bucket (1200 per minute, shared by `/info` and
/// `/exchange`).
pub const IP_WEIGHT: &str = "ip_weight";

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
        book_sync: BookSync::FULL_SNAPSHOTS,
        client_id_format: ClientIdFormat::HEX128_PREFIXED,
        signing_schemes: RVec::from(vec!["hyperliquid-l1".into()]),
        rate_limits: RVec::from(vec![RateLimitBucket {
            id: IP_WEIGHT.into(),
            capacity: 1200,
            window_ms: 60_000,
        }]),
        dead_man_switch: DeadManSwitch::SCHEDULED_TIME,
        // A batch's IP weight grows by one every 40 orders.
        max_batch: 40,
        dead_man_min_lead_ms: 5_000,
        dead_man_max_per_day: 10,
    }
}
