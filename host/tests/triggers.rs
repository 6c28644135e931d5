//! Stop and take-profit orders on Hyperliquid, end to end: tracked while
//! they wait for their trigger, published as `triggered` when it fires
//! (the emulator fires them on its mark price), filled like any order,
//! and kept across a SIGKILL with their trigger.

mod common;

use std::time::Duration;

use common::host_process::{ApiVenues, HostFiles, funded_emulator, liquid_emulator};
use common::orders::{EventLog, eventually};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn order(files: &HostFiles, id: &str) -> Value {
    let reply = files
        .command(json!({"cmd": "get_order", "client_order_id": id}))
        .expect("reply");
    reply["result"].clone()
}

fn place(files: &HostFiles, fields: Value) -> Value {
    let mut request = json!({"cmd": "buy", "trading_pair": "BTC-USD", "amount": "0.001"});
    if let (Value::Object(request), Value::Object(fields)) = (&mut request, fields) {
        request.extend(fields);
    }
    files.command(request).expect("reply")
}

fn id_of(reply: &Value) -> String {
    assert_eq!(reply["ok"], true, "{reply}");
    reply["result"]["client_order_id"]
        .as_str()
        .expect("id")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_waits_fires_on_the_mark_and_fills_and_survives_a_kill() {
    let seed = "trigger host";
    let emulator = liquid_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let events = EventLog::start(&files.events);
    let mut host = files.start().await;

    // Refused before anything is tracked.
    for (fields, needle) in [
        (
            json!({"order_type": "STOP_MARKET"}),
            "needs a trigger price",
        ),
        (
            json!({"order_type": "LIMIT", "price": "90000", "trigger_price": "95000"}),
            "only stop and take-profit",
        ),
        (
            json!({"order_type": "STOP_LIMIT", "price": "102500", "trigger_price": "102000", "time_in_force": "IOC"}),
            "rests until triggered",
        ),
        (
            json!({"order_type": "STOP_LIMIT", "trigger_price": "102000"}),
            "needs a price",
        ),
    ] {
        let reply = place(&files, fields.clone());
        assert_eq!(reply["error"]["code"], "invalid_order", "{fields}: {reply}");
        assert!(
            reply["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains(needle),
            "{reply}"
        );
    }

    // A buy stop above the market and a buy stop-limit further above.
    let stop = id_of(&place(
        &files,
        json!({"order_type": "STOP_MARKET", "trigger_price": "101000"}),
    ));
    let stop_limit = id_of(&place(
        &files,
        json!({"order_type": "STOP_LIMIT", "trigger_price": "103000", "price": "103500"}),
    ));
    eventually("both resting untriggered", Duration::from_secs(10), || {
        [&stop, &stop_limit].iter().all(|id| {
            let order = order(&files, id);
            order["order_state"] == "OPEN" && order["trigger"]["triggered"] == false
        })
    })
    .await;
    assert_eq!(order(&files, &stop)["trigger"]["trigger_price"], 101000);
    assert_eq!(order(&files, &stop)["order_type"], "STOP_MARKET");

    // The mark moves past the first trigger: it fires and fills.
    emulator
        .set_price("BTC", Decimal::from(101_500))
        .expect("price");
    eventually(
        "the stop triggered and filled",
        Duration::from_secs(10),
        || {
            let order = order(&files, &stop);
            order["order_state"] == "FILLED" && order["trigger"]["triggered"] == true
        },
    )
    .await;
    let topics: Vec<String> = events
        .all()
        .into_iter()
        .filter(|(_, body)| body["data"]["client_order_id"] == stop)
        .map(|(topic, _)| topic)
        .collect();
    let triggered = topics.iter().position(|t| t == "orders.hl.triggered");
    let filled = topics.iter().position(|t| t == "orders.hl.filled");
    assert!(triggered.is_some() && triggered < filled, "{topics:?}");
    assert_eq!(
        topics
            .iter()
            .filter(|t| *t == "orders.hl.triggered")
            .count(),
        1
    );
    assert_eq!(order(&files, &stop_limit)["trigger"]["triggered"], false);

    // Killed and started again: the waiting stop-limit is still known with
    // its trigger, and the journal's history has both.
    host.0.kill().expect("kill");
    let _ = host.0.wait();
    let _host = files.start().await;
    eventually("the stop-limit restored", Duration::from_secs(10), || {
        let order = order(&files, &stop_limit);
        order["order_state"] == "OPEN" && order["trigger"]["trigger_price"] == 103000
    })
    .await;
    let history = files
        .command(json!({"cmd": "history", "trading_pair": "BTC-USD"}))
        .expect("reply");
    let triggers: Vec<(String, bool)> = history["result"]["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .map(|o| {
            (
                o["client_order_id"].as_str().unwrap_or("").to_owned(),
                o["trigger"]["triggered"] == true,
            )
        })
        .collect();
    assert_eq!(triggers, [(stop, true), (stop_limit.clone(), false)]);

    // It fires too, and rests as a limit at its price until it fills.
    emulator
        .set_price("BTC", Decimal::from(103_200))
        .expect("price");
    eventually("the stop-limit triggered", Duration::from_secs(10), || {
        order(&files, &stop_limit)["trigger"]["triggered"] == true
    })
    .await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_takes_conditional_orders_and_binance_refuses_them() {
    let seed = "venue trigger host";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let venues = ApiVenues::start(&files, Decimal::from(100_000)).await;
    venues.configure(&files);
    let _host = files.start().await;
    let on = |exchange: &str, fields: Value| {
        let mut request = json!({"cmd": "buy", "exchange": exchange, "trading_pair": "BTC-USDT", "amount": "0.002"});
        if let (Value::Object(request), Value::Object(fields)) = (&mut request, fields) {
            request.extend(fields);
        }
        files.command(request).expect("reply")
    };
    let get = |id: &str| {
        files
            .command(json!({"cmd": "get_order", "exchange": "by", "client_order_id": id}))
            .expect("reply")["result"]
            .clone()
    };

    let refused = on(
        "bn",
        json!({"order_type": "STOP_MARKET", "trigger_price": "101000"}),
    );
    assert_eq!(refused["error"]["code"], "invalid_order", "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("does not support stop_market")
    );

    let stop = id_of(&on(
        "by",
        json!({"order_type": "STOP_MARKET", "trigger_price": "101000"}),
    ));
    eventually(
        "the conditional order waiting",
        Duration::from_secs(10),
        || {
            let order = get(&stop);
            order["order_state"] == "OPEN" && order["trigger"]["triggered"] == false
        },
    )
    .await;
    // Its worst price (5 % above the trigger) crosses the book: only a
    // conditional order waits.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(get(&stop)["order_state"], "OPEN");
    venues
        .bybit
        .set_price("BTC", Decimal::from(101_500))
        .expect("price");
    eventually(
        "the stop triggered and filled",
        Duration::from_secs(10),
        || {
            let order = get(&stop);
            order["order_state"] == "FILLED" && order["trigger"]["triggered"] == true
        },
    )
    .await;
    emulator.shutdown().await;
    venues.shutdown().await;
}
