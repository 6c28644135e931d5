//! `bybit-emulator`: the local Bybit v5 (linear) exchange emulator.
//!
//! Prints `listening on ADDR` as its first stdout line, then serves until
//! SIGINT or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use hl_emulator::bybit::{self, ApiKey, BybitFaults, BybitOptions};
use hl_emulator::{Config, FaultSettings, StopSignals};
use rust_decimal::Decimal;

/// Local Bybit v5 linear emulator: REST /v5/… and WebSocket /v5/public/linear,
/// /v5/private, /v5/trade on one loopback port.
#[derive(Debug, Parser)]
#[command(name = "bybit-emulator", version)]
struct Args {
    /// Address to listen on (loopback only); port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// TOML configuration file (markets, liquidity, fees, faults), as hl-emulator's;
    /// perps without `tick_size` follow Hyperliquid's price rule.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Seed of every random decision (overrides the file).
    #[arg(long)]
    seed: Option<u64>,
    /// Block length in milliseconds (overrides the file).
    #[arg(long)]
    block_ms: Option<u64>,
    /// Fund an HMAC API key at start-up: API_KEY:API_SECRET:USDT (repeatable).
    #[arg(long, value_parser = parse_fund)]
    fund: Vec<(ApiKey, Decimal)>,
    /// Requests per second per key and endpoint before retCode 10006.
    #[arg(long, default_value_t = BybitOptions::default().rate_limit_per_sec)]
    rate_limit: u32,
    #[command(flatten)]
    faults: FaultSettings,
    #[command(flatten)]
    bybit_faults: BybitFaults,
}

fn parse_fund(text: &str) -> Result<(ApiKey, Decimal), String> {
    let mut parts = text.splitn(3, ':');
    let (Some(key), Some(secret), Some(amount)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("{text:?} is not API_KEY:API_SECRET:USDT"));
    };
    if key.is_empty() || secret.is_empty() {
        return Err(format!("{text:?} has an empty key or secret"));
    }
    let amount = amount
        .parse::<Decimal>()
        .map_err(|e| format!("amount {amount:?}: {e}"))?;
    Ok((
        ApiKey {
            key: key.to_owned(),
            secret: secret.to_owned(),
        },
        amount,
    ))
}

fn config_from(args: &Args) -> Result<Config, String> {
    let mut config = match &args.config {
        Some(path) => Config::from_file(path).map_err(|e| e.to_string())?,
        None => bybit::default_config(),
    };
    config.listen = args.listen;
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    if let Some(block_ms) = args.block_ms {
        config.block_ms = block_ms;
    }
    config.faults.merge(&args.faults);
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = match config_from(&args) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("bybit-emulator: {error}");
            return ExitCode::from(2);
        }
    };
    if let Err(error) = args.bybit_faults.validate() {
        eprintln!("bybit-emulator: {error}");
        return ExitCode::from(2);
    }
    let options = BybitOptions {
        keys: args.fund,
        rate_limit_per_sec: args.rate_limit,
        faults: args.bybit_faults,
    };
    let emulator = match bybit::start(config, options).await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("bybit-emulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    let signals = match StopSignals::install() {
        Ok(signals) => signals,
        Err(error) => {
            eprintln!("bybit-emulator: cannot catch SIGINT and SIGTERM: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    if writeln!(stdout, "listening on {}", emulator.addr())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        eprintln!("bybit-emulator: cannot write to stdout");
    }
    emulator.run_until_signal(signals).await;
    ExitCode::SUCCESS
}
