//! A venue unlike Hyperliquid, through the `testex` fixture plugin and a
//! small venue served here: its modify amends the order in place, keeping
//! its exchange id (Binance, Bybit; Hyperliquid gives the modified order a
//! new id, which `orders_e2e` covers); and its signed requests carry their
//! nonce, so that a retry must be prepared and signed anew (Binance and
//! Bybit sign a timestamp and refuse a stale one).

mod common;

use std::sync::PoisonError;
use std::time::Duration;

use common::buy_order;
use common::orders::eventually;
use common::testex::{Host, Venue, lock, scripted_signer, serve};
use connector_host::order::{ClientOrderId, OrderState, OrderType, TradeUpdate};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn d(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

/// A venue and a host with one order open on it (exchange id `1`).
async fn one_open_order() -> (Venue, Host, ClientOrderId) {
    let venue = Venue::default();
    let host = Host::start(serve(venue.clone()).await, None, &[]).await;
    let id = host
        .trading
        .submit(&buy_order("TEST-USD", "10.0", "1.00", OrderType::Limit))
        .expect("accepted");
    host.until(id, "the order to open", |s| *s == OrderState::Open)
        .await;
    (venue, host, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_amended_in_place_keeps_its_id_and_its_later_cancel_counts() {
    let (venue, host, id) = one_open_order().await;
    let oid = host.trading.get(id).and_then(|o| o.exchange_order_id);
    assert_eq!(oid.as_deref(), Some("1"));

    host.trading
        .modify(id, Some(d("10.5")), Some(d("2")))
        .expect("modify accepted");
    eventually("the amendment", Duration::from_secs(10), || {
        host.trading
            .get(id)
            .is_some_and(|o| o.spec.price == d("10.5") && o.spec.amount == d("2"))
    })
    .await;
    let order = host.trading.get(id).expect("tracked");
    assert_eq!(order.state, OrderState::Open);
    assert_eq!(order.exchange_order_id.as_deref(), Some("1"), "same id");
    assert_eq!(lock(&venue).orders.len(), 1, "amended, not replaced");

    // The venue cancels the amended order on its own; the refill learns
    // it. The id the modify kept names the live order: its cancellation
    // is the order's, not a replaced order's.
    lock(&venue).orders.get_mut("1").expect("venue order")["status"] = json!("cancelled");
    host.until(id, "the venue's cancel to be learnt", |s| {
        *s == OrderState::Cancelled
    })
    .await;
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partly_filled_order_is_amended_to_its_new_total() {
    // testex amends in place (`modify_size = total`): the size sent is the
    // order's new total, fills included, and the venue's sizes are totals.
    let (venue, host, id) = one_open_order().await;
    host.trading
        .tracker()
        .process_trade_update(&TradeUpdate {
            trade_id: "t1".into(),
            client_order_id: id,
            exchange_order_id: Some("1".into()),
            fill_price: d("10.0"),
            fill_amount: d("0.40"),
            fee: Decimal::ZERO,
            fee_asset: "USD".into(),
            timestamp_ms: 1,
        })
        .expect("a fill");
    let error = host
        .trading
        .modify(id, None, Some(d("0.40")))
        .expect_err("not above the fills");
    assert_eq!(error.code(), "invalid_order");

    host.trading
        .modify(id, Some(d("10.5")), Some(d("1.50")))
        .expect("modify accepted");
    eventually("the amendment", Duration::from_secs(10), || {
        host.trading
            .get(id)
            .is_some_and(|o| o.spec.price == d("10.5"))
    })
    .await;
    let size = lock(&venue).orders["1"]["size"].clone();
    assert_eq!(size.as_str().map(d), Some(d("1.50")), "the total: {size}");
    // The refills read the venue's total as the order's.
    host.trading.reconcile().await;
    let order = host.trading.get(id).expect("tracked");
    assert_eq!(order.spec.amount, d("1.50"));
    assert_eq!(order.filled_amount, d("0.40"));
    assert_eq!(order.venue_size_base, Decimal::ZERO);
    assert_eq!(order.state, OrderState::PartiallyFilled);
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_modify_the_venue_refuses_leaves_the_order_as_the_venue_has_it() {
    let (venue, host, id) = one_open_order().await;

    // Cancelled on the venue before the modify arrives: the amend is
    // refused (404), and the status query that follows closes the order.
    lock(&venue).orders.get_mut("1").expect("venue order")["status"] = json!("cancelled");
    host.trading
        .modify(id, Some(d("10.5")), None)
        .expect("modify accepted");
    host.until(id, "the order to be cancelled", |s| {
        *s == OrderState::Cancelled
    })
    .await;
    let order = host.trading.get(id).expect("tracked");
    assert_eq!(
        order.spec.price,
        d("10.0"),
        "the refused price was never taken"
    );

    // A modify the venue refuses for its numbers leaves the order open,
    // with its old price and size, under its id.
    let second = host
        .trading
        .submit(&buy_order("TEST-USD", "9.0", "1.00", OrderType::Limit))
        .expect("accepted");
    host.until(second, "the second order to open", |s| {
        *s == OrderState::Open
    })
    .await;
    let queries = lock(&venue).queries;
    host.trading
        .modify(second, Some(d("9.5")), Some(d("500")))
        .expect("modify accepted");
    // The host asks the venue once it has read the refusal.
    eventually(
        "the status query after the refusal",
        Duration::from_secs(10),
        || lock(&venue).queries > queries,
    )
    .await;
    let order = host.trading.get(second).expect("tracked");
    assert_eq!(order.state, OrderState::Open);
    assert_eq!((order.spec.price, order.spec.amount), (d("9.0"), d("1")));
    assert_eq!(order.exchange_order_id.as_deref(), Some("2"));
    assert_eq!(lock(&venue).orders["2"]["price"], "9");
    // Its cancel still counts.
    host.trading.cancel(second).expect("cancel accepted");
    host.until(second, "the second order to be cancelled", |s| {
        *s == OrderState::Cancelled
    })
    .await;
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_placement_the_venue_did_not_process_is_signed_anew_before_it_goes_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("signer.sock");
    let signed = scripted_signer(socket.clone()).await;
    let venue = Venue::default();
    lock(&venue).refuse_placements = 2;
    let host = Host::start(serve(venue.clone()).await, Some(socket), &[]).await;
    let id = host
        .trading
        .submit(&buy_order("TEST-USD", "10.0", "1.00", OrderType::Limit))
        .expect("accepted");
    host.until(id, "the order to open after two refusals", |s| {
        *s == OrderState::Open
    })
    .await;

    let placements = lock(&venue).placements.clone();
    assert_eq!(placements.len(), 3, "{placements:?}");
    // The order requests' signatures (the account socket's authentication
    // is signed too, under its own scheme).
    let signed: Vec<Value> = signed
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter(|request| request["scheme"] == "testex")
        .cloned()
        .collect();
    assert_eq!(signed.len(), 3, "one signature per attempt: {signed:?}");
    for (attempt, (nonce, signature)) in placements.iter().enumerate() {
        // Each attempt carries the nonce it was signed over...
        assert_eq!(nonce, &signed[attempt]["nonce"].to_string());
        let expected: String = nonce
            .parse::<u64>()
            .expect("a nonce")
            .to_be_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(signature, &expected);
    }
    // ...and no two attempts share one: a retry is never the same signed
    // bytes again.
    let mut nonces: Vec<&String> = placements.iter().map(|(nonce, _)| nonce).collect();
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "{placements:?}");
    host.stop().await;
}
