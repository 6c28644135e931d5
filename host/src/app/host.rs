//! The whole host: publisher, plugins, exchanges, until a signal says stop.

use std::path::Path;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tracing::{error, info, warn};

use std::sync::{Arc, PoisonError};

use super::exchange::{HostServices, StartError};
use super::preflight;
use super::reload::{self, Reloader, Running, SetLogLevel, Trigger};
use crate::auth::Curve;
use crate::commands::{
    CommandServer, CommandSocketError, CommandStats, Dispatcher, Exchanges, SocketLimits,
};
use crate::config::{self, Config, ConfigErrors};
use crate::order::ClientIdGenerator;
use crate::publisher::{Publisher, PublisherError, StatusPublisher};
use crate::signer::{
    DefaultMarks, SignerClient, SignerProcess, SpawnError, SupervisedSigner, signer_binary,
};
use crate::trading::Trading;

/// Pause between binding the publisher and publishing anything.
const SUBSCRIBERS_REJOIN: Duration = Duration::from_millis(500);

/// How long shutdown waits for cancels to be confirmed.
const CANCEL_ON_SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

/// How often the publisher's counters are published.
const COUNTERS_EVERY: Duration = Duration::from_secs(10);

/// Publishes the publisher's and the command socket's counters until
/// shutdown, and logs a one-line summary of the host every
/// `summary_every` (never when zero).
async fn publish_counters(
    status: StatusPublisher,
    commands: Arc<CommandStats>,
    exchanges: Exchanges,
    summary_every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut counters = tokio::time::interval(COUNTERS_EVERY);
    let mut summaries = (!summary_every.is_zero()).then(|| {
        tokio::time::interval_at(tokio::time::Instant::now() + summary_every, summary_every)
    });
    loop {
        tokio::select! {
            _ = counters.tick() => {
                status.counters();
                status.commands(&commands);
            }
            _ = async { summaries.as_mut()?.tick().await; Some(()) }, if summaries.is_some() => {
                log_summary(&status, &commands, &exchanges);
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// One line: each exchange's open and tracked orders, commands taken and
/// refused, events published and dropped.
fn log_summary(status: &StatusPublisher, commands: &CommandStats, exchanges: &Exchanges) {
    let exchanges: Vec<String> = exchanges
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .values()
        .map(|trading| {
            format!(
                "{} {} open/{} tracked",
                trading.exchange(),
                trading.open_orders(None).len(),
                trading.tracker().len()
            )
        })
        .collect();
    let commands = commands.snapshot();
    let (sent, dropped) = status.publisher_counts();
    info!(
        "summary: {}; commands {} ({} refused); events {sent} sent, {dropped} dropped",
        if exchanges.is_empty() {
            "no exchange".to_owned()
        } else {
            exchanges.join(", ")
        },
        commands.received,
        commands.refused.values().sum::<u64>(),
    );
}

/// Why the host stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The event publisher could not bind.
    #[error(transparent)]
    Publisher(#[from] PublisherError),
    /// The command socket could not be bound.
    #[error(transparent)]
    Commands(#[from] CommandSocketError),
    /// An exchange could not start.
    #[error(transparent)]
    Exchange(#[from] StartError),
    /// The signer could not be started.
    #[error(transparent)]
    Signer(#[from] SpawnError),
    /// The metrics endpoint could not be bound.
    #[error("cannot serve metrics on {listen}: {source}")]
    Metrics {
        /// The configured address.
        listen: String,
        /// Why.
        source: std::io::Error,
    },
    /// Signals could not be watched.
    #[error("cannot watch signals: {0}")]
    Signals(std::io::Error),
    /// The configuration asks for what this machine lacks: a plugin, a
    /// folder, a key file, settings a plugin accepts.
    #[error("{0}")]
    Settings(ConfigErrors),
}

/// Runs the host until SIGINT or SIGTERM; reloads its configuration when
/// the file changes, on SIGHUP and on the `reload` command (see
/// [`reload`]). What the configuration needs is checked first
/// ([`preflight`]); anything that stops the start (an exchange that
/// refuses the account, an unknown market, a socket that cannot be bound)
/// stops what did start and is returned, so the process exits non-zero.
///
/// Shutdown order: stop taking commands, stop accepting orders, cancel open
/// orders where the configuration asks, close the connections, then write
/// and sync the journals.
pub async fn run(
    config_file: &Path,
    config: Config,
    set_log_level: SetLogLevel,
) -> Result<(), HostError> {
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(HostError::Signals)?;
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(HostError::Signals)?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(HostError::Signals)?;
    let plugins = preflight::check(config_file, &config).map_err(HostError::Settings)?;
    let curve = config
        .zmq
        .curve
        .as_ref()
        .map(Curve::load)
        .transpose()
        .map_err(|problems| HostError::Settings(config::locate(config_file, problems)))?;
    if let Some(curve) = &curve {
        info!(
            public_key = %curve.public_key().z85(),
            clients = curve.clients.len(),
            "CURVE on the command and event sockets"
        );
    }
    let (publisher, publisher_thread) = Publisher::start_keeping(
        &config.zmq.publish,
        config.zmq.queue_capacity,
        Duration::from_micros(config.zmq.publisher_spin_us),
        Some(&config.host.state_dir),
        curve.as_ref(),
        config.zmq.max_event_connections as usize,
    )?;
    info!(endpoint = %config.zmq.publish, "publishing events");
    // Subscribers of an earlier run reconnect on their own (ZeroMQ retries
    // every 100 ms); give them that time before anything is published, so
    // that they do not miss what the restart reconciles.
    tokio::time::sleep(SUBSCRIBERS_REJOIN).await;
    let status = StatusPublisher::new(publisher.clone());
    status.config_loaded(config_file, &config.summary());
    status.plugins(&plugins);
    let default_marks = plugins.mark_sources(&config);
    let signer_process = match config.spawned_signer() {
        Some(mut spec) => {
            spec.default_mark_prices = &default_marks;
            log_signer_cap(spec.default_max_order_notional, &default_marks);
            Some(supervise_signer(
                SignerProcess::start(&signer_binary(), spec, &config.signer.socket).await?,
                &status,
            ))
        }
        None => None,
    };
    let services = HostServices {
        publisher: publisher.clone(),
        ids: Arc::new(ClientIdGenerator::new(&config.host.id)),
        signer: SignerClient::pinned(
            &config.signer.socket,
            Duration::from_millis(config.signer.timeout_ms),
            signer_process.as_ref().map(SupervisedSigner::pid),
        ),
        state_dir: config.host.state_dir.clone(),
        journal: config.host.journal_options(),
        curve: curve.clone(),
    };
    let (shutdown, shutdown_rx) = watch::channel(false);
    let command_stats = Arc::new(CommandStats::default());

    // Exchanges start one after the other; the first that cannot start
    // stops the start, and the ones already started are stopped with the
    // rest below.
    let mut exchanges = Vec::new();
    let starting = async {
        for exchange in &config.exchanges {
            match Running::start(exchange, &plugins, &services).await {
                Ok(Some(running)) => exchanges.push(running),
                Ok(None) => break,
                Err(error) => return Err(HostError::from(error)),
            }
        }
        Ok(())
    };
    let mut failed: Option<HostError> = None;
    let mut interrupted = false;
    tokio::select! {
        started = starting => if let Err(error) = started {
            failed = Some(error);
            interrupted = true;
        },
        _ = interrupt.recv() => { info!("interrupted while starting"); interrupted = true; }
        _ = terminate.recv() => { info!("terminated while starting"); interrupted = true; }
    }
    // Reloads: the config and plugins folders, SIGHUP, the `reload`
    // command. The reloader owns the running exchanges from here on.
    let (triggers, trigger_queue) = mpsc::unbounded_channel();
    let dispatcher = Dispatcher::new(exchanges.iter().map(|e| e.runtime.trading.clone()))
        .reloading_with(triggers.clone())
        .keeping_history(publisher.clone(), config.host.state_dir.clone());
    let counters = tokio::spawn(publish_counters(
        status.clone(),
        Arc::clone(&command_stats),
        dispatcher.exchanges(),
        Duration::from_secs(config.host.summary_interval_s),
        shutdown_rx.clone(),
    ));
    let metrics = match &config.metrics {
        Some(metrics) if !interrupted => {
            let sources = crate::metrics::server::Sources {
                exchanges: dispatcher.exchanges(),
                commands: Arc::clone(&command_stats),
                publisher: publisher.clone(),
            };
            match crate::metrics::server::start(&metrics.listen, sources, shutdown_rx.clone()).await
            {
                Ok(server) => Some(server),
                Err(error) => {
                    failed = Some(HostError::Metrics {
                        listen: metrics.listen.clone(),
                        source: error,
                    });
                    interrupted = true;
                    None
                }
            }
        }
        _ => None,
    };
    let reloader = Reloader::new(
        config_file,
        config.clone(),
        exchanges,
        dispatcher.exchanges(),
        services.clone(),
        plugins,
        set_log_level,
    );
    let (stop_reloads, reloads_stopped) = watch::channel(false);
    let reloads = tokio::spawn(reload::run(reloader, trigger_queue, reloads_stopped));
    let _watcher =
        match reload::watch_files(config_file, &config.host.plugins_dir, triggers.clone()) {
            Ok(watcher) => Some(watcher),
            Err(error) => {
                warn!("config and plugin files are not watched (reload with SIGHUP): {error}");
                None
            }
        };
    let mut commands = None;
    if !interrupted {
        let limits = SocketLimits {
            max_connections: config.zmq.max_command_connections,
            max_commands_per_second: config.zmq.max_commands_per_second,
        };
        match CommandServer::start(
            &config.zmq.commands,
            dispatcher,
            limits,
            command_stats,
            Some(status),
            curve.as_ref(),
        ) {
            Ok(server) => {
                commands = Some(server);
                info!("host running; stop with Ctrl-C or SIGTERM, reload with SIGHUP");
                loop {
                    tokio::select! {
                        _ = interrupt.recv() => { info!("interrupted"); break; }
                        _ = terminate.recv() => { info!("terminated"); break; }
                        _ = hangup.recv() => { let _ = triggers.send(Trigger::Asked); }
                    }
                }
            }
            Err(error) => failed = Some(HostError::from(error)),
        }
    }
    if let Some(commands) = commands {
        tokio::task::spawn_blocking(move || commands.stop())
            .await
            .ok();
    }
    let _ = stop_reloads.send(true);
    // The running exchanges and the configuration in force, with what
    // reloads changed.
    let (exchanges, config) = match reloads.await {
        Ok(reloader) => reloader.into_parts(),
        Err(error) => {
            error!("the reload task failed: {error}");
            (Vec::new(), config)
        }
    };
    for exchange in &exchanges {
        exchange
            .runtime
            .trading
            .stop_accepting("the host is shutting down");
    }
    for exchange in &exchanges {
        let cancel = config
            .exchanges
            .iter()
            .any(|e| e.name == exchange.runtime.name && e.cancel_on_shutdown);
        if cancel {
            cancel_everything(&exchange.runtime.trading).await;
        }
    }
    let _ = shutdown.send(true);
    for exchange in exchanges {
        exchange.stop().await;
    }
    let _ = counters.await;
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    if let Some(signer) = signer_process {
        signer.stop().await;
    }
    drop(services);
    drop(publisher);
    publisher_thread.join();
    match failed {
        Some(error) => {
            info!("host stopped: it could not start");
            Err(error)
        }
        None => {
            info!("host stopped");
            Ok(())
        }
    }
}

/// Watches the signer the host started: its exit is logged as an error and
/// published (`host.status.signer`), and from then on no order can be
/// signed — the client is pinned to its pid — until the host is restarted.
/// Says what the signer this host starts caps orders at, and where it
/// values them at the mark, by default.
fn log_signer_cap(cap: Option<rust_decimal::Decimal>, marks: &[DefaultMarks]) {
    let urls: std::collections::BTreeSet<&str> = marks.iter().map(|m| m.url.as_str()).collect();
    if !urls.is_empty() {
        info!(
            sources = ?urls,
            "the signer values orders at the worse of limit and mark where a key's policy caps \
             the notional, the marks fetched from each exchange's venue unless the key's policy \
             names its own source"
        );
    }
    match cap {
        Some(cap) => info!(
            %cap,
            "the signer refuses any order above the largest max_order_notional of the config, \
             unless a key's policy sets its own cap"
        ),
        None => warn!(
            "a market has no max_order_notional: the signer caps orders only where a key's \
             policy does"
        ),
    }
}

fn supervise_signer(process: SignerProcess, status: &StatusPublisher) -> SupervisedSigner {
    let on_exit = {
        let status = status.clone();
        move |reason: String| {
            error!(
                "the signer this host started is gone: {reason}; no order can be signed until \
                 the host is restarted"
            );
            status.signer("exited", None, Some(&reason));
        }
    };
    let supervised = process.supervise(on_exit);
    status.signer("up", Some(supervised.pid()), None);
    supervised
}

/// Cancels every open order and waits (a while) for the exchange to confirm.
pub(super) async fn cancel_everything(trading: &Trading) {
    let ids = trading.cancel_all(None);
    if ids.is_empty() {
        return;
    }
    info!(
        exchange = trading.exchange(),
        orders = ids.len(),
        "cancelling open orders before stopping"
    );
    let deadline = tokio::time::Instant::now() + CANCEL_ON_SHUTDOWN_WAIT;
    while !trading.open_orders(None).is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left = trading.open_orders(None).len();
    if left > 0 {
        error!(
            exchange = trading.exchange(),
            left, "orders still open at shutdown"
        );
    }
}
