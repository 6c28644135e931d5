//! `batch`: places, cancels and modifies for one exchange in one command,
//! each answered on its own, sent as the venue's batches — one signed
//! Hyperliquid action for several orders (counted by the host's signature
//! histogram; modifies that meet go out together), Bybit's and Binance's
//! batches answered item by item.

mod common;

use std::time::Duration;

use common::host_process::{ApiVenues, HostFiles, funded_emulator};
use common::http::{get, value};
use common::orders::eventually;
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn batch(files: &HostFiles, exchange: &str, commands: Value) -> Vec<Value> {
    let reply = files
        .command(json!({"cmd": "batch", "exchange": exchange, "commands": commands}))
        .expect("reply");
    assert_eq!(reply["ok"], true, "{reply}");
    reply["result"]["results"]
        .as_array()
        .expect("results")
        .clone()
}

fn buy(pair: &str, price: &str, amount: &str) -> Value {
    json!({"cmd": "buy", "trading_pair": pair, "order_type": "LIMIT", "price": price, "amount": amount})
}

fn id_of(answer: &Value) -> String {
    assert_eq!(answer["ok"], true, "{answer}");
    answer["result"]["client_order_id"]
        .as_str()
        .expect("id")
        .to_owned()
}

fn code_of(answer: &Value) -> &str {
    assert_eq!(answer["ok"], false, "{answer}");
    answer["error"]["code"].as_str().unwrap_or_default()
}

async fn until_state(files: &HostFiles, exchange: &str, ids: &[&str], state: &str) {
    eventually(&format!("{ids:?} {state}"), Duration::from_secs(15), || {
        ids.iter().all(|id| {
            files
                .command(json!({"cmd": "get_order", "exchange": exchange, "client_order_id": id}))
                .is_some_and(|reply| reply["result"]["order_state"] == state)
        })
    })
    .await;
}

/// Signatures the host's signer made so far.
/// Modifies every order of `ids` to `price` in one batch command, and
/// waits until each is open at that price.
async fn modify_all(files: &HostFiles, exchange: &str, ids: &[&str], price: &str) {
    let modifies: Vec<Value> = ids
        .iter()
        .map(|id| json!({"cmd": "modify", "client_order_id": id, "price": price}))
        .collect();
    let answers = batch(files, exchange, Value::Array(modifies));
    assert!(
        answers.iter().all(|a| a["result"]["modify"] == "requested"),
        "{answers:?}"
    );
    let price: f64 = price.parse().expect("price");
    eventually("every order modified", Duration::from_secs(10), || {
        ids.iter().all(|id| {
            files
                .command(json!({"cmd": "get_order", "exchange": exchange, "client_order_id": id}))
                .is_some_and(|reply| {
                    reply["result"]["price"].as_f64() == Some(price)
                        && reply["result"]["order_state"] == "OPEN"
                })
        })
    })
    .await;
}

fn signatures(port: u16) -> f64 {
    value(&get(port, "/metrics").1, "connector_signer_seconds_count").unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_one_signed_action_and_each_element_is_answered_on_its_own() {
    let seed = "batch host";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let port = files.with_metrics();
    let _host = files.start().await;
    let resting = files.limit_buy("BTC-USD", "90000", "0.001");
    until_state(&files, "hl", &[&resting], "OPEN").await;

    let before = signatures(port);
    let answers = batch(
        &files,
        "hl",
        json!([
            buy("BTC-USD", "90001", "0.001"),
            buy("BTC-USD", "90002", "0.001"),
            buy("BTC-USD", "90003", "0.0000001"),
            {"cmd": "cancel", "client_order_id": resting},
            {"cmd": "cancel", "client_order_id": "0x5216a30a00000000000000000000dead"},
            {"cmd": "sell", "exchange": "elsewhere", "trading_pair": "BTC-USD", "order_type": "LIMIT", "price": "1", "amount": "1"},
            {"cmd": "status"},
            {"cmd": "buy", "trading_pair": "BTC-USD"},
        ]),
    );
    assert_eq!(answers.len(), 8);
    let (first, second) = (id_of(&answers[0]), id_of(&answers[1]));
    assert_eq!(
        code_of(&answers[2]),
        "invalid_order",
        "below the lot: refused alone"
    );
    assert_eq!(answers[3]["result"]["cancel"], "requested");
    assert_eq!(code_of(&answers[4]), "unknown_order");
    assert_eq!(code_of(&answers[5]), "bad_request");
    assert!(
        answers[5]["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("one exchange")
    );
    assert_eq!(code_of(&answers[6]), "bad_request");
    assert!(
        answers[7]["error"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("element 7: missing field")
    );

    until_state(&files, "hl", &[&first, &second], "OPEN").await;
    until_state(&files, "hl", &[&resting], "CANCELLED").await;
    // Two orders, one action; one cancel, one action.
    eventually(
        "the batch's signatures counted",
        Duration::from_secs(5),
        || signatures(port) >= before + 2.0,
    )
    .await;
    assert_eq!(signatures(port), before + 2.0, "one signature per batch");

    // Both cancelled in one action; a modify in a batch goes as a modify.
    let before = signatures(port);
    let answers = batch(
        &files,
        "hl",
        json!([{"cmd": "modify", "client_order_id": first, "price": "89000"},
               {"cmd": "cancel", "client_order_id": second}]),
    );
    assert_eq!(answers[0]["result"]["modify"], "requested", "{answers:?}");
    until_state(&files, "hl", &[&second], "CANCELLED").await;
    eventually("the modified price", Duration::from_secs(10), || {
        files
            .command(json!({"cmd": "get_order", "client_order_id": first}))
            .is_some_and(|reply| reply["result"]["price"] == 89000)
    })
    .await;
    assert_eq!(signatures(port), before + 2.0);

    // Modifies of several orders that meet go out together: fewer
    // signatures than modifies, each order at its new price.
    let answers = batch(
        &files,
        "hl",
        Value::Array(
            (0..6)
                .map(|i| buy("BTC-USD", &format!("{}", 88_000 + i), "0.001"))
                .collect(),
        ),
    );
    let ids: Vec<String> = answers.iter().map(id_of).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    until_state(&files, "hl", &ids, "OPEN").await;
    let before = signatures(port);
    modify_all(&files, "hl", &ids, "87000").await;
    let signed = signatures(port) - before;
    assert!(
        (1.0..6.0).contains(&signed),
        "{signed} signatures for 6 modifies: none went together"
    );

    // Nothing, or too much, is refused whole.
    for commands in [
        json!([]),
        Value::Array(vec![buy("BTC-USD", "90000", "0.001"); 101]),
    ] {
        let reply = files
            .command(json!({"cmd": "batch", "commands": commands}))
            .expect("reply");
        assert_eq!(reply["error"]["code"], "bad_request", "{reply}");
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_and_binance_take_batches_item_by_item() {
    let seed = "venue batch host";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let venues = ApiVenues::start(&files, Decimal::from(100_000)).await;
    venues.configure(&files);
    let _host = files.start().await;
    for (exchange, venue) in venues.named() {
        let answers = batch(
            &files,
            exchange,
            json!([
                buy("BTC-USDT", "97000", "0.002"),
                buy("BTC-USDT", "97001", "0.002"),
                buy("BTC-USDT", "97002", "0.0000001"),
                buy("BTC-USDT", "97003", "0.002"),
            ]),
        );
        let ids = [id_of(&answers[0]), id_of(&answers[1]), id_of(&answers[3])];
        assert_eq!(code_of(&answers[2]), "invalid_order");
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        until_state(&files, exchange, &ids, "OPEN").await;
        // Modifies of all three, answered and applied each on its own.
        modify_all(&files, exchange, &ids, "96000").await;
        let open = |venue: &hl_emulator::EmulatorHandle| {
            venue.state()["accounts"][0]["orders"]
                .as_array()
                .map_or(0, |orders| {
                    orders.iter().filter(|o| o["status"] == "open").count()
                })
        };
        assert_eq!(open(venue), 3, "{exchange}");
        let cancels: Vec<Value> = ids
            .iter()
            .map(|id| json!({"cmd": "cancel", "client_order_id": id}))
            .collect();
        let answers = batch(&files, exchange, Value::Array(cancels));
        assert!(
            answers.iter().all(|a| a["result"]["cancel"] == "requested"),
            "{answers:?}"
        );
        until_state(&files, exchange, &ids, "CANCELLED").await;
        assert_eq!(open(venue), 0, "{exchange}");
    }
    emulator.shutdown().await;
    venues.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_that_arrive_while_one_is_signed_go_out_together() {
    let seed = "coalescing host";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let port = files.with_metrics();
    let _host = files.start().await;
    let before = signatures(port);

    // A burst of single orders, sent without waiting for replies.
    const BURST: usize = 40;
    let endpoint = files.commands.clone();
    let ids = tokio::task::spawn_blocking(move || {
        let context = zmq::Context::new();
        let socket = context.socket(zmq::DEALER).expect("dealer");
        socket.set_rcvtimeo(10_000).expect("timeout");
        socket.connect(&endpoint).expect("connect");
        for i in 0..BURST {
            let order = json!({"id": i, "cmd": "buy", "trading_pair": "BTC-USD", "order_type": "LIMIT",
                "price": format!("{}", 90_000 + i), "amount": "0.001"});
            socket
                .send_multipart([&b""[..], order.to_string().as_bytes()], 0)
                .expect("send");
        }
        (0..BURST)
            .map(|_| {
                let frames = socket.recv_multipart(0).expect("reply");
                let reply: Value = serde_json::from_slice(frames.last().expect("body")).expect("json");
                id_of(&json!({"ok": reply["ok"], "result": reply["result"]}))
            })
            .collect::<Vec<String>>()
    })
    .await
    .expect("burst");
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    until_state(&files, "hl", &ids, "OPEN").await;
    let open = emulator.state()["accounts"][0]["openOrders"]
        .as_array()
        .map(Vec::len);
    assert_eq!(open, Some(BURST), "each order once on the exchange");
    let signed = signatures(port) - before;
    assert!(
        signed >= 1.0 && signed < BURST as f64,
        "{signed} signatures for {BURST} orders: none went together"
    );
    emulator.shutdown().await;
}
