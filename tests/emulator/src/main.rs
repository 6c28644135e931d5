//! `hl-emulator`: the local Hyperliquid exchange emulator.
//!
//! Prints `listening on ADDR` as its first stdout line, then serves until
//! SIGINT or SIGTERM.

use std::process::ExitCode;

use clap::Parser;
use hl_emulator::cli::{self, CommonArgs};
use hl_emulator::{Config, Emulator};
use hyperliquid_core::{Address, Network};
use rust_decimal::Decimal;

/// Local Hyperliquid exchange emulator: /info, /exchange and /ws on one loopback port.
#[derive(Debug, Parser)]
#[command(name = "hl-emulator", version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// Chain signatures must be made for: mainnet (source "a") or testnet (source "b").
    #[arg(long, value_parser = parse_network)]
    network: Option<Network>,
    /// Fund an account with perp USDC at start-up: 0xADDRESS:AMOUNT (repeatable).
    #[arg(long, value_parser = parse_fund)]
    fund: Vec<(Address, Decimal)>,
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
    Ok((address, cli::parse_amount(amount)?))
}

fn config_from(args: Args) -> Result<Config, String> {
    let mut config = args.common.config(Config::default)?;
    if let Some(network) = args.network {
        config.network = network;
    }
    for (address, amount) in args.fund {
        config.fund(address, amount);
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    cli::init_logging();
    let config = match config_from(Args::parse()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("hl-emulator: {error}");
            return ExitCode::from(2);
        }
    };
    cli::serve("hl-emulator", Emulator::start(config).await).await
}
