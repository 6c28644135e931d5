//! What a new configuration changes, and whether each change applies
//! while the host runs or needs a restart.

use crate::config::{Config, ExchangeConfig, ZmqConfig};

/// The key of the CURVE allow-list, which applies live.
pub const CURVE_CLIENTS: &str = "zmq.curve.clients";

/// What a new configuration changes, by key.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ConfigDiff {
    /// Keys applied while the host runs.
    pub live: Vec<String>,
    /// Keys that take effect only after a restart.
    pub restart: Vec<String>,
}

impl ConfigDiff {
    fn note(&mut self, changed: bool, key: String, live: bool) {
        if changed {
            if live {
                self.live.push(key);
            } else {
                self.restart.push(key);
            }
        }
    }
}

/// The keys of an exchange entry that apply live.
fn exchange_diff(diff: &mut ConfigDiff, old: &ExchangeConfig, new: &ExchangeConfig) {
    let key = |field: &str| format!("exchanges.{}.{field}", old.name);
    let market_limits = |exchange: &ExchangeConfig| {
        exchange
            .markets
            .iter()
            .map(|market| (market.symbol.clone(), market.limits.clone()))
            .collect::<Vec<_>>()
    };
    let symbols = |exchange: &ExchangeConfig| {
        exchange
            .markets
            .iter()
            .map(|market| market.symbol.clone())
            .collect::<Vec<_>>()
    };
    diff.note(old.limits != new.limits, key("limits"), true);
    diff.note(symbols(old) != symbols(new), key("markets"), true);
    diff.note(
        symbols(old) == symbols(new) && market_limits(old) != market_limits(new),
        key("markets.limits"),
        true,
    );
    diff.note(old.rate_limits != new.rate_limits, key("rate_limits"), true);
    diff.note(
        old.cancel_on_shutdown != new.cancel_on_shutdown,
        key("cancel_on_shutdown"),
        true,
    );
    for (field, changed) in [
        ("plugin", old.plugin != new.plugin),
        ("settings", old.settings != new.settings),
        ("signer_key", old.signer_key != new.signer_key),
        (
            "stream_timeout_ms",
            old.stream_timeout_ms != new.stream_timeout_ms,
        ),
        (
            "request_timeout_ms",
            old.request_timeout_ms != new.request_timeout_ms,
        ),
        (
            "order_expiry_ms",
            old.order_expiry_ms != new.order_expiry_ms,
        ),
        (
            "closed_order_retention_ms",
            old.closed_order_retention_ms != new.closed_order_retention_ms,
        ),
        (
            "reconcile_interval_ms",
            old.reconcile_interval_ms != new.reconcile_interval_ms,
        ),
        (
            "market_slippage_percent",
            old.market_slippage_percent != new.market_slippage_percent,
        ),
        ("market_data", old.market_data != new.market_data),
        (
            "dead_man_switch",
            old.dead_man_switch != new.dead_man_switch,
        ),
        (
            "order_transport",
            old.order_transport != new.order_transport,
        ),
        ("attached_exits", old.attached_exits != new.attached_exits),
    ] {
        diff.note(changed, key(field), false);
    }
}

/// `zmq` without its CURVE clients, which are live.
fn without_clients(zmq: &ZmqConfig) -> ZmqConfig {
    let mut zmq = zmq.clone();
    if let Some(curve) = &mut zmq.curve {
        curve.clients.clear();
    }
    zmq
}

/// Compares two valid configurations.
pub fn diff(old: &Config, new: &Config) -> ConfigDiff {
    let mut diff = ConfigDiff::default();
    diff.note(
        old.zmq.curve.is_some()
            && new.zmq.curve.is_some()
            && old.zmq.curve.as_ref().map(|c| &c.clients)
                != new.zmq.curve.as_ref().map(|c| &c.clients),
        CURVE_CLIENTS.into(),
        true,
    );
    diff.note(
        old.host.log_level != new.host.log_level,
        "host.log_level".into(),
        true,
    );
    for (key, changed) in [
        ("host.id", old.host.id != new.host.id),
        (
            "host.plugins_dir",
            old.host.plugins_dir != new.host.plugins_dir,
        ),
        ("host.state_dir", old.host.state_dir != new.host.state_dir),
        (
            "host.plugin_sha256",
            old.host.plugin_sha256 != new.host.plugin_sha256,
        ),
        (
            "host.summary_interval_s",
            old.host.summary_interval_s != new.host.summary_interval_s,
        ),
        (
            "host.runtime_threads",
            old.host.runtime_threads != new.host.runtime_threads,
        ),
        (
            "host.journal_sync_ms",
            old.host.journal_sync_ms != new.host.journal_sync_ms,
        ),
        (
            "zmq",
            without_clients(&old.zmq) != without_clients(&new.zmq),
        ),
        ("signer", old.signer != new.signer),
        ("metrics", old.metrics != new.metrics),
    ] {
        diff.note(changed, key.into(), false);
    }
    for new_exchange in &new.exchanges {
        match old.exchanges.iter().find(|e| e.name == new_exchange.name) {
            Some(old_exchange) => exchange_diff(&mut diff, old_exchange, new_exchange),
            None => diff
                .live
                .push(format!("exchanges.{} (added)", new_exchange.name)),
        }
    }
    for old_exchange in &old.exchanges {
        if !new.exchanges.iter().any(|e| e.name == old_exchange.name) {
            diff.live
                .push(format!("exchanges.{} (removed)", old_exchange.name));
        }
    }
    diff
}
