//! What the emulator binaries share: the common options, logging, and
//! serving until SIGINT or SIGTERM with the address announced on stdout.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use rust_decimal::Decimal;

use crate::{Config, EmulatorHandle, FaultSettings, StartError, StopSignals};

/// The options every emulator takes.
#[derive(Debug, clap::Args)]
pub struct CommonArgs {
    /// Address to listen on (loopback only); port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// TOML configuration file (markets, liquidity, fees, accounts, faults);
    /// on Bybit and Binance, perps without `tick_size` follow Hyperliquid's
    /// price rule.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Seed of every random decision (overrides the file).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Block length in milliseconds (overrides the file).
    #[arg(long)]
    pub block_ms: Option<u64>,
    /// The faults to start with.
    #[command(flatten)]
    pub faults: FaultSettings,
}

impl CommonArgs {
    /// The configuration: the file's, or `default` without one, with these
    /// options applied.
    pub fn config(&self, default: impl FnOnce() -> Config) -> Result<Config, String> {
        let mut config = match &self.config {
            Some(path) => Config::from_file(path).map_err(|e| e.to_string())?,
            None => default(),
        };
        config.listen = self.listen;
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        if let Some(block_ms) = self.block_ms {
            config.block_ms = block_ms;
        }
        config.faults.merge(&self.faults);
        Ok(config)
    }
}

/// `API_KEY:API_SECRET:USDT` (an HMAC key to fund) split into its parts.
pub fn parse_api_fund(text: &str) -> Result<(String, String, Decimal), String> {
    let mut parts = text.splitn(3, ':');
    let (Some(key), Some(secret), Some(amount)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("{text:?} is not API_KEY:API_SECRET:USDT"));
    };
    if key.is_empty() || secret.is_empty() {
        return Err(format!("{text:?} has an empty key or secret"));
    }
    Ok((key.to_owned(), secret.to_owned(), parse_amount(amount)?))
}

/// An amount to fund.
pub fn parse_amount(text: &str) -> Result<Decimal, String> {
    text.parse::<Decimal>()
        .map_err(|e| format!("amount {text:?}: {e}"))
}

/// Logs to standard error: `RUST_LOG` if set, otherwise `info`.
pub fn init_logging() {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr);
    // No colour codes into a file or a pipe.
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        builder.init();
    } else {
        builder.with_ansi(false).init();
    }
}

/// Prints `listening on ADDR` as the first stdout line and serves until
/// SIGINT or SIGTERM; or says, prefixed with `name`, why it could not
/// start.
pub async fn serve(name: &str, started: Result<EmulatorHandle, StartError>) -> ExitCode {
    let emulator = match started {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("{name}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let signals = match StopSignals::install() {
        Ok(signals) => signals,
        Err(error) => {
            eprintln!("{name}: cannot catch SIGINT and SIGTERM: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    if writeln!(stdout, "listening on {}", emulator.addr())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        eprintln!("{name}: cannot write to stdout");
    }
    emulator.run_until_signal(signals).await;
    ExitCode::SUCCESS
}
