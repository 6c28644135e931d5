//! A command received (its bytes handed to the dispatcher) to the signed
//! request arriving at Bybit's and Binance's emulators, through the
//! external signer process, beside the sum of its bare parts: one signer
//! round trip of the same kind of request and one loopback HTTP POST of a
//! request the same size to the same emulator — the three taken in turn,
//! so that all meet the same machine. Printed as tables for
//! `docs/benchmarks.md`.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/measure.rs"]
mod measure;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::venue::{self, API_KEY, BinanceKey, VenueEnv};
use connector_host::commands::{Dispatcher, parse_request};
use connector_host::config::{ExchangeConfig, RateLimitConfig};
use connector_host::signer::SignerClient;
use hl_emulator::binance::BinanceFaults;
use measure::percentile;
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

/// Sorts the samples and prints one table row; returns the median.
fn report(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    let (p50, p99) = (percentile(&samples, 0.5), percentile(&samples, 0.99));
    println!(
        "| {name} | {:.1} µs | {:.1} µs |",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
    p50
}

/// The bare parts of one venue's order: what its plugin asks the signer
/// to sign, and the request it sends (`method`, URL, body).
struct Parts {
    scheme: &'static str,
    payload: fn(u64) -> String,
    url: String,
    body: String,
}

async fn command_to_venue(name: &str, env: &VenueEnv, parts: Parts) {
    println!("\n{name}\n\n| path | p50 | p99 |\n|---|---|---|");
    let dispatcher = Dispatcher::new([env.trading.clone()]);
    let mut arrivals = env.emulator.exchange_arrivals();
    let signer = SignerClient::new(&env.signer_socket, Duration::from_secs(2));
    let http = reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .expect("client");
    let (mut path, mut signing, mut posting) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..ROUNDS {
        let command = json!({"id": i, "cmd": "buy", "trading_pair": "BTC-USDT",
            "order_type": "LIMIT", "price": "97000", "amount": "0.002"})
        .to_string();
        let start = Instant::now();
        let request = parse_request(command.as_bytes()).expect("command");
        let (reply, pending) = dispatcher.handle_deferred(request);
        if let Some(order) = pending {
            order.launch();
        }
        assert!(reply.ok, "{:?}", reply.error);
        let arrived = arrivals.recv().await.expect("arrival");
        path.push(arrived.duration_since(start));
        tokio::time::sleep(GAP).await;

        let payload = (parts.payload)(now_ms());
        let start = Instant::now();
        signer
            .sign(parts.scheme, &payload)
            .await
            .expect("signature");
        signing.push(start.elapsed());
        tokio::time::sleep(GAP).await;

        let start = Instant::now();
        let answer = tokio::spawn(http.post(&parts.url).body(parts.body.clone()).send());
        let arrived = arrivals.recv().await.expect("arrival");
        posting.push(arrived.duration_since(start));
        answer.await.expect("task").expect("answer");
        tokio::time::sleep(GAP).await;
    }
    let path = report("command received → signed request at the emulator", path);
    let sign = report("part: one signer round trip", signing);
    let post = report("part: one loopback HTTP POST, send → arrival", posting);
    println!(
        "| **p50 ratio path / sum of parts** | **{:.2}** | |",
        path.as_secs_f64() / (sign + post).as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read.
    common::block_on(async {
        let env = venue::bybit(unthrottled(&["ip", "create", "amend", "cancel", "query"])).await;
        env.top().await;
        let parts = Parts {
            scheme: "bybit-rest",
            payload: |now| {
                json!({"api_key": API_KEY, "timestamp": now, "recv_window": 2000,
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
            BinanceFaults::default(),
            unthrottled(&["request_weight", "orders_10s", "orders_1m"]),
        )
        .await;
        env.top().await;
        let query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.002&price=97000&newClientOrderId=0123456789abcdef0123456789abcdef&newOrderRespType=RESULT&recvWindow=2000&timestamp=1800000000000";
        let parts = Parts {
            scheme: "binance-rest",
            payload: |now| {
                json!({"api_key": API_KEY, "method": "POST", "path": "/fapi/v1/order",
                    "query": [["symbol", "BTCUSDT"], ["side", "BUY"], ["type", "LIMIT"],
                        ["timeInForce", "GTC"], ["quantity", "0.002"], ["price", "97000"],
                        ["newClientOrderId", "0123456789abcdef0123456789abcdef"],
                        ["newOrderRespType", "RESULT"], ["recvWindow", "2000"],
                        ["timestamp", now.to_string()]],
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
