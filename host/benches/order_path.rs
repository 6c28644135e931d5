//! The order path, each measurement beside its bare baseline in the same
//! run, printed as tables for `docs/benchmarks.md`:
//!
//! 1. a `buy` command to its reply over the command socket (the order is
//!    tracked, then signed and sent in the background), beside a bare
//!    ZeroMQ round trip of the same request and reply bytes to an echoing
//!    ROUTER on the same transport — both paced at one request per
//!    millisecond: first each alone (the bare one on a quiet machine), then
//!    both in one run from two clients, so that the bare round trip meets
//!    the orders' background work as the reply does;
//! 2. a command received (its bytes handed to the dispatcher) to the signed
//!    request arriving at the emulator, through the external signer
//!    process, beside the sum of its bare parts: one signer round trip of
//!    the same action and one loopback HTTP POST of a body the same size to
//!    the same emulator — the three taken in turn, so that all meet the
//!    same machine;
//! 3. resident memory of a `connector-host` process with 200 books and
//!    10,000 open orders.

#[path = "support/command_path.rs"]
mod command_path;
#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/measure.rs"]
mod measure;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use command_path::Parts;
use common::host_process::HostFiles;
use common::orders::{OrderEnv, key, quiet};
use connector_host::auth::{ClientKeys, Curve, KeyPair, Role};
use connector_host::commands::{CommandServer, Dispatcher, SocketLimits};
use connector_host::config::{CurveClientConfig, CurveConfig, ExchangeConfig, RateLimitConfig};
use hl_emulator::{Config as EmulatorConfig, Emulator};
use measure::{memory_kib, report};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Requests per latency measurement.
const SAMPLES: usize = 2_000;
/// Pause between paced requests.
const PACE: Duration = Duration::from_millis(1);

/// The host's exchange with the emulator's limits: it has no IP limit, so
/// the client-side one would only slow the measurement down.
fn unthrottled(exchange: ExchangeConfig) -> ExchangeConfig {
    let plenty = RateLimitConfig {
        capacity: 1_000_000,
        window_ms: 1_000,
    };
    ExchangeConfig {
        rate_limits: BTreeMap::from([
            ("ip_weight".to_owned(), plenty),
            ("address".to_owned(), plenty),
            ("address_cancel".to_owned(), plenty),
        ]),
        ..exchange
    }
}

fn emulator_config() -> EmulatorConfig {
    let mut config = quiet();
    config.limits.address_request_buffer = 10_000_000;
    config
}

/// A resting buy far below the market, as a command.
fn buy_command(id: usize) -> String {
    json!({"id": id, "cmd": "buy", "trading_pair": "BTC-USD", "order_type": "LIMIT",
           "price": "50000", "amount": "0.001"})
    .to_string()
}

/// Sends paced requests over `socket` (a REQ) and times each reply.
fn paced_round_trips(socket: &zmq::Socket, request: impl Fn(usize) -> String) -> Vec<Duration> {
    round_trips_at(socket, request, Instant::now(), |_| Duration::ZERO)
}

/// Sends request `i` over `socket` (a REQ) at `start + i × PACE +
/// offset(i)` and times each reply.
fn round_trips_at(
    socket: &zmq::Socket,
    request: impl Fn(usize) -> String,
    start: Instant,
    offset: impl Fn(usize) -> Duration,
) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        // Sleep, not spin: this machine has two cores to share with the
        // host, the signer and the emulator.
        let at = start + PACE * i as u32 + offset(i);
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        let body = request(i);
        let start = Instant::now();
        socket.send(body.as_bytes(), 0).expect("send");
        let reply = socket.recv_bytes(0).expect("reply");
        samples.push(start.elapsed());
        assert!(
            reply.starts_with(b"{"),
            "{}",
            String::from_utf8_lossy(&reply)
        );
    }
    samples
}

/// A fraction in [0, 1) that looks random and is the same in every run.
fn scatter(i: usize) -> f64 {
    let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// A ROUTER that answers every request with `reply`, on its own thread;
/// a CURVE server with `curve` (every key admitted: no ZAP handler).
fn echo_router(context: &zmq::Context, endpoint: &str, reply: Vec<u8>, curve: Option<&Curve>) {
    let router = context.socket(zmq::ROUTER).expect("router");
    if let Some(curve) = curve {
        curve.secure_server(&router, "bare").expect("curve");
    }
    router.bind(endpoint).expect("bind");
    std::thread::spawn(move || {
        while let Ok(mut frames) = router.recv_multipart(0) {
            frames.pop();
            frames.push(reply.clone());
            if router.send_multipart(frames, 0).is_err() {
                return;
            }
        }
    });
}

fn client(context: &zmq::Context, endpoint: &str, keys: Option<&ClientKeys>) -> zmq::Socket {
    let socket = context.socket(zmq::REQ).expect("req");
    if let Some(keys) = keys {
        keys.secure(&socket).expect("curve");
    }
    socket.connect(endpoint).expect("connect");
    socket
}

/// A host key that lists one client (role `trade`), and that client's
/// keys, made in `dir`.
fn curve_pair(dir: &std::path::Path) -> (Curve, ClientKeys) {
    for name in ["host", "client"] {
        KeyPair::generate()
            .expect("keys")
            .write(&dir.join(name))
            .expect("key files");
    }
    let curve = Curve::load(&CurveConfig {
        secret_key_file: dir.join("host.key"),
        clients: vec![CurveClientConfig {
            name: "bench".into(),
            public_key_file: dir.join("client.pub"),
            role: Role::Trade,
        }],
    })
    .expect("curve");
    let keys = ClientKeys {
        keys: Arc::new(KeyPair::read(&dir.join("client.key")).expect("client key")),
        server: curve.public_key(),
    };
    (curve, keys)
}

/// 1. `buy` → reply, beside a bare round trip of the same bytes.
fn command_round_trips(env: &OrderEnv, dir: &std::path::Path) {
    println!("\n| transport / path | p50 | p99 |\n|---|---|---|");
    let context = zmq::Context::new();
    let (curve, keys) = curve_pair(dir);
    for (transport, host_endpoint, bare_endpoint, secured) in [
        (
            "ipc",
            format!("ipc://{}/commands.sock", dir.display()),
            format!("ipc://{}/bare.sock", dir.display()),
            false,
        ),
        (
            "tcp",
            "tcp://127.0.0.1:47311".to_owned(),
            "tcp://127.0.0.1:47312".to_owned(),
            false,
        ),
        (
            "tcp + CURVE",
            "tcp://127.0.0.1:47313".to_owned(),
            "tcp://127.0.0.1:47314".to_owned(),
            true,
        ),
    ] {
        // With CURVE, the bare baseline is encrypted too: the ratio is the
        // host's own cost (ZAP is paid once, at the handshake).
        let (curve, keys) = if secured {
            (Some(&curve), Some(&keys))
        } else {
            (None, None)
        };
        let server = CommandServer::start(
            &host_endpoint,
            Dispatcher::new([env.trading.clone()]),
            SocketLimits::default(),
            Arc::default(),
            None,
            curve,
        )
        .expect("command server");
        let host = client(&context, &host_endpoint, keys);
        // One real reply, echoed byte for byte by the bare ROUTER.
        host.send(buy_command(0).as_bytes(), 0).expect("send");
        let reply = host.recv_bytes(0).expect("reply");
        echo_router(&context, &bare_endpoint, reply, curve);
        let bare = client(&context, &bare_endpoint, keys);
        std::thread::sleep(Duration::from_millis(200));

        let (_, bare_p99) = report(
            &format!("{transport}: bare REQ → ROUTER echo"),
            paced_round_trips(&bare, buy_command),
        );
        let (_, host_p99) = report(
            &format!("{transport}: `buy` → reply (host)"),
            paced_round_trips(&host, buy_command),
        );
        println!(
            "| {transport}: **p99 ratio host / bare** | | **{:.2}** |",
            host_p99.as_secs_f64() / bare_p99.as_secs_f64()
        );
        // Both again in one run, under the same load: buys at the same
        // pace from one client, and bare round trips from another, each
        // at a pseudo-random moment within a buy's millisecond, so that
        // they meet the orders' background work (signing, sending, the
        // emulator) as a buy's reply does.
        let start = Instant::now() + Duration::from_millis(20);
        let orders = {
            let (context, endpoint) = (context.clone(), host_endpoint.clone());
            let keys = keys.cloned();
            std::thread::spawn(move || {
                round_trips_at(
                    &client(&context, &endpoint, keys.as_ref()),
                    buy_command,
                    start,
                    |_| Duration::ZERO,
                )
            })
        };
        let loaded_bare = round_trips_at(&bare, buy_command, start, |i| PACE.mul_f64(scatter(i)));
        let loaded_host = orders.join().expect("orders");
        let (_, bare_p99) = report(
            &format!("{transport}, one run: bare REQ → ROUTER echo"),
            loaded_bare,
        );
        let (_, host_p99) = report(
            &format!("{transport}, one run: `buy` → reply (host)"),
            loaded_host,
        );
        println!(
            "| {transport}, one run: **p99 ratio host / bare** | | **{:.2}** |",
            host_p99.as_secs_f64() / bare_p99.as_secs_f64()
        );
        server.stop();
        // Let the orders placed in the background settle.
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// 2. command received → signed request at the emulator, beside its parts,
///    taken in turn (a path, a signature, a POST, the next path…) so that
///    all three meet the same machine.
async fn command_to_exchange(env: &OrderEnv) {
    // The parts: the same signer, the same kind of action; a body the size
    // of a signed single order, to the same endpoint over a kept-alive
    // connection like the host's.
    let body = format!(
        r#"{{"action":{{"type":"order","orders":[{{"a":0,"b":true,"p":"50000","s":"0.001","r":false,"t":{{"limit":{{"tif":"Gtc"}}}},"c":"0x{:032x}"}}],"grouping":"na"}},"nonce":1800000000000,"signature":{{"r":"0x{:064x}","s":"0x{:064x}","v":27}},"vaultAddress":null,"expiresAfter":1800000002000}}"#,
        1, 2, 3
    );
    let parts = Parts {
        scheme: "hyperliquid-l1",
        payload: |i| {
            let nonce = 1_800_000_000_000u64 + i as u64;
            json!({
                "action": {"type": "order", "orders": [{"a": 0, "b": true, "p": "50000", "s": "0.001",
                           "r": false, "t": {"limit": {"tif": "Gtc"}},
                           "c": format!("0x{:032x}", i + 1)}], "grouping": "na"},
                "nonce": nonce, "vault_address": null, "expires_after": nonce + 2_000,
                "network": "mainnet",
            })
            .to_string()
        },
        url: format!("{}/exchange", env.emulator.base_url()),
        body,
    };
    command_path::command_to_exchange(
        &env.trading,
        env.emulator.exchange_arrivals(),
        &env.signer_socket,
        buy_command,
        parts,
        500,
        Duration::from_millis(3),
    )
    .await;
}

/// 3. a host process with 200 books and 10,000 open orders.
async fn memory_with_books_and_orders() {
    const MARKETS: usize = 200;
    const ORDERS: usize = 10_000;
    let seed = "memory bench host";
    let mut config = emulator_config();
    config.liquidity.levels = 20;
    // Books that change twice a second, not fifty times.
    config.block_ms = 500;
    for i in 1..MARKETS {
        let mut perp = config.perps[0].clone();
        perp.name = format!("C{i:03}");
        perp.price = Decimal::from(100);
        perp.sz_decimals = 2;
        config.perps.push(perp);
    }
    config.fund(key(seed).address(), Decimal::from(100_000_000));
    let emulator = Emulator::start(config).await.expect("emulator");
    let mut markets = String::new();
    for i in 1..MARKETS {
        markets.push_str(&format!(
            "\n[[exchanges.markets]]\nsymbol = \"C{i:03}-USD\"\n"
        ));
    }
    let files = HostFiles::new(
        seed,
        &emulator.base_url(),
        &format!(
            "[exchanges.rate_limits.ip_weight]\ncapacity = 1000000\nwindow_ms = 1000\n{markets}"
        ),
    );
    let host = files.start().await;
    let pid = host.0.id();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (books_rss, _) = memory_kib(pid);

    let context = zmq::Context::new();
    let failures = context.socket(zmq::SUB).expect("sub");
    failures.connect(&files.events).expect("connect");
    failures
        .set_subscribe(b"orders.hl.failed")
        .expect("subscribe");
    let started = Instant::now();
    let socket = client(&context, &files.commands, None);
    for i in 0..ORDERS {
        socket
            .send(
                json!({"cmd": "buy", "trading_pair": "BTC-USD", "order_type": "LIMIT",
                       "price": format!("{}", 40_000 + i % 1_000), "amount": "0.001"})
                .to_string()
                .as_bytes(),
                0,
            )
            .expect("send");
        let reply: Value =
            serde_json::from_slice(&socket.recv_bytes(0).expect("reply")).expect("json");
        assert_eq!(reply["ok"], true, "{reply}");
    }
    let (open, placed) = loop {
        let open = emulator
            .account_state(key(seed).address())
            .map_or(0, |state| {
                state["openOrders"].as_array().map_or(0, Vec::len)
            });
        if open >= ORDERS || started.elapsed() > Duration::from_secs(120) {
            break (open, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Let the host take in the last answers and updates.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let live = files
        .command(json!({"cmd": "open_orders"}))
        .expect("open orders");
    for order in live["result"]["orders"].as_array().into_iter().flatten() {
        if order["order_state"] != "OPEN" {
            println!("not open on the host: {order}");
        }
    }
    while let Ok(parts) = failures.recv_multipart(zmq::DONTWAIT) {
        println!("failed: {}", String::from_utf8_lossy(&parts[1]));
    }
    let (orders_rss, peak) = memory_kib(pid);
    println!("\n| host process | resident |\n|---|---|");
    println!(
        "| {MARKETS} books of 20 levels a side, no orders | {:.1} MiB |",
        books_rss as f64 / 1024.0
    );
    println!(
        "| the same with {open} open orders (placed in {:.1} s) | **{:.1} MiB** (peak {:.1} MiB) |",
        placed.as_secs_f64(),
        orders_rss as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    drop(host);
    emulator.shutdown().await;
}

fn main() {
    // `cargo bench --bench order_path [commands|path|memory]`: a part, or
    // all three.
    let filter = std::env::args()
        .skip(1)
        .find(|arg| !arg.starts_with("--"))
        .unwrap_or_default();
    let run = |part: &str| part.contains(filter.as_str());
    common::block_on(async {
        if run("commands") || run("path") {
            let env = OrderEnv::start_with(emulator_config(), unthrottled).await;
            if run("commands") {
                let dir = tempfile::tempdir().expect("temp dir");
                tokio::task::block_in_place(|| command_round_trips(&env, dir.path()));
            }
            if run("path") {
                command_to_exchange(&env).await;
            }
            env.stop().await;
        }
        if run("memory") {
            memory_with_books_and_orders().await;
        }
    });
}
