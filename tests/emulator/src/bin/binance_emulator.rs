//! `binance-emulator`: the local Binance USDⓈ-M futures exchange emulator.
//!
//! Prints `listening on ADDR` as its first stdout line, then serves until
//! SIGINT or SIGTERM.

use std::process::ExitCode;

use clap::Parser;
use hl_emulator::binance::{self, ApiKey, BinanceFaults, BinanceOptions, KeyKind};
use hl_emulator::cli::{self, CommonArgs};
use rust_decimal::Decimal;

/// Local Binance USDⓈ-M emulator: REST /fapi/…, market and user data
/// streams and the WebSocket API /ws-fapi/v1 on one loopback port.
#[derive(Debug, Parser)]
#[command(name = "binance-emulator", version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// Fund an HMAC API key at start-up: API_KEY:API_SECRET:USDT (repeatable).
    #[arg(long, value_parser = parse_fund)]
    fund: Vec<(ApiKey, Decimal)>,
    /// Fund an Ed25519 API key: API_KEY:PUBLIC_KEY_PEM_FILE:USDT (repeatable).
    #[arg(long, value_parser = parse_fund_ed25519)]
    fund_ed25519: Vec<(ApiKey, Decimal)>,
    #[command(flatten)]
    binance_faults: BinanceFaults,
}

fn parse_fund(text: &str) -> Result<(ApiKey, Decimal), String> {
    let (key, secret, amount) = cli::parse_api_fund(text)?;
    Ok((
        ApiKey {
            key,
            kind: KeyKind::Hmac(secret),
        },
        amount,
    ))
}

fn parse_fund_ed25519(text: &str) -> Result<(ApiKey, Decimal), String> {
    let (key, rest) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not API_KEY:PUBLIC_KEY_PEM_FILE:USDT"))?;
    let (path, amount) = rest
        .rsplit_once(':')
        .ok_or_else(|| format!("{text:?} is not API_KEY:PUBLIC_KEY_PEM_FILE:USDT"))?;
    let pem = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let public = binance_core::ed25519::public_key_from_pem(&pem)?;
    Ok((
        ApiKey {
            key: key.to_owned(),
            kind: KeyKind::Ed25519(public),
        },
        cli::parse_amount(amount)?,
    ))
}

#[tokio::main]
async fn main() -> ExitCode {
    cli::init_logging();
    let args = Args::parse();
    let config = match args.common.config(binance::default_config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("binance-emulator: {error}");
            return ExitCode::from(2);
        }
    };
    if let Err(error) = args.binance_faults.validate() {
        eprintln!("binance-emulator: {error}");
        return ExitCode::from(2);
    }
    let options = BinanceOptions {
        keys: args.fund.into_iter().chain(args.fund_ed25519).collect(),
        faults: args.binance_faults,
    };
    cli::serve("binance-emulator", binance::start(config, options).await).await
}
