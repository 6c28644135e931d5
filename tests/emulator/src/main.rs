//! `hl-emulator`: the local Hyperliquid exchange emulator.
//!
//! Prints `listening on ADDR` as its first stdout line, then serves until
//! SIGINT or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use hl_emulator::{Config, Emulator, FaultSettings, StopSignals};
use hyperliquid_core::{Address, Network};
use rust_decimal::Decimal;

/// Local Hyperliquid exchange emulator: /info, /exchange and /ws on one loopback port.
#[derive(Debug, Parser)]
#[command(name = "hl-emulator", version)]
struct Args {
    /// Address to listen on (loopback only); port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// TOML configuration file (markets, liquidity, fees, accounts, faults).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Seed of every random decision (overrides the file).
    #[arg(long)]
    seed: Option<u64>,
    /// Chain signatures must be made for: mainnet (source "a") or testnet (source "b").
    #[arg(long, value_parser = parse_network)]
    network: Option<Network>,
    /// Block length in milliseconds (overrides the file).
    #[arg(long)]
    block_ms: Option<u64>,
    /// Fund an account with perp USDC at start-up: 0xADDRESS:AMOUNT (repeatable).
    #[arg(long, value_parser = parse_fund)]
    fund: Vec<(Address, Decimal)>,
    #[command(flatten)]
    faults: FaultSettings,
}

fn parse_network(text: &str) -> Result<Network, String> {
    match text.to_ascii_lowercase().as_str() {
        "mainnet" => Ok(Network::Mainnet),
        "testnet" => Ok(Network::Testnet),
        _ => Err(format!("{text:?} is not mainnet or testnet")),
    }
}

fn parse_fund(text: &str) -> Result<(Address, Decimal), String> {
    let (address, amount) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("{text:?} is not 0xADDRESS:USDC_AMOUNT"))?;
    let address = address.parse::<Address>().map_err(|e| e.to_string())?;
    let amount = amount
        .parse::<Decimal>()
        .map_err(|e| format!("amount {amount:?}: {e}"))?;
    Ok((address, amount))
}

fn config_from(args: Args) -> Result<Config, String> {
    let mut config = match &args.config {
        Some(path) => Config::from_file(path).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    config.listen = args.listen;
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    if let Some(network) = args.network {
        config.network = network;
    }
    if let Some(block_ms) = args.block_ms {
        config.block_ms = block_ms;
    }
    for (address, amount) in args.fund {
        config.fund(address, amount);
    }
    // Flags override the file's fault settings field by field.
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
    let config = match config_from(Args::parse()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("hl-emulator: {error}");
            return ExitCode::from(2);
        }
    };
    let emulator = match Emulator::start(config).await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("hl-emulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    let signals = match StopSignals::install() {
        Ok(signals) => signals,
        Err(error) => {
            eprintln!("hl-emulator: cannot catch SIGINT and SIGTERM: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    if writeln!(stdout, "listening on {}", emulator.addr())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        eprintln!("hl-emulator: cannot write to stdout");
    }
    emulator.run_until_signal(signals).await;
    ExitCode::SUCCESS
}
