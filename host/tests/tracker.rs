//! The order tracker: lifecycle, proof rules for failure, deduplication,
//! listeners, concurrency and random update sequences.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use connector_host::order::{
    ClientIdGenerator, ClientOrderId, ClientOrderTracker, FailureCause, FillResult, NewOrder,
    OrderEvent, OrderListener, OrderState, OrderType, OrderUpdate, TimeInForce, TrackerError,
    TradeType, TradeUpdate, UnknownOutcome,
};
use connector_host::trading::venue_state;
use plugin_api::VenueOrderStatus;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn new_order(id: ClientOrderId, amount: &str) -> NewOrder {
    NewOrder {
        exits: None,
        parent: None,
        trigger_reference: None,
        client_order_id: id,
        exchange: "hl".into(),
        trading_pair: "BTC-USD".into(),
        order_type: OrderType::Limit,
        trade_type: TradeType::Buy,
        position_action: None,
        time_in_force: TimeInForce::Gtc,
        price: dec("65000"),
        amount: dec(amount),
        creation_timestamp_ms: 1,
        trigger_price: None,
    }
}

fn update(id: ClientOrderId, state: OrderState, t: u64) -> OrderUpdate {
    OrderUpdate {
        client_order_id: id,
        exchange_order_id: Some("77".into()),
        new_state: state,
        timestamp_ms: t,
        reason: None,
    }
}

fn fill(id: ClientOrderId, trade_id: &str, price: &str, amount: &str) -> TradeUpdate {
    TradeUpdate {
        trade_id: trade_id.into(),
        client_order_id: id,
        exchange_order_id: Some("77".into()),
        fill_price: dec(price),
        fill_amount: dec(amount),
        fee: dec("0.01"),
        fee_asset: "USDC".into(),
        timestamp_ms: 10,
    }
}

fn tracked(amount: &str) -> (ClientOrderTracker, ClientOrderId) {
    let tracker = ClientOrderTracker::new();
    let id = ClientIdGenerator::with_salt("test", 1).next();
    tracker.start_tracking(new_order(id, amount)).unwrap();
    (tracker, id)
}

/// An order of size 1, sent at 2, whose outcome became unknown at 3 and
/// can be resolved after 100.
fn in_doubt() -> (ClientOrderTracker, ClientOrderId) {
    let (tracker, id) = tracked("1");
    tracker.mark_submitted(id, 2).unwrap();
    tracker
        .mark_outcome_unknown(
            id,
            UnknownOutcome {
                reason: "timeout".into(),
                since_ms: 3,
                resolve_after_ms: 100,
            },
        )
        .unwrap();
    (tracker, id)
}

#[test]
fn create_partial_fill_fill_with_exact_amounts() {
    let (tracker, id) = tracked("0.3");
    tracker.mark_submitted(id, 2).unwrap();
    tracker
        .process_order_update(&update(id, OrderState::Open, 3))
        .unwrap();
    assert_eq!(
        tracker
            .process_trade_update(&fill(id, "t1", "65000.1", "0.1"))
            .unwrap(),
        FillResult::Counted
    );
    assert_eq!(tracker.get(id).unwrap().state, OrderState::PartiallyFilled);
    tracker
        .process_trade_update(&fill(id, "t2", "65000.2", "0.2"))
        .unwrap();
    let order = tracker.get(id).unwrap();
    assert_eq!(order.state, OrderState::Filled);
    assert_eq!(order.filled_amount, dec("0.3"));
    // (0.1 × 65000.1 + 0.2 × 65000.2) / 0.3, exactly.
    assert_eq!(order.filled_notional, dec("19500.05"));
    assert_eq!(
        order.average_executed_price().unwrap(),
        dec("19500.05") / dec("0.3")
    );
    assert_eq!(order.fee_paid(), dec("0.02"));
    assert_eq!(order.exchange_order_id.as_deref(), Some("77"));
}

#[test]
fn duplicate_fills_are_counted_once() {
    let (tracker, id) = tracked("1");
    tracker.mark_submitted(id, 2).unwrap();
    tracker
        .process_trade_update(&fill(id, "t1", "10", "0.5"))
        .unwrap();
    assert_eq!(
        tracker
            .process_trade_update(&fill(id, "t1", "10", "0.5"))
            .unwrap(),
        FillResult::Duplicate
    );
    assert_eq!(tracker.get(id).unwrap().filled_amount, dec("0.5"));
}

#[test]
fn final_states_are_final_and_open_never_follows_a_fill() {
    let (tracker, id) = tracked("1");
    tracker.mark_submitted(id, 2).unwrap();
    tracker
        .process_trade_update(&fill(id, "t1", "10", "0.5"))
        .unwrap();
    assert!(matches!(
        tracker.process_order_update(&update(id, OrderState::Open, 5)),
        Err(TrackerError::Transition { .. })
    ));
    tracker
        .process_order_update(&update(id, OrderState::Cancelled, 6))
        .unwrap();
    for state in [
        OrderState::Open,
        OrderState::PartiallyFilled,
        OrderState::Filled,
    ] {
        assert!(tracker.process_order_update(&update(id, state, 7)).is_err());
    }
    // The same final state again is a harmless duplicate.
    tracker
        .process_order_update(&update(id, OrderState::Cancelled, 8))
        .unwrap();
    assert_eq!(tracker.get(id).unwrap().state, OrderState::Cancelled);
}

#[test]
fn a_late_fill_after_cancel_is_counted_without_reopening() {
    let (tracker, id) = tracked("1");
    tracker.mark_submitted(id, 2).unwrap();
    tracker
        .process_order_update(&update(id, OrderState::Cancelled, 3))
        .unwrap();
    tracker
        .process_trade_update(&fill(id, "late", "10", "0.4"))
        .unwrap();
    let order = tracker.get(id).unwrap();
    assert_eq!(order.state, OrderState::Cancelled);
    assert_eq!(order.filled_amount, dec("0.4"));
    assert_eq!(
        order.anomalies, 0,
        "a fill crossing a cancel is a normal race"
    );
    tracker
        .process_trade_update(&fill(id, "beyond", "10", "0.7"))
        .unwrap();
    let order = tracker.get(id).unwrap();
    assert_eq!(order.filled_amount, dec("1.1"));
    assert_eq!(order.anomalies, 1, "a fill beyond the size is flagged");
}

#[test]
fn closed_orders_are_forgotten_after_their_retention_and_live_ones_never() {
    let tracker = ClientOrderTracker::new();
    let ids = ClientIdGenerator::with_salt("test", 1);
    let (live, old_closed, new_closed) = (ids.next(), ids.next(), ids.next());
    for id in [live, old_closed, new_closed] {
        tracker.start_tracking(new_order(id, "1")).unwrap();
        tracker.mark_submitted(id, 2).unwrap();
    }
    tracker
        .process_order_update(&update(live, OrderState::Open, 3))
        .unwrap();
    let mut cancelled = update(old_closed, OrderState::Cancelled, 100);
    cancelled.exchange_order_id = Some("old".into());
    tracker.process_order_update(&cancelled).unwrap();
    let mut filled = update(new_closed, OrderState::Cancelled, 500);
    filled.exchange_order_id = Some("new".into());
    tracker.process_order_update(&filled).unwrap();

    assert_eq!(
        tracker.forget_closed(100),
        0,
        "closed at 100: not before 100"
    );
    assert_eq!(tracker.forget_closed(101), 1);
    assert!(tracker.get(old_closed).is_none());
    assert_eq!(tracker.find_by_exchange_id("old"), None);
    assert_eq!(tracker.find_by_exchange_id("new"), Some(new_closed));
    assert_eq!(tracker.forget_closed(u64::MAX), 1);
    assert_eq!(tracker.len(), 1, "a live order is never forgotten");
    assert!(tracker.get(live).is_some());

    // A closed order of a live one stays while that one lives.
    let exit = ids.next();
    tracker
        .start_tracking(NewOrder {
            parent: Some(live),
            ..new_order(exit, "1")
        })
        .unwrap();
    tracker.mark_submitted(exit, 600).unwrap();
    tracker
        .process_order_update(&update(exit, OrderState::Cancelled, 700))
        .unwrap();
    assert_eq!(tracker.forget_closed(u64::MAX), 0, "its parent works");
    tracker
        .process_order_update(&update(live, OrderState::Cancelled, 800))
        .unwrap();
    assert_eq!(tracker.forget_closed(u64::MAX), 2);
}

#[test]
fn a_refused_connection_proves_non_delivery_but_an_unknown_outcome_does_not() {
    let (tracker, id) = tracked("1");
    tracker.mark_submitted(id, 2).unwrap();
    tracker
        .fail(
            id,
            FailureCause::NotDelivered("connection refused".into()),
            3,
        )
        .unwrap();
    assert_eq!(tracker.get(id).unwrap().state, OrderState::Failed);

    let (tracker, id) = in_doubt();
    assert!(matches!(
        tracker.fail(id, FailureCause::NotDelivered("?".into()), 4),
        Err(TrackerError::FailureWithoutProof { .. })
    ));
}

#[test]
fn a_modify_amends_price_size_and_exchange_id_unless_the_order_is_closed() {
    let (tracker, id) = tracked("1");
    tracker.mark_submitted(id, 2).unwrap();
    tracker
        .process_order_update(&update(id, OrderState::Open, 3))
        .unwrap();
    tracker
        .amend(
            id,
            dec("64000"),
            dec("2"),
            Decimal::ZERO,
            Some("88".into()),
            4,
        )
        .unwrap();
    let order = tracker.get(id).unwrap();
    assert_eq!(
        (order.spec.price, order.spec.amount),
        (dec("64000"), dec("2"))
    );
    assert_eq!(tracker.find_by_exchange_id("88"), Some(id));
    assert_eq!(
        tracker.find_by_exchange_id("77"),
        Some(id),
        "the old id still finds it"
    );
    tracker
        .process_order_update(&update(id, OrderState::Cancelled, 5))
        .unwrap();
    tracker
        .amend(id, dec("1"), dec("1"), Decimal::ZERO, None, 6)
        .unwrap();
    assert_eq!(
        tracker.get(id).unwrap().spec.price,
        dec("64000"),
        "a modify that lost the race"
    );
}

#[test]
fn a_cancel_requested_while_the_submission_is_in_doubt_keeps_the_proofs_of_failure() {
    let cancel = |id| OrderUpdate {
        exchange_order_id: None,
        ..update(id, OrderState::PendingCancel, 4)
    };
    // The placement's rejection arrives after the cancel was requested.
    let (tracker, id) = tracked("1");
    tracker.mark_submitted(id, 2).unwrap();
    tracker.process_order_update(&cancel(id)).unwrap();
    tracker
        .fail(id, FailureCause::Rejected("post only".into()), 5)
        .unwrap();
    assert_eq!(tracker.get(id).unwrap().state, OrderState::Failed);

    // The outcome was unknown: the cancel request does not settle it, and
    // the exchange's ignorance proves failure once the deadline passed.
    let (tracker, id) = in_doubt();
    tracker.process_order_update(&cancel(id)).unwrap();
    assert!(tracker.get(id).unwrap().outcome_unknown.is_some());
    assert!(
        tracker
            .fail(id, FailureCause::NotFoundAfterDeadline, 50)
            .is_err(),
        "not before its deadline"
    );
    tracker
        .fail(id, FailureCause::NotFoundAfterDeadline, 101)
        .unwrap();
    assert_eq!(tracker.get(id).unwrap().state, OrderState::Failed);

    // Acknowledged by the exchange, then a cancel: nothing proves failure.
    let (tracker, id) = tracked("1");
    tracker.mark_submitted(id, 2).unwrap();
    tracker
        .process_order_update(&update(id, OrderState::Open, 3))
        .unwrap();
    tracker
        .process_order_update(&update(id, OrderState::PendingCancel, 4))
        .unwrap();
    assert!(
        tracker
            .fail(id, FailureCause::Rejected("late".into()), 5)
            .is_err()
    );
}

#[test]
fn an_exchange_word_means_one_state_whichever_source_says_it() {
    let (tracker, id) = tracked("1");
    tracker.mark_submitted(id, 2).unwrap();
    let sent = tracker.get(id).unwrap();
    let mut ioc = sent.clone();
    ioc.spec.time_in_force = TimeInForce::Ioc;
    tracker
        .process_order_update(&update(id, OrderState::Open, 3))
        .unwrap();
    let live = tracker.get(id).unwrap();
    // Accepted without an exchange id: an exit the exchange holds with its
    // entry until the entry fills.
    let mut held = live.clone();
    held.exchange_order_id = None;
    let cases = [
        (VenueOrderStatus::OPEN, &sent, Some(OrderState::Open)),
        (
            VenueOrderStatus::CANCELLED,
            &live,
            Some(OrderState::Cancelled),
        ),
        // An IOC's remainder expired, as its placement answer says.
        (VenueOrderStatus::CANCELLED, &ioc, Some(OrderState::Expired)),
        // A rejection before the order was live: it failed.
        (VenueOrderStatus::REJECTED, &sent, Some(OrderState::Failed)),
        // A rejection once it was live (a modify's replacement): it is gone.
        (
            VenueOrderStatus::REJECTED,
            &live,
            Some(OrderState::Cancelled),
        ),
        // Refused when its entry filled: it never reached the book.
        (VenueOrderStatus::REJECTED, &held, Some(OrderState::Failed)),
        (VenueOrderStatus(0), &live, None),
    ];
    for (status, order, expected) in cases {
        assert_eq!(
            venue_state(status, order),
            expected,
            "{status:?} for {}",
            order.state
        );
    }
}

#[test]
fn an_unknown_outcome_is_never_failed_without_proof() {
    let (tracker, id) = in_doubt();
    let order = tracker.get(id).unwrap();
    assert_eq!(order.state, OrderState::PendingSubmit);
    assert!(order.outcome_unknown.is_some());
    assert!(matches!(
        tracker.fail(id, FailureCause::NotSent("timeout".into()), 50),
        Err(TrackerError::FailureWithoutProof { .. })
    ));
    assert!(matches!(
        tracker.fail(id, FailureCause::NotFoundAfterDeadline, 99),
        Err(TrackerError::FailureWithoutProof { .. })
    ));
    tracker
        .fail(id, FailureCause::NotFoundAfterDeadline, 101)
        .unwrap();
    assert_eq!(tracker.get(id).unwrap().state, OrderState::Failed);
}

#[test]
fn an_unknown_outcome_resolved_by_the_exchange() {
    let (tracker, id) = tracked("1");
    tracker.mark_submitted(id, 2).unwrap();
    let unknown = UnknownOutcome {
        reason: "reset".into(),
        since_ms: 3,
        resolve_after_ms: 100,
    };
    tracker.mark_outcome_unknown(id, unknown).unwrap();
    tracker
        .process_order_update(&update(id, OrderState::Open, 50))
        .unwrap();
    let order = tracker.get(id).unwrap();
    assert_eq!(order.state, OrderState::Open);
    assert!(order.outcome_unknown.is_none());
    // Once open, nothing but the exchange's final word ends it.
    assert!(
        tracker
            .fail(id, FailureCause::NotFoundAfterDeadline, 200)
            .is_err()
    );
}

#[test]
fn failure_before_sending_and_rejection_after() {
    let (tracker, id) = tracked("1");
    tracker
        .fail(id, FailureCause::NotSent("signer refused".into()), 2)
        .unwrap();
    let order = tracker.get(id).unwrap();
    assert_eq!(order.state, OrderState::Failed);
    assert_eq!(order.reason.as_deref(), Some("not sent: signer refused"));

    let (tracker, id) = tracked("1");
    tracker.mark_submitted(id, 2).unwrap();
    let mut rejected = update(id, OrderState::Failed, 3);
    rejected.reason = Some("Order must have minimum value of $10.".into());
    tracker.process_order_update(&rejected).unwrap();
    let order = tracker.get(id).unwrap();
    assert_eq!(order.state, OrderState::Failed);
    assert_eq!(
        order.reason.as_deref(),
        Some("rejected: Order must have minimum value of $10.")
    );
}

#[test]
fn invalid_input_is_refused_with_a_precise_error() {
    let (tracker, id) = tracked("1");
    let unknown = ClientOrderId(42);
    assert_eq!(
        tracker.process_order_update(&update(unknown, OrderState::Open, 1)),
        Err(TrackerError::UnknownOrder(unknown))
    );
    assert!(matches!(
        tracker.process_trade_update(&fill(id, "t", "10", "-1")),
        Err(TrackerError::InvalidFill { .. })
    ));
    assert!(matches!(
        tracker.start_tracking(new_order(id, "1")),
        Err(TrackerError::DuplicateOrder(_))
    ));
}

/// Writes down every change it hears; `hears_quiet` as the journal does.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>, bool);

impl Recorder {
    fn hearing_quiet_orders() -> Recorder {
        Recorder(Mutex::default(), true)
    }
}

impl OrderListener for Recorder {
    fn hears_quiet_orders(&self) -> bool {
        self.1
    }

    fn on_event(&self, event: &OrderEvent<'_>) {
        let line = match event {
            OrderEvent::Created(order) => format!("created {}", order.state),
            OrderEvent::StateChanged { order, previous } => format!("{previous}->{}", order.state),
            OrderEvent::Filled { trade, .. } => format!("fill {}", trade.trade_id),
            OrderEvent::OutcomeUnknown(_) => "unknown".to_owned(),
            OrderEvent::Amended(order) => format!("amended {}", order.spec.price),
            OrderEvent::Triggered(_) => "triggered".to_owned(),
        };
        self.0.lock().unwrap().push(line);
    }
}

#[test]
fn listeners_see_every_transition_in_order() {
    let tracker = ClientOrderTracker::new();
    let recorder = Arc::new(Recorder::default());
    tracker.add_listener(recorder.clone());
    let id = ClientIdGenerator::with_salt("test", 1).next();
    tracker.start_tracking(new_order(id, "1")).unwrap();
    tracker.mark_submitted(id, 2).unwrap();
    tracker
        .process_order_update(&update(id, OrderState::Open, 3))
        .unwrap();
    tracker
        .process_trade_update(&fill(id, "a", "10", "0.5"))
        .unwrap();
    tracker
        .process_trade_update(&fill(id, "a", "10", "0.5"))
        .unwrap();
    tracker
        .process_order_update(&update(id, OrderState::PendingCancel, 4))
        .unwrap();
    tracker
        .process_trade_update(&fill(id, "b", "10", "0.5"))
        .unwrap();
    assert_eq!(
        *recorder.0.lock().unwrap(),
        [
            "created PENDING_CREATE",
            "PENDING_CREATE->PENDING_SUBMIT",
            "PENDING_SUBMIT->OPEN",
            "OPEN->PARTIALLY_FILLED",
            "fill a",
            "PARTIALLY_FILLED->PENDING_CANCEL",
            "PENDING_CANCEL->FILLED",
            "fill b",
        ]
    );
}

#[test]
fn a_quiet_order_is_announced_once_and_before_its_first_change() {
    let tracker = ClientOrderTracker::new();
    let recorder = Arc::new(Recorder::default());
    let journal = Arc::new(Recorder::hearing_quiet_orders());
    tracker.add_listener(recorder.clone());
    tracker.add_listener(journal.clone());
    let generator = ClientIdGenerator::with_salt("test", 1);
    let (early, late) = (generator.next(), generator.next());
    tracker
        .start_tracking_quietly(new_order(early, "1"))
        .unwrap();
    tracker
        .start_tracking_quietly(new_order(late, "1"))
        .unwrap();
    assert!(recorder.0.lock().unwrap().is_empty(), "quiet until told");
    assert_eq!(
        *journal.0.lock().unwrap(),
        ["created PENDING_CREATE", "created PENDING_CREATE"],
        "a listener hearing quiet orders is told at once"
    );
    // Announced first: its change follows.
    tracker.announce_created(early);
    tracker.mark_submitted(early, 2).unwrap();
    // Changed before its announcement: the creation is told first, once.
    tracker.mark_submitted(late, 2).unwrap();
    tracker.announce_created(late);
    tracker.announce_created(early);
    assert_eq!(
        *recorder.0.lock().unwrap(),
        [
            "created PENDING_CREATE",
            "PENDING_CREATE->PENDING_SUBMIT",
            "created PENDING_CREATE",
            "PENDING_CREATE->PENDING_SUBMIT",
        ]
    );
    assert_eq!(
        *journal.0.lock().unwrap(),
        [
            "created PENDING_CREATE",
            "created PENDING_CREATE",
            "PENDING_CREATE->PENDING_SUBMIT",
            "PENDING_CREATE->PENDING_SUBMIT",
        ],
        "and only once"
    );
}

#[test]
fn many_threads_many_orders_stay_consistent() {
    const THREADS: usize = 8;
    const ORDERS_PER_THREAD: usize = 1_500;
    let tracker = Arc::new(ClientOrderTracker::new());
    let generator = Arc::new(ClientIdGenerator::with_salt("load", 9));
    let created: Vec<Vec<ClientOrderId>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let tracker = Arc::clone(&tracker);
                let generator = Arc::clone(&generator);
                scope.spawn(move || {
                    (0..ORDERS_PER_THREAD)
                        .map(|i| {
                            let id = generator.next();
                            tracker.start_tracking(new_order(id, "1")).unwrap();
                            tracker.mark_submitted(id, 1).unwrap();
                            if i % 3 == 0 {
                                tracker
                                    .process_order_update(&update(id, OrderState::Cancelled, 2))
                                    .unwrap();
                            }
                            id
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Every thread delivers the same two fills to every order: each fill
    // must count exactly once whatever the interleaving.
    let ids: Vec<ClientOrderId> = created.into_iter().flatten().collect();
    assert!(ids.len() >= 10_000);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            let tracker = Arc::clone(&tracker);
            let ids = &ids;
            scope.spawn(move || {
                for id in ids {
                    tracker
                        .process_trade_update(&fill(*id, "x", "10", "0.25"))
                        .unwrap();
                    tracker
                        .process_trade_update(&fill(*id, "y", "10", "0.25"))
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(tracker.len(), ids.len());
    let mut states: HashMap<OrderState, usize> = HashMap::new();
    for order in tracker.all_orders() {
        assert_eq!(
            order.filled_amount,
            dec("0.5"),
            "{}",
            order.spec.client_order_id
        );
        assert_eq!(order.fill_count(), 2);
        *states.entry(order.state).or_default() += 1;
    }
    let cancelled = ids
        .len()
        .div_ceil(3)
        .min(THREADS * ORDERS_PER_THREAD.div_ceil(3));
    assert_eq!(states.get(&OrderState::Cancelled), Some(&cancelled));
    assert_eq!(
        states.get(&OrderState::PartiallyFilled),
        Some(&(ids.len() - cancelled))
    );
}

#[derive(Debug, Clone)]
enum Input {
    Update(OrderState),
    Fill(u8, u32),
    Unknown,
    Fail(u8),
}

fn input() -> impl Strategy<Value = Input> {
    let states = prop::sample::select(vec![
        OrderState::PendingSubmit,
        OrderState::Open,
        OrderState::PartiallyFilled,
        OrderState::PendingCancel,
        OrderState::Filled,
        OrderState::Cancelled,
        OrderState::Expired,
        OrderState::Failed,
    ]);
    prop_oneof![
        3 => states.prop_map(Input::Update),
        3 => (0u8..6, 1u32..40).prop_map(|(t, size)| Input::Fill(t, size)),
        1 => Just(Input::Unknown),
        1 => (0u8..4).prop_map(Input::Fail),
    ]
}

proptest! {
    #[test]
    fn random_sequences_never_break_the_invariants(inputs in prop::collection::vec(input(), 1..40)) {
        let (tracker, id) = tracked("1");
        let mut counted: HashMap<u8, Decimal> = HashMap::new();
        let mut was_terminal: Option<OrderState> = None;
        let mut clock = 10;
        for input in inputs {
            clock += 1;
            let before = tracker.get(id).unwrap();
            let result = match &input {
                Input::Update(state) => tracker.process_order_update(&update(id, *state, clock)).map(|_| ()),
                Input::Fill(trade, size) => {
                    let amount = Decimal::new(i64::from(*size), 2);
                    let result = tracker.process_trade_update(&fill(id, &format!("t{trade}"), "10", &amount.to_string()));
                    if result == Ok(FillResult::Counted) {
                        prop_assert!(counted.insert(*trade, amount).is_none(), "trade counted twice");
                    }
                    result.map(|_| ())
                }
                Input::Unknown => tracker.mark_outcome_unknown(id, UnknownOutcome {
                    reason: "test".into(), since_ms: clock, resolve_after_ms: clock + 5,
                }),
                Input::Fail(kind) => {
                    let cause = match kind {
                        0 => FailureCause::NotSent("x".into()),
                        1 => FailureCause::Rejected("x".into()),
                        2 => FailureCause::NotDelivered("x".into()),
                        _ => FailureCause::NotFoundAfterDeadline,
                    };
                    tracker.fail(id, cause, clock)
                }
            };
            let after = tracker.get(id).unwrap();
            if result.is_err() {
                prop_assert_eq!(&after.state, &before.state, "a refused change changed the state");
            }
            if let Some(terminal) = was_terminal {
                prop_assert_eq!(after.state, terminal, "left a final state");
            }
            if after.state.is_terminal() {
                was_terminal = Some(after.state);
            }
            let total: Decimal = counted.values().sum();
            prop_assert_eq!(after.filled_amount, total);
            if !after.filled_amount.is_zero() {
                prop_assert_ne!(after.state, OrderState::Open);
                if after.state == OrderState::Failed {
                    prop_assert!(after.anomalies > 0, "a fill on a failed order must be flagged");
                }
            }
            if after.state == OrderState::Failed && before.state != OrderState::Failed {
                prop_assert!(before.state == OrderState::PendingCreate || before.state == OrderState::PendingSubmit);
            }
        }
    }
}
