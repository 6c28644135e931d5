//! Throughput of signed orders over keep-alive HTTP on loopback.
//!
//! Pre-signs `HL_BENCH_ORDERS` (default 20 000) single-order `order` actions
//! (Gtc bids that rest), then posts them over `HL_BENCH_CONNECTIONS` (default 8)
//! keep-alive connections to an in-process emulator with its default synthetic
//! market running, and reports accepted orders per second. Every answer must be
//! `resting`. Each connection signs with its own key, in nonce order, as a
//! trading system would (one signer's nonces must not fall behind the 100
//! highest it used).
//!
//! Run: `cargo bench -p hl-emulator --bench throughput`

use std::time::Instant;

use hl_emulator::{Config, Emulator};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use hyperliquid_core::{
    Action, ExchangeRequest, Grouping, LimitWire, Network, OrderAction, OrderType, OrderWire,
    PrivateKey, SigningContext, Tif, keccak256, l1_hashes, sign_digest,
};
use rust_decimal::Decimal;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn presign(key: &PrivateKey, count: usize) -> Vec<Bytes> {
    let start = hl_emulator::clock::now_ms();
    (0..count)
        .map(|i| {
            let price = 60_000 + (i % 2_000) as u64;
            let action = Action::Order(OrderAction {
                orders: vec![OrderWire {
                    asset: 0,
                    is_buy: true,
                    price: price.to_string().parse().expect("price"),
                    size: "0.001".parse().expect("size"),
                    reduce_only: false,
                    order_type: OrderType::Limit(LimitWire { tif: Tif::Gtc }),
                    cloid: None,
                }],
                grouping: Grouping::Na,
                builder: None,
            });
            let context = SigningContext::new(Network::Mainnet, start + i as u64);
            let digest = l1_hashes(&action, &context).expect("hash").digest;
            let body = ExchangeRequest::new(action, &context, sign_digest(key, &digest));
            Bytes::from(body.to_json().expect("json"))
        })
        .collect()
}

fn main() {
    let orders = setting("HL_BENCH_ORDERS", 20_000);
    let connections = setting("HL_BENCH_CONNECTIONS", 8).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let keys: Vec<PrivateKey> = (0..connections)
            .map(|i| PrivateKey::from_hex(&keccak256(format!("throughput-bench-{i}").as_bytes()).to_string()).expect("key"))
            .collect();
        let mut config = Config::default();
        for key in &keys {
            config.fund(key.address(), Decimal::from(100_000_000));
        }
        let emulator = Emulator::start(config).await.expect("emulator");
        let signing = Instant::now();
        let per_connection = orders.div_ceil(connections);
        let batches: Vec<Vec<Bytes>> = keys.iter().map(|key| presign(key, per_connection)).collect();
        let orders = per_connection * connections;
        println!("pre-signed {orders} orders in {:.2} s", signing.elapsed().as_secs_f64());

        let url: hyper::Uri = format!("{}/exchange", emulator.base_url()).parse().expect("uri");
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(connections)
            .build_http::<Full<Bytes>>();
        let started = Instant::now();
        let workers: Vec<_> = batches
            .into_iter()
            .map(|bodies| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move {
                    let mut accepted = 0usize;
                    for body in bodies {
                        let request = hyper::Request::post(url.clone())
                            .header("content-type", "application/json")
                            .body(Full::new(body))
                            .expect("request");
                        let response = client.request(request).await.expect("response");
                        let bytes = response.into_body().collect().await.expect("body").to_bytes();
                        if bytes.windows(9).any(|w| w == b"\"resting\"") {
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
            "throughput: {accepted}/{orders} signed orders accepted in {elapsed:.2} s over {connections} keep-alive connections = {:.0} orders/s",
            accepted as f64 / elapsed
        );
        assert_eq!(accepted, orders, "every order must rest");
        emulator.shutdown().await;
    });
}
