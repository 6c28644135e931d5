//! One configured exchange account, live: its plugin instance, HTTP
//! executor, markets, books and connections.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use std::path::PathBuf;

use plugin_api::{DeadManSwitch, Manifest, Market, RateLimitBucket, Stream, StreamKind};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::account::Account;
use crate::auth::keys::read_public;
use crate::auth::{ClientKeys, Curve};
use crate::book::{MarketData, MarketSink};
use crate::config::{
    ExchangeConfig, ExitsHolder, Limits, MarketDataSource, OrderTransport, RateLimitConfig,
};
use crate::journal::{Journal, JournalOptions};
use crate::order::{ClientIdGenerator, ClientOrderTracker};
use crate::plugins::PluginSet;
use crate::publisher::OrderEventPublisher;
use crate::publisher::{Publisher, StatusPublisher};
use crate::runtime::clock::now_ms;
use crate::runtime::{
    Backoff, HttpExecutor, Querier, RateLimiter, Session, SessionParts, TransportError, ratelimit,
    relay, seed,
};
use crate::signer::{NonceSource, SignerClient};
use crate::trading::{ExitWatch, Trading, TradingParts};

/// Books taken from another host go stale after this much silence, unless
/// `stream_timeout_ms` says otherwise.
const RELAY_SILENCE_MS: u64 = 5_000;

/// Why an exchange could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// No loaded plugin provides the exchange.
    #[error("exchange {exchange}: no plugin provides `{plugin}`")]
    NoPlugin {
        /// The configured name.
        exchange: String,
        /// The plugin asked for.
        plugin: String,
    },
    /// The plugin refused its configuration.
    #[error("exchange {exchange}: {error}")]
    Plugin {
        /// The configured name.
        exchange: String,
        /// The plugin's error.
        error: plugin_api::PluginError,
    },
    /// The configuration overrides a rate-limit bucket the plugin does not
    /// have.
    #[error(
        "exchange {exchange}: rate_limits.{bucket}: the plugin has no such bucket (it has {known})"
    )]
    UnknownBucket {
        /// The configured name.
        exchange: String,
        /// The bucket id.
        bucket: String,
        /// The plugin's bucket ids.
        known: String,
    },
    /// The market-data source cannot be reached as configured.
    #[error("exchange {exchange}: market_data: {reason}")]
    MarketData {
        /// The configured name.
        exchange: String,
        /// Why.
        reason: String,
    },
    /// The dead man's switch cannot be kept as configured.
    #[error("exchange {exchange}: dead_man_switch: {reason}")]
    DeadManSwitch {
        /// The configured name.
        exchange: String,
        /// Why.
        reason: String,
    },
    /// A configured market is not listed by the exchange.
    #[error(
        "exchange {exchange}: market `{symbol}` is not listed (the exchange lists {listed} markets)"
    )]
    UnknownMarket {
        /// The configured name.
        exchange: String,
        /// The symbol.
        symbol: String,
        /// How many markets the exchange lists.
        listed: usize,
    },
    /// The journal or the nonce state could not be opened.
    #[error("exchange {exchange}: {error}")]
    State {
        /// The configured name.
        exchange: String,
        /// What failed.
        error: String,
    },
    /// The HTTP client could not be built.
    #[error("exchange {exchange}: {error}")]
    Transport {
        /// The configured name.
        exchange: String,
        /// What failed.
        error: TransportError,
    },
}

/// What every exchange of a host shares.
#[derive(Clone)]
pub struct HostServices {
    /// The event publisher.
    pub publisher: Publisher,
    /// This host's client order ids.
    pub ids: Arc<ClientIdGenerator>,
    /// The signer.
    pub signer: SignerClient,
    /// Where journals and nonce state live.
    pub state_dir: PathBuf,
    /// How each exchange's journal syncs.
    pub journal: JournalOptions,
    /// CURVE on this host's sockets (its key also authenticates its market
    /// relays to other hosts); `None` without `zmq.curve`.
    pub curve: Option<crate::auth::Curve>,
}

/// A running exchange.
pub struct ExchangeRuntime {
    /// The configured name.
    pub name: String,
    /// The plugin's manifest.
    pub manifest: Manifest,
    /// The plugin session.
    pub session: Arc<Session>,
    /// The configured markets, by host symbol.
    pub markets: HashMap<String, Market>,
    /// Books and market-data publishing.
    pub market_data: Arc<MarketData>,
    /// Balances and positions.
    pub account: Arc<Account>,
    /// Queries through the plugin.
    pub querier: Querier,
    /// The order path.
    pub trading: Trading,
    /// The client-side rate limiter of its requests.
    pub limiter: Arc<RateLimiter>,
    /// Every market the exchange lists (a reload may add any of them).
    pub listed: Vec<Market>,
    /// Whether it keeps its own market connection (not a relay).
    pub own_market_data: bool,
    journal: Arc<Journal>,
    tasks: Vec<JoinHandle<()>>,
    relays: Vec<std::thread::JoinHandle<()>>,
}

/// The plugin's rate-limit buckets with the configuration's overrides.
pub fn rate_limits(
    exchange: &str,
    manifest: &[RateLimitBucket],
    overrides: &BTreeMap<String, RateLimitConfig>,
) -> Result<Vec<RateLimitBucket>, StartError> {
    if let Some(unknown) = overrides
        .keys()
        .find(|id| !manifest.iter().any(|bucket| bucket.id == id.as_str()))
    {
        return Err(StartError::UnknownBucket {
            exchange: exchange.to_owned(),
            bucket: unknown.clone(),
            known: manifest
                .iter()
                .map(|bucket| bucket.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(manifest
        .iter()
        .map(|bucket| match overrides.get(bucket.id.as_str()) {
            Some(limit) => RateLimitBucket {
                id: bucket.id.clone(),
                capacity: limit.capacity,
                window_ms: limit.window_ms,
            },
            None => bucket.clone(),
        })
        .collect())
}

/// Picks the configured markets out of the exchange's list, by host symbol
/// or venue symbol.
fn resolve_markets(
    exchange: &ExchangeConfig,
    listed: &[Market],
) -> Result<HashMap<String, Market>, StartError> {
    exchange
        .markets
        .iter()
        .map(|wanted| {
            listed
                .iter()
                .find(|m| {
                    m.symbol == wanted.symbol.as_str() || m.venue_symbol == wanted.symbol.as_str()
                })
                .map(|m| (m.symbol.to_string(), m.clone()))
                .ok_or_else(|| StartError::UnknownMarket {
                    exchange: exchange.name.clone(),
                    symbol: wanted.symbol.clone(),
                    listed: listed.len(),
                })
        })
        .collect()
}

/// Refuses a dead man's switch the plugin cannot keep as configured.
fn check_dead_man_switch(
    exchange: &str,
    manifest: &Manifest,
    config: &ExchangeConfig,
) -> Result<(), StartError> {
    let Some(switch) = &config.dead_man_switch else {
        return Ok(());
    };
    let refuse = |reason: String| {
        Err(StartError::DeadManSwitch {
            exchange: exchange.to_owned(),
            reason,
        })
    };
    if ![
        DeadManSwitch::SCHEDULED_TIME,
        DeadManSwitch::COUNTDOWN_PER_MARKET,
        DeadManSwitch::CONNECTION_BASED,
    ]
    .contains(&manifest.dead_man_switch)
    {
        return refuse(format!(
            "the {} plugin has no dead man's switch the host can refresh ({})",
            manifest.exchange, manifest.dead_man_switch
        ));
    }
    if switch.cancel_after_ms < manifest.dead_man_min_lead_ms {
        return refuse(format!(
            "cancel_after_ms {} is below the exchange's minimum of {} ms",
            switch.cancel_after_ms, manifest.dead_man_min_lead_ms
        ));
    }
    Ok(())
}

/// The keys a market relay connects with: this host's own CURVE key, to a
/// host whose public key `source` names; none when it names none.
fn relay_keys(
    exchange: &str,
    source: &MarketDataSource,
    curve: Option<&Curve>,
) -> Result<Option<ClientKeys>, StartError> {
    let Some(file) = &source.server_key_file else {
        return Ok(None);
    };
    let refuse = |reason: String| StartError::MarketData {
        exchange: exchange.to_owned(),
        reason,
    };
    let server = read_public(file).map_err(|error| refuse(error.to_string()))?;
    let curve = curve.ok_or_else(|| {
        refuse("server_key_file needs this host's own key: configure [zmq.curve]".to_owned())
    })?;
    Ok(Some(curve.client_of(server)))
}

/// Each configured market's risk limits (its own, falling back to the
/// exchange's), by host symbol.
pub fn risk_limits(
    exchange: &ExchangeConfig,
    markets: &HashMap<String, Market>,
) -> HashMap<String, Limits> {
    exchange
        .markets
        .iter()
        .filter_map(|wanted| {
            let market = markets.values().find(|m| {
                m.symbol == wanted.symbol.as_str() || m.venue_symbol == wanted.symbol.as_str()
            })?;
            Some((
                market.symbol.to_string(),
                wanted.limits.or(&exchange.limits),
            ))
        })
        .collect()
}

/// An exchange's plugin session with its rate limiter and HTTP executor,
/// before any market is resolved or connection opened.
pub(super) struct Opened {
    /// The plugin's manifest.
    pub manifest: Manifest,
    /// The client-side rate limiter.
    pub limiter: Arc<RateLimiter>,
    /// The plugin session, driven by the host.
    pub session: Arc<Session>,
    /// Reads through the session.
    pub querier: Querier,
}

impl Opened {
    /// Creates the plugin session `config` names.
    pub(super) fn open(
        config: &ExchangeConfig,
        plugins: &PluginSet,
        services: &HostServices,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Opened, StartError> {
        let name = config.name.clone();
        let publisher = services.publisher.clone();
        let loaded = plugins
            .loaded
            .get(&config.plugin)
            .ok_or_else(|| StartError::NoPlugin {
                exchange: name.clone(),
                plugin: config.plugin.clone(),
            })?;
        let plugin_error = |error| StartError::Plugin {
            exchange: name.clone(),
            error,
        };
        let plugin = loaded
            .instantiate(&config.plugin_settings())
            .map_err(plugin_error)?;
        let manifest = plugin.manifest().map_err(plugin_error)?;
        check_dead_man_switch(&name, &manifest, config)?;
        let limiter = Arc::new(RateLimiter::new(&rate_limits(
            &name,
            &manifest.rate_limits,
            &config.rate_limits,
        )?));
        let http = HttpExecutor::new(
            Arc::clone(&limiter),
            Duration::from_millis(config.request_timeout_ms),
        )
        .map_err(|error| StartError::Transport {
            exchange: name.clone(),
            error,
        })?;
        let http = http.reporting_to(StatusPublisher::new(publisher.clone()), &name);
        let signer = services.signer.with_key(config.signer_key.as_deref());
        let session = Session::new(
            plugin,
            SessionParts {
                exchange: name.clone(),
                http,
                signer,
                shutdown: shutdown.clone(),
                stream_timeout_ms: config.stream_timeout_ms,
            },
        );
        let querier = Querier::new(Arc::clone(&session));
        Ok(Opened {
            manifest,
            limiter,
            session,
            querier,
        })
    }
}

impl ExchangeRuntime {
    /// Starts an exchange: retries the market list until the exchange
    /// answers (or shutdown), then opens its market connections.
    pub async fn start(
        config: &ExchangeConfig,
        plugins: &PluginSet,
        services: &HostServices,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Option<ExchangeRuntime>, StartError> {
        let name = config.name.clone();
        let publisher = services.publisher.clone();
        let Opened {
            manifest,
            limiter,
            session,
            querier,
        } = Opened::open(config, plugins, services, shutdown.clone())?;

        let mut backoff = Backoff::new(
            Duration::from_millis(250),
            Duration::from_secs(30),
            seed(&name),
        );
        let listed = loop {
            match querier.markets().await {
                Ok(markets) => break markets,
                Err(error) => warn!(exchange = %name, "cannot list markets yet: {error}"),
            }
            let mut shutdown = shutdown.clone();
            tokio::select! {
                _ = tokio::time::sleep(backoff.next_delay()) => {}
                _ = shutdown.changed() => return Ok(None),
            }
        };
        let markets = resolve_markets(config, &listed)?;
        let mut ordered: Vec<Market> = markets.values().cloned().collect();
        ordered.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        let market_data = MarketData::new(&name, &ordered, publisher.clone());
        let account = Account::new(
            &name,
            ordered
                .iter()
                .map(|m| (m.venue_symbol.to_string(), m.symbol.to_string()))
                .collect(),
            publisher,
        );

        let mut tasks = Vec::new();
        let mut relays = Vec::new();
        session.set_market_sink(Arc::new(MarketSink(Arc::clone(&market_data))));
        if let Some(source) = &config.market_data {
            let silence =
                Duration::from_millis(config.stream_timeout_ms.unwrap_or(RELAY_SILENCE_MS));
            let keys = relay_keys(&name, source, services.curve.as_ref())?;
            let relay = relay::spawn(
                source.from.clone(),
                keys,
                source.exchange.clone().unwrap_or_else(|| name.clone()),
                Arc::clone(&market_data),
                silence,
                shutdown.clone(),
            )
            .map_err(|error| StartError::Transport {
                exchange: name.clone(),
                error: TransportError::NotSent(format!("market relay thread: {error}")),
            })?;
            relays.push(relay);
        }
        let own_market_data = config.market_data.is_none();
        if own_market_data {
            session.subscribe(&market_data.streams(), true);
        }
        tasks.push(tokio::spawn(
            Arc::clone(&account).keep_fresh(querier.clone(), shutdown.clone()),
        ));
        tasks.push(tokio::spawn(ratelimit::keep_synced(
            Arc::clone(&limiter),
            querier.clone(),
            name.clone(),
            shutdown.clone(),
        )));

        let state_error = |error: String| StartError::State {
            exchange: name.clone(),
            error,
        };
        let tracker = Arc::new(ClientOrderTracker::new());
        let (journal, recovered) = Journal::open_with(
            &services.state_dir.join(format!("{name}.journal")),
            now_ms(),
            services.journal,
        )
        .map_err(|e| state_error(e.to_string()))?;
        if recovered.unreadable_lines > 0 {
            warn!(exchange = %name, lines = recovered.unreadable_lines, "unreadable journal lines skipped");
        }
        let restored = recovered.orders.len();
        for order in recovered.orders {
            let _ = tracker.adopt(order);
        }
        let journal_path = journal.path().to_owned();
        let journal = Arc::new(journal);
        tracker.add_listener(Arc::clone(&journal) as Arc<dyn crate::order::OrderListener>);
        tracker.add_listener(Arc::new(OrderEventPublisher::new(
            services.publisher.clone(),
            &name,
        )));
        let (exit_watch, exit_jobs) = ExitWatch::new();
        tracker.add_listener(Arc::new(exit_watch));
        let nonces = Arc::new(
            NonceSource::open(&services.state_dir.join(format!("{name}.nonce")))
                .map_err(|e| state_error(e.to_string()))?,
        );
        let trading = Trading::new(TradingParts {
            exchange: name.clone(),
            session: Arc::clone(&session),
            manifest: manifest.clone(),
            markets: markets.clone(),
            tracker,
            ids: Arc::clone(&services.ids),
            nonces,
            querier: querier.clone(),
            market_data: Arc::clone(&market_data),
            account: Arc::clone(&account),
            status: StatusPublisher::new(services.publisher.clone()),
            expiry_ms: config.order_expiry_ms,
            market_slippage_percent: config.market_slippage_percent,
            limits: risk_limits(config, &markets),
            prefer_socket: config.order_transport == OrderTransport::Websocket,
            venue_held_exits: manifest.attached_exits
                && config.attached_exits == ExitsHolder::Exchange,
            journal_path,
        });
        session.set_user_sink(Arc::new(trading.user_sink()));
        let account_streams: Vec<Stream> =
            [StreamKind::ORDERS, StreamKind::FILLS, StreamKind::ACCOUNT]
                .into_iter()
                .map(|kind| Stream {
                    kind,
                    market: "".into(),
                })
                .collect();
        session.subscribe(&account_streams, true);
        tasks.push(tokio::spawn(trading.clone().forget_closed_orders(
            config.closed_order_retention_ms,
            shutdown.clone(),
        )));
        tasks.push(tokio::spawn(
            trading
                .clone()
                .keep_reconciled(config.reconcile_interval_ms, shutdown.clone()),
        ));
        tasks.push(tokio::spawn(
            trading.clone().keep_exits(exit_jobs, shutdown.clone()),
        ));
        if let Some(switch) = config.dead_man_switch {
            tasks.push(tokio::spawn(
                trading
                    .clone()
                    .keep_dead_man_switch(switch, shutdown.clone()),
            ));
        }
        let resumed = trading.resume_cancels().len();
        info!(exchange = %name, restored, resumed_cancels = resumed, "order path ready");
        info!(exchange = %name, markets = markets.len(), "exchange started");
        Ok(Some(ExchangeRuntime {
            name,
            manifest,
            session,
            markets,
            market_data,
            account,
            querier,
            trading,
            limiter,
            listed,
            own_market_data,
            journal,
            tasks,
            relays,
        }))
    }

    /// Waits for the connection tasks to end (after shutdown), then writes
    /// and syncs what the journal still holds.
    pub async fn join(self) {
        for task in self.tasks {
            let _ = task.await;
        }
        self.session.join().await;
        for relay in self.relays {
            let _ = tokio::task::spawn_blocking(move || relay.join()).await;
        }
        let journal = self.journal;
        let _ = tokio::task::spawn_blocking(move || journal.close()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(id: &str, capacity: u32, window_ms: u64) -> RateLimitBucket {
        RateLimitBucket {
            id: id.into(),
            capacity,
            window_ms,
        }
    }

    #[test]
    fn configured_rate_limits_replace_the_plugins_by_id() {
        let manifest = [
            bucket("ip_weight", 1200, 60_000),
            bucket("address", 10_000, 1),
        ];
        let overrides = BTreeMap::from([(
            "ip_weight".to_owned(),
            RateLimitConfig {
                capacity: 120_000,
                window_ms: 60_000,
            },
        )]);
        assert_eq!(
            rate_limits("hl", &manifest, &overrides).unwrap(),
            vec![
                bucket("ip_weight", 120_000, 60_000),
                bucket("address", 10_000, 1)
            ]
        );
        let typo = BTreeMap::from([(
            "ip_wieght".to_owned(),
            RateLimitConfig {
                capacity: 1,
                window_ms: 1,
            },
        )]);
        assert_eq!(
            rate_limits("hl", &manifest, &typo).unwrap_err().to_string(),
            "exchange hl: rate_limits.ip_wieght: the plugin has no such bucket (it has ip_weight, address)"
        );
    }
}
