//! `host.status.*`: what the host itself reports.

use std::path::Path;
use std::sync::atomic::Ordering;

use super::market::{
    BookStatusData, ConfigStatus, ConnectionStatus, DeadManSwitchStatus, InternalErrorStatus,
    KillSwitchStatus, PluginStatus, PublisherCounters, RateLimitStatus, SignerStatus,
    ThrottleStatus,
};
use super::{Family, Publisher};
use crate::commands::CommandStats;
use crate::plugins::PluginSet;
use crate::runtime::clock::now_ns;
use plugin_api::LoadedPlugin;

/// Publishes host-status events on the `host` family.
#[derive(Clone)]
pub struct StatusPublisher {
    publisher: Publisher,
    family: Family,
}

impl StatusPublisher {
    /// A status publisher over `publisher`.
    pub fn new(publisher: Publisher) -> StatusPublisher {
        StatusPublisher {
            family: publisher.family("host"),
            publisher,
        }
    }

    /// The latest status of each exchange's connections and dead man's
    /// switch.
    pub fn board(&self) -> &super::StatusBoard {
        self.publisher.status_board()
    }

    fn publish<T: serde::Serialize>(&self, what: &str, data: &T) {
        self.publisher.publish(
            &self.family,
            format!("host.status.{what}"),
            &format!("{what}_status"),
            now_ns(),
            data,
        );
    }

    /// `host.status.config`: the configuration in force.
    pub fn config_loaded(&self, file: &Path, summary: &str) {
        self.config(file, "loaded", summary, &[], &[], &[]);
    }

    /// `host.status.config`: a reloaded file applied — `applied` keys live,
    /// `restart_required` keys only after a restart.
    pub fn config_applied(
        &self,
        file: &Path,
        summary: &str,
        applied: &[String],
        restart_required: &[String],
    ) {
        self.config(file, "applied", summary, applied, restart_required, &[]);
    }

    /// `host.status.config`: a reloaded file refused; the configuration in
    /// force stays.
    pub fn config_refused(&self, file: &Path, errors: &[String]) {
        self.config(file, "refused", "", &[], &[], errors);
    }

    fn config(
        &self,
        file: &Path,
        state: &'static str,
        summary: &str,
        applied: &[String],
        restart_required: &[String],
        errors: &[String],
    ) {
        self.publish(
            "config",
            &ConfigStatus {
                file: file.display().to_string(),
                state,
                summary,
                applied,
                restart_required,
                errors,
            },
        );
    }

    /// `host.status.plugin`: one event per loaded and per refused file.
    pub fn plugins(&self, plugins: &PluginSet) {
        for plugin in plugins.sorted() {
            self.plugin_loaded(plugin);
        }
        for refused in &plugins.refused {
            self.plugin_refused(refused.path(), &refused.to_string());
        }
    }

    /// `host.status.plugin`: a plugin file loaded.
    pub fn plugin_loaded(&self, plugin: &LoadedPlugin) {
        self.publish(
            "plugin",
            &PluginStatus {
                file: plugin.path.display().to_string(),
                state: "loaded",
                exchange: Some(&plugin.manifest.exchange),
                version: Some(&plugin.manifest.plugin_version),
                reason: None,
            },
        );
    }

    /// `host.status.plugin`: a plugin file refused, and why.
    pub fn plugin_refused(&self, file: &Path, reason: &str) {
        self.publish(
            "plugin",
            &PluginStatus {
                file: file.display().to_string(),
                state: "refused",
                exchange: None,
                version: None,
                reason: Some(reason.to_owned()),
            },
        );
    }

    /// `host.status.publisher`: the publisher's counters now.
    pub fn counters(&self) {
        let (sent, dropped) = self.publisher_counts();
        self.publish("publisher", &PublisherCounters { sent, dropped });
    }

    /// Events the publisher has sent and dropped since start.
    pub fn publisher_counts(&self) -> (u64, u64) {
        let stats = self.publisher.stats();
        (
            stats.sent.load(Ordering::Relaxed),
            stats.dropped.load(Ordering::Relaxed),
        )
    }

    /// `host.status.connection`.
    pub fn connection(&self, exchange: &str, connection: &str, up: bool, reason: Option<&str>) {
        crate::metrics::registry().connection(exchange, connection, up);
        let data = ConnectionStatus {
            exchange,
            connection,
            state: if up { "up" } else { "down" },
            reason,
        };
        self.publisher.status_board().connection(
            exchange,
            connection,
            serde_json::to_value(&data).unwrap_or_default(),
            now_ns(),
        );
        self.publish("connection", &data);
    }

    /// `host.status.book`.
    pub fn book(&self, exchange: &str, symbol: &str, synced: bool, reason: Option<&str>) {
        crate::metrics::registry().book(exchange, symbol, synced);
        self.publish(
            "book",
            &BookStatusData {
                exchange,
                symbol,
                state: if synced { "synced" } else { "stale" },
                reason,
            },
        );
    }

    /// `host.status.rate_limit`: a rate-limit bucket as the venue counts it.
    pub fn rate_limit(&self, exchange: &str, state: &plugin_api::RateLimitState) {
        crate::metrics::registry().rate_limit(
            exchange,
            &state.bucket,
            state.remaining,
            state.capacity,
        );
        self.publish(
            "rate_limit",
            &RateLimitStatus {
                exchange,
                bucket: &state.bucket,
                remaining: state.remaining,
                capacity: state.capacity,
            },
        );
    }

    /// `host.status.kill_switch`: engaged (with the reason) or released.
    pub fn kill_switch(&self, exchange: &str, engaged: bool, reason: Option<&str>) {
        crate::metrics::registry().kill_switch(exchange, engaged);
        self.publish(
            "kill_switch",
            &KillSwitchStatus {
                exchange,
                state: if engaged { "engaged" } else { "released" },
                reason,
            },
        );
    }

    /// `host.status.dead_man_switch`: armed, lapsing, fired, exhausted,
    /// failed or disarmed.
    pub fn dead_man_switch(
        &self,
        exchange: &str,
        state: &'static str,
        deadline_ms: Option<u64>,
        triggers_today: u32,
        reason: Option<&str>,
    ) {
        let data = DeadManSwitchStatus {
            exchange,
            state,
            deadline: deadline_ms.map(|ms| ms.saturating_mul(1_000_000)),
            triggers_today,
            reason,
        };
        self.publisher.status_board().dead_man_switch(
            exchange,
            serde_json::to_value(&data).unwrap_or_default(),
            now_ns(),
        );
        self.publish("dead_man_switch", &data);
    }

    /// `host.status.commands`: the command socket's counters now.
    pub fn commands(&self, stats: &CommandStats) {
        self.publish("commands", &stats.snapshot());
    }

    /// `host.status.signer`: the signer the host started is `up` (with its
    /// pid) or has `exited` (with the reason).
    pub fn signer(&self, state: &str, pid: Option<u32>, reason: Option<&str>) {
        crate::metrics::registry().signer(state == "up");
        self.publish("signer", &SignerStatus { state, pid, reason });
    }

    /// `host.status.internal_error`: a bug stopped `task` of `component`;
    /// the host goes on.
    pub fn internal_error(&self, component: &str, task: &str, message: &str) {
        self.publish(
            "internal_error",
            &InternalErrorStatus {
                component,
                task,
                message,
            },
        );
    }

    /// `host.status.throttle`.
    pub fn throttled(&self, exchange: &str, bucket: &str, waited_ms: u64) {
        crate::metrics::registry().throttled(exchange, bucket, waited_ms);
        self.publish(
            "throttle",
            &ThrottleStatus {
                exchange,
                bucket,
                waited_ms,
            },
        );
    }
}
