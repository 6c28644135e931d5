//! SIGKILL of the host in the middle of a stream of orders, fills while it
//! is down, then a restart: every order is reconciled with the exchange's
//! ground truth, no fill is lost or counted twice, and the transitions it
//! missed are published.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::orders::{Counterparty, EventLog, KillOnDrop, eventually, key, quiet};
use common::{cdylib, copy_as};
use hl_emulator::Emulator;
use hyperliquid_core::{Tif, keccak256};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Sends one command to the host; `None` when it does not answer.
fn command(endpoint: &str, request: Value) -> Option<Value> {
    let socket = zmq::Context::new().socket(zmq::REQ).ok()?;
    socket.set_rcvtimeo(2_000).ok()?;
    socket.set_linger(0).ok()?;
    socket.connect(endpoint).ok()?;
    socket.send(request.to_string().as_bytes(), 0).ok()?;
    serde_json::from_slice(&socket.recv_bytes(0).ok()?).ok()
}

fn start_host(config: &Path) -> KillOnDrop {
    KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_connector-host"))
            .args(["run", "--config"])
            .arg(config)
            .env("RUST_LOG", "error")
            .spawn()
            .expect("host"),
    )
}

async fn until_ready(commands: &str) {
    let started = Instant::now();
    while command(commands, json!({"cmd": "status"})).is_none_or(|reply| reply["ok"] != true) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the host did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A JSON number or decimal string as a decimal.
fn decimal(value: &Value) -> Decimal {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
        .parse()
        .expect("a decimal")
}

fn host_state(exchange_status: &str) -> &'static str {
    match exchange_status {
        "open" => "OPEN",
        "filled" => "FILLED",
        "canceled" => "CANCELLED",
        _ => "FAILED",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_host_reconciles_every_order_and_fill_after_restart() {
    // The exchange, with the host's account and a counterparty funded.
    let host_key = key("crash test host");
    let account = host_key.address();
    let mut config = quiet();
    config.fund(account, Decimal::from(1_000_000));
    config.fund(
        key("crash counterparty").address(),
        Decimal::from(1_000_000),
    );
    let emulator = Emulator::start(config).await.expect("emulator");
    let counterparty = Counterparty::new("crash counterparty", emulator.base_url());

    // The host's files: key (0600), plugin, config. The host starts the
    // signer itself (spawn_key_file) from the binary next to it.
    common::binary("connector-signer", "connector-signer");
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("host.key");
    std::fs::write(&key_file, format!("{}\n", keccak256(b"crash test host"))).unwrap();
    std::fs::set_permissions(
        &key_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("plugins")).unwrap();
    copy_as(
        &cdylib("hyperliquid-plugin"),
        &dir.path().join("plugins"),
        "hyperliquid.so",
    );
    let events = format!("ipc://{}/events.sock", dir.path().display());
    let commands = format!("ipc://{}/commands.sock", dir.path().display());
    let config_file = dir.path().join("host.toml");
    std::fs::write(
        &config_file,
        format!(
            r#"
[host]
id = "crash-test"
plugins_dir = "plugins"
state_dir = "state"
log_level = "warn"

[zmq]
publish = "{events}"
commands = "{commands}"

[signer]
socket = "signer.sock"
spawn_key_file = "host.key"

[[exchanges]]
name = "hl"
plugin = "hyperliquid"
network = "local"
api_url = "{api}"
account = "{account}"
request_timeout_ms = 1000
order_expiry_ms = 2000
stream_timeout_ms = 2000

[[exchanges.markets]]
symbol = "BTC-USD"
"#,
            api = emulator.base_url()
        ),
    )
    .unwrap();

    let mut host = start_host(&config_file);
    until_ready(&commands).await;
    let log = EventLog::start(&events);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Liquidity for some of the host's buys to fill against.
    for px in ["100000", "100010", "100020"] {
        counterparty.order(0, false, px, "0.004", Tif::Gtc).await;
    }
    // A stream of orders; the host is killed in the middle of it.
    let mut accepted = Vec::new();
    for i in 0..40u32 {
        let price = if i % 3 == 0 { 100_020 } else { 95_000 + i * 10 };
        let reply = command(
            &commands,
            json!({"cmd": "buy", "trading_pair": "BTC-USD", "order_type": "LIMIT",
                   "price": price.to_string(), "amount": "0.001"}),
        )
        .expect("reply");
        assert_eq!(reply["ok"], true, "{reply}");
        accepted.push(
            reply["result"]["client_order_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        if i == 30 {
            // SIGKILL, with orders in flight.
            host.0.kill().unwrap();
            host.0.wait().unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    // While it is down, the counterparty hits the host's resting bids.
    counterparty
        .order(0, false, "95000", "0.005", Tif::Ioc)
        .await;

    let host = start_host(&config_file);
    until_ready(&commands).await;

    // Ground truth: every order the exchange has for the account.
    let truth = emulator.account_state(account).expect("account");
    let exchange_orders = truth["orders"].as_array().unwrap().clone();
    assert!(
        exchange_orders.len() >= 20,
        "most orders reached the exchange"
    );
    let fills_on_exchange = truth["fills"].as_array().unwrap().len();
    assert!(fills_on_exchange > 0);

    // After reconciliation (expiry 2 s + margin 2 s for orders in flight at
    // the kill), the host agrees with the exchange on every order.
    let get = |id: &str| {
        command(
            &commands,
            json!({"cmd": "get_order", "client_order_id": id}),
        )
        .expect("reply")
    };
    eventually(
        "the host to agree with the exchange",
        Duration::from_secs(20),
        || {
            exchange_orders.iter().all(|order| {
                let reply = get(order["cloid"].as_str().unwrap());
                reply["ok"] == true
                    && reply["result"]["order_state"]
                        == host_state(order["status"].as_str().unwrap())
                    && decimal(&reply["result"]["filled_amount"]) == decimal(&order["filledSz"])
            })
        },
    )
    .await;
    // Every order the host accepted is known; those the exchange never got
    // are failed, not left pending.
    for id in &accepted {
        let reply = get(id);
        assert_eq!(reply["ok"], true, "{id}: {reply}");
        let on_exchange = exchange_orders.iter().any(|o| o["cloid"] == id.as_str());
        if !on_exchange {
            eventually("a lost order to be failed", Duration::from_secs(10), || {
                get(id)["result"]["order_state"] == "FAILED"
            })
            .await;
        }
    }
    // No fill counted twice: the host's fill totals equal the exchange's.
    let host_filled: Decimal = accepted
        .iter()
        .map(|id| {
            get(id)["result"]["filled_amount"]
                .to_string()
                .parse::<Decimal>()
                .unwrap()
        })
        .sum();
    let exchange_filled: Decimal = exchange_orders
        .iter()
        .map(|o| o["filledSz"].as_str().unwrap().parse::<Decimal>().unwrap())
        .sum();
    assert_eq!(host_filled, exchange_filled);
    // The transitions the host missed while down were published after the
    // restart.
    let filled_while_down: Vec<&str> = exchange_orders
        .iter()
        .filter(|o| o["status"] == "filled" && o["limitPx"] != "100020")
        .map(|o| o["cloid"].as_str().unwrap())
        .collect();
    assert!(!filled_while_down.is_empty());
    for id in filled_while_down {
        assert!(
            log.all()
                .iter()
                .any(|(topic, body)| topic.ends_with(".filled")
                    && body["data"]["client_order_id"] == id),
            "no filled event for {id}"
        );
    }
    drop(host);
    emulator.shutdown().await;
}
