//! `connector-host check-config --online`: asks each exchange what only it
//! can tell — whether it lists the configured markets (with the nearest
//! listed symbol for one it does not) and whether it serves the account
//! (keys, address, network) — through the same plugin sessions, signer and
//! rate limits as the host, without trading or subscribing to anything.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use plugin_api::{Event, Market, Operation};
use tokio::sync::watch;

use super::exchange::{HostServices, Opened};
use crate::config::{Config, ExchangeConfig, KeyPath, closest};
use crate::order::ClientIdGenerator;
use crate::plugins::PluginSet;
use crate::publisher::Publisher;
use crate::signer::{SignerClient, SignerProcess, signer_binary};

/// What the exchanges said.
#[derive(Debug, Default)]
pub struct Report {
    /// What is wrong, by key.
    pub problems: Vec<(KeyPath, String)>,
    /// One line per exchange that answered.
    pub notes: Vec<String>,
}

/// Asks every exchange of `config`. A signer the config starts is started
/// for the check on a socket of its own (a running host keeps its own),
/// in a private folder removed afterwards.
pub async fn check(config: &Config, plugins: &PluginSet) -> Report {
    let folder = std::env::temp_dir().join(format!("connector-host-check-{}", std::process::id()));
    let report = check_with_signer_in(config, plugins, &folder).await;
    if folder.exists()
        && let Err(error) = std::fs::remove_dir_all(&folder)
    {
        tracing::warn!(folder = %folder.display(), "cannot remove the check's folder: {error}");
    }
    report
}

async fn check_with_signer_in(config: &Config, plugins: &PluginSet, folder: &Path) -> Report {
    let mut report = Report::default();
    let (socket, signer) = match start_signer(config, folder).await {
        Ok(started) => started,
        Err(reason) => {
            report.problems.push((
                KeyPath::key("signer"),
                format!("cannot start the signer for the check: {reason}"),
            ));
            return report;
        }
    };
    let endpoint = format!("inproc://check-online-{}", std::process::id());
    let (publisher, publisher_thread) = match Publisher::start(&endpoint, 1_024) {
        Ok(started) => started,
        Err(error) => {
            report
                .problems
                .push((KeyPath::default(), error.to_string()));
            return report;
        }
    };
    let services = HostServices {
        publisher,
        ids: Arc::new(ClientIdGenerator::new(&config.host.id)),
        signer: SignerClient::pinned(
            &socket,
            Duration::from_millis(config.signer.timeout_ms),
            signer.as_ref().map(SignerProcess::pid),
        ),
        state_dir: config.host.state_dir.clone(),
        journal: config.host.journal_options(),
        curve: None,
    };
    for (index, exchange) in config.exchanges.iter().enumerate() {
        let path = KeyPath::key("exchanges").index(index);
        ask(exchange, &path, plugins, &services, &mut report).await;
    }
    if let Some(signer) = signer {
        signer.stop().await;
    }
    drop(services);
    publisher_thread.join();
    report
}

/// The signer to ask: one started on a private socket when the config
/// starts one, else the configured one.
async fn start_signer(
    config: &Config,
    folder: &Path,
) -> Result<(PathBuf, Option<SignerProcess>), String> {
    let Some(spec) = config.spawned_signer() else {
        return Ok((config.signer.socket.clone(), None));
    };
    crate::private_files::create_folder(folder).map_err(|error| error.to_string())?;
    let socket = folder.join("signer.sock");
    let process = SignerProcess::start(&signer_binary(), spec, &socket)
        .await
        .map_err(|error| error.to_string())?;
    Ok((socket, Some(process)))
}

/// Asks one exchange for its markets and the account.
async fn ask(
    exchange: &ExchangeConfig,
    path: &KeyPath,
    plugins: &PluginSet,
    services: &HostServices,
    report: &mut Report,
) {
    let (_stop, shutdown) = watch::channel(false);
    let opened = match Opened::open(exchange, plugins, services, shutdown) {
        Ok(opened) => opened,
        Err(error) => {
            report.problems.push((path.clone(), error.to_string()));
            return;
        }
    };
    // Room for the plugin's retries of one read.
    let within = Duration::from_millis(exchange.request_timeout_ms.saturating_mul(3));
    let listed = match tokio::time::timeout(within, opened.querier.markets()).await {
        Ok(Ok(listed)) => listed,
        Ok(Err(error)) => {
            report.problems.push((
                path.clone(),
                format!("cannot list the exchange's markets: {error}"),
            ));
            return;
        }
        Err(_) => {
            report.problems.push((
                path.clone(),
                format!("the exchange did not list its markets within {within:?}"),
            ));
            return;
        }
    };
    report.problems.extend(unlisted(exchange, path, &listed));
    let account =
        match tokio::time::timeout(within, opened.querier.events(Operation::FetchAccount)).await {
            Ok(Ok(events)) => events,
            Ok(Err(error)) => {
                report.problems.push((
                    path.join("settings"),
                    format!("the exchange does not serve the account: {error}"),
                ));
                return;
            }
            Err(_) => {
                report.problems.push((
                    path.join("settings"),
                    format!("the exchange did not answer for the account within {within:?}"),
                ));
                return;
            }
        };
    let held: Vec<String> = account
        .iter()
        .filter_map(|event| match event {
            Event::Balance(balance) if !balance.total.to_decimal().is_zero() => {
                Some(format!("{} {}", balance.total.to_decimal(), balance.asset))
            }
            _ => None,
        })
        .collect();
    report.notes.push(format!(
        "{}: the exchange lists {} markets, all {} configured ones among them; the account holds {}",
        exchange.name,
        listed.len(),
        exchange.markets.len(),
        if held.is_empty() {
            "nothing (funded on this network?)".to_owned()
        } else {
            held.join(", ")
        }
    ));
}

/// The configured markets the exchange does not list, each with the
/// nearest symbol it does.
fn unlisted(
    exchange: &ExchangeConfig,
    path: &KeyPath,
    listed: &[Market],
) -> Vec<(KeyPath, String)> {
    let symbols: Vec<&str> = listed
        .iter()
        .flat_map(|market| [market.symbol.as_str(), market.venue_symbol.as_str()])
        .collect();
    exchange
        .markets
        .iter()
        .enumerate()
        .filter(|(_, market)| !symbols.contains(&market.symbol.as_str()))
        .map(|(index, market)| {
            let hint = closest(&market.symbol, &symbols)
                .map(|near| format!("; did you mean `{near}`?"))
                .unwrap_or_default();
            (
                path.join("markets").index(index).join("symbol"),
                format!("`{}` is not listed by the exchange{hint}", market.symbol),
            )
        })
        .collect()
}
