//! Throughput of signed orders on the Bybit and Binance front ends over
//! keep-alive HTTP on loopback.
//!
//! For each venue: pre-signs `VENUE_BENCH_ORDERS` (default 20 000) resting
//! limit bids over `VENUE_BENCH_CONNECTIONS` (default 8) keys (one per
//! connection; recv window 60 s so pre-signed requests stay fresh), posts
//! them to an in-process emulator with its synthetic market running and
//! reports accepted orders per second. Every answer must be an acceptance.
//!
//! Run: `cargo bench -p hl-emulator --bench venues`

use std::time::Instant;

use hl_emulator::{binance, bybit, signing::hmac_sha256_hex};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rust_decimal::Decimal;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One pre-built request: method, path and query, headers, body.
type Prepared = (hyper::Method, String, Vec<(&'static str, String)>, Bytes);

fn bybit_requests(key: &str, secret: &str, count: usize) -> Vec<Prepared> {
    let now = hl_emulator::clock::now_ms();
    (0..count)
        .map(|i| {
            let price = 60_000 + (i % 2_000);
            let body = format!(
                r#"{{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"{price}","timeInForce":"GTC"}}"#
            );
            let sign = hmac_sha256_hex(secret, format!("{now}{key}60000{body}").as_bytes());
            let headers = vec![
                ("content-type", "application/json".to_owned()),
                ("X-BAPI-API-KEY", key.to_owned()),
                ("X-BAPI-TIMESTAMP", now.to_string()),
                ("X-BAPI-RECV-WINDOW", "60000".to_owned()),
                ("X-BAPI-SIGN", sign),
            ];
            (hyper::Method::POST, "/v5/order/create".to_owned(), headers, Bytes::from(body))
        })
        .collect()
}

fn binance_requests(key: &str, secret: &str, count: usize) -> Vec<Prepared> {
    let now = hl_emulator::clock::now_ms();
    (0..count)
        .map(|i| {
            let price = 60_000 + (i % 2_000);
            let query = format!(
                "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.002&price={price}&recvWindow=60000&timestamp={now}"
            );
            let signature = hmac_sha256_hex(secret, query.as_bytes());
            let path = format!("/fapi/v1/order?{query}&signature={signature}");
            (hyper::Method::POST, path, vec![("X-MBX-APIKEY", key.to_owned())], Bytes::new())
        })
        .collect()
}

async fn run(
    name: &str,
    base: String,
    batches: Vec<Vec<Prepared>>,
    accepted_marker: &'static [u8],
) {
    let connections = batches.len();
    let orders: usize = batches.iter().map(Vec::len).sum();
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(connections)
        .build_http::<Full<Bytes>>();
    let started = Instant::now();
    let workers: Vec<_> = batches
        .into_iter()
        .map(|requests| {
            let (client, base) = (client.clone(), base.clone());
            tokio::spawn(async move {
                let mut accepted = 0usize;
                for (method, path, headers, body) in requests {
                    let mut request = hyper::Request::builder()
                        .method(method)
                        .uri(format!("{base}{path}"));
                    for (name, value) in headers {
                        request = request.header(name, value);
                    }
                    let request = request.body(Full::new(body)).expect("request");
                    let response = client.request(request).await.expect("response");
                    let bytes = response
                        .into_body()
                        .collect()
                        .await
                        .expect("body")
                        .to_bytes();
                    if bytes
                        .windows(accepted_marker.len())
                        .any(|w| w == accepted_marker)
                    {
                        accepted += 1;
                    } else {
                        eprintln!("unexpected answer: {}", String::from_utf8_lossy(&bytes));
                    }
                }
                accepted
            })
        })
        .collect();
    let mut accepted = 0;
    for worker in workers {
        accepted += worker.await.expect("worker");
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{name}: {accepted}/{orders} signed orders accepted in {elapsed:.2} s over {connections} keep-alive connections = {:.0} orders/s",
        accepted as f64 / elapsed
    );
    assert_eq!(accepted, orders, "every order must be accepted");
}

fn main() {
    let orders = setting("VENUE_BENCH_ORDERS", 20_000);
    let connections = setting("VENUE_BENCH_CONNECTIONS", 8).max(1);
    let per_connection = orders.div_ceil(connections);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let keys: Vec<(String, String)> = (0..connections)
            .map(|i| (format!("bench-key-{i}"), format!("bench-secret-{i}")))
            .collect();
        let funded = |k: &(String, String)| Decimal::from(1_000_000_000) + Decimal::from(k.0.len());

        let options = bybit::BybitOptions {
            keys: keys
                .iter()
                .map(|k| {
                    (
                        bybit::ApiKey {
                            key: k.0.clone(),
                            secret: k.1.clone(),
                        },
                        funded(k),
                    )
                })
                .collect(),
            ..bybit::BybitOptions::default()
        };
        let emulator = bybit::start(bybit::default_config(), options)
            .await
            .expect("bybit");
        let batches = keys
            .iter()
            .map(|k| bybit_requests(&k.0, &k.1, per_connection))
            .collect();
        run(
            "bybit-emulator",
            emulator.base_url(),
            batches,
            b"\"retCode\":0",
        )
        .await;
        emulator.shutdown().await;

        let options = binance::BinanceOptions {
            keys: keys
                .iter()
                .map(|k| {
                    let kind = binance::KeyKind::Hmac(k.1.clone());
                    (
                        binance::ApiKey {
                            key: k.0.clone(),
                            kind,
                        },
                        funded(k),
                    )
                })
                .collect(),
            ..binance::BinanceOptions::default()
        };
        let emulator = binance::start(binance::default_config(), options)
            .await
            .expect("binance");
        let batches = keys
            .iter()
            .map(|k| binance_requests(&k.0, &k.1, per_connection))
            .collect();
        run(
            "binance-emulator",
            emulator.base_url(),
            batches,
            b"\"status\":\"NEW\"",
        )
        .await;
        emulator.shutdown().await;
    });
}
