//! Hot reload. The config file's folder and the plugins folder are
//! watched (editors save by writing a new file and renaming it, so the
//! folder, not the file, is watched; events are debounced). On a change —
//! or SIGHUP, or the `reload` command — the whole file is read and
//! validated first. An invalid file is refused with its errors (key and
//! line) and the configuration in force stays. A valid one is compared with
//! it: what can change while running is applied at once — limits, rate
//! limits, the log level, markets added (subscribed) or removed
//! (unsubscribed; refused while they have live orders) — without dropping
//! connections or forgetting orders; what cannot is named as needing a
//! restart. Every outcome is published on `host.status.config`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify_debouncer_full::notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use plugin_api::{Manifest, Market, Stream};
use tokio::sync::{mpsc, watch};
use tracing::{info, warn};

use super::exchange::{rate_limits, risk_limits};
use super::market_data::MarketData;
use super::ratelimit::RateLimiter;
use crate::config::{self, Config, ExchangeConfig};
use crate::plugins::{PluginSet, is_plugin_candidate};
use crate::publisher::StatusPublisher;
use crate::trading::Trading;

/// Changes closer together than this are taken as one.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// Why a reload was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// The config file changed.
    ConfigFile,
    /// A file in the plugins folder changed.
    PluginFile(PathBuf),
    /// SIGHUP or the `reload` command.
    Asked,
}

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
        ("network", old.network != new.network),
        ("api_url", old.api_url != new.api_url),
        ("account", old.account != new.account),
        ("vault", old.vault != new.vault),
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
            "market_slippage_percent",
            old.market_slippage_percent != new.market_slippage_percent,
        ),
        ("market_data", old.market_data != new.market_data),
        (
            "dead_man_switch",
            old.dead_man_switch != new.dead_man_switch,
        ),
    ] {
        diff.note(changed, key(field), false);
    }
}

/// Compares two valid configurations.
pub fn diff(old: &Config, new: &Config) -> ConfigDiff {
    let mut diff = ConfigDiff::default();
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
        ("zmq", old.zmq != new.zmq),
        ("signer", old.signer != new.signer),
    ] {
        diff.note(changed, key.into(), false);
    }
    for new_exchange in &new.exchanges {
        match old.exchanges.iter().find(|e| e.name == new_exchange.name) {
            Some(old_exchange) => exchange_diff(&mut diff, old_exchange, new_exchange),
            None => diff
                .restart
                .push(format!("exchanges.{} (added)", new_exchange.name)),
        }
    }
    for old_exchange in &old.exchanges {
        if !new.exchanges.iter().any(|e| e.name == old_exchange.name) {
            diff.restart
                .push(format!("exchanges.{} (removed)", old_exchange.name));
        }
    }
    diff
}

/// A running exchange, as far as reloads can change it.
pub struct LiveExchange {
    /// Its order path (risk limits, markets).
    pub trading: Trading,
    /// Its rate limiter.
    pub limiter: Arc<RateLimiter>,
    /// Its plugin's manifest (the rate-limit buckets).
    pub manifest: Manifest,
    /// Its configured markets, by host symbol.
    pub markets: HashMap<String, Market>,
    /// Every market the exchange lists.
    pub listed: Vec<Market>,
    /// Its books.
    pub market_data: Arc<MarketData>,
    /// The streams of its market connections.
    pub market_streams: Vec<watch::Sender<Vec<Stream>>>,
}

impl LiveExchange {
    /// The markets a new entry adds and the host symbols it removes;
    /// refused when a new symbol is not listed or a removed market has live
    /// orders.
    fn market_changes(&self, new: &ExchangeConfig) -> Result<(Vec<Market>, Vec<String>), String> {
        let matches = |market: &Market, wanted: &str| {
            market.symbol == wanted || market.venue_symbol == wanted
        };
        let mut added = Vec::new();
        for wanted in &new.markets {
            if self.markets.values().any(|m| matches(m, &wanted.symbol)) {
                continue;
            }
            let market = self
                .listed
                .iter()
                .find(|m| matches(m, &wanted.symbol))
                .ok_or_else(|| {
                    format!(
                        "exchanges.{}.markets: `{}` is not listed by the exchange",
                        new.name, wanted.symbol
                    )
                })?;
            added.push(market.clone());
        }
        let mut removed = Vec::new();
        for market in self.markets.values() {
            if new
                .markets
                .iter()
                .any(|wanted| matches(market, &wanted.symbol))
            {
                continue;
            }
            let live = self.trading.open_orders(Some(&market.symbol)).len();
            if live > 0 {
                return Err(format!(
                    "exchanges.{}.markets: {} has {live} live orders; cancel them before removing it",
                    new.name, market.symbol
                ));
            }
            removed.push(market.symbol.to_string());
        }
        Ok((added, removed))
    }

    /// Subscribes to the added markets and drops the removed ones.
    fn change_markets(&mut self, added: Vec<Market>, removed: &[String]) {
        for symbol in removed {
            if let Some(market) = self.markets.remove(symbol) {
                let _ = self.trading.remove_market(symbol);
                self.market_data.remove_market(&market.venue_symbol);
            }
        }
        for market in added {
            self.trading.add_market(&market);
            self.market_data.add_market(&market);
            self.markets.insert(market.symbol.to_string(), market);
        }
        for streams in &self.market_streams {
            streams.send_replace(self.market_data.streams());
        }
    }
}

/// Changes the log filter; `Err` with the reason when it is not valid.
pub type SetLogLevel = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// Applies reloads to a running host.
pub struct Reloader {
    config_file: PathBuf,
    /// The configuration in force (live keys updated by reloads).
    current: Config,
    exchanges: HashMap<String, LiveExchange>,
    plugins: PluginSet,
    status: StatusPublisher,
    set_log_level: SetLogLevel,
    in_force: watch::Sender<Config>,
}

impl Reloader {
    /// A reloader for a host started with `current`; `in_force` is told
    /// every configuration applied.
    pub fn new(
        config_file: &Path,
        current: Config,
        exchanges: HashMap<String, LiveExchange>,
        plugins: PluginSet,
        status: StatusPublisher,
        set_log_level: SetLogLevel,
    ) -> (Reloader, watch::Receiver<Config>) {
        let (in_force, receiver) = watch::channel(current.clone());
        (
            Reloader {
                config_file: config_file.to_owned(),
                current,
                exchanges,
                plugins,
                status,
                set_log_level,
                in_force,
            },
            receiver,
        )
    }

    /// Handles one trigger.
    pub fn handle(&mut self, trigger: &Trigger) {
        match trigger {
            Trigger::PluginFile(path) => self.plugin_file(path),
            Trigger::ConfigFile | Trigger::Asked => self.reload(),
        }
    }

    fn plugin_file(&mut self, path: &Path) {
        if !path.is_file() || !is_plugin_candidate(path) {
            return;
        }
        if let Some(loaded) = self.plugins.loaded.values().find(|p| p.path == path) {
            let reason = format!(
                "restart required: {} replaces the loaded {} plugin, and a loaded plugin cannot be unloaded",
                path.display(),
                loaded.manifest.exchange
            );
            warn!("{reason}");
            self.status.plugin_refused(path, &reason);
            return;
        }
        let refused_before = self.plugins.refused.len();
        self.plugins.load_file(path);
        match self.plugins.refused.get(refused_before) {
            Some(error) => self.status.plugin_refused(path, &error.to_string()),
            None => {
                if let Some(plugin) = self.plugins.loaded.values().find(|p| p.path == path) {
                    self.status.plugin_loaded(plugin);
                }
            }
        }
    }

    fn reload(&mut self) {
        let new = match config::load(&self.config_file) {
            Ok(new) => new,
            Err(errors) => {
                let errors: Vec<String> = errors.errors.iter().map(ToString::to_string).collect();
                warn!(errors = ?errors, "configuration refused; the one in force stays");
                self.status.config_refused(&self.config_file, &errors);
                return;
            }
        };
        let diff = diff(&self.current, &new);
        if let Err(error) = self.apply(&new, &diff) {
            warn!(%error, "configuration refused; the one in force stays");
            self.status.config_refused(&self.config_file, &[error]);
            return;
        }
        if !diff.restart.is_empty() {
            warn!(keys = ?diff.restart, "these changes need a restart; the running host keeps the old values");
        }
        info!(applied = ?diff.live, "configuration reloaded");
        self.status
            .config_applied(&self.config_file, &new.summary(), &diff.live, &diff.restart);
    }

    /// Applies the live keys of `new`, all or nothing.
    fn apply(&mut self, new: &Config, diff: &ConfigDiff) -> Result<(), String> {
        // Check everything first.
        let mut plans = Vec::new();
        for exchange in &new.exchanges {
            if let Some(live) = self.exchanges.get(&exchange.name) {
                let buckets = rate_limits(
                    &exchange.name,
                    &live.manifest.rate_limits,
                    &exchange.rate_limits,
                )
                .map_err(|error| error.to_string())?;
                plans.push((&exchange.name, buckets, live.market_changes(exchange)?));
            }
        }
        if diff.live.iter().any(|key| key == "host.log_level") {
            (self.set_log_level)(&new.host.log_level)
                .map_err(|error| format!("host.log_level: {error}"))?;
            self.current.host.log_level = new.host.log_level.clone();
        }
        for (name, buckets, (added, removed)) in plans {
            let (Some(live), Some(exchange), Some(current)) = (
                self.exchanges.get_mut(name),
                new.exchanges.iter().find(|e| &e.name == name),
                self.current.exchanges.iter_mut().find(|e| &e.name == name),
            ) else {
                continue;
            };
            live.limiter.reconfigure(&buckets);
            if !added.is_empty() || !removed.is_empty() {
                info!(exchange = %name, ?removed, added = ?added.iter().map(|m| m.symbol.to_string()).collect::<Vec<_>>(), "markets changed");
                live.change_markets(added, &removed);
            }
            current.rate_limits = exchange.rate_limits.clone();
            current.cancel_on_shutdown = exchange.cancel_on_shutdown;
            current.limits = exchange.limits.clone();
            current.markets = exchange.markets.clone();
            live.trading.set_limits(risk_limits(current, &live.markets));
        }
        self.in_force.send_replace(self.current.clone());
        Ok(())
    }
}

/// Watches the config file's folder and the plugins folder, sending a
/// trigger per debounced change. Dropping the returned debouncer stops it.
pub fn watch_files(
    config_file: &Path,
    plugins_dir: &Path,
    triggers: mpsc::UnboundedSender<Trigger>,
) -> notify_debouncer_full::notify::Result<
    Debouncer<notify_debouncer_full::notify::RecommendedWatcher, RecommendedCache>,
> {
    // Events name absolute paths when absolute paths are watched.
    let config_file = std::fs::canonicalize(config_file)?;
    let plugins = std::fs::canonicalize(plugins_dir)?;
    let folder = config_file_folder(&config_file);
    let watched_plugins = plugins.clone();
    let config_name = config_file.file_name().map(ToOwned::to_owned);
    let folder_in_closure = folder.clone();
    let mut debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
        let events = match result {
            Ok(events) => events,
            Err(errors) => {
                errors.iter().for_each(|e| warn!("file watch: {e}"));
                return;
            }
        };
        let mut config_changed = false;
        for event in events {
            for path in &event.paths {
                if path.file_name().map(ToOwned::to_owned) == config_name
                    && path.parent() == Some(folder_in_closure.as_path())
                {
                    config_changed = true;
                } else if path.parent() == Some(plugins.as_path()) {
                    let _ = triggers.send(Trigger::PluginFile(path.clone()));
                }
            }
        }
        if config_changed {
            let _ = triggers.send(Trigger::ConfigFile);
        }
    })?;
    debouncer.watch(&folder, RecursiveMode::NonRecursive)?;
    if watched_plugins != folder {
        debouncer.watch(&watched_plugins, RecursiveMode::NonRecursive)?;
    }
    Ok(debouncer)
}

fn config_file_folder(config_file: &Path) -> PathBuf {
    match config_file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Handles triggers until shutdown.
pub async fn run(
    mut reloader: Reloader,
    mut triggers: mpsc::UnboundedReceiver<Trigger>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            trigger = triggers.recv() => match trigger {
                Some(trigger) => reloader.handle(&trigger),
                None => return,
            },
            _ = shutdown.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests;
