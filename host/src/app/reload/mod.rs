//! Hot reload. The config file's folder and the plugins folder are
//! watched (editors save by writing a new file and renaming it, so the
//! folder, not the file, is watched; events are debounced). On a change —
//! or SIGHUP, or the `reload` command — the whole file is read and
//! validated first. An invalid file is refused with its errors (key and
//! line) and the configuration in force stays. A valid one is compared with
//! it (`diff`): what can change while running is applied at once —
//! limits, rate limits, the log level, markets and exchanges added or
//! removed (refused while they have live orders) — without dropping
//! connections or forgetting orders; what cannot is named as needing a
//! restart. Every outcome is published on `host.status.config`. New plugin
//! files are loaded (`watcher`); an exchange may name a plugin only once it
//! is loaded (drop the plugin in, then add the exchange).

mod diff;
mod watcher;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLockWriteGuard};

use plugin_api::Market;
use rust_decimal::Decimal;
use tokio::sync::{mpsc, watch};
use tracing::{info, warn};

use super::exchange::{ExchangeRuntime, HostServices, StartError, rate_limits, risk_limits};
use super::host::cancel_everything;
use crate::commands::Exchanges;
use crate::config::{self, Config, ExchangeConfig};
use crate::plugins::{PluginSet, is_plugin_candidate};
use crate::publisher::StatusPublisher;
use crate::trading::Trading;

pub use diff::{ConfigDiff, diff};
pub use watcher::watch_files;

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

/// A running exchange and the switch that stops it alone.
pub struct Running {
    /// The exchange.
    pub runtime: ExchangeRuntime,
    /// Stops its connections and tasks.
    pub stop: watch::Sender<bool>,
}

impl Running {
    /// Starts an exchange with a switch of its own.
    pub async fn start(
        config: &ExchangeConfig,
        plugins: &PluginSet,
        services: &HostServices,
    ) -> Result<Option<Running>, StartError> {
        let (stop, stopped) = watch::channel(false);
        Ok(ExchangeRuntime::start(config, plugins, services, stopped)
            .await?
            .map(|runtime| Running { runtime, stop }))
    }

    /// Stops it and waits for its tasks and journal.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        self.runtime.join().await;
    }
}

impl ExchangeRuntime {
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
        let before = self.market_data.streams();
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
        if self.own_market_data {
            let after = self.market_data.streams();
            let dropped: Vec<_> = before
                .iter()
                .filter(|s| !after.contains(s))
                .cloned()
                .collect();
            let new: Vec<_> = after
                .iter()
                .filter(|s| !before.contains(s))
                .cloned()
                .collect();
            self.session.subscribe(&dropped, false);
            self.session.subscribe(&new, true);
        }
    }
}

/// Changes the log filter; `Err` with the reason when it is not valid.
pub type SetLogLevel = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// Applies reloads to a running host; owns its running exchanges.
pub struct Reloader {
    config_file: PathBuf,
    /// The configuration in force (live keys updated by reloads).
    current: Config,
    exchanges: Vec<Running>,
    /// The exchanges the command socket addresses.
    commands: Exchanges,
    services: HostServices,
    plugins: PluginSet,
    status: StatusPublisher,
    set_log_level: SetLogLevel,
    /// The notional cap the signer this host started gives keys without
    /// their own: no reload may configure a larger one.
    signer_cap: Option<Decimal>,
}

/// Refuses limits beyond `cap`, the notional cap the signer this host
/// started gives every key without its own: orders the new limits allow
/// would be refused by the signer.
fn check_signer_cap(cap: Decimal, largest: Option<Decimal>) -> Result<(), String> {
    match largest {
        Some(largest) if largest <= cap => Ok(()),
        largest => Err(format!(
            "limits.max_order_notional: the largest would be {}, above the {cap} the signer \
             this host started caps orders at; restart the host to raise it",
            largest.map_or_else(
                || "none (a market has no cap)".to_owned(),
                |l| l.to_string()
            )
        )),
    }
}

impl Reloader {
    /// A reloader for a host started with `current`.
    pub fn new(
        config_file: &Path,
        current: Config,
        exchanges: Vec<Running>,
        commands: Exchanges,
        services: HostServices,
        plugins: PluginSet,
        set_log_level: SetLogLevel,
    ) -> Reloader {
        Reloader {
            config_file: config_file.to_owned(),
            signer_cap: current
                .spawned_signer()
                .and_then(|spec| spec.default_max_order_notional),
            current,
            exchanges,
            commands,
            status: StatusPublisher::new(services.publisher.clone()),
            services,
            plugins,
            set_log_level,
        }
    }

    /// The running exchanges and the configuration in force (at shutdown).
    pub fn into_parts(self) -> (Vec<Running>, Config) {
        (self.exchanges, self.current)
    }

    /// Handles one trigger.
    pub async fn handle(&mut self, trigger: &Trigger) {
        match trigger {
            Trigger::PluginFile(path) => self.plugin_file(path),
            Trigger::ConfigFile | Trigger::Asked => self.reload().await,
        }
    }

    /// Loads a plugin file that appeared, and publishes the outcome.
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
        if let Some(error) = self.plugins.refused.get(refused_before) {
            self.status.plugin_refused(path, &error.to_string());
        } else if let Some(plugin) = self.plugins.loaded.values().find(|p| p.path == path) {
            self.status.plugin_loaded(plugin);
        }
    }

    /// Makes a started exchange reachable by commands.
    fn register(&mut self, running: Running) {
        let name = running.runtime.name.clone();
        self.commands_mut()
            .insert(name.clone(), running.runtime.trading.clone());
        self.exchanges.push(running);
        info!(exchange = %name, "exchange started");
    }

    async fn reload(&mut self) {
        let checked = config::load(&self.config_file).and_then(|new| {
            match self.plugins.check_settings(&new) {
                problems if problems.is_empty() => Ok(new),
                problems => Err(config::locate(&self.config_file, problems)),
            }
        });
        let new = match checked {
            Ok(new) => new,
            Err(errors) => {
                let errors: Vec<String> = errors.errors.iter().map(ToString::to_string).collect();
                warn!(errors = ?errors, "configuration refused; the one in force stays");
                self.status.config_refused(&self.config_file, &errors);
                return;
            }
        };
        let diff = diff(&self.current, &new);
        if let Err(error) = self.apply(&new, &diff).await {
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

    fn running(&self, name: &str) -> Option<&Running> {
        self.exchanges.iter().find(|r| r.runtime.name == name)
    }

    /// Applies the live keys of `new`: everything is checked first, new
    /// exchanges are started next (a failure stops them again and refuses
    /// the file), then the rest is applied.
    async fn apply(&mut self, new: &Config, diff: &ConfigDiff) -> Result<(), String> {
        let new_log_level = diff.live.iter().any(|key| key == "host.log_level");
        if new_log_level {
            tracing_subscriber::EnvFilter::try_new(&new.host.log_level)
                .map_err(|error| format!("host.log_level: {error}"))?;
        }
        let clients = match (&self.services.curve, &new.zmq.curve) {
            (Some(_), Some(curve)) => {
                Some(crate::auth::load_clients(curve).map_err(|problems| {
                    problems
                        .iter()
                        .map(|(key, problem)| format!("{key}: {problem}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                })?)
            }
            _ => None,
        };
        if let Some(cap) = self.signer_cap {
            check_signer_cap(cap, new.largest_order_notional())?;
        }
        let signer_takes_demo_keys = self
            .current
            .spawned_signer()
            .is_some_and(|spec| spec.demo_keys);
        let mut plans = Vec::new();
        for exchange in &new.exchanges {
            if let Some(running) = self.running(&exchange.name) {
                let buckets = rate_limits(
                    &exchange.name,
                    &running.runtime.manifest.rate_limits,
                    &exchange.rate_limits,
                )
                .map_err(|error| error.to_string())?;
                plans.push((
                    exchange.name.clone(),
                    buckets,
                    running.runtime.market_changes(exchange)?,
                ));
            } else if !self.plugins.loaded.contains_key(&exchange.plugin) {
                return Err(format!(
                    "exchanges.{}: no loaded plugin provides `{}`",
                    exchange.name, exchange.plugin
                ));
            } else if signer_takes_demo_keys && !exchange.stays_on_this_machine() {
                return Err(format!(
                    "exchanges.{}: it reaches beyond this machine, and the signer the host \
                     started takes demo keys (plain files, published keys) because every \
                     exchange was on this machine; restart the host to add it (the signer then \
                     takes encrypted keys only)",
                    exchange.name
                ));
            }
        }
        let mut removed = Vec::new();
        for running in &self.exchanges {
            let name = &running.runtime.name;
            if new.exchanges.iter().any(|e| &e.name == name) {
                continue;
            }
            let live = running.runtime.trading.open_orders(None).len();
            let cancel = self
                .current
                .exchanges
                .iter()
                .any(|e| &e.name == name && e.cancel_on_shutdown);
            if live > 0 && !cancel {
                return Err(format!(
                    "exchanges.{name}: removing it is refused while it has {live} live orders (cancel them, or set cancel_on_shutdown to have them cancelled)"
                ));
            }
            removed.push(name.clone());
        }
        // Exchanges not running yet (their plugin is loaded: checked above).
        let mut started = Vec::new();
        for exchange in new
            .exchanges
            .iter()
            .filter(|e| self.running(&e.name).is_none())
        {
            match Running::start(exchange, &self.plugins, &self.services).await {
                Ok(Some(running)) => started.push(running),
                Ok(None) => {}
                Err(error) => {
                    for running in started {
                        running.stop().await;
                    }
                    return Err(error.to_string());
                }
            }
        }
        if new_log_level {
            // Checked above; a failure here would be the logger's own.
            if let Err(error) = (self.set_log_level)(&new.host.log_level) {
                warn!("host.log_level not applied: {error}");
            }
        }
        self.current.host.log_level = new.host.log_level.clone();
        if let (Some(curve), Some(clients)) = (&self.services.curve, clients) {
            // Key files are read again on every reload: a replaced one
            // applies even when the config text did not change.
            let removed = curve.clients.replace(clients);
            if !removed.is_empty() {
                // Subscriptions are judged at the handshake only: have every
                // subscriber make a new one.
                info!(
                    ?removed,
                    "client keys removed: every subscriber is disconnected"
                );
                self.services.publisher.drop_subscribers();
            }
            if let (Some(current), Some(new)) = (&mut self.current.zmq.curve, &new.zmq.curve) {
                current.clients = new.clients.clone();
            }
        }

        for name in removed {
            if let Some(index) = self.exchanges.iter().position(|r| r.runtime.name == name) {
                let running = self.exchanges.remove(index);
                running
                    .runtime
                    .trading
                    .stop_accepting("removed from the configuration");
                cancel_everything(&running.runtime.trading).await;
                self.commands_mut().remove(&name);
                running.stop().await;
                crate::metrics::registry().forget(&name);
                self.current.exchanges.retain(|e| e.name != name);
                info!(exchange = %name, "exchange removed");
            }
        }
        for running in started {
            let name = running.runtime.name.clone();
            self.register(running);
            if let Some(config) = new.exchanges.iter().find(|e| e.name == name) {
                self.current.exchanges.retain(|e| e.name != name);
                self.current.exchanges.push(config.clone());
            }
        }
        for (name, buckets, (added, removed)) in plans {
            let (Some(running), Some(exchange), Some(current)) = (
                self.exchanges.iter_mut().find(|r| r.runtime.name == name),
                new.exchanges.iter().find(|e| e.name == name),
                self.current.exchanges.iter_mut().find(|e| e.name == name),
            ) else {
                continue;
            };
            let runtime = &mut running.runtime;
            runtime.limiter.reconfigure(&buckets);
            if !added.is_empty() || !removed.is_empty() {
                info!(exchange = %name, ?removed, added = ?added.iter().map(|m| m.symbol.to_string()).collect::<Vec<_>>(), "markets changed");
                runtime.change_markets(added, &removed);
            }
            current.rate_limits = exchange.rate_limits.clone();
            current.cancel_on_shutdown = exchange.cancel_on_shutdown;
            current.limits = exchange.limits.clone();
            current.markets = exchange.markets.clone();
            runtime
                .trading
                .set_limits(risk_limits(current, &runtime.markets));
        }
        Ok(())
    }

    fn commands_mut(&self) -> RwLockWriteGuard<'_, BTreeMap<String, Trading>> {
        self.commands
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Handles triggers until `stop`; returns the reloader (with the running
/// exchanges) for the shutdown.
pub async fn run(
    mut reloader: Reloader,
    mut triggers: mpsc::UnboundedReceiver<Trigger>,
    mut stop: watch::Receiver<bool>,
) -> Reloader {
    loop {
        tokio::select! {
            trigger = triggers.recv() => match trigger {
                Some(trigger) => reloader.handle(&trigger).await,
                None => return reloader,
            },
            _ = stop.changed() => return reloader,
        }
    }
}

#[cfg(test)]
mod tests;
