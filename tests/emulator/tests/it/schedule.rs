//! The dead man's switch (scheduleCancel).

use std::time::Duration;

use hyperliquid_core::{Action, ScheduleCancelAction, Tif};
use rust_decimal::Decimal;
use serde_json::json;

use crate::support::*;

fn schedule(time: Option<u64>) -> Action {
    Action::ScheduleCancel(ScheduleCancelAction { time })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_cancel_fires_once_and_is_limited_per_day() {
    let alice = Trader::new("dms-alice");
    let mut config = quiet_config();
    config.fund(alice.address(), Decimal::from(1_000_000));
    config.limits.schedule_cancel_triggers_per_day = 1;
    let env = Env::start(config).await;
    let placed = env
        .act(
            &alice,
            orders(vec![
                limit(BTC, true, "90000", "0.001", Tif::Gtc),
                limit(ETH, false, "4000", "0.01", Tif::Gtc),
            ]),
        )
        .await;
    let oids: Vec<u64> = statuses(&placed).iter().map(resting_oid).collect();
    let mut ws = env.ws().await;
    ws.subscribe(json!({ "type": "userEvents", "user": alice.user() }))
        .await;

    let now = hl_emulator::clock::now_ms();
    let early = env.act(&alice, schedule(Some(now + 2_000))).await;
    assert_eq!(early["status"], "err", "{early}");
    // Set, clear, set again: only the last one counts.
    assert_eq!(
        env.act(&alice, schedule(Some(now + 60_000))).await["status"],
        "ok"
    );
    assert_eq!(env.act(&alice, schedule(None)).await["status"], "ok");
    assert_eq!(
        env.act(&alice, schedule(Some(now + 5_500))).await["status"],
        "ok"
    );

    let event = ws
        .until(Duration::from_secs(10), |m| {
            m["channel"] == "user" && m["data"]["nonUserCancel"].is_array()
        })
        .await
        .expect("nonUserCancel event");
    let cancelled: Vec<u64> = event["data"]["nonUserCancel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["oid"].as_u64().unwrap())
        .collect();
    assert_eq!(cancelled.len(), 2);
    assert!(oids.iter().all(|oid| cancelled.contains(oid)));
    assert!(hl_emulator::clock::now_ms() >= now + 5_500);
    assert_eq!(
        env.info(json!({ "type": "openOrders", "user": alice.user() }))
            .await,
        json!([])
    );
    let status = env
        .info(json!({ "type": "orderStatus", "user": alice.user(), "oid": oids[0] }))
        .await;
    assert_eq!(status["order"]["status"], "scheduledCancel");

    let again = env
        .act(
            &alice,
            schedule(Some(hl_emulator::clock::now_ms() + 10_000)),
        )
        .await;
    assert_eq!(
        again["status"], "err",
        "one trigger a day in this config: {again}"
    );
}
