//! The manifest: what a plugin is and what it can do, known before it is
//! configured.

use abi_stable::StableAbi;
use abi_stable::std_types::{RString, RVec};

use crate::{OrderKind, TimeInForce, TriggerReference};

crate::abi_code! {
    /// The venue's dead man's switch.
    DeadManSwitch {
        /// None.
        NONE = 0 => "none",
        /// Cancel everything at a scheduled time, refreshed by the client
        /// (Hyperliquid scheduleCancel).
        SCHEDULED_TIME = 1 => "scheduled_time",
        /// A countdown per symbol, refreshed by the client (Binance
        /// countdownCancelAll).
        COUNTDOWN_PER_MARKET = 2 => "countdown_per_market",
        /// Cancel when every private connection is gone (Bybit DCP).
        CONNECTION_BASED = 3 => "connection_based",
    }
}

crate::abi_code! {
    /// What size a modify of a partly filled order names.
    ModifySize {
        /// The order's new total, fills included: the venue amends the
        /// order in place (Bybit, Binance).
        TOTAL = 0 => "total",
        /// What is to rest from now on: the venue places the modified
        /// order anew for that size, and its reports of the new order count
        /// its size from zero (Hyperliquid).
        REMAINING = 1 => "remaining",
    }
}

/// One client-side rate-limit bucket: at most `capacity` units per
/// `window_ms`.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct RateLimitBucket {
    /// The id requests name in their costs.
    pub id: RString,
    /// Units per window.
    pub capacity: u32,
    /// The window, ms.
    pub window_ms: u64,
}

/// What a plugin is and can do.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Manifest {
    /// The exchange name configs refer to, e.g. `hyperliquid`.
    pub exchange: RString,
    /// The plugin's own version.
    pub plugin_version: RString,
    /// The order types it supports.
    pub order_kinds: RVec<OrderKind>,
    /// The times in force it supports.
    pub time_in_force: RVec<TimeInForce>,
    /// How many signed actions may be under way at once, counted from the
    /// oldest unfinished one to the newest (a venue that refuses an action
    /// whose nonce falls too far behind others needs a bound: Hyperliquid
    /// keeps the 100 highest nonces); zero for no bound.
    pub action_window: u32,
    /// The signing schemes its requests ask for.
    pub signing_schemes: RVec<RString>,
    /// Client-side rate limits.
    pub rate_limits: RVec<RateLimitBucket>,
    /// The venue's dead man's switch.
    pub dead_man_switch: DeadManSwitch,
    /// The most orders one `PlaceOrders` may carry.
    pub max_batch: u32,
    /// Minimum lead time of the dead man's switch, ms.
    pub dead_man_min_lead_ms: u64,
    /// How often the dead man's switch may fire per day; zero for no limit.
    pub dead_man_max_per_day: u32,
    /// What size a modify names (the host sends the total or what is left
    /// of it, and reads the venue's sizes of the order accordingly).
    pub modify_size: ModifySize,
    /// The prices its trigger orders can watch.
    pub trigger_references: RVec<TriggerReference>,
    /// The venue takes an entry with its take-profit and stop-loss in one
    /// request ([`Operation::PlaceWithExits`](crate::Operation::PlaceWithExits)),
    /// holds them until the entry fills, then places them, and cancels one
    /// when the other fills (Hyperliquid `normalTpsl`). False: the host
    /// places an entry's exits itself.
    pub attached_exits: bool,
    /// A trigger order waiting for its trigger can be modified
    /// ([`Operation::ModifyOrders`](crate::Operation::ModifyOrders)): the
    /// exits the host holds then follow their entry's fills, placed at its
    /// first fill and resized as it fills. False: the host places them once
    /// the entry is done.
    pub modify_triggers: bool,
}
