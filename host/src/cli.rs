//! The `connector-host` command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tracing_subscriber::EnvFilter;

use crate::config::{self, Config};
use crate::plugins::PluginSet;

/// A plugin-based exchange connector host.
#[derive(Debug, Parser)]
#[command(name = "connector-host", version, about)]
pub struct Cli {
    /// Log format on standard error.
    #[arg(long, value_enum, global = true, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
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
    /// Run the host with a configuration file.
    Run {
        /// The configuration file.
        #[arg(long, default_value = "configs/local.toml")]
        config: PathBuf,
    },
    /// Validate a configuration file: print every error with its key and
    /// line, or a one-line summary.
    CheckConfig {
        /// The configuration file.
        file: PathBuf,
    },
    /// Print events as they arrive, one line each: topic, then the body.
    Tail {
        /// Only topics starting with this (e.g. `orders.`, `market.hl-local.book`).
        #[arg(long, default_value = "")]
        topic: String,
        /// The publisher to subscribe to (default: `zmq.publish` of `--config`).
        #[arg(long)]
        endpoint: Option<String>,
        /// The configuration whose publisher to subscribe to.
        #[arg(long, default_value = "configs/local.toml")]
        config: PathBuf,
        /// Stop after this many events.
        #[arg(long)]
        count: Option<u64>,
    },
    /// List the plugins in a folder: one line per loaded plugin and per
    /// refused file.
    Plugins {
        /// The folder (default: the `plugins_dir` of `--config`).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The configuration whose plugins folder to list.
        #[arg(long, default_value = "configs/local.toml")]
        config: PathBuf,
    },
}

/// Sets up logging: `RUST_LOG` if set, otherwise `default_filter`.
pub fn init_logging(format: LogFormat, default_filter: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(default_filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (in tests) is harmless; ignore it.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::CheckConfig { file } => check_config(&file),
        Command::Plugins { dir, config } => {
            init_logging(cli.log_format, "warn");
            list_plugins(dir.as_deref(), &config)
        }
        Command::Run { config } => run_host(cli.log_format, &config),
        Command::Tail {
            topic,
            endpoint,
            config,
            count,
        } => tail(&topic, endpoint, &config, count),
    }
}

fn check_config(file: &Path) -> ExitCode {
    match config::load(file) {
        Ok(config) => {
            println!("{}: valid — {}", file.display(), config.summary());
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprint!("{errors}");
            ExitCode::from(2)
        }
    }
}

fn list_plugins(dir: Option<&Path>, config: &Path) -> ExitCode {
    let dir = match dir {
        Some(dir) => dir.to_owned(),
        None => match config::load(config) {
            Ok(config) => config.host.plugins_dir,
            Err(errors) => {
                eprint!("{errors}");
                return ExitCode::from(2);
            }
        },
    };
    let set = match PluginSet::load_dir(&dir) {
        Ok(set) => set,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    for plugin in set.sorted() {
        println!(
            "loaded   {:<14} version {:<8} abi {:<8} {}",
            plugin.manifest.exchange,
            plugin.manifest.plugin_version,
            plugin_api::ABI_VERSION,
            plugin.path.display()
        );
    }
    for refused in &set.refused {
        println!("refused  {refused}");
    }
    if set.refused.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn tail(topic: &str, endpoint: Option<String>, config: &Path, count: Option<u64>) -> ExitCode {
    let endpoint = match endpoint {
        Some(endpoint) => endpoint,
        None => match config::load(config) {
            Ok(config) => config.zmq.publish,
            Err(errors) => {
                eprint!("{errors}");
                return ExitCode::from(2);
            }
        },
    };
    let context = zmq::Context::new();
    let subscribed = context.socket(zmq::SUB).and_then(|socket| {
        socket.connect(&endpoint)?;
        socket.set_subscribe(topic.as_bytes())?;
        Ok(socket)
    });
    let socket = match subscribed {
        Ok(socket) => socket,
        Err(error) => {
            eprintln!("cannot subscribe to {endpoint}: {error}");
            return ExitCode::from(2);
        }
    };
    let mut seen = 0u64;
    while count.is_none_or(|count| seen < count) {
        match socket.recv_multipart(0) {
            Ok(parts) => {
                let topic = String::from_utf8_lossy(parts.first().map_or(&[][..], |p| p));
                let body = String::from_utf8_lossy(parts.get(1).map_or(&[][..], |p| p));
                println!("{topic}  {body}");
                seen += 1;
            }
            Err(error) => {
                eprintln!("receive failed: {error}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}

fn run_host(format: LogFormat, path: &Path) -> ExitCode {
    let config: Config = match config::load(path) {
        Ok(config) => config,
        Err(errors) => {
            eprint!("{errors}");
            return ExitCode::from(2);
        }
    };
    init_logging(format, &config.host.log_level);
    tracing::info!("{}", config.summary());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!("cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(crate::runtime::run(path, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(1),
    }
}
