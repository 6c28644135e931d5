//! The whole host: publisher, plugins, exchanges, until a signal says stop.

use std::path::Path;
use std::time::Duration;

use tokio::sync::watch;
use tracing::{error, info};

use super::exchange::{ExchangeRuntime, StartError};
use crate::config::Config;
use crate::plugins::{FolderError, PluginSet};
use crate::publisher::{Publisher, PublisherError, StatusPublisher};

/// How often the publisher's counters are published.
const COUNTERS_EVERY: Duration = Duration::from_secs(10);

/// Publishes the publisher's own counters until shutdown.
async fn publish_counters(status: StatusPublisher, mut shutdown: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(COUNTERS_EVERY);
    loop {
        tokio::select! {
            _ = every.tick() => status.counters(),
            _ = shutdown.changed() => return,
        }
    }
}

/// Why the host stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The event publisher could not bind.
    #[error(transparent)]
    Publisher(#[from] PublisherError),
    /// The plugins folder could not be read.
    #[error(transparent)]
    Plugins(#[from] FolderError),
    /// An exchange could not start.
    #[error(transparent)]
    Exchange(#[from] StartError),
    /// Signals could not be watched.
    #[error("cannot watch signals: {0}")]
    Signals(std::io::Error),
}

/// Runs the host until SIGINT or SIGTERM.
pub async fn run(config_file: &Path, config: Config) -> Result<(), HostError> {
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(HostError::Signals)?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(HostError::Signals)?;
    let (publisher, publisher_thread) =
        Publisher::start(&config.zmq.publish, config.zmq.queue_capacity)?;
    info!(endpoint = %config.zmq.publish, "publishing events");
    let plugins = PluginSet::load_dir(&config.host.plugins_dir)?;
    let status = StatusPublisher::new(publisher.clone());
    status.config_loaded(config_file, &config.summary());
    status.plugins(&plugins);
    let (shutdown, shutdown_rx) = watch::channel(false);
    let counters = tokio::spawn(publish_counters(status, shutdown_rx.clone()));

    let starting = async {
        let mut exchanges = Vec::new();
        for exchange in &config.exchanges {
            match ExchangeRuntime::start(exchange, &plugins, publisher.clone(), shutdown_rx.clone())
                .await?
            {
                Some(runtime) => exchanges.push(runtime),
                None => break,
            }
        }
        Ok::<_, HostError>(exchanges)
    };
    let mut exchanges = Vec::new();
    tokio::select! {
        started = starting => match started {
            Ok(started) => exchanges = started,
            Err(error) => {
                error!("{error}");
                let _ = shutdown.send(true);
                drop(publisher);
                publisher_thread.join();
                return Err(error);
            }
        },
        _ = interrupt.recv() => info!("interrupted while starting"),
        _ = terminate.recv() => info!("terminated while starting"),
    }
    if !exchanges.is_empty() {
        info!("host running; stop with Ctrl-C or SIGTERM");
        tokio::select! {
            _ = interrupt.recv() => info!("interrupted"),
            _ = terminate.recv() => info!("terminated"),
        }
    }
    let _ = shutdown.send(true);
    for exchange in exchanges {
        exchange.join().await;
    }
    let _ = counters.await;
    drop(publisher);
    publisher_thread.join();
    info!("host stopped");
    Ok(())
}
