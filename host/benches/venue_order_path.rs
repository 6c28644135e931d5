//! A command received to the signed request arriving at Bybit's and
//! Binance's emulators, beside the sum of its bare parts (see
//! `support/command_path.rs`). Printed as tables for `docs/benchmarks.md`.

#[path = "support/command_path.rs"]
mod command_path;
#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/measure.rs"]
mod measure;

use std::collections::BTreeMap;
use std::time::Duration;

use command_path::Parts;
use common::venue::{self, API_KEY, BinanceKey, VenueEnv};
use connector_host::config::{ExchangeConfig, RateLimitConfig};
use hl_emulator::FaultSettings;
use serde_json::json;

/// Orders per venue. Paced (see [`GAP`]) well under Binance's 300 orders
/// per 10 s, which its emulator enforces.
const ROUNDS: usize = 200;
/// Pause after each measured step.
const GAP: Duration = Duration::from_millis(15);

/// The client-side buckets lifted: they would only slow the measurement.
fn unthrottled(buckets: &'static [&'static str]) -> impl FnOnce(&mut ExchangeConfig) {
    move |config| {
        let plenty = RateLimitConfig {
            capacity: 1_000_000,
            window_ms: 1_000,
        };
        config.rate_limits = buckets
            .iter()
            .map(|bucket| ((*bucket).to_owned(), plenty))
            .collect::<BTreeMap<_, _>>();
    }
}

/// The body of a Bybit limit order as the plugin writes it.
const BYBIT_BODY: &str = r#"{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.002","price":"97000","timeInForce":"GTC","orderLinkId":"0x0123456789abcdef0123456789abcdef"}"#;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// A resting buy below the market, as a command.
fn buy_command(id: usize) -> String {
    json!({"id": id, "cmd": "buy", "trading_pair": "BTC-USDT", "order_type": "LIMIT",
        "price": "97000", "amount": "0.002"})
    .to_string()
}

/// The measurement on one venue, under `name`.
async fn command_to_venue<P: Fn(usize) -> String>(name: &str, env: &VenueEnv, parts: Parts<P>) {
    println!("\n{name}");
    command_path::command_to_exchange(
        &env.trading,
        env.emulator.exchange_arrivals(),
        &env.signer_socket,
        buy_command,
        parts,
        ROUNDS,
        GAP,
    )
    .await;
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read.
    common::block_on(async {
        let env = venue::bybit(unthrottled(&["ip", "create", "amend", "cancel", "query"])).await;
        env.top().await;
        let parts = Parts {
            scheme: "bybit-rest",
            payload: |_| {
                json!({"api_key": API_KEY, "timestamp": now_ms(), "recv_window": 2000,
                    "method": "POST", "path": "/v5/order/create",
                    "body": BYBIT_BODY})
                .to_string()
            },
            url: format!("{}/v5/order/create", env.emulator.base_url()),
            body: BYBIT_BODY.to_owned(),
        };
        command_to_venue("Bybit (HMAC-SHA256)", &env, parts).await;
        env.stop().await;

        let env = venue::binance(
            BinanceKey::Hmac,
            &FaultSettings::default(),
            unthrottled(&["request_weight", "orders_10s", "orders_1m"]),
        )
        .await;
        env.top().await;
        let query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.002&price=97000&newClientOrderId=0123456789abcdef0123456789abcdef&newOrderRespType=RESULT&recvWindow=2000&timestamp=1800000000000";
        let parts = Parts {
            scheme: "binance-rest",
            payload: |_| {
                json!({"api_key": API_KEY, "method": "POST", "path": "/fapi/v1/order",
                    "query": [["symbol", "BTCUSDT"], ["side", "BUY"], ["type", "LIMIT"],
                        ["timeInForce", "GTC"], ["quantity", "0.002"], ["price", "97000"],
                        ["newClientOrderId", "0123456789abcdef0123456789abcdef"],
                        ["newOrderRespType", "RESULT"], ["recvWindow", "2000"],
                        ["timestamp", now_ms().to_string()]],
                    "body": []})
                .to_string()
            },
            url: format!(
                "{}/fapi/v1/order?{query}&signature={}",
                env.emulator.base_url(),
                "ab".repeat(32)
            ),
            body: String::new(),
        };
        command_to_venue("Binance USDⓈ-M (HMAC-SHA256)", &env, parts).await;
        env.stop().await;
    });
}
