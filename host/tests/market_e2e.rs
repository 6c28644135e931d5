//! Market data end to end against the emulator: the host's books equal the
//! exchange's at quiescence, and stay or become correct through a dropped
//! socket, a silent socket, and duplicated or reordered frames — with the
//! status events that say so.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use connector_host::app::{ExchangeRuntime, HostServices};
use connector_host::auth::{Curve, KeyPair, Role};
use connector_host::config::{CurveClientConfig, CurveConfig, ExchangeConfig, MarketDataSource};
use connector_host::order::ClientIdGenerator;
use connector_host::plugins::PluginSet;
use connector_host::publisher::{DEFAULT_SPIN, Publisher};
use connector_host::signer::SignerClient;
use hl_emulator::{Config as EmulatorConfig, Emulator, EmulatorHandle, FaultSettings};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::watch;

use common::{cdylib, copy_as};

/// Deep books that do not move: no price process, no synthetic takers,
/// fixed level sizes.
fn static_books() -> EmulatorConfig {
    let mut config = EmulatorConfig::default();
    config.liquidity.taker_rate_per_sec = 0.0;
    config.liquidity.volatility_bps_per_sec = 0.0;
    config.liquidity.max_level_notional = config.liquidity.min_level_notional;
    config.block_ms = 50;
    config
}

/// Services for a host that only watches markets (no signer behind the
/// socket: nothing is signed in these tests).
fn services(publisher: &Publisher, dir: &std::path::Path) -> HostServices {
    services_with(publisher, dir, None)
}

/// [`services`] of a host with CURVE keys.
fn services_with(
    publisher: &Publisher,
    dir: &std::path::Path,
    curve: Option<Curve>,
) -> HostServices {
    HostServices {
        publisher: publisher.clone(),
        ids: Arc::new(ClientIdGenerator::new("market-test")),
        signer: SignerClient::new(&dir.join("no-signer.sock"), Duration::from_secs(1)),
        state_dir: dir.join("state"),
        journal: Default::default(),
        curve,
    }
}

fn exchange(emulator: &EmulatorHandle) -> ExchangeConfig {
    ExchangeConfig {
        stream_timeout_ms: Some(1_000),
        ..common::local_exchange(
            emulator.base_url(),
            "0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE".into(),
        )
    }
}

/// Collects `host.status.*` bodies on a thread.
struct StatusLog {
    events: Arc<Mutex<Vec<Value>>>,
    stop: Arc<AtomicBool>,
}

impl StatusLog {
    fn start(endpoint: &str) -> StatusLog {
        let events = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let socket = zmq::Context::new().socket(zmq::SUB).unwrap();
        socket.connect(endpoint).unwrap();
        socket.set_subscribe(b"host.status.").unwrap();
        socket.set_rcvtimeo(50).unwrap();
        let (sink, stopped) = (Arc::clone(&events), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                if let Ok(parts) = socket.recv_multipart(0) {
                    let mut body: Value = serde_json::from_slice(&parts[1]).unwrap();
                    body["topic"] = json!(String::from_utf8_lossy(&parts[0]));
                    sink.lock().unwrap().push(body);
                }
            }
        });
        StatusLog { events, stop }
    }

    fn count(&self, topic: &str, key: &str, value: &str) -> usize {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["topic"] == topic && e["data"][key] == value)
            .count()
    }

    fn reasons(&self, state: &str) -> Vec<String> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["topic"] == "host.status.connection" && e["data"]["state"] == state)
            .map(|e| e["data"]["reason"].as_str().unwrap_or("").to_owned())
            .collect()
    }
}

impl Drop for StatusLog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

async fn exchange_levels(emulator: &EmulatorHandle, coin: &str) -> Vec<Vec<(Decimal, Decimal)>> {
    let body: Value = reqwest::Client::new()
        .post(format!("{}/info", emulator.base_url()))
        .json(&json!({"type": "l2Book", "coin": coin}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|side| {
            side.as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    (
                        l["px"].as_str().unwrap().parse().unwrap(),
                        l["sz"].as_str().unwrap().parse().unwrap(),
                    )
                })
                .collect()
        })
        .collect()
}

async fn books_equal(runtime: &ExchangeRuntime, emulator: &EmulatorHandle) -> bool {
    for coin in ["BTC", "ETH"] {
        let Some(book) = runtime.market_data.book(coin) else {
            return false;
        };
        if book.status() != &connector_host::book::BookStatus::Synced {
            return false;
        }
        let (bids, asks) = book.depth(20);
        let ours: Vec<Vec<(Decimal, Decimal)>> = [bids, asks]
            .iter()
            .map(|side| side.iter().map(|l| (l.price, l.size)).collect())
            .collect();
        let theirs = exchange_levels(emulator, coin).await;
        if ours != theirs || ours[0].len() < 20 {
            return false;
        }
    }
    true
}

async fn eventually(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < timeout, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn books_stay_right_through_drops_silence_duplicates_and_reordering() {
    let emulator = Emulator::start(static_books()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    copy_as(&cdylib("hyperliquid-plugin"), dir.path(), "hyperliquid.so");
    let plugins = PluginSet::load_dir(dir.path(), Default::default()).unwrap();
    let endpoint = format!("ipc://{}/events.sock", dir.path().display());
    let (publisher, thread) = Publisher::start(&endpoint, 65_536).unwrap();
    let log = StatusLog::start(&endpoint);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let runtime = ExchangeRuntime::start(
        &exchange(&emulator),
        &plugins,
        &services(&publisher, dir.path()),
        shutdown_rx,
    )
    .await
    .unwrap()
    .unwrap();

    eventually(
        "books equal the exchange's",
        Duration::from_secs(10),
        async || books_equal(&runtime, &emulator).await,
    )
    .await;
    assert_eq!(log.count("host.status.book", "state", "synced"), 2);

    // A dropped socket: down, books stale, back up, books synced and equal.
    emulator
        .set_faults(&FaultSettings {
            ws_drop_now: true,
            ..FaultSettings::default()
        })
        .unwrap();
    eventually("stale after the drop", Duration::from_secs(5), async || {
        log.count("host.status.book", "state", "stale") >= 2
    })
    .await;
    eventually("synced again", Duration::from_secs(10), async || {
        log.count("host.status.book", "state", "synced") >= 4
            && books_equal(&runtime, &emulator).await
    })
    .await;

    // A silent socket (open, sending nothing, not even pongs): replaced
    // after the 1 s timeout, not just reported.
    emulator
        .set_faults(&FaultSettings {
            ws_silence_secs: Some(3),
            ..FaultSettings::default()
        })
        .unwrap();
    eventually("silence detected", Duration::from_secs(5), async || {
        log.reasons("down").iter().any(|r| r.contains("silent"))
    })
    .await;
    eventually(
        "synced after the silence",
        Duration::from_secs(15),
        async || {
            log.count("host.status.book", "state", "synced") >= 6
                && books_equal(&runtime, &emulator).await
        },
    )
    .await;

    // Duplicated and reordered frames: outdated snapshots are ignored.
    emulator
        .set_faults(&FaultSettings {
            ws_duplicate_probability: Some(0.5),
            ws_reorder_probability: Some(0.5),
            ..FaultSettings::default()
        })
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    emulator
        .set_faults(&FaultSettings {
            reset: true,
            ..FaultSettings::default()
        })
        .unwrap();
    eventually(
        "books equal after duplicates and reordering",
        Duration::from_secs(10),
        async || books_equal(&runtime, &emulator).await,
    )
    .await;

    let _ = shutdown.send(true);
    runtime.join().await;
    drop(publisher);
    thread.join();
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_host_takes_its_books_from_the_first() {
    relay_books(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_host_takes_its_books_from_a_first_that_takes_curve_clients_only() {
    relay_books(true).await;
}

/// The CURVE keys of two hosts: the first's, which lists the second's as a
/// reader, the second's, and the first's public key file.
fn relay_curve(dir: &std::path::Path) -> (Curve, Curve, std::path::PathBuf) {
    let keys = dir.join("keys");
    std::fs::create_dir(&keys).unwrap();
    for name in ["first", "second"] {
        KeyPair::generate()
            .unwrap()
            .write(&keys.join(name))
            .unwrap();
    }
    let first = Curve::load(&CurveConfig {
        secret_key_file: keys.join("first.key"),
        clients: vec![CurveClientConfig {
            name: "second".into(),
            public_key_file: keys.join("second.pub"),
            role: Role::Read,
        }],
    })
    .unwrap();
    let second = Curve::load(&CurveConfig {
        secret_key_file: keys.join("second.key"),
        clients: Vec::new(),
    })
    .unwrap();
    (first, second, keys.join("first.pub"))
}

async fn relay_books(curve: bool) {
    let emulator = Emulator::start(static_books()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    copy_as(&cdylib("hyperliquid-plugin"), dir.path(), "hyperliquid.so");
    let plugins = PluginSet::load_dir(dir.path(), Default::default()).unwrap();
    let (first_curve, second_curve, server_key_file) = if curve {
        let (first, second, file) = relay_curve(dir.path());
        (Some(first), Some(second), Some(file))
    } else {
        (None, None, None)
    };
    let first_endpoint = format!("ipc://{}/first.sock", dir.path().display());
    let second_endpoint = format!("ipc://{}/second.sock", dir.path().display());
    let (first_publisher, first_thread) = Publisher::start_keeping(
        &first_endpoint,
        65_536,
        DEFAULT_SPIN,
        None,
        first_curve.as_ref(),
        connector_host::publisher::DEFAULT_MAX_CONNECTIONS,
    )
    .unwrap();
    let (second_publisher, second_thread) = Publisher::start(&second_endpoint, 65_536).unwrap();
    let (shutdown, shutdown_rx) = watch::channel(false);

    let first = ExchangeRuntime::start(
        &exchange(&emulator),
        &plugins,
        &services(&first_publisher, &dir.path().join("first")),
        shutdown_rx.clone(),
    )
    .await
    .unwrap()
    .unwrap();
    let mut relayed = exchange(&emulator);
    relayed.name = "hl-relayed".into();
    relayed.market_data = Some(MarketDataSource {
        from: first_endpoint.clone(),
        exchange: Some("hl".into()),
        server_key_file,
    });
    let second = ExchangeRuntime::start(
        &relayed,
        &plugins,
        &services_with(&second_publisher, &dir.path().join("second"), second_curve),
        shutdown_rx,
    )
    .await
    .unwrap()
    .unwrap();

    eventually(
        "the first host's books",
        Duration::from_secs(10),
        async || books_equal(&first, &emulator).await,
    )
    .await;
    eventually(
        "the second host's books, taken from the first",
        Duration::from_secs(10),
        async || books_equal(&second, &emulator).await,
    )
    .await;

    let _ = shutdown.send(true);
    first.join().await;
    second.join().await;
    drop((first_publisher, second_publisher));
    first_thread.join();
    second_thread.join();
    emulator.shutdown().await;
}
