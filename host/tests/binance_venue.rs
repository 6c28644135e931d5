//! Binance USDⓈ-M through the host: the `binance-usdm` plugin against the
//! in-process Binance emulator, its requests signed by the real signer
//! with an HMAC key from a keyring (the scenarios are in `common::venue`,
//! shared with Bybit).

mod common;

use common::venue::{self, API_KEY, SECRET, Venue, VenueEnv};
use hl_emulator::binance::{self, ApiKey, BinanceOptions, KeyKind};
use rust_decimal::Decimal;

async fn start() -> VenueEnv {
    let key = ApiKey {
        key: API_KEY.into(),
        kind: KeyKind::Hmac(SECRET.into()),
    };
    let options = BinanceOptions {
        keys: vec![(key, Decimal::from(100_000))],
        ..BinanceOptions::default()
    };
    let emulator = binance::start(binance::default_config(), options)
        .await
        .expect("binance emulator");
    let settings = toml::Table::from_iter([
        ("api_url".to_owned(), emulator.base_url().into()),
        (
            "ws_url".to_owned(),
            format!("ws://{}", emulator.addr()).into(),
        ),
    ]);
    let venue = Venue {
        package: "binance-plugin",
        plugin: "binance-usdm",
        keyring_venue: "binance-usdm",
        settings,
        market: "BTC-USDT",
        book: "BTCUSDT",
    };
    VenueEnv::start(emulator, venue).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_order_rests_is_amended_in_place_and_cancelled() {
    venue::a_limit_order_rests_is_amended_in_place_and_cancelled(start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_market_order_fills_once_and_the_position_follows() {
    venue::a_market_order_fills_once_and_the_position_follows(start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_whose_answer_is_lost_is_found_by_a_signed_read() {
    venue::an_order_whose_answer_is_lost_is_found_by_a_signed_read(start().await).await;
}
