//! `bybit-emulator`: the local Bybit v5 (linear) exchange emulator.
//!
//! Prints `listening on ADDR` as its first stdout line, then serves until
//! SIGINT or SIGTERM.

use std::process::ExitCode;

use clap::Parser;
use hl_emulator::bybit::{self, ApiKey, BybitFaults, BybitOptions};
use hl_emulator::cli::{self, CommonArgs};
use rust_decimal::Decimal;

/// Local Bybit v5 linear emulator: REST /v5/… and WebSocket /v5/public/linear,
/// /v5/private, /v5/trade on one loopback port.
#[derive(Debug, Parser)]
#[command(name = "bybit-emulator", version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// Fund an HMAC API key at start-up: API_KEY:API_SECRET:USDT (repeatable).
    #[arg(long, value_parser = parse_fund)]
    fund: Vec<(ApiKey, Decimal)>,
    /// Requests per second per key and endpoint before retCode 10006.
    #[arg(long, default_value_t = BybitOptions::default().rate_limit_per_sec)]
    rate_limit: u32,
    #[command(flatten)]
    bybit_faults: BybitFaults,
}

fn parse_fund(text: &str) -> Result<(ApiKey, Decimal), String> {
    let (key, secret, amount) = cli::parse_api_fund(text)?;
    Ok((ApiKey { key, secret }, amount))
}

#[tokio::main]
async fn main() -> ExitCode {
    cli::init_logging();
    let args = Args::parse();
    let config = match args.common.config(bybit::default_config) {
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
    cli::serve("bybit-emulator", bybit::start(config, options).await).await
}
