//! Subscribers never blind: a subscriber that starts late, misses events or
//! sees the host restart asks for the order events it missed (`replay`,
//! by run and seq) and for the state now (`snapshot`), and gets exactly
//! what was published — across a SIGKILL and a restart.

mod common;

use std::time::Duration;

use common::host_process::{HostFiles, funded_emulator};
use common::orders::{EventLog, eventually};
use serde_json::{Value, json};

/// Every `orders.hl` event after `after`, page by page (`limit` each).
fn replay_all(
    files: &HostFiles,
    after: Option<Value>,
    limit: usize,
) -> (Vec<(String, Value)>, Value) {
    let mut events = Vec::new();
    let mut after = after.unwrap_or(Value::Null);
    loop {
        let reply = files
            .command(
                json!({"cmd": "replay", "family": "orders.hl", "after": after, "limit": limit}),
            )
            .expect("reply");
        assert_eq!(reply["ok"], true, "{reply}");
        let page = &reply["result"];
        assert_eq!(page["missing"], false, "{page}");
        let got = page["events"].as_array().expect("events");
        assert!(got.len() <= limit);
        for event in got {
            events.push((
                event["topic"].as_str().expect("topic").to_owned(),
                event["body"].clone(),
            ));
        }
        after = page["next"].clone();
        if page["complete"] == true {
            return (events, page.clone());
        }
    }
}

/// Waits until the history after `after` holds `expected` (it is flushed
/// within a few milliseconds of publishing).
async fn kept(files: &HostFiles, after: Option<Value>, expected: &[(String, Value)]) {
    eventually(
        "the history to hold what was published",
        Duration::from_secs(5),
        || replay_all(files, after.clone(), 1_000).0 == expected,
    )
    .await;
}

/// The order events a live subscriber saw.
fn live_orders(log: &EventLog) -> Vec<(String, Value)> {
    log.all()
        .into_iter()
        .filter(|(topic, _)| topic.starts_with("orders.hl."))
        .collect()
}

fn position(body: &Value) -> Value {
    json!({"run": body["run"], "seq": body["seq"]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_subscriber_gets_every_order_event_again_across_a_restart() {
    let seed = "replay host";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let live = EventLog::start(&files.events);
    let host = files.start().await;

    let first = files.limit_buy("BTC-USD", "90000", "0.001");
    let second = files.limit_buy("BTC-USD", "90001", "0.001");
    files.until_open(&json!(first)).await;
    files.until_open(&json!(second)).await;
    let cancel = files
        .command(json!({"cmd": "cancel", "client_order_id": second}))
        .expect("reply");
    assert_eq!(cancel["ok"], true, "{cancel}");
    eventually("the cancel published", Duration::from_secs(10), || {
        live_orders(&live).iter().any(|(topic, body)| {
            topic == "orders.hl.cancelled" && body["data"]["client_order_id"] == second
        })
    })
    .await;

    // From the start, in pages of 2: every event, byte for byte as
    // published, in order (the history is flushed within 5 ms).
    let seen = live_orders(&live);
    kept(&files, None, &seen).await;
    let (replayed, last_page) = replay_all(&files, None, 2);
    assert_eq!(replayed, seen);
    let run = seen[0].1["run"].as_u64().expect("run");
    assert!(run >= 1);
    assert!(seen.iter().all(|(_, body)| body["run"] == run));
    // From any event on: what followed it.
    let (after_two, _) = replay_all(&files, Some(position(&seen[1].1)), 1_000);
    assert_eq!(after_two, seen[2..]);
    assert_eq!(last_page["next"], position(&seen[seen.len() - 1].1));

    // The state now, with where it stands in each family.
    let snapshot = files.command(json!({"cmd": "snapshot"})).expect("reply");
    assert_eq!(snapshot["ok"], true, "{snapshot}");
    let hl = &snapshot["result"]["exchanges"][0];
    assert_eq!(snapshot["result"]["run"], run);
    assert_eq!(hl["exchange"], "hl");
    assert_eq!(hl["orders"]["seq"], seen[seen.len() - 1].1["seq"]);
    let open: Vec<&Value> = hl["orders"]["open"]
        .as_array()
        .expect("open")
        .iter()
        .collect();
    assert_eq!(open.len(), 1, "{hl}");
    assert_eq!(open[0]["client_order_id"], first);
    assert_eq!(hl["books"][0]["symbol"], "BTC-USD");
    assert!(hl["kill_switch"].is_null());
    eventually(
        "the balance in the snapshot",
        Duration::from_secs(10),
        || {
            files
                .command(json!({"cmd": "snapshot", "exchange": "hl"}))
                .is_some_and(|reply| {
                    reply["result"]["exchanges"][0]["account"]["balances"]
                        .as_array()
                        .is_some_and(|balances| !balances.is_empty())
                })
        },
    )
    .await;

    // Balances and positions are kept too.
    let account = files
        .command(json!({"cmd": "replay", "family": "account.hl"}))
        .expect("reply");
    assert!(
        account["result"]["events"]
            .as_array()
            .is_some_and(|events| events.iter().any(|e| e["topic"] == "account.hl.balance")),
        "{account}"
    );

    // SIGKILL, restart: a new run; a subscriber that had seen up to the
    // last event of the first run gets what the second published.
    let before_kill = seen.len();
    drop(host);
    let _host = files.start().await;
    let third = files.limit_buy("BTC-USD", "90002", "0.001");
    files.until_open(&json!(third)).await;
    let live_now = live_orders(&live);
    let second_run: Vec<(String, Value)> = live_now[before_kill..].to_vec();
    assert!(
        second_run
            .iter()
            .all(|(_, body)| body["run"].as_u64() > Some(run)),
        "{second_run:?}"
    );
    let last_before_kill = Some(position(&seen[before_kill - 1].1));
    kept(&files, last_before_kill.clone(), &second_run).await;
    let (after_restart, _) = replay_all(&files, last_before_kill, 3);
    assert_eq!(after_restart, second_run);
    assert!(
        after_restart
            .iter()
            .any(|(_, body)| body["data"]["client_order_id"] == third)
    );

    // A position whose events are gone (another state folder, or older than
    // the retention) is said to be so.
    let gone = files
        .command(json!({"cmd": "replay", "family": "orders.hl", "after": {"run": 0, "seq": 5}}))
        .expect("reply");
    assert_eq!(gone["result"]["missing"], true, "{gone}");
    let refused = files
        .command(json!({"cmd": "replay", "family": "market.hl"}))
        .expect("reply");
    assert_eq!(refused["error"]["code"], "bad_request", "{refused}");
    emulator.shutdown().await;
}
