//! The order path end to end against the emulator, with the real signer:
//! fills, cancels, rejections, unknown outcomes resolved both ways, and a
//! dropped user stream that loses no fill. Every transition reaches a
//! subscriber.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::orders::{OrderEnv, eventually, quiet};
use connector_host::config::{ExchangeConfig, Limits, OrderTransport, RateLimitConfig};
use connector_host::order::{ClientOrderId, OrderState, OrderType, TimeInForce, TradeType};
use connector_host::trading::{CommandError, OrderCommand};
use hl_emulator::FaultSettings;
use hyperliquid_core::Tif;
use rust_decimal::Decimal;

const BTC: u32 = 0;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn buy(price: &str, amount: &str, order_type: OrderType) -> OrderCommand {
    common::buy_order("BTC-USD", price, amount, order_type)
}

/// A limit buy whose sending the emulator's fault leaves with an unknown
/// outcome.
async fn buy_with_unknown_outcome(env: &OrderEnv) -> ClientOrderId {
    let id = env
        .trading
        .submit(&buy("96000", "0.001", OrderType::Limit))
        .unwrap();
    eventually("the outcome to be unknown", Duration::from_secs(5), || {
        env.trading
            .get(id)
            .is_some_and(|o| o.outcome_unknown.is_some())
    })
    .await;
    id
}

/// A counterparty's resting sell at 100000, then a post-only buy of the
/// host's at `price`.
async fn post_only_buy_under_an_ask(env: &OrderEnv, price: &str) -> ClientOrderId {
    env.counterparty
        .order(BTC, false, "100000", "0.01", Tif::Gtc)
        .await;
    env.trading
        .submit(&buy(price, "0.001", OrderType::LimitMaker))
        .unwrap()
}

/// True when no connection of the host ever went down.
fn never_down(env: &OrderEnv) -> bool {
    !env.events
        .all()
        .iter()
        .any(|(topic, body)| topic == "host.status.connection" && body["data"]["state"] == "down")
}

fn strings(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_then_partial_fill_then_fill() {
    let env = OrderEnv::start(quiet()).await;
    let id = env.resting_buy("100000", "0.003").await;

    env.counterparty
        .order(BTC, false, "100000", "0.001", Tif::Ioc)
        .await;
    let partial = env
        .until_state(id, OrderState::PartiallyFilled, Duration::from_secs(5))
        .await;
    assert_eq!(partial.filled_amount, d("0.001"));

    env.counterparty
        .order(BTC, false, "99000", "0.002", Tif::Ioc)
        .await;
    let filled = env
        .until_state(id, OrderState::Filled, Duration::from_secs(5))
        .await;
    assert_eq!(filled.filled_amount, d("0.003"));
    assert_eq!(filled.average_executed_price(), Some(d("100000")));
    assert_eq!(filled.fill_count(), 2);
    assert!(filled.fee_paid() > Decimal::ZERO);

    // The exchange agrees.
    let truth = env.exchange_order(id).expect("on the exchange");
    assert_eq!(truth["status"], "filled");
    assert_eq!(truth["filledSz"], "0.003");

    eventually("every event", Duration::from_secs(2), || {
        env.events.of(id).len() >= 5
    })
    .await;
    assert_eq!(
        env.events.of(id),
        strings(&[
            ("created", "PENDING_CREATE"),
            ("update", "PENDING_SUBMIT"),
            ("update", "OPEN"),
            ("partial_fill", "PARTIALLY_FILLED"),
            ("filled", "FILLED"),
        ])
    );
    let bodies = env.events.bodies(id);
    let seqs: Vec<u64> = bodies.iter().map(|b| b["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] > w[0]));
    assert_eq!(bodies[4]["data"]["filled_amount"].to_string(), "0.003");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_then_cancel() {
    let env = OrderEnv::start(quiet()).await;
    let id = env.resting_buy("95000", "0.001").await;
    env.trading.cancel(id).unwrap();
    env.until_state(id, OrderState::Cancelled, Duration::from_secs(5))
        .await;
    assert_eq!(
        env.exchange_order(id).expect("on the exchange")["status"],
        "canceled"
    );
    eventually("every event", Duration::from_secs(2), || {
        env.events.of(id).len() >= 5
    })
    .await;
    assert_eq!(
        env.events.of(id),
        strings(&[
            ("created", "PENDING_CREATE"),
            ("update", "PENDING_SUBMIT"),
            ("update", "OPEN"),
            ("update", "PENDING_CANCEL"),
            ("cancelled", "CANCELLED"),
        ])
    );
    // A second cancel of a closed order is refused with a clear error.
    let error = env.trading.cancel(id).unwrap_err();
    assert_eq!(error.code(), "order_closed");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_reaches_failed_with_the_exchanges_reason() {
    let env = OrderEnv::start(quiet()).await;
    // A post-only buy at the ask would cross.
    let id = post_only_buy_under_an_ask(&env, "100000").await;
    let failed = env
        .until_state(id, OrderState::Failed, Duration::from_secs(5))
        .await;
    let reason = failed.reason.unwrap();
    // The exchange's words: its status (`badAloPxRejected`, on the stream)
    // or its sentence (in the answer), whichever arrived first.
    assert!(reason.starts_with("rejected: "), "{reason}");
    let lower = reason.to_lowercase();
    assert!(
        lower.contains("post only") || lower.contains("badalopx"),
        "{reason}"
    );
    eventually("the failed event", Duration::from_secs(2), || {
        env.events
            .of(id)
            .last()
            .is_some_and(|(topic, _)| topic == "failed")
    })
    .await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_outcome_is_resolved_the_order_existed() {
    let env = OrderEnv::start(quiet()).await;
    // The exchange applies the order but never answers, and its sockets go
    // quiet: only a query can tell the host what happened.
    env.emulator
        .set_faults(&FaultSettings {
            exchange_hang_next: Some(1),
            ws_silence_secs: Some(4),
            ..FaultSettings::default()
        })
        .unwrap();
    let id = buy_with_unknown_outcome(&env).await;
    assert_eq!(
        env.order(id).state,
        OrderState::PendingSubmit,
        "never failed without proof"
    );
    // A query (the refill after the silent socket is replaced, or the one
    // after expiresAfter) finds it.
    let open = env
        .until_state(id, OrderState::Open, Duration::from_secs(10))
        .await;
    assert!(open.outcome_unknown.is_none());
    assert!(open.exchange_order_id.is_some());
    assert!(
        env.events
            .bodies(id)
            .iter()
            .any(|b| b["data"]["outcome_unknown"] == true)
    );
    assert!(!env.events.of(id).iter().any(|(topic, _)| topic == "failed"));
    env.stop().await;
}

/// An IOC order whose answer was lost, cancelled while in doubt: the
/// exchange's rejection (nothing to match) proves it failed, whatever id
/// the rejection names — the order was never live. (Found by the
/// three-venue soak: the host took the rejected order's id for an
/// acknowledgement and called the order cancelled.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ioc_in_doubt_cancelled_and_found_rejected_failed() {
    let env = OrderEnv::start(quiet()).await;
    env.emulator
        .set_faults(&FaultSettings {
            exchange_hang_next: Some(1),
            ws_silence_secs: Some(4),
            ..FaultSettings::default()
        })
        .unwrap();
    let id = env
        .trading
        .submit(&OrderCommand {
            time_in_force: TimeInForce::Ioc,
            ..buy("96000", "0.001", OrderType::Limit)
        })
        .unwrap();
    eventually("the outcome to be unknown", Duration::from_secs(5), || {
        env.trading
            .get(id)
            .is_some_and(|o| o.outcome_unknown.is_some())
    })
    .await;
    env.trading.cancel(id).unwrap();
    let failed = env
        .until_state(id, OrderState::Failed, Duration::from_secs(15))
        .await;
    assert!(failed.filled_amount.is_zero());
    assert_eq!(
        env.exchange_order(id).expect("the exchange has it")["status"],
        "iocCancelRejected"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_outcome_is_resolved_the_order_never_existed() {
    let env = OrderEnv::start(quiet()).await;
    // A 5xx, nothing applied: the host cannot know that until it asks.
    env.emulator
        .set_faults(&FaultSettings {
            exchange_5xx_next: Some(1),
            ..FaultSettings::default()
        })
        .unwrap();
    let id = buy_with_unknown_outcome(&env).await;
    let failed = env
        .until_state(id, OrderState::Failed, Duration::from_secs(10))
        .await;
    assert_eq!(
        failed.reason.as_deref(),
        Some("not found on the exchange after its expiry deadline")
    );
    assert!(
        env.exchange_order(id).is_none(),
        "the exchange never had it"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_user_stream_loses_no_fill() {
    let env = OrderEnv::start(quiet()).await;
    let id = env.resting_buy("100000", "0.002").await;
    // Drop every socket and fill the order while the host reconnects: the
    // exchange replays nothing; the refill after the reconnect must find it.
    env.emulator
        .set_faults(&FaultSettings {
            ws_drop_now: true,
            ..FaultSettings::default()
        })
        .unwrap();
    env.counterparty
        .order(BTC, false, "100000", "0.002", Tif::Ioc)
        .await;
    let filled = env
        .until_state(id, OrderState::Filled, Duration::from_secs(10))
        .await;
    assert_eq!(filled.filled_amount, d("0.002"));
    assert_eq!(filled.fill_count(), 1, "counted once");
    env.stop().await;
}

/// A resting buy of the host filled by the counterparty while `fault`
/// holds for 300 ms — less than the stream timeout, so the connection
/// stays up and no reconnect refills. The host must still learn the fill,
/// once.
async fn filled_under(env: OrderEnv, fault: FaultSettings) {
    let id = env.resting_buy("100000", "0.002").await;
    env.emulator.set_faults(&fault).unwrap();
    env.counterparty
        .order(BTC, false, "100000", "0.002", Tif::Ioc)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    env.emulator
        .set_faults(&FaultSettings {
            reset: true,
            ..FaultSettings::default()
        })
        .unwrap();
    let filled = env
        .until_state(id, OrderState::Filled, Duration::from_secs(5))
        .await;
    assert_eq!(filled.filled_amount, d("0.002"));
    assert_eq!(filled.fill_count(), 1, "counted once");
    assert!(never_down(&env), "the user stream stayed up");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fill_in_an_unreadable_user_frame_is_refilled_without_a_reconnect() {
    let every_frame_garbled = FaultSettings {
        ws_malformed_probability: Some(1.0),
        ..FaultSettings::default()
    };
    filled_under(OrderEnv::start(quiet()).await, every_frame_garbled).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fill_lost_without_a_disconnect_is_found_by_the_periodic_refill() {
    let env = OrderEnv::start_with(quiet(), |exchange| ExchangeConfig {
        reconcile_interval_ms: 1_000,
        ..exchange
    })
    .await;
    let every_message_swallowed = FaultSettings {
        ws_silence_secs: Some(1),
        ..FaultSettings::default()
    };
    filled_under(env, every_message_swallowed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_whose_signing_failed_is_failed_with_the_reason() {
    let mut env = OrderEnv::start(quiet()).await;
    env.kill_signer();
    let id = env
        .trading
        .submit(&buy("96000", "0.001", OrderType::Limit))
        .unwrap();
    let failed = env
        .until_state(id, OrderState::Failed, Duration::from_secs(5))
        .await;
    let reason = failed.reason.unwrap();
    assert!(
        reason.starts_with("not sent: signing: signer unavailable"),
        "{reason}"
    );
    assert!(
        env.exchange_order(id).is_none(),
        "nothing reached the exchange"
    );
    // The order can be FAILED before its events have reached a subscriber
    // (with the signer gone it fails within its first poll).
    eventually("both events", Duration::from_secs(2), || {
        env.events.of(id).len() >= 2
    })
    .await;
    assert_eq!(
        env.events.of(id),
        strings(&[("created", "PENDING_CREATE"), ("failed", "FAILED")])
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_modify_changes_price_and_size_on_the_exchange() {
    let env = OrderEnv::start(quiet()).await;
    let id = env.resting_buy("95000", "0.001").await;
    env.trading
        .modify(id, Some(d("95500")), Some(d("0.002")))
        .unwrap();
    eventually("the modify to be applied", Duration::from_secs(5), || {
        env.trading
            .get(id)
            .is_some_and(|o| o.spec.price == d("95500") && o.spec.amount == d("0.002"))
    })
    .await;
    let truth = env.exchange_order(id).expect("on the exchange");
    assert_eq!(truth["limitPx"], "95500");
    assert_eq!(truth["origSz"], "0.002");
    assert_eq!(truth["status"], "open");
    assert_eq!(env.order(id).state, OrderState::Open);
    // Still one order, still cancellable by its client id.
    env.trading.cancel(id).unwrap();
    env.until_state(id, OrderState::Cancelled, Duration::from_secs(5))
        .await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_modify_whose_replacement_is_rejected_leaves_the_order_cancelled() {
    let env = OrderEnv::start(quiet()).await;
    let id = post_only_buy_under_an_ask(&env, "95000").await;
    env.until_state(id, OrderState::Open, Duration::from_secs(5))
        .await;
    // Hyperliquid cancels the original, then refuses the replacement: a
    // post-only buy at the ask would cross.
    env.trading.modify(id, Some(d("100000")), None).unwrap();
    let order = env
        .until_state(id, OrderState::Cancelled, Duration::from_secs(5))
        .await;
    assert!(
        order.reason.as_deref().is_some_and(|r| !r.is_empty()),
        "the rejection is the reason: {order:?}"
    );
    let truth = env.exchange_order(id).expect("on the exchange");
    assert_ne!(truth["status"], "open", "{truth}");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_market_order_is_limited_by_its_slippage_from_the_mid() {
    let env = OrderEnv::start(quiet()).await;
    env.counterparty
        .order(BTC, true, "99000", "0.01", Tif::Gtc)
        .await;
    env.counterparty
        .order(BTC, false, "101000", "0.01", Tif::Gtc)
        .await;
    let market_buy = |slippage: Option<&str>| OrderCommand {
        price: None,
        max_slippage_percent: slippage.map(d),
        ..buy("1", "0.001", OrderType::Market)
    };
    // The book reaches the host through the market stream.
    let mut submitted = Err(CommandError::NoMarketPrice("BTC-USD".into()));
    let waited = std::time::Instant::now();
    while matches!(submitted, Err(CommandError::NoMarketPrice(_))) {
        assert!(waited.elapsed() < Duration::from_secs(5), "no mid price");
        tokio::time::sleep(Duration::from_millis(20)).await;
        submitted = env.trading.submit(&market_buy(None));
    }
    let by_default = submitted.unwrap();
    let by_command = env.trading.submit(&market_buy(Some("1"))).unwrap();
    for (id, limit) in [(by_default, "102000"), (by_command, "101000")] {
        let order = env
            .until_state(id, OrderState::Filled, Duration::from_secs(5))
            .await;
        assert_eq!(order.average_executed_price(), Some(d("101000")));
        // The exchange saw an IOC limit `slippage` percent above the mid.
        let truth = env.exchange_order(id).expect("on the exchange");
        assert_eq!(truth["limitPx"], limit);
        assert_eq!(truth["tif"], "Ioc");
    }
    let refused = env.trading.submit(&market_buy(Some("100")));
    assert!(
        matches!(&refused, Err(CommandError::InvalidOrder(m)) if m.contains("max_slippage_percent")),
        "{refused:?}"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_wait_for_the_address_budget_instead_of_failing() {
    let mut emulator = quiet();
    emulator.limits.address_request_buffer = 3;
    let env = OrderEnv::start(emulator).await;
    let published = |topic: &str, check: &dyn Fn(&serde_json::Value) -> bool| {
        env.events
            .all()
            .iter()
            .any(|(t, body)| t == topic && check(&body["data"]))
    };
    // The host learns the venue's count: 3 actions before any volume.
    eventually("the venue's address count", Duration::from_secs(5), || {
        published("host.status.rate_limit", &|data| {
            data["bucket"] == "address" && data["remaining"] == 3
        })
    })
    .await;

    // A taker buy earns volume (one action per USDC traded: 100 more), which
    // only the venue knows of.
    env.counterparty
        .order(BTC, false, "100000", "0.001", Tif::Gtc)
        .await;
    let taker = env
        .trading
        .submit(&OrderCommand {
            time_in_force: TimeInForce::Ioc,
            ..buy("100000", "0.001", OrderType::Limit)
        })
        .unwrap();
    env.until_state(taker, OrderState::Filled, Duration::from_secs(5))
        .await;

    // Three resting buys: the host's own count allows two; the third waits,
    // asks the venue, and goes with the volume it earned.
    let ids: Vec<ClientOrderId> = (0..3)
        .map(|_| {
            env.trading
                .submit(&buy("90000", "0.001", OrderType::Limit))
                .unwrap()
        })
        .collect();
    for id in &ids {
        env.until_state(*id, OrderState::Open, Duration::from_secs(8))
            .await;
    }
    assert!(
        published("host.status.throttle", &|data| {
            // Released by the venue's count, not by the one-per-10-s refill.
            data["bucket"] == "address" && data["waited_ms"].as_u64() < Some(9_000)
        }),
        "{:?}",
        env.events.all()
    );
    let state = env.emulator.account_state(env.account).unwrap();
    assert_eq!(state["requests"], 4, "the venue counted every action once");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_that_wait_for_rate_limit_capacity_are_signed_when_they_go() {
    // One IP-weight unit a second, and actions that expire one second
    // after signing: orders queued behind others wait longer than that.
    let env = OrderEnv::start_with(quiet(), |exchange| ExchangeConfig {
        order_expiry_ms: 1_000,
        rate_limits: BTreeMap::from([(
            "ip_weight".to_owned(),
            RateLimitConfig {
                capacity: 2,
                window_ms: 2_000,
            },
        )]),
        ..exchange
    })
    .await;
    let ids: Vec<ClientOrderId> = ["90000", "90010", "90020", "90030"]
        .iter()
        .map(|price| {
            env.trading
                .submit(&buy(price, "0.001", OrderType::Limit))
                .unwrap()
        })
        .collect();
    // Each order is journaled and published while it waits, not once it
    // goes: the last one waits seconds for capacity.
    eventually(
        "every order's creation event",
        Duration::from_secs(5),
        || {
            ids.iter()
                .all(|id| env.events.of(*id).iter().any(|(kind, _)| kind == "created"))
        },
    )
    .await;
    assert_eq!(
        env.order(ids[3]).state,
        OrderState::PendingCreate,
        "the last order still waits for capacity"
    );
    for id in &ids {
        let order = env
            .until_state(*id, OrderState::Open, Duration::from_secs(20))
            .await;
        assert!(order.reason.is_none(), "{order:?}");
    }
    assert!(
        env.events
            .all()
            .iter()
            .any(|(topic, body)| topic == "host.status.throttle"
                && body["data"]["bucket"] == "ip_weight"
                && body["data"]["waited_ms"].as_u64() > Some(1_000)),
        "an order waited longer than its expiry"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risk_limits_refuse_before_the_exchange_and_the_kill_switch_stops_everything() {
    let env = OrderEnv::start_with(quiet(), |exchange| ExchangeConfig {
        limits: Limits {
            max_order_size: Some(d("0.01")),
            max_open_orders: Some(2),
            ..Limits::default()
        },
        ..exchange
    })
    .await;
    // Too big: refused at once with the limit named; nothing is tracked,
    // journaled or sent.
    let error = env
        .trading
        .submit(&buy("90000", "0.02", OrderType::Limit))
        .unwrap_err();
    let CommandError::RiskLimit {
        id: refused,
        refusal,
    } = error
    else {
        panic!("{error:?}")
    };
    assert_eq!(refusal.limit, "max_order_size");
    assert!(env.trading.get(refused).is_none());

    // Within the limits: sent.
    let first = env.resting_buy("90000", "0.01").await;
    let second = env.resting_buy("90010", "0.01").await;
    let error = env
        .trading
        .submit(&buy("90020", "0.01", OrderType::Limit))
        .unwrap_err();
    assert!(
        matches!(&error, CommandError::RiskLimit { refusal, .. } if refusal.limit == "max_open_orders"),
        "{error:?}"
    );

    // The kill switch cancels both on the exchange and refuses new orders
    // until it is released.
    let mut cancelled = env.trading.engage_kill_switch("test drill");
    cancelled.sort();
    let mut expected = vec![first, second];
    expected.sort();
    assert_eq!(cancelled, expected);
    for id in [first, second] {
        env.until_state(id, OrderState::Cancelled, Duration::from_secs(5))
            .await;
    }
    let error = env
        .trading
        .submit(&buy("90000", "0.01", OrderType::Limit))
        .unwrap_err();
    assert!(
        matches!(&error, CommandError::NotAccepting(reason) if reason.contains("kill switch engaged: test drill")),
        "{error:?}"
    );
    env.trading.release_kill_switch();
    env.resting_buy("90000", "0.01").await;

    // Limits replaced while running hold at once.
    env.trading.set_limits(std::collections::HashMap::from([(
        "BTC-USD".to_owned(),
        Limits {
            max_order_size: Some(d("0.001")),
            ..Limits::default()
        },
    )]));
    assert!(matches!(
        env.trading.submit(&buy("90000", "0.002", OrderType::Limit)),
        Err(CommandError::RiskLimit { .. })
    ));

    // Nothing refused reached the exchange or the event stream; the switch
    // was published.
    assert!(env.exchange_order(refused).is_none());
    eventually("the kill switch events", Duration::from_secs(2), || {
        let states: Vec<_> = env
            .events
            .all()
            .into_iter()
            .filter(|(topic, _)| topic == "host.status.kill_switch")
            .map(|(_, body)| body["data"]["state"].clone())
            .collect();
        states == ["engaged", "released"]
    })
    .await;
    assert!(env.events.of(refused).is_empty());
    env.stop().await;
}

/// The counterparty's quotes at 99000 and 100000, once the host's book
/// has their mid (99500).
async fn quotes_around_99500(env: &OrderEnv) {
    env.counterparty
        .order(BTC, false, "100000", "0.01", Tif::Gtc)
        .await;
    env.counterparty
        .order(BTC, true, "99000", "0.01", Tif::Gtc)
        .await;
    eventually("a mid", Duration::from_secs(5), || {
        env.trading.market_data().top("BTC").and_then(|top| top.mid) == Some(d("99500"))
    })
    .await;
}

/// Replaces BTC-USD's risk limits with `limits`.
fn only_limits(env: &OrderEnv, limits: Limits) {
    env.trading.set_limits(std::collections::HashMap::from([(
        "BTC-USD".to_owned(),
        limits,
    )]));
}

fn refused_limit(result: Result<ClientOrderId, CommandError>) -> Option<&'static str> {
    match result {
        Err(CommandError::RiskLimit { refusal, .. }) => Some(refusal.limit),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_risk_limit_refuses_what_it_must_and_passes_what_it_must() {
    let env = OrderEnv::start(quiet()).await;
    let submit =
        |price: &str, amount: &str| env.trading.submit(&buy(price, amount, OrderType::Limit));

    only_limits(
        &env,
        Limits {
            max_order_notional: Some(d("100")),
            ..Limits::default()
        },
    );
    assert_eq!(refused_limit(submit("90000", "0.001")), None, "value 90");
    assert_eq!(
        refused_limit(submit("90000", "0.002")),
        Some("max_order_notional")
    );

    only_limits(
        &env,
        Limits {
            max_orders_per_second: Some(2),
            ..Limits::default()
        },
    );
    assert_eq!(refused_limit(submit("90000", "0.001")), None);
    assert_eq!(refused_limit(submit("90000", "0.001")), None);
    assert_eq!(
        refused_limit(submit("90000", "0.001")),
        Some("max_orders_per_second")
    );

    quotes_around_99500(&env).await;
    only_limits(
        &env,
        Limits {
            price_band_percent: Some(d("1")),
            ..Limits::default()
        },
    );
    assert_eq!(
        refused_limit(submit("99000", "0.001")),
        None,
        "0.5% from the mid"
    );
    assert_eq!(
        refused_limit(submit("90000", "0.001")),
        Some("price_band_percent")
    );

    // A position of 0.002 bought from the counterparty's ask.
    only_limits(&env, Limits::default());
    let taker = env
        .trading
        .submit(&OrderCommand {
            time_in_force: TimeInForce::Ioc,
            ..buy("100000", "0.002", OrderType::Limit)
        })
        .unwrap();
    env.until_state(taker, OrderState::Filled, Duration::from_secs(5))
        .await;
    eventually("the position", Duration::from_secs(10), || {
        env.trading.account().position("BTC-USD") == d("0.002")
    })
    .await;
    // Live buys so far: 0.001 at 90000 ×3 and 0.001 at 99000 (resting).
    env.trading.cancel_all(None);
    eventually("no live orders", Duration::from_secs(5), || {
        env.trading.open_orders(None).is_empty()
    })
    .await;
    only_limits(
        &env,
        Limits {
            max_position: Some(d("0.0025")),
            ..Limits::default()
        },
    );
    assert_eq!(
        refused_limit(submit("90000", "0.001")),
        Some("max_position"),
        "0.003 long"
    );
    let sell = env.trading.submit(&OrderCommand {
        trade_type: TradeType::Sell,
        ..buy("110000", "0.001", OrderType::Limit)
    });
    assert_eq!(refused_limit(sell), None, "selling reduces the position");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_risk_limit_holds_for_the_order_a_modify_would_make() {
    let env = OrderEnv::start(quiet()).await;
    quotes_around_99500(&env).await;
    let id = env.resting_buy("99000", "0.001").await;
    let modify = |price: Option<&str>, amount: Option<&str>| match env.trading.modify(
        id,
        price.map(d),
        amount.map(d),
    ) {
        Err(CommandError::RiskLimit { refusal, .. }) => Some(refusal.limit),
        Err(other) => panic!("{other:?}"),
        Ok(_) => None,
    };
    // (limits, a modify they refuse, one they pass: the order after it)
    type Change<'a> = (Option<&'a str>, Option<&'a str>);
    let table: [(Limits, Change, Change); 4] = [
        (
            Limits {
                max_order_size: Some(d("0.002")),
                ..Limits::default()
            },
            (None, Some("0.003")),
            (None, Some("0.002")),
        ),
        (
            Limits {
                max_order_notional: Some(d("250")),
                ..Limits::default()
            },
            (Some("99100"), Some("0.003")),
            (Some("98000"), None),
        ),
        (
            Limits {
                price_band_percent: Some(d("1")),
                ..Limits::default()
            },
            (Some("90000"), None),
            (Some("99100"), None),
        ),
        (
            // No position; the order counts as its new size only.
            Limits {
                max_position: Some(d("0.0025")),
                ..Limits::default()
            },
            (None, Some("0.003")),
            (None, Some("0.001")),
        ),
    ];
    for (limits, refused, passed) in table {
        let limit = limits.clone();
        only_limits(&env, limits);
        assert!(
            modify(refused.0, refused.1).is_some(),
            "{limit:?} let {refused:?} through"
        );
        assert_eq!(
            modify(passed.0, passed.1),
            None,
            "{limit:?} refused {passed:?}"
        );
        let before = env.order(id);
        let (price, amount) = (
            passed.0.map_or(before.spec.price, d),
            passed.1.map_or(before.spec.amount, d),
        );
        eventually("the modify to be applied", Duration::from_secs(5), || {
            env.trading
                .get(id)
                .is_some_and(|o| o.spec.price == price && o.spec.amount == amount)
                && env.exchange_order(id).is_some_and(|truth| {
                    truth["status"] == "open" && truth["origSz"].as_str().map(d) == Some(amount)
                })
        })
        .await;
    }
    // A modify adds no order: the open-order limit does not refuse it,
    // while a new order is refused.
    only_limits(
        &env,
        Limits {
            max_open_orders: Some(1),
            ..Limits::default()
        },
    );
    assert_eq!(modify(Some("99000"), None), None);
    assert_eq!(
        refused_limit(env.trading.submit(&buy("90000", "0.001", OrderType::Limit))),
        Some("max_open_orders")
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_can_travel_as_websocket_posts() {
    let env = OrderEnv::start_with(quiet(), |exchange| ExchangeConfig {
        order_transport: OrderTransport::Websocket,
        ..exchange
    })
    .await;
    let mut over_http = env.emulator.exchange_arrivals();
    let id = env.resting_buy("90000", "0.001").await;
    let open = env.exchange_order(id).expect("on the exchange");
    assert_eq!(open["status"], "open", "{open}");
    env.trading.cancel(id).unwrap();
    env.until_state(id, OrderState::Cancelled, Duration::from_secs(5))
        .await;
    assert!(
        over_http.try_recv().is_err(),
        "the order and its cancel went over the socket, not HTTP"
    );
    env.stop().await;
}
