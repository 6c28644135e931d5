//! Binance USDⓈ-M through the host: the `binance-usdm` plugin against the
//! in-process Binance emulator, its requests signed by the real signer with
//! an Ed25519 or an HMAC key from a keyring, each checked by the emulator
//! (the scenarios are in `common::venue`, shared with Bybit).

mod common;

use common::venue::{self, API_KEY, SECRET, Secret, Venue, VenueEnv};
use connector_host::config::ExchangeConfig;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use hl_emulator::binance::{self, ApiKey, BinanceFaults, BinanceOptions, KeyKind};
use rust_decimal::Decimal;

/// The kinds of API key Binance takes.
enum Key {
    Hmac,
    Ed25519,
}

async fn start(key: Key, adjust: impl FnOnce(&mut ExchangeConfig)) -> VenueEnv {
    start_with(key, BinanceFaults::default(), adjust).await
}

async fn start_with(
    key: Key,
    faults: BinanceFaults,
    adjust: impl FnOnce(&mut ExchangeConfig),
) -> VenueEnv {
    let (kind, secret) = match key {
        Key::Hmac => (KeyKind::Hmac(SECRET.into()), Secret::hmac()),
        Key::Ed25519 => {
            let private = SigningKey::from_bytes(&[7; 32]);
            let pem = private.to_pkcs8_pem(LineEnding::LF).expect("PKCS#8 PEM");
            let secret = Secret {
                algorithm: "ed25519",
                file: pem.to_string(),
            };
            (KeyKind::Ed25519(private.verifying_key()), secret)
        }
    };
    let key = ApiKey {
        key: API_KEY.into(),
        kind,
    };
    let options = BinanceOptions {
        keys: vec![(key, Decimal::from(100_000))],
        faults,
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
        secret,
    };
    VenueEnv::start(emulator, venue, adjust).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_order_rests_is_amended_in_place_and_cancelled() {
    let env = start(Key::Ed25519, |_| {}).await;
    venue::a_limit_order_rests_is_amended_in_place_and_cancelled(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_market_order_fills_once_and_the_position_follows() {
    let env = start(Key::Hmac, |_| {}).await;
    venue::a_market_order_fills_once_and_the_position_follows(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_whose_answer_is_lost_is_found_by_a_signed_read() {
    let env = start(Key::Ed25519, |_| {}).await;
    venue::an_order_whose_answer_is_lost_is_found_by_a_signed_read(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kill_switch_cancels_on_the_venue_and_refuses_new_orders() {
    let env = start(Key::Hmac, |_| {}).await;
    venue::the_kill_switch_cancels_on_the_venue_and_refuses_new_orders(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_dead_mans_switch_has_the_venue_cancel() {
    let env = start(Key::Hmac, venue::lapsing_switch).await;
    venue::a_lapsed_dead_mans_switch_has_the_venue_cancel(env).await;
}

/// Binance refuses a timestamp 1 s or more ahead of its clock: against a
/// venue 3 s behind this machine, the plugin stamps with the venue's time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_venue_clock_behind_this_machines_is_followed() {
    let faults = BinanceFaults {
        clock_offset_ms: Some(-3_000),
        ..BinanceFaults::default()
    };
    let env = start_with(Key::Hmac, faults, |_| {}).await;
    venue::a_market_order_fills_once_and_the_position_follows(env).await;
}

/// … and older than the receive window: against a venue 20 s ahead (an
/// order's window is the host's deadline, 2 s here), likewise. (Further
/// off, the signer refuses: its policy takes no stamp a minute off its own
/// clock.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_venue_clock_ahead_of_this_machines_is_followed() {
    let faults = BinanceFaults {
        clock_offset_ms: Some(20_000),
        ..BinanceFaults::default()
    };
    let env = start_with(Key::Ed25519, faults, |_| {}).await;
    venue::a_limit_order_rests_is_amended_in_place_and_cancelled(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risk_limits_refuse_before_the_venue_sees_the_order() {
    let env = start(Key::Hmac, venue::tight_limits).await;
    venue::risk_limits_refuse_before_the_venue_sees_the_order(env).await;
}
