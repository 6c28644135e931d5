//! Commands sent without waiting for one another — modifies back to back,
//! a cancel crossing a modify, random sequences of place, modify, cancel
//! and cancel-all under the emulator's faults — and an order the host lost
//! track of: whatever the interleaving, the host's view of every order
//! converges to the exchange's, and nothing of its own is left open behind
//! its back.
//!
//! The property test runs `ORDER_RACE_CASES` sequences (default 6, sized
//! for CI); a longer run:
//!
//! ```text
//! ORDER_RACE_CASES=100 ./host/run-tests.sh -p connector-host --test order_races -- --nocapture
//! ```

mod common;

use std::time::Duration;

use common::orders::{OrderEnv, eventually, quiet};
use connector_host::order::{ClientOrderId, OrderState, OrderType, OrderUpdate, TradeType};
use connector_host::trading::{Begun, OrderCommand};
use hl_emulator::FaultSettings;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rust_decimal::Decimal;
use serde_json::Value;

fn d(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

/// How long the host may take to agree with the exchange once the
/// commands and faults have stopped.
const CONVERGE_WITHIN: Duration = Duration::from_secs(30);

/// The host state the exchange's newest record for a client id means.
fn expected_state(record: &Value) -> Option<OrderState> {
    let filled = record["filledSz"]
        .as_str()
        .and_then(|text| text.parse::<Decimal>().ok())
        .unwrap_or_default();
    Some(match record["status"].as_str()? {
        "open" if filled > Decimal::ZERO => OrderState::PartiallyFilled,
        "open" => OrderState::Open,
        "filled" => OrderState::Filled,
        "canceled" | "marginCanceled" | "reduceOnlyCanceled" | "selfTradeCanceled"
            if record["tif"] == "Ioc" =>
        {
            OrderState::Expired
        }
        "canceled" | "marginCanceled" | "reduceOnlyCanceled" | "selfTradeCanceled" => {
            OrderState::Cancelled
        }
        _ => return None,
    })
}

/// Every way the host's view of `id` differs from the exchange's (empty
/// when they agree). An order the exchange never saw must be FAILED; a
/// live one must have the exchange's price and size.
fn disagreements(env: &OrderEnv, id: ClientOrderId) -> Vec<String> {
    let Some(host) = env.trading.get(id) else {
        return vec![format!("{id}: not tracked")];
    };
    let Some(truth) = env.exchange_order(id) else {
        return if host.state == OrderState::Failed {
            Vec::new()
        } else {
            vec![format!(
                "{id}: {} in the host, unknown to the exchange",
                host.state
            )]
        };
    };
    let mut differences = Vec::new();
    match expected_state(&truth) {
        Some(expected) if expected == host.state => {}
        // A rejected replacement leaves the order cancelled (a modify).
        None if matches!(host.state, OrderState::Cancelled | OrderState::Failed) => {}
        expected => differences.push(format!(
            "{id}: {} in the host, {expected:?} on the exchange ({truth}); the host's events: {:?}; every exchange record: {}",
            host.state,
            env.events.bodies(id).iter().map(|body| format!("{} {} {}×{} filled {}", body["event_type"], body["data"]["order_state"], body["data"]["price"], body["data"]["amount"], body["data"]["filled_amount"])).collect::<Vec<_>>(),
            env.emulator.account_state(env.account).map(|state| state["orders"].as_array().into_iter().flatten().filter(|o| o["cloid"] == id.to_string()).map(|o| format!("{} {} {}×{} filled {}", o["oid"], o["status"], o["limitPx"], o["origSz"], o["filledSz"])).collect::<Vec<_>>().join("; ")).unwrap_or_default(),
        )),
    }
    if host.state.is_live()
        && (truth["limitPx"].as_str().map(d) != Some(host.spec.price)
            || truth["origSz"].as_str().map(d) != Some(host.spec.amount))
    {
        differences.push(format!(
            "{id}: {} × {} in the host, {} × {} on the exchange",
            host.spec.price, host.spec.amount, truth["limitPx"], truth["origSz"]
        ));
    }
    let open = open_records(env, id);
    if open > 1 {
        differences.push(format!("{id}: {open} open orders on the exchange"));
    }
    differences
}

/// How many orders with `id`'s client id the exchange has open.
fn open_records(env: &OrderEnv, id: ClientOrderId) -> usize {
    env.emulator
        .account_state(env.account)
        .and_then(|state| state["orders"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter(|order| order["cloid"] == id.to_string() && order["status"] == "open")
        .count()
}

/// Waits until the host agrees with the exchange on every order of `ids`;
/// the disagreements left after [`CONVERGE_WITHIN`] otherwise.
async fn converge(env: &OrderEnv, ids: &[ClientOrderId]) -> Result<(), Vec<String>> {
    let start = std::time::Instant::now();
    loop {
        let left: Vec<String> = ids.iter().flat_map(|id| disagreements(env, *id)).collect();
        if left.is_empty() {
            return Ok(());
        }
        if start.elapsed() > CONVERGE_WITHIN {
            return Err(left);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_to_back_modifies_leave_one_live_order_as_the_last_one_asked() {
    let env = OrderEnv::start(quiet()).await;
    // Each pair went out without waiting; the second waits for the first.
    let pairs = [
        ((None, Some("0.002")), (None, Some("0.003"))),
        ((Some("95100"), None), (None, Some("0.003"))),
        ((Some("95100"), Some("0.002")), (Some("95200"), None)),
        ((None, Some("0.003")), (Some("94900"), Some("0.002"))),
    ];
    let mut held = 0;
    for trial in 0..12 {
        let id = env.resting_buy("95000", "0.001").await;
        let (first, second) = pairs[trial % pairs.len()];
        let modify = |(price, amount): (Option<&str>, Option<&str>)| {
            env.trading.modify(id, price.map(d), amount.map(d))
        };
        assert_eq!(modify(first).expect("first modify"), Begun::Now);
        // Held while the first is under way — unless this thread lost its
        // core for as long as the first took (a loaded machine): then the
        // second goes at once, and the outcome must be the same.
        if modify(second).expect("second modify") == Begun::Held {
            held += 1;
        }
        let price = second.0.or(first.0).unwrap_or("95000");
        let amount = second.1.or(first.1).unwrap_or("0.001");
        eventually(
            &format!("trial {trial}: {price} × {amount}"),
            CONVERGE_WITHIN,
            || {
                env.trading
                    .get(id)
                    .is_some_and(|o| o.spec.price == d(price) && o.spec.amount == d(amount))
            },
        )
        .await;
        if let Err(left) = converge(&env, &[id]).await {
            panic!("trial {trial}: {left:#?}");
        }
        assert_eq!(env.order(id).state, OrderState::Open, "trial {trial}");
        assert_eq!(open_records(&env, id), 1, "trial {trial}");
        env.trading.cancel(id).expect("cancel");
        env.until_state(id, OrderState::Cancelled, Duration::from_secs(5))
            .await;
        assert_eq!(open_records(&env, id), 0, "trial {trial}");
    }
    assert!(held > 0, "no second modify was ever held behind the first");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_crossing_a_modify_leaves_nothing_open() {
    let env = OrderEnv::start(quiet()).await;
    for trial in 0..6 {
        let id = env.resting_buy("95000", "0.001").await;
        env.trading
            .modify(id, None, Some(d("0.002")))
            .expect("modify");
        // A held modify is dropped by the cancel.
        if trial % 2 == 1 {
            env.trading
                .modify(id, Some(d("95100")), None)
                .expect("modify");
        }
        env.trading.cancel(id).expect("cancel");
        env.until_state(id, OrderState::Cancelled, CONVERGE_WITHIN)
            .await;
        if let Err(left) = converge(&env, &[id]).await {
            panic!("trial {trial}: {left:#?}");
        }
        assert_eq!(open_records(&env, id), 0, "trial {trial}");
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partly_filled_order_is_modified_for_what_is_left() {
    // Hyperliquid's modify places a new order for the size it names: the
    // plugin's manifest says so (`modify_size = remaining`), and the host
    // sends what is left of the order's total.
    let env = OrderEnv::start(quiet()).await;
    let id = env.resting_buy("95000", "0.003").await;
    env.counterparty
        .order(0, false, "95000", "0.001", hyperliquid_core::Tif::Ioc)
        .await;
    env.until_state(id, OrderState::PartiallyFilled, Duration::from_secs(5))
        .await;
    // At or below what has filled: refused, nothing sent.
    let error = env
        .trading
        .modify(id, None, Some(d("0.001")))
        .expect_err("refused");
    assert_eq!(error.code(), "invalid_order");
    assert!(error.to_string().contains("new total"), "{error}");

    env.trading
        .modify(id, Some(d("95100")), None)
        .expect("a price modify");
    let on_exchange = |price: &'static str, rest: &'static str| {
        let env = &env;
        move || {
            env.exchange_order(id).is_some_and(|truth| {
                truth["limitPx"] == price
                    && truth["remainingSz"] == rest
                    && truth["status"] == "open"
            })
        }
    };
    eventually(
        "the exchange rests the unfilled 0.002 at 95100",
        Duration::from_secs(5),
        on_exchange("95100", "0.002"),
    )
    .await;
    eventually(
        "the host's record of the modify",
        Duration::from_secs(5),
        || {
            env.trading
                .get(id)
                .is_some_and(|order| order.spec.price == d("95100"))
        },
    )
    .await;
    let order = env.trading.get(id).expect("tracked");
    assert_eq!(order.spec.amount, d("0.003"), "the total, fills included");
    assert_eq!(order.filled_amount, d("0.001"));
    assert_eq!(order.venue_size_base, d("0.001"));
    assert_eq!(order.state, OrderState::PartiallyFilled);

    // A larger total rests the new total less the fills.
    env.trading
        .modify(id, None, Some(d("0.005")))
        .expect("a size modify");
    eventually(
        "the exchange rests 0.004",
        Duration::from_secs(5),
        on_exchange("95100", "0.004"),
    )
    .await;
    eventually("the host's total of 0.005", Duration::from_secs(5), || {
        env.trading
            .get(id)
            .is_some_and(|order| order.spec.amount == d("0.005"))
    })
    .await;

    // The reconciliation reads the exchange's size of the replacement
    // (0.004) from the fills before it: the host's total stands.
    env.trading.reconcile().await;
    let order = env.trading.get(id).expect("tracked");
    assert_eq!(order.spec.amount, d("0.005"), "{order:?}");

    // Filling what rests fills the order.
    env.counterparty
        .order(0, false, "95100", "0.004", hyperliquid_core::Tif::Ioc)
        .await;
    let order = env
        .until_state(id, OrderState::Filled, Duration::from_secs(5))
        .await;
    assert_eq!(order.filled_amount, d("0.005"));
    assert_eq!(open_records(&env, id), 0);
    env.stop().await;
}

/// Makes the host believe `id` was cancelled, as a bug would.
fn lose_track(env: &OrderEnv, id: ClientOrderId) {
    env.trading
        .tracker()
        .process_order_update(&OrderUpdate {
            client_order_id: id,
            exchange_order_id: None,
            new_state: OrderState::Cancelled,
            timestamp_ms: 1,
            reason: Some("a host bug".into()),
        })
        .expect("the test's update");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_reopens_an_own_order_the_exchange_still_has_open() {
    let env = OrderEnv::start(quiet()).await;
    let id = env.resting_buy("95000", "0.001").await;
    lose_track(&env, id);
    env.trading.reconcile().await;
    let order = env
        .until_state(id, OrderState::Open, Duration::from_secs(10))
        .await;
    assert!(
        order
            .reason
            .as_deref()
            .is_some_and(|reason| reason.starts_with("reopened")),
        "{order:?}"
    );
    eventually("the reopening event", Duration::from_secs(5), || {
        let events = env.events.of(id);
        let states: Vec<&str> = events.iter().map(|(_, state)| state.as_str()).collect();
        states.ends_with(&["CANCELLED", "OPEN"])
    })
    .await;
    // Live again: cancellable like any other order.
    env.trading.cancel(id).expect("cancel");
    env.until_state(id, OrderState::Cancelled, Duration::from_secs(5))
        .await;
    assert_eq!(open_records(&env, id), 0);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kill_switch_and_cancel_all_cancel_what_the_exchange_lists() {
    let env = OrderEnv::start(quiet()).await;
    for engage in [false, true] {
        let id = env.resting_buy("95000", "0.001").await;
        lose_track(&env, id);
        let asked = if engage {
            env.trading.engage_kill_switch("drill")
        } else {
            env.trading.cancel_all(None)
        };
        assert!(asked.is_empty(), "the host thought nothing was live");
        // A strategy quoting again right after its cancel_all.
        let fresh = (!engage).then(|| {
            env.trading
                .submit(&common::buy_order(
                    "BTC-USD",
                    "94000",
                    "0.001",
                    OrderType::Limit,
                ))
                .expect("a new order after cancel_all")
        });
        eventually(
            "the exchange to have cancelled the forgotten order",
            Duration::from_secs(10),
            || open_records(&env, id) == 0,
        )
        .await;
        let checked: Vec<ClientOrderId> = [id].into_iter().chain(fresh).collect();
        if let Err(left) = converge(&env, &checked).await {
            panic!("{left:#?}");
        }
        if let Some(fresh) = fresh {
            assert_eq!(
                env.order(fresh).state,
                OrderState::Open,
                "an order placed after cancel_all is not swept"
            );
            env.trading.cancel(fresh).expect("cancel");
            env.until_state(fresh, OrderState::Cancelled, Duration::from_secs(5))
                .await;
        }
    }
    env.trading.release_kill_switch();
    env.stop().await;
}

/// One step of a random sequence.
#[derive(Debug, Clone)]
enum Step {
    /// A limit buy or sell this many dollars from 100 000 on the passive
    /// side (negative: crossing), of this many thousandths.
    Place { buy: bool, offset: i64, size: u32 },
    /// Modify the n-th order placed (modulo), to a new offset and/or size.
    Modify {
        which: usize,
        offset: Option<i64>,
        size: Option<u32>,
    },
    /// Cancel the n-th order placed (modulo).
    Cancel { which: usize },
    /// Cancel every live order.
    CancelAll,
    /// A counterparty sweep that fills every crossed host order on one
    /// side, whole.
    Sweep { buy: bool },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (any::<bool>(), -50i64..400, 1u32..4)
            .prop_map(|(buy, offset, size)| Step::Place { buy, offset, size }),
        4 => (any::<usize>(), prop::option::of(-50i64..400), prop::option::of(1u32..4))
            .prop_map(|(which, offset, size)| Step::Modify { which, offset, size }),
        2 => any::<usize>().prop_map(|which| Step::Cancel { which }),
        1 => Just(Step::CancelAll),
        1 => any::<bool>().prop_map(|buy| Step::Sweep { buy }),
    ]
}

/// The emulator's faults during one sequence, by number.
fn faults(which: u8) -> FaultSettings {
    let mut settings = FaultSettings {
        reset: true,
        ..FaultSettings::default()
    };
    match which % 6 {
        0 => {}
        1 => settings.ws_delay_ms = Some(150),
        2 => {
            settings.http_5xx_probability = Some(0.2);
            settings.http_5xx_after_apply = Some(true);
        }
        3 => {
            settings.exchange_late_probability = Some(0.2);
            settings.exchange_late_ms = Some(1_500);
        }
        4 => settings.ws_reorder_probability = Some(0.2),
        _ => settings.ws_drop_probability = Some(0.02),
    }
    settings
}

fn price(buy: bool, offset: i64) -> String {
    let price = if buy {
        100_000 - offset
    } else {
        100_000 + offset
    };
    // Five significant figures at 100 000.
    (price / 10 * 10).to_string()
}

/// Sends `steps` without waiting, under `fault`, then checks that the host
/// converges to the exchange on every order the sequence placed.
async fn run_sequence(env: &OrderEnv, fault: u8, steps: &[Step]) -> Result<(), TestCaseError> {
    env.emulator.set_faults(&faults(fault)).expect("faults");
    let mut placed: Vec<(ClientOrderId, bool)> = Vec::new();
    for step in steps {
        match step {
            Step::Place { buy, offset, size } => {
                let command = OrderCommand {
                    trade_type: if *buy {
                        TradeType::Buy
                    } else {
                        TradeType::Sell
                    },
                    ..common::buy_order(
                        "BTC-USD",
                        &price(*buy, *offset),
                        &format!("0.00{size}"),
                        OrderType::Limit,
                    )
                };
                if let Ok(id) = env.trading.submit(&command) {
                    placed.push((id, *buy));
                }
            }
            Step::Modify {
                which,
                offset,
                size,
            } => {
                if let Some(&(id, buy)) = placed.get(which % placed.len().max(1)) {
                    let _ = env.trading.modify(
                        id,
                        offset.map(|offset| d(&price(buy, offset))),
                        size.map(|size| d(&format!("0.00{size}"))),
                    );
                }
            }
            Step::Cancel { which } => {
                if let Some(&(id, _)) = placed.get(which % placed.len().max(1)) {
                    let _ = env.trading.cancel(id);
                }
            }
            Step::CancelAll => {
                env.trading.cancel_all(None);
            }
            Step::Sweep { buy } => {
                // Large enough to fill every crossed order whole: a modify
                // racing a partial fill on a venue whose modify places what
                // is left anew (Hyperliquid) rests the part that filled in
                // between again — the venue's race, which no client can
                // close (a partly filled modify is tested on its own).
                let price = if *buy { "100500" } else { "99500" };
                let _ = env
                    .counterparty
                    .try_order(0, *buy, price, "0.1", hyperliquid_core::Tif::Ioc)
                    .await;
            }
        }
    }
    env.emulator
        .set_faults(&FaultSettings {
            reset: true,
            ..FaultSettings::default()
        })
        .expect("calm");
    let ids: Vec<ClientOrderId> = placed.iter().map(|(id, _)| *id).collect();
    let started = std::time::Instant::now();
    let result = converge(env, &ids).await;
    println!(
        "fault {}: {} steps, {} orders, agreed after {:.1} s: {}",
        fault % 6,
        steps.len(),
        ids.len(),
        started.elapsed().as_secs_f64(),
        result.is_ok()
    );
    // Leave nothing resting for the next sequence.
    env.trading.cancel_all(None);
    eventually("no live orders", CONVERGE_WITHIN, || {
        env.trading.open_orders(None).is_empty()
    })
    .await;
    result.map_err(|left| TestCaseError::fail(format!("{left:#?}")))
}

#[test]
fn random_command_sequences_under_faults_converge_to_the_exchange() {
    let cases = std::env::var("ORDER_RACE_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(6);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let env = runtime.block_on(OrderEnv::start(quiet()));
    let mut runner = TestRunner::new(Config {
        cases,
        // Each case drives a live exchange: shrinking would replay it with
        // other timings, so the failing sequence is reported as it was.
        max_shrink_iters: 0,
        failure_persistence: None,
        ..Config::default()
    });
    let sequences = (any::<u8>(), prop::collection::vec(step(), 4..24));
    let result = runner.run(&sequences, |(fault, steps)| {
        runtime.block_on(run_sequence(&env, fault, &steps))
    });
    runtime.block_on(env.stop());
    if let Err(error) = result {
        panic!("{error}");
    }
}
