//! SIGKILL of the host in the middle of a stream of orders, fills while it
//! is down, then a restart: every order is reconciled with the exchange's
//! ground truth, no fill is lost or counted twice, and the transitions it
//! missed are published.

mod common;

use std::time::Duration;

use common::decimal;
use common::host_process::{HostFiles, funded_emulator};
use common::orders::{EventLog, eventually, key, quiet_with_counterparty};
use hyperliquid_core::Tif;
use rust_decimal::Decimal;
use serde_json::json;

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
    let (emulator, counterparty) =
        quiet_with_counterparty("crash test host", "crash counterparty").await;

    let files = HostFiles::new("crash test host", &emulator.base_url(), "");
    let mut host = files.start().await;
    let log = EventLog::start(&files.events);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Liquidity for some of the host's buys to fill against.
    for px in ["100000", "100010", "100020"] {
        counterparty.order(0, false, px, "0.004", Tif::Gtc).await;
    }
    // A stream of orders; the host is killed in the middle of it.
    let mut accepted = Vec::new();
    for i in 0..40u32 {
        let price = if i % 3 == 0 { 100_020 } else { 95_000 + i * 10 };
        accepted.push(files.limit_buy("BTC-USD", &price.to_string(), "0.001"));
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

    let host = files.start().await;

    // Ground truth: every order the exchange has for the account.
    let truth = emulator
        .account_state(key("crash test host").address())
        .expect("account");
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
        files
            .command(json!({"cmd": "get_order", "client_order_id": id}))
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_journaled_but_never_sent_is_sent_again_after_a_restart() {
    let seed = "resumed cancel host";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let mut host = files.start().await;
    let id = files.limit_buy("BTC-USD", "90000", "0.001");
    let state = |files: &HostFiles| {
        files
            .command(json!({"cmd": "get_order", "client_order_id": id}))
            .map(|reply| reply["result"]["order_state"].clone())
    };
    eventually("the order to rest", Duration::from_secs(10), || {
        state(&files).is_some_and(|s| s == "OPEN")
    })
    .await;
    host.0.kill().unwrap();
    host.0.wait().unwrap();

    // The host died right after journaling a cancel request, before the
    // cancel left: the journal's last word on the order is PENDING_CANCEL.
    let journal = files.dir.path().join("state").join("hl.journal");
    let text = std::fs::read_to_string(&journal).unwrap();
    let last = text
        .lines()
        .rfind(|line| line.contains(&id))
        .expect("the order is journaled");
    assert!(last.contains(r#""state":"OPEN""#), "{last}");
    let pending_cancel = last.replace(r#""state":"OPEN""#, r#""state":"PENDING_CANCEL""#);
    std::fs::write(&journal, format!("{text}{pending_cancel}\n")).unwrap();

    let _host = files.start().await;
    eventually(
        "the cancel to be sent again",
        Duration::from_secs(10),
        || state(&files).is_some_and(|s| s == "CANCELLED"),
    )
    .await;
    let truth = emulator
        .account_state(key(seed).address())
        .expect("account");
    let on_exchange = truth["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|order| order["cloid"] == id.as_str())
        .expect("the order reached the exchange")
        .clone();
    assert_eq!(on_exchange["status"], "canceled");
}

/// A host restarted at once after a SIGKILL finds its predecessor's signer
/// still holding the socket for a moment (a signer exits within 200 ms of
/// its parent's death): the new signer is started once the socket is free,
/// and not mistaken for the old one. (Found by the three-venue soak: a
/// restart "succeeded" against the old signer, which then went away with
/// the socket, and the new host never answered.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signer_is_started_once_its_predecessor_lets_go_of_the_socket() {
    use connector_host::signer::{SignerProcess, SpawnKeys, SpawnSpec};
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("signer.sock");
    let key_file = dir.path().join("host.key");
    let secret = hyperliquid_core::keccak256(b"signer restart");
    std::fs::write(&key_file, format!("{secret}\n")).expect("key");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    // The predecessor: serving the socket, gone 300 ms later with its file.
    let old = std::os::unix::net::UnixListener::bind(&socket).expect("bind");
    let path = socket.clone();
    let leaving = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(old);
        std::fs::remove_file(path).expect("remove");
    });
    let binary = common::binary("connector-signer", "connector-signer");
    let spec = SpawnSpec {
        keys: SpawnKeys::KeyFile {
            key_file: &key_file,
            policy: None,
        },
        audit_log: None,
        passphrase_file: None,
        demo_keys: true,
        default_max_order_notional: None,
        default_mark_prices: &[],
    };
    let signer = SignerProcess::start(&binary, spec, &socket)
        .await
        .expect("started");
    leaving.join().expect("the predecessor left");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        std::os::unix::net::UnixStream::connect(&socket).is_ok(),
        "the new signer serves the socket"
    );
    signer.stop().await;
}

/// An entry with exits that fills while the host is down has them on the
/// book once the host is back, whoever holds them: the exits are kept with
/// the entry in the journal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_filled_while_the_host_was_down_has_its_exits_after_a_restart() {
    // The host places them when it is back; the exchange, holding them
    // with the entry, placed them the moment the entry filled.
    for (holder, seed) in [("host", "exits host"), ("exchange", "held exits host")] {
        let (emulator, counterparty) =
            quiet_with_counterparty(seed, &format!("{seed} counterparty")).await;
        let files = HostFiles::new(
            seed,
            &emulator.base_url(),
            &format!("attached_exits = \"{holder}\"\n"),
        );
        let mut host = files.start().await;
        let entry = files.limit_buy_with_exits("95000", "120000", "90000");
        eventually("the entry resting", Duration::from_secs(10), || {
            files
                .command(json!({"cmd": "get_order", "client_order_id": entry}))
                .is_some_and(|reply| {
                    reply["result"]["order_state"] == "OPEN"
                        && reply["result"]["exits"]["held_by"] == holder
                })
        })
        .await;
        host.0.kill().unwrap();
        host.0.wait().unwrap();
        counterparty
            .order(0, false, "95000", "0.001", Tif::Ioc)
            .await;

        let _host = files.start().await;
        let exits = || files.exits_of(None, &entry);
        eventually(
            "both exits on the book after the restart",
            Duration::from_secs(20),
            || {
                let exits = exits();
                exits.len() == 2
                    && exits.iter().all(|exit| {
                        exit["amount"] == 0.001
                            && exit["trade_type"] == "SELL"
                            && exit["exchange_order_id"].is_string()
                    })
            },
        )
        .await;
        emulator.shutdown().await;
    }
}
