//! Side by side with the official Hyperliquid Python SDK
//! (hyperliquid-python-sdk 0.24.0), in one run on one machine, the SDK's
//! side measured by `sdk_side_by_side.py`:
//!
//! | measure | SDK | host |
//! |---|---|---|
//! | one order signature | `sign_l1_action` | `hyperliquid-core`: action, msgpack, keccak, EIP-712, secp256k1 (what the signer does per request) |
//! | one l2Book frame | `WebsocketManager.on_message`: parse and callback | frame → published book: the plugin `.so`, the book, the message, the publisher |
//! | an order's round trip against the emulator | `Exchange.order`: sign, POST, answer | `buy` on the command socket → the `OPEN` event at a subscriber (the signer process, the POST, the answer, the tracker, the publisher) |
//!
//! ```text
//! ./host/run-tests.sh --no-run   # once: the Python venv with the SDK
//! CONNECTOR_TEST_PYTHON=target/test-venv/bin/python cargo bench -p connector-host --bench side_by_side
//! ```

#[path = "support/book_path.rs"]
mod book_path;
#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/measure.rs"]
mod measure;

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use common::host_process::HostFiles;
use common::orders::{key, quiet};
use connector_host::publisher::DEFAULT_SPIN;
use hl_emulator::Emulator;
use hyperliquid_core::{
    Action, Grouping, LimitWire, Network, OrderAction, OrderType, OrderWire, SigningContext, Tif,
    sign_digest, signing_digest,
};
use measure::percentile;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const SIGNATURES: usize = 2_000;
const FRAMES: usize = 20_000;
const ORDERS: usize = 200;

/// The `p` quantile of `samples`, µs.
fn micros_at(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort_unstable();
    percentile(samples, p).as_secs_f64() * 1e6
}

/// Median µs of one order action's signature, built the way the plugin
/// and the signer build it.
fn host_signatures() -> f64 {
    let key = key("side-by-side host");
    let action = Action::Order(OrderAction {
        orders: vec![OrderWire {
            asset: 0,
            is_buy: true,
            price: "90000".parse().expect("price"),
            size: "0.001".parse().expect("size"),
            reduce_only: false,
            order_type: OrderType::Limit(LimitWire { tif: Tif::Gtc }),
            cloid: None,
        }],
        grouping: Grouping::Na,
        builder: None,
    });
    let mut samples = Vec::with_capacity(SIGNATURES);
    for nonce in 0..SIGNATURES as u64 {
        let start = Instant::now();
        let context = SigningContext::new(Network::Testnet, 1_700_000_000_000 + nonce);
        let digest = signing_digest(&action, &context).expect("digest");
        std::hint::black_box(sign_digest(&key, &digest));
        samples.push(start.elapsed());
    }
    micros_at(&mut samples, 0.5)
}

/// Median µs of one l2Book frame through the host's market path.
fn host_l2book(dir: &std::path::Path) -> f64 {
    let path =
        book_path::MarketPath::new(&format!("ipc://{}/book.sock", dir.display()), DEFAULT_SPIN);
    let mut frames = book_path::Frames::default();
    for _ in 0..1_000 {
        frames.push(&path);
    }
    let mut samples = Vec::with_capacity(FRAMES);
    for _ in 0..FRAMES {
        let start = Instant::now();
        frames.push(&path);
        samples.push(start.elapsed());
    }
    micros_at(&mut samples, 0.5)
}

/// p50 and p99 µs of `buy` → the order's `OPEN` event, one order at a
/// time, with a host process against its own emulator.
async fn host_round_trips() -> (f64, f64) {
    let seed = "side-by-side host";
    let mut config = quiet();
    config.fund(key(seed).address(), Decimal::from(1_000_000));
    let emulator = Emulator::start(config).await.expect("emulator");
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let _host = files.start().await;
    let context = zmq::Context::new();
    let events = context.socket(zmq::SUB).expect("sub");
    events.connect(&files.events).expect("connect");
    events.set_subscribe(b"orders.hl.").expect("subscribe");
    events.set_rcvtimeo(5_000).expect("timeout");
    let commands = context.socket(zmq::REQ).expect("req");
    commands.connect(&files.commands).expect("connect");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let buy = json!({"cmd": "buy", "trading_pair": "BTC-USD", "order_type": "LIMIT",
                     "price": "90000", "amount": "0.001"})
    .to_string();
    let mut samples = Vec::with_capacity(ORDERS);
    for i in 0..ORDERS + ORDERS / 10 {
        let start = Instant::now();
        commands.send(buy.as_bytes(), 0).expect("send");
        let reply: Value =
            serde_json::from_slice(&commands.recv_bytes(0).expect("reply")).expect("json");
        let id = reply["result"]["client_order_id"].clone();
        assert!(id.is_string(), "{reply}");
        loop {
            let parts = events.recv_multipart(0).expect("an order event");
            let body: Value = serde_json::from_slice(&parts[1]).expect("json");
            if body["data"]["client_order_id"] == id {
                let state = body["data"]["order_state"].as_str().unwrap_or_default();
                assert_ne!(state, "FAILED", "{body}");
                if state == "OPEN" {
                    break;
                }
            }
        }
        // The first tenth warms up.
        if i >= ORDERS / 10 {
            samples.push(start.elapsed());
        }
    }
    emulator.shutdown().await;
    (micros_at(&mut samples, 0.5), micros_at(&mut samples, 0.99))
}

/// The SDK's numbers: its script against an emulator signing as testnet
/// (the SDK signs as testnet for any URL other than mainnet's).
async fn sdk(frame_file: &std::path::Path) -> Value {
    let python = std::env::var_os("CONNECTOR_TEST_PYTHON")
        .expect("CONNECTOR_TEST_PYTHON: a Python with hyperliquid-python-sdk 0.24.0");
    // The bench runs in `host/`: a relative path is the workspace's.
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(python);
    let mut config = quiet();
    config.network = Network::Testnet;
    config.fund(key("side-by-side sdk").address(), Decimal::from(1_000_000));
    let emulator = Emulator::start(config).await.expect("emulator");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/sdk_side_by_side.py");
    let output = Command::new(python)
        .arg(script)
        .arg("--emulator-url")
        .arg(emulator.base_url())
        .arg("--frame-file")
        .arg(frame_file)
        .args(["--signatures", "300", "--frames", &FRAMES.to_string()])
        .args(["--orders", &ORDERS.to_string()])
        .output()
        .expect("the SDK script");
    emulator.shutdown().await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.lines().last().expect("a result line")).expect("JSON")
}

async fn side_by_side() {
    let dir = tempfile::tempdir().expect("temp dir");
    let frame_file = dir.path().join("frames.jsonl");
    let mut file = std::fs::File::create(&frame_file).expect("frame file");
    for i in 0..1024 {
        writeln!(file, "{}", book_path::frame(1_700_000_000_000 + i)).expect("write");
    }
    drop(file);

    let sdk = sdk(&frame_file).await;
    let signature = host_signatures();
    let l2book = host_l2book(dir.path());
    let (round_p50, round_p99) = host_round_trips().await;

    let number = |path: &str| sdk.pointer(path).and_then(Value::as_f64).expect(path);
    let sdk_signature = number("/signatures/median_us");
    let sdk_l2book = number("/l2book/median_us");
    let (sdk_p50, sdk_p99) = (
        number("/order_round_trip/p50_us"),
        number("/order_round_trip/p99_us"),
    );
    println!("\n| measure | Python SDK 0.24.0 | connector-host | SDK / host |\n|---|---|---|---|");
    println!(
        "| one order signature, median | {sdk_signature:.1} µs ({:.0}/s) | {signature:.1} µs ({:.0}/s) | **{:.0}×** |",
        1e6 / sdk_signature,
        1e6 / signature,
        sdk_signature / signature
    );
    println!(
        "| one l2Book frame (20 levels a side), median | {sdk_l2book:.1} µs ({:.0}/s) | {l2book:.1} µs ({:.0}/s) | **{:.1}×** |",
        1e6 / sdk_l2book,
        1e6 / l2book,
        sdk_l2book / l2book
    );
    println!(
        "| an order's round trip against the emulator, p50 | {sdk_p50:.0} µs | {round_p50:.0} µs | **{:.1}×** |",
        sdk_p50 / round_p50
    );
    println!(
        "| the same, p99 | {sdk_p99:.0} µs | {round_p99:.0} µs | **{:.1}×** |",
        sdk_p99 / round_p99
    );
}

fn main() {
    common::block_on(side_by_side());
}
