//! WebSocket: greeting, channels, snapshots, post, ping, errors, idle drop and
//! no replay after reconnect.

use std::time::Duration;

use hyperliquid_core::Tif;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn market_data_channels() {
    let mut config = hl_emulator::Config::default();
    config.liquidity.taker_rate_per_sec = 20.0;
    let env = Env::start(config).await;
    let mut ws = env.ws().await;
    ws.subscribe(json!({ "type": "l2Book", "coin": "BTC" }))
        .await;
    let book = ws
        .until(WAIT, |m| m["channel"] == "l2Book")
        .await
        .expect("l2Book");
    assert_eq!(book["data"]["coin"], "BTC");
    let levels = &book["data"]["levels"];
    assert_eq!(
        (
            levels[0].as_array().unwrap().len(),
            levels[1].as_array().unwrap().len()
        ),
        (20, 20)
    );
    let px = |level: &Value| level["px"].as_str().unwrap().parse::<Decimal>().unwrap();
    assert!(px(&levels[0][0]) < px(&levels[1][0]));
    assert!(px(&levels[0][0]) > px(&levels[0][1]));
    // Pushed again as the book changes.
    let next = ws
        .until(WAIT, |m| m["channel"] == "l2Book")
        .await
        .expect("second l2Book");
    assert!(next["data"]["time"].as_u64() >= book["data"]["time"].as_u64());

    ws.subscribe(json!({ "type": "trades", "coin": "BTC" }))
        .await;
    let trades = ws
        .until(WAIT, |m| m["channel"] == "trades")
        .await
        .expect("synthetic trades");
    let trade = &trades["data"][0];
    assert_eq!(trade["coin"], "BTC");
    assert!(trade["tid"].is_u64() && trade["users"].as_array().unwrap().len() == 2);

    ws.subscribe(json!({ "type": "bbo", "coin": "ETH" })).await;
    let bbo = ws
        .until(WAIT, |m| m["channel"] == "bbo")
        .await
        .expect("bbo");
    assert!(bbo["data"]["bbo"][0]["px"].is_string() && bbo["data"]["bbo"][1]["px"].is_string());
    ws.subscribe(json!({ "type": "allMids" })).await;
    let mids = ws
        .until(WAIT, |m| m["channel"] == "allMids")
        .await
        .expect("allMids");
    for coin in ["BTC", "ETH", "SOL", "PURR/USDC", "@107"] {
        assert!(mids["data"]["mids"][coin].is_string(), "{coin} in {mids}");
    }
    ws.subscribe(json!({ "type": "activeAssetCtx", "coin": "SOL" }))
        .await;
    let ctx = ws
        .until(WAIT, |m| m["channel"] == "activeAssetCtx")
        .await
        .expect("ctx");
    assert_eq!(ctx["data"]["coin"], "SOL");
    assert!(ctx["data"]["ctx"]["markPx"].is_string() && ctx["data"]["ctx"]["funding"].is_string());

    ws.send(json!({ "method": "unsubscribe", "subscription": { "type": "allMids" } }))
        .await;
    let ack = ws
        .until(WAIT, |m| m["channel"] == "subscriptionResponse")
        .await
        .expect("unsubscribe ack");
    assert_eq!(ack["data"]["method"], "unsubscribe");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_channels_post_ping_and_errors() {
    let (alice, bob) = (Trader::new("ws-alice"), Trader::new("ws-bob"));
    let env = Env::quiet(&[&alice, &bob]).await;
    let mut ws = env.ws().await;
    ws.send(json!({ "method": "ping" })).await;
    assert_eq!(
        ws.until(WAIT, |_| true).await,
        Some(json!({ "channel": "pong" }))
    );
    ws.send(json!({ "method": "subscribe", "subscription": { "type": "userFills", "user": alice.user() } }))
        .await;
    ws.until(WAIT, |m| m["channel"] == "subscriptionResponse")
        .await
        .expect("ack");
    let snapshot = ws
        .until(WAIT, |m| m["channel"] == "userFills")
        .await
        .expect("snapshot");
    assert_eq!(snapshot["data"]["isSnapshot"], true);
    assert_eq!(snapshot["data"]["fills"], json!([]));
    ws.subscribe(json!({ "type": "orderUpdates", "user": alice.user() }))
        .await;
    ws.subscribe(json!({ "type": "userEvents", "user": alice.user() }))
        .await;

    env.act(
        &bob,
        orders(vec![limit(BTC, false, "100000", "0.001", Tif::Gtc)]),
    )
    .await;
    let signed = alice.sign(
        orders(vec![limit(BTC, true, "100000", "0.001", Tif::Ioc)]),
        alice.next_nonce(),
        None,
    );
    let payload: Value = serde_json::from_str(&signed.to_json().unwrap()).unwrap();
    ws.send(
        json!({ "method": "post", "id": 7, "request": { "type": "action", "payload": payload } }),
    )
    .await;
    let frames = ws
        .collect(WAIT, &["post", "orderUpdates", "userFills", "user"])
        .await;
    let (post, update, live, event) = (&frames[0], &frames[1], &frames[2], &frames[3]);
    assert_eq!(post["data"]["id"], 7);
    assert_eq!(post["data"]["response"]["type"], "action");
    assert_eq!(
        post["data"]["response"]["payload"]["response"]["data"]["statuses"][0]["filled"]["totalSz"],
        "0.001"
    );
    assert_eq!(update["data"][0]["status"], "filled");
    assert_eq!(update["data"][0]["order"]["coin"], "BTC");
    assert!(live["data"].get("isSnapshot").is_none());
    assert_eq!(live["data"]["fills"][0]["px"], "100000");
    assert_eq!(event["data"]["fills"][0]["crossed"], true);

    ws.send(json!({ "method": "post", "id": 8, "request": { "type": "info", "payload": { "type": "l2Book", "coin": "BTC" } } }))
        .await;
    let info = ws
        .until(WAIT, |m| m["channel"] == "post")
        .await
        .expect("post info");
    assert_eq!(info["data"]["response"]["type"], "info");
    assert_eq!(info["data"]["response"]["payload"]["type"], "l2Book");
    assert_eq!(info["data"]["response"]["payload"]["data"]["coin"], "BTC");
    ws.send(json!({ "method": "post", "id": 9, "request": { "type": "action", "payload": { "bad": 1 } } })).await;
    let bad = ws
        .until(WAIT, |m| m["channel"] == "post")
        .await
        .expect("post error");
    assert_eq!(bad["data"]["response"]["type"], "error");

    ws.send(json!({ "method": "subscribe", "subscription": { "type": "l2Book", "coin": "NOPE" } }))
        .await;
    let error = ws
        .until(WAIT, |m| m["channel"] == "error")
        .await
        .expect("invalid subscription");
    assert!(
        error["data"]
            .as_str()
            .unwrap()
            .starts_with("Invalid subscription")
    );
    ws.send(json!({ "method": "subscribe", "subscription": { "type": "userEvents", "user": alice.user() } })).await;
    let error = ws
        .until(WAIT, |m| m["channel"] == "error")
        .await
        .expect("already subscribed");
    assert!(
        error["data"]
            .as_str()
            .unwrap()
            .starts_with("Already subscribed")
    );
    ws.send(json!("{not json")).await;
    let error = ws
        .until(WAIT, |m| m["channel"] == "error")
        .await
        .expect("malformed");
    assert!(
        error["data"]
            .as_str()
            .unwrap()
            .starts_with("Error parsing JSON into valid websocket request")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_replays_nothing_and_silent_clients_are_dropped() {
    let (alice, bob) = (Trader::new("replay-alice"), Trader::new("replay-bob"));
    let mut config = quiet_config();
    config.limits.ws_idle_timeout_secs = 1;
    config.fund(alice.address(), Decimal::from(100_000));
    config.fund(bob.address(), Decimal::from(100_000));
    let env = Env::start(config).await;

    let mut first = env.ws().await;
    first
        .subscribe(json!({ "type": "userFills", "user": alice.user() }))
        .await;
    drop(first);
    env.act(
        &bob,
        orders(vec![limit(ETH, false, "3500", "0.01", Tif::Gtc)]),
    )
    .await;
    env.act(
        &alice,
        orders(vec![limit(ETH, true, "3500", "0.01", Tif::Ioc)]),
    )
    .await;
    let mut second = env.ws().await;
    assert_eq!(
        second
            .until(Duration::from_millis(500), |m| m["channel"] == "userFills")
            .await,
        None,
        "no replay without a new subscription"
    );
    second
        .subscribe(json!({ "type": "userFills", "user": alice.user() }))
        .await;
    let snapshot = second
        .until(WAIT, |m| m["channel"] == "userFills")
        .await
        .expect("snapshot");
    assert_eq!(snapshot["data"]["isSnapshot"], true);
    assert_eq!(snapshot["data"]["fills"].as_array().map(Vec::len), Some(1));

    // A client that keeps pinging stays; a silent one is dropped after the idle timeout.
    let mut silent = env.ws().await;
    let mut chatty = env.ws().await;
    for _ in 0..6 {
        chatty.send(json!({ "method": "ping" })).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert!(silent.closed_within(Duration::from_millis(100)).await);
    chatty.send(json!({ "method": "ping" })).await;
    assert!(
        chatty
            .until(WAIT, |m| m["channel"] == "pong")
            .await
            .is_some()
    );
}
