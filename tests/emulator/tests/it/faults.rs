//! Every fault, switched through the admin API.

use std::time::{Duration, Instant};

use hyperliquid_core::{Cloid, Tif};
use serde_json::{Value, json};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(5);

async fn set(env: &Env, faults: Value) -> Value {
    env.http.admin("/admin/faults", faults).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_drops() {
    let env = Env::quiet(&[]).await;
    let (mut one, mut two) = (env.ws().await, env.ws().await);
    set(&env, json!({ "ws_drop_now": true })).await;
    assert!(one.closed_within(WAIT).await);
    assert!(two.closed_within(WAIT).await);

    let mut three = env.ws().await;
    set(&env, json!({ "ws_drop_probability": 1.0 })).await;
    three.send(json!({ "method": "ping" })).await;
    assert!(three.closed_within(WAIT).await, "the pong draws a drop");
    set(&env, json!({ "reset": true })).await;
    let mut four = env.ws().await;
    four.send(json!({ "method": "ping" })).await;
    assert!(four.until(WAIT, |m| m["channel"] == "pong").await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_silence_keeps_the_socket_open() {
    let env = Env::quiet(&[]).await;
    let mut ws = env.ws().await;
    ws.subscribe(json!({ "type": "allMids" })).await;
    assert!(
        ws.until(WAIT, |m| m["channel"] == "allMids")
            .await
            .is_some()
    );
    let state = set(&env, json!({ "ws_silence_secs": 2 })).await;
    assert!(
        state["wsSilenceMsLeft"]
            .as_u64()
            .is_some_and(|ms| ms > 1_000)
    );
    let started = Instant::now();
    ws.send(json!({ "method": "ping" })).await;
    // Frames queued before the switch may still arrive; then nothing until the silence ends.
    let mut last_frame = Instant::now();
    while let Some(_frame) = ws.next_text(Duration::from_millis(700)).await {
        last_frame = Instant::now();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "frames kept coming during the silence"
        );
    }
    assert!(last_frame.duration_since(started) < Duration::from_millis(300));
    // Still open: after the silence, data flows again on the same socket.
    assert!(
        ws.until(WAIT, |m| m["channel"] == "allMids")
            .await
            .is_some()
    );
    assert!(started.elapsed() >= Duration::from_millis(1_900));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_delay_duplicate_reorder_and_malformed() {
    let env = Env::quiet(&[]).await;
    let mut ws = env.ws().await;

    set(&env, json!({ "ws_delay_ms": 400 })).await;
    let sent = Instant::now();
    ws.send(json!({ "method": "ping" })).await;
    assert!(ws.until(WAIT, |m| m["channel"] == "pong").await.is_some());
    assert!(
        sent.elapsed() >= Duration::from_millis(380),
        "{:?}",
        sent.elapsed()
    );

    set(
        &env,
        json!({ "reset": true, "ws_duplicate_probability": 1.0 }),
    )
    .await;
    ws.send(json!({ "method": "ping" })).await;
    assert!(ws.until(WAIT, |m| m["channel"] == "pong").await.is_some());
    assert!(
        ws.until(WAIT, |m| m["channel"] == "pong").await.is_some(),
        "the duplicate"
    );

    set(
        &env,
        json!({ "reset": true, "ws_reorder_probability": 1.0 }),
    )
    .await;
    ws.send(json!({ "method": "ping" })).await;
    ws.send(json!({ "method": "post", "id": 5, "request": { "type": "info", "payload": { "type": "allMids" } } }))
        .await;
    let first = ws.until(WAIT, |_| true).await.expect("first");
    let second = ws.until(WAIT, |_| true).await.expect("second");
    assert_eq!(
        (first["channel"].clone(), second["channel"].clone()),
        (json!("post"), json!("pong"))
    );

    set(
        &env,
        json!({ "reset": true, "ws_malformed_probability": 1.0 }),
    )
    .await;
    ws.send(json!({ "method": "ping" })).await;
    let text = ws.next_text(WAIT).await.expect("a frame");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_429_and_5xx() {
    let alice = Trader::new("http-alice");
    let env = Env::quiet(&[&alice]).await;
    let mids = json!({ "type": "allMids" });
    set(&env, json!({ "http_429_next": 2 })).await;
    assert_eq!(env.http.post("/info", &mids).await.0, 429);
    assert_eq!(env.http.post("/info", &mids).await.0, 429);
    assert_eq!(env.http.post("/info", &mids).await.0, 200);

    set(&env, json!({ "http_5xx_next": 1 })).await;
    let order = |n| {
        alice.sign(
            orders(vec![with_cloid(
                limit(BTC, true, "90000", "0.001", Tif::Gtc),
                n,
            )]),
            alice.next_nonce(),
            None,
        )
    };
    let (status, _) = env
        .http
        .request("POST", "/exchange", order(1).to_json().unwrap())
        .await;
    assert!([500, 502, 503, 504].contains(&status), "{status}");
    let lookup = |n: u128| json!({ "type": "orderStatus", "user": alice.user(), "oid": Cloid::from_u128(n).to_string() });
    assert_eq!(
        env.info(lookup(1)).await["status"],
        "unknownOid",
        "not applied"
    );

    set(
        &env,
        json!({ "http_5xx_next": 1, "http_5xx_after_apply": true }),
    )
    .await;
    let (status, _) = env
        .http
        .request("POST", "/exchange", order(2).to_json().unwrap())
        .await;
    assert!(status >= 500);
    assert_eq!(
        env.info(lookup(2)).await["order"]["status"],
        "open",
        "applied despite the 5xx"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_and_late_actions_are_applied() {
    let alice = Trader::new("hang-alice");
    let env = Env::quiet(&[&alice]).await;
    let order = |n| {
        alice.sign(
            orders(vec![with_cloid(
                limit(BTC, true, "90000", "0.001", Tif::Gtc),
                n,
            )]),
            alice.next_nonce(),
            None,
        )
    };
    let lookup = |n: u128| json!({ "type": "orderStatus", "user": alice.user(), "oid": Cloid::from_u128(n).to_string() });

    set(&env, json!({ "exchange_hang_next": 1 })).await;
    let hung =
        tokio::time::timeout(Duration::from_secs(1), env.http.exchange_owned(order(1))).await;
    assert!(hung.is_err(), "never answered");
    assert_eq!(env.info(lookup(1)).await["order"]["status"], "open");

    set(
        &env,
        json!({ "exchange_late_next": 1, "exchange_late_ms": 800 }),
    )
    .await;
    let started = Instant::now();
    let answer = env.http.exchange(&order(2)).await;
    assert!(started.elapsed() >= Duration::from_millis(780));
    resting_oid(&statuses(&answer)[0]);

    // Over the socket too: the post answer never comes, the action is applied.
    set(&env, json!({ "exchange_hang_next": 1 })).await;
    let mut ws = env.ws().await;
    let payload: Value = serde_json::from_str(&order(3).to_json().unwrap()).unwrap();
    ws.send(
        json!({ "method": "post", "id": 1, "request": { "type": "action", "payload": payload } }),
    )
    .await;
    assert!(
        ws.until(Duration::from_millis(700), |m| m["channel"] == "post")
            .await
            .is_none()
    );
    assert_eq!(env.info(lookup(3)).await["order"]["status"], "open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_only_window() {
    let alice = Trader::new("upgrade-alice");
    let env = Env::quiet(&[&alice]).await;
    set(&env, json!({ "post_only_secs": 30 })).await;
    let answer = env
        .act(
            &alice,
            orders(vec![
                limit(BTC, true, "90000", "0.001", Tif::Gtc),
                limit(BTC, true, "90000", "0.001", Tif::Alo),
            ]),
        )
        .await;
    let results = statuses(&answer);
    assert_eq!(
        results[0]["error"],
        "Only post-only orders allowed immediately after network upgrade"
    );
    resting_oid(&results[1]);
    set(&env, json!({ "post_only_secs": 0 })).await;
    resting_oid(
        &statuses(
            &env.act(
                &alice,
                orders(vec![limit(BTC, true, "90000", "0.001", Tif::Gtc)]),
            )
            .await,
        )[0],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_deterministic_for_a_seed() {
    async fn run(seed: u64) -> Vec<u16> {
        let mut config = quiet_config();
        config.seed = seed;
        config.faults.http_5xx_probability = Some(0.3);
        config.faults.http_429_probability = Some(0.2);
        let env = Env::start(config).await;
        let mut codes = Vec::new();
        for _ in 0..40 {
            codes.push(env.http.post("/info", &json!({ "type": "meta" })).await.0);
        }
        codes
    }
    let first = run(11).await;
    assert_eq!(first, run(11).await);
    assert!(first.contains(&200) && first.contains(&429) && first.iter().any(|c| *c >= 500));
    let (status, text) = Env::quiet(&[])
        .await
        .http
        .post("/admin/faults", &json!({ "ws_drop_probability": 2.0 }))
        .await;
    assert_eq!(status, 400, "{text}");
}
