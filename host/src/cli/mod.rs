//! The `connector-host` command line: one subcommand per module, and the
//! configuration file every subcommand finds the same way (`--config`,
//! then `CONNECTOR_HOST_CONFIG`, then `configs/local.toml`).

mod check;
mod keygen;
mod logging;
mod order;
mod run;
mod tail;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::auth::{ClientKeys, KeyPair, keys::read_public};
use crate::config::{self, Config};

pub use logging::init_logging;
pub use order::{NewOrderArgs, OrderAction};

/// The configuration file when neither `--config` nor the variable names one.
pub const DEFAULT_CONFIG: &str = "configs/local.toml";

/// The environment variable that names the configuration file.
pub const CONFIG_VARIABLE: &str = "CONNECTOR_HOST_CONFIG";

/// The environment variable that names a client's CURVE secret key file.
pub const CLIENT_KEY_VARIABLE: &str = "CONNECTOR_HOST_CLIENT_KEY";

/// A plugin-based exchange connector host.
#[derive(Debug, Parser)]
#[command(name = "connector-host", version, about)]
pub struct Cli {
    /// The configuration file [default: configs/local.toml].
    #[arg(
        short = 'c',
        long,
        global = true,
        env = CONFIG_VARIABLE,
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,
    /// Log format on standard error.
    #[arg(long, value_enum, global = true, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// This client's CURVE secret key file (`keygen`), for a host with
    /// `zmq.curve`: `order`, `reload` and `tail` connect with it.
    #[arg(long, global = true, env = CLIENT_KEY_VARIABLE, value_name = "FILE")]
    pub client_key: Option<PathBuf>,
    /// The host's public key file [default: the public key in the
    /// configuration's `zmq.curve.secret_key_file`].
    #[arg(long, global = true, value_name = "FILE")]
    pub server_key: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the host with the configuration file.
    Run,
    /// Check a configuration file and what it needs to start (plugins,
    /// folders, key files): print every problem with its key and line, or
    /// a one-line summary. Exits 2 when the host would not start.
    CheckConfig {
        /// The configuration file (instead of `--config`).
        file: Option<PathBuf>,
        /// Also ask each exchange whether it lists the markets and serves
        /// the account (starts the signer the config names; trades nothing).
        #[arg(long)]
        online: bool,
    },
    /// Print events as they arrive, one line each: topic, then the body.
    Tail {
        /// Only topics starting with this (e.g. `orders.`, `market.hl-local.book`).
        #[arg(long, default_value = "")]
        topic: String,
        /// The publisher to subscribe to (default: `zmq.publish` of the
        /// configuration).
        #[arg(long)]
        endpoint: Option<String>,
        /// Stop after this many events.
        #[arg(long)]
        count: Option<u64>,
    },
    /// Send an order command to a running host and print its reply.
    Order {
        /// The host's command endpoint (default: `zmq.commands` of the
        /// configuration).
        #[arg(long)]
        endpoint: Option<String>,
        /// The exchange (needed when the host has several).
        #[arg(long)]
        exchange: Option<String>,
        /// The command.
        #[command(subcommand)]
        action: Box<OrderAction>,
    },
    /// Ask a running host to read its configuration file again now (as
    /// SIGHUP does); the outcome is published on `host.status.config`.
    Reload {
        /// The host's command endpoint (default: `zmq.commands` of the
        /// configuration).
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// List the plugins in a folder: one line per loaded plugin and per
    /// refused file.
    Plugins {
        /// The folder (default: `host.plugins_dir` of the configuration).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Make a CURVE key pair, for the host (`zmq.curve.secret_key_file`) or
    /// a client (`zmq.curve.clients`): writes OUT.key (secret, mode 0600)
    /// and OUT.pub, and prints the public key.
    Keygen {
        /// The files' path without extension (e.g. `keys/strategy-1`).
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
    },
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let format = cli.log_format;
    let outcome = match &cli.command {
        Command::CheckConfig { file, online } => {
            let named = file.as_ref().map(|file| (file.clone(), "the argument"));
            config_file(&cli, named).map(|(path, config)| {
                if *online {
                    let _ = init_logging(format, "error");
                }
                check::check(&path, &config, *online)
            })
        }
        Command::Plugins { dir: Some(dir) } => {
            let _ = init_logging(format, "warn");
            Ok(check::list_plugins(dir))
        }
        Command::Plugins { dir: None } => config_file(&cli, None).map(|(_, config)| {
            let _ = init_logging(format, "warn");
            check::list_plugins(&config.host.plugins_dir)
        }),
        Command::Run => {
            config_file(&cli, None).map(|(path, config)| run::run_host(format, &path, config))
        }
        Command::Reload { endpoint } => {
            connection(&cli, endpoint, |c| &c.zmq.commands).map(|(endpoint, keys)| {
                order::send(&endpoint, keys.as_ref(), None, &OrderAction::Reload)
            })
        }
        Command::Order {
            endpoint,
            exchange,
            action,
        } => connection(&cli, endpoint, |c| &c.zmq.commands).map(|(endpoint, keys)| {
            order::send(&endpoint, keys.as_ref(), exchange.as_deref(), action)
        }),
        Command::Tail {
            topic,
            endpoint,
            count,
        } => connection(&cli, endpoint, |c| &c.zmq.publish)
            .map(|(endpoint, keys)| tail::tail(topic, &endpoint, keys.as_ref(), *count)),
        Command::Keygen { out } => Ok(keygen::keygen(out)),
    };
    outcome.unwrap_or_else(|code| code)
}

/// Where a client command connects — `endpoint` if given, else the one
/// `pick` takes from the configuration — and the CURVE keys it connects
/// with: `--client-key` with `--server-key` or the configuration's host
/// key; none when neither the options nor the configuration ask for them.
fn connection(
    cli: &Cli,
    endpoint: &Option<String>,
    pick: impl FnOnce(&Config) -> &String,
) -> Result<(String, Option<ClientKeys>), ExitCode> {
    let mut config = None;
    let endpoint = match endpoint {
        Some(endpoint) => endpoint.clone(),
        None => {
            let loaded = config_file(cli, None)?.1;
            let picked = pick(&loaded).clone();
            config = Some(loaded);
            picked
        }
    };
    if config.is_none() && cli.client_key.is_some() && cli.server_key.is_none() {
        config = Some(config_file(cli, None)?.1);
    }
    let host_key = config
        .as_ref()
        .and_then(|config| config.zmq.curve.as_ref())
        .map(|curve| curve.secret_key_file.clone());
    let fail = |message: String| {
        eprintln!("{message}");
        ExitCode::from(2)
    };
    let Some(client_key) = &cli.client_key else {
        return match host_key {
            Some(_) => Err(fail(format!(
                "the host takes CURVE clients only (zmq.curve): give this client's key with \
                 --client-key FILE or {CLIENT_KEY_VARIABLE} (made by `connector-host keygen`, \
                 listed in zmq.curve.clients)"
            ))),
            None => Ok((endpoint, None)),
        };
    };
    let keys = KeyPair::read(client_key).map_err(|error| fail(error.to_string()))?;
    let server_file = cli.server_key.clone().or(host_key).ok_or_else(|| {
        fail(
            "--client-key needs the host's public key: give --server-key FILE (the host's \
             .pub), or a configuration with zmq.curve"
                .to_owned(),
        )
    })?;
    let server = read_public(&server_file).map_err(|error| fail(error.to_string()))?;
    Ok((
        endpoint,
        Some(ClientKeys {
            keys: std::sync::Arc::new(keys),
            server,
        }),
    ))
}

/// The configuration file — `named` (by a subcommand's own argument), else
/// `--config` or the variable, else the default — loaded and validated.
/// Every problem is printed; the error is the exit code.
fn config_file(
    cli: &Cli,
    named: Option<(PathBuf, &'static str)>,
) -> Result<(PathBuf, Config), ExitCode> {
    let (path, source) = named.unwrap_or_else(|| match &cli.config {
        Some(path) => {
            let from_variable = std::env::var_os(CONFIG_VARIABLE)
                .is_some_and(|variable| Path::new(&variable) == path.as_path());
            let source = if from_variable {
                CONFIG_VARIABLE
            } else {
                "--config"
            };
            (path.clone(), source)
        }
        None => (PathBuf::from(DEFAULT_CONFIG), "the default"),
    });
    if !path.exists() {
        let looked = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
        eprintln!(
            "no configuration file at {} (named by {source}); name one with --config FILE or \
             {CONFIG_VARIABLE}",
            looked.display()
        );
        return Err(ExitCode::from(2));
    }
    match config::load(&path) {
        Ok(config) => Ok((path, config)),
        Err(errors) => {
            eprint!("{errors}");
            Err(ExitCode::from(2))
        }
    }
}
