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
    let plugins = match PluginSet::load_dir(&config.host.plugins_dir) {
        Ok(set) => set,
        Err(error) => {
            tracing::error!("{error}");
            return ExitCode::from(2);
        }
    };
    let mut ready = true;
    for exchange in &config.exchanges {
        match plugins.loaded.get(&exchange.plugin) {
            Some(plugin) => tracing::info!(
                exchange = %exchange.name,
                plugin = %plugin.path.display(),
                "plugin found"
            ),
            None => {
                tracing::error!(
                    exchange = %exchange.name,
                    "no plugin provides `{}` in {}",
                    exchange.plugin,
                    config.host.plugins_dir.display()
                );
                ready = false;
            }
        }
    }
    if !ready {
        return ExitCode::from(2);
    }
    tracing::error!(
        "configuration and plugins are valid, but this build has no live runtime yet \
         (connections, order path and events come with the live-host work)"
    );
    ExitCode::from(3)
}
