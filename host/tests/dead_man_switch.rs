//! The dead man's switch: a host that freezes (SIGSTOP) stops refreshing
//! the exchange's scheduled cancel, and the exchange cancels its orders; a
//! host whose strategies stop sending heartbeats lets it fire too.

mod common;

use std::process::Command;
use std::time::Duration;

use common::host_process::{HostFiles, funded_emulator};
use common::orders::{EventLog, OrderEnv, eventually, key, quiet};
use connector_host::config::{DeadManSwitchConfig, ExchangeConfig};
use connector_host::order::{OrderState, OrderType, TimeInForce, TradeType};
use connector_host::trading::OrderCommand;
use serde_json::Value;

fn signal(pid: u32, name: &str) {
    let sent = Command::new("kill")
        .args([name, &pid.to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
}

/// The states published on `host.status.dead_man_switch`, in order.
fn switch_states(events: &EventLog) -> Vec<String> {
    events
        .all()
        .into_iter()
        .filter(|(topic, _)| topic == "host.status.dead_man_switch")
        .map(|(_, body)| {
            body["data"]["state"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_host_has_its_orders_cancelled_by_the_exchange() {
    let seed = "dead man switch host";
    let account = key(seed).address();
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(
        seed,
        &emulator.base_url(),
        "[exchanges.dead_man_switch]\ncancel_after_ms = 5000",
    );
    let events = EventLog::start(&files.events);
    let host = files.start().await;
    let state = || emulator.account_state(account).unwrap_or(Value::Null);

    for price in ["90000", "90010"] {
        files.limit_buy("BTC-USD", price, "0.001");
    }
    eventually(
        "two open orders, the switch armed",
        Duration::from_secs(10),
        || {
            let state = state();
            state["openOrders"]
                .as_array()
                .is_some_and(|open| open.len() == 2)
                && state["scheduledCancel"].is_u64()
        },
    )
    .await;

    // Frozen: no refresh reaches the exchange, which cancels at the deadline.
    signal(host.0.id(), "-STOP");
    eventually(
        "the exchange to cancel every order",
        Duration::from_secs(12),
        || {
            state()["openOrders"]
                .as_array()
                .is_some_and(|open| open.is_empty())
        },
    )
    .await;
    let statuses: Vec<Value> = state()["orders"].as_array().cloned().unwrap_or_default();
    assert!(
        statuses
            .iter()
            .all(|order| order["status"] == "scheduledCancel"),
        "{statuses:?}"
    );

    // Thawed: the host sees the switch fired and arms it again.
    signal(host.0.id(), "-CONT");
    eventually("fired, then armed again", Duration::from_secs(10), || {
        let states = switch_states(&events);
        states.first().map(String::as_str) == Some("armed")
            && states
                .iter()
                .skip_while(|state| *state != "fired")
                .any(|state| state == "armed")
    })
    .await;
    drop(host);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_heartbeats_the_switch_lapses_and_fires() {
    let env = OrderEnv::start_with(quiet(), |exchange| ExchangeConfig {
        dead_man_switch: Some(DeadManSwitchConfig {
            cancel_after_ms: 5_000,
            heartbeat_timeout_ms: Some(1_000),
        }),
        ..exchange
    })
    .await;
    let id = env
        .trading
        .submit(&OrderCommand {
            parent: None,
            stop_loss: None,
            take_profit: None,
            trigger_reference: None,
            trading_pair: "BTC-USD".into(),
            trade_type: TradeType::Buy,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Gtc,
            price: Some("90000".parse().unwrap()),
            amount: "0.001".parse().unwrap(),
            position_action: None,
            reduce_only: false,
            client_order_id: None,
            max_slippage_percent: None,
            trigger_price: None,
        })
        .unwrap();
    env.until_state(id, OrderState::Open, Duration::from_secs(5))
        .await;
    // Heartbeats keep it armed for a while…
    for _ in 0..6 {
        env.trading.heartbeat();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(env.order(id).state, OrderState::Open);
    // …then they stop: the host stops refreshing, and the exchange cancels.
    env.until_state(id, OrderState::Cancelled, Duration::from_secs(12))
        .await;
    eventually("lapsing, then fired", Duration::from_secs(5), || {
        let states = switch_states(&env.events);
        let lapsing = states.iter().position(|state| state == "lapsing");
        let fired = states.iter().position(|state| state == "fired");
        states.first().map(String::as_str) == Some("armed")
            && matches!((lapsing, fired), (Some(l), Some(f)) if l < f)
    })
    .await;
    env.stop().await;
}
