//! Bybit through the host: the `bybit` plugin against the in-process Bybit
//! emulator, its requests signed by the real signer with an HMAC key from
//! a keyring (the scenarios are in `common::venue`, shared with Binance).

mod common;

use common::venue;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_order_rests_is_amended_in_place_and_cancelled() {
    venue::a_limit_order_rests_is_amended_in_place_and_cancelled(venue::bybit(|_| {}).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_market_order_fills_once_and_the_position_follows() {
    venue::a_market_order_fills_once_and_the_position_follows(venue::bybit(|_| {}).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_whose_answer_is_lost_is_found_by_a_signed_read() {
    venue::an_order_whose_answer_is_lost_is_found_by_a_signed_read(venue::bybit(|_| {}).await)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kill_switch_cancels_on_the_venue_and_refuses_new_orders() {
    venue::the_kill_switch_cancels_on_the_venue_and_refuses_new_orders(venue::bybit(|_| {}).await)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_dead_mans_switch_has_the_venue_cancel() {
    venue::a_lapsed_dead_mans_switch_has_the_venue_cancel(
        venue::bybit(venue::lapsing_switch).await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risk_limits_refuse_before_the_venue_sees_the_order() {
    let env = venue::bybit(venue::tight_limits).await;
    venue::risk_limits_refuse_before_the_venue_sees_the_order(env).await;
}

/// Bybit refuses a timestamp 1 s or more ahead of its clock: against a
/// venue 3 s behind this machine, the plugin stamps with the venue's time
/// (the private socket's `auth` too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_venue_clock_behind_this_machines_is_followed() {
    let env = venue::bybit_with(&venue::clock_offset(-3_000), |_| {}).await;
    venue::a_market_order_fills_once_and_the_position_follows(env).await;
}

/// … and one older than the receive window: against a venue 20 s ahead,
/// likewise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_venue_clock_ahead_of_this_machines_is_followed() {
    let env = venue::bybit_with(&venue::clock_offset(20_000), |_| {}).await;
    venue::a_limit_order_rests_is_amended_in_place_and_cancelled(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_entry_goes_over_the_trading_socket() {
    venue::order_entry_goes_over_the_trading_socket(venue::bybit(venue::over_the_socket).await)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_lost_with_the_trading_socket_is_settled_by_a_query() {
    venue::a_request_lost_with_the_trading_socket_is_settled_by_a_query(
        venue::bybit(venue::over_the_socket).await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_over_the_trading_socket_wait_for_capacity() {
    let env = venue::bybit_limited(2, venue::socket_orders_per_second("create", 2)).await;
    venue::orders_over_the_trading_socket_wait_for_capacity(env, "create").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn books_converge_after_repeated_and_reordered_frames() {
    venue::books_converge_after_repeated_and_reordered_frames(venue::bybit(|_| {}).await).await;
}

/// Exits the host holds follow their entry's fills on Bybit, which amends
/// an untriggered conditional order: placed at the first partial fill for
/// what filled, amended as the entry fills more, left at what filled when
/// the rest is cancelled — on the host and in the venue's own list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exits_the_host_holds_follow_the_entrys_fills() {
    use connector_host::order::{Exit, OrderState, OrderType, TriggerReference};
    use rust_decimal::Decimal;
    use serde_json::json;

    let (env, counterparty, own) = venue::bybit_with_counterparty().await;
    let (bid, ask) = env.top().await;
    let tick = Decimal::new(1, 1);
    assert!(ask - bid > tick, "room inside the spread: {bid} / {ask}");
    let price = bid + tick;
    let exit = |trigger: Decimal| Exit {
        trigger_price: trigger.round_dp(1),
        price: None,
        trigger_reference: Some(TriggerReference::Mark),
    };
    let entry = connector_host::trading::OrderCommand {
        take_profit: Some(exit(price * Decimal::new(12, 1))),
        stop_loss: Some(exit(price * Decimal::new(8, 1))),
        ..common::buy_order("BTC-USDT", &price.to_string(), "0.010", OrderType::Limit)
    };
    let entry = env.trading.submit(&entry).expect("entry accepted");
    env.until(entry, "the entry resting", |o| o.state == OrderState::Open)
        .await;
    let sell = |qty: &'static str| {
        counterparty.post(
            "/v5/order/create",
            json!({"category": "linear", "symbol": "BTCUSDT", "side": "Sell",
                   "orderType": "Limit", "qty": qty, "price": price.to_string(),
                   "timeInForce": "IOC"}),
        )
    };
    let exits_at = |amount: &str| {
        let amount: Decimal = amount.parse().expect("amount");
        let exits: Vec<_> = env
            .trading
            .open_orders(None)
            .into_iter()
            .filter(|order| order.spec.parent == Some(entry))
            .collect();
        exits.len() == 2
            && exits.iter().all(|exit| {
                exit.state == OrderState::Open
                    && exit.exchange_order_id.is_some()
                    && exit.spec.amount == amount
            })
    };
    sell("0.003").await;
    common::orders::eventually(
        "both exits at the first fill",
        std::time::Duration::from_secs(10),
        || exits_at("0.003"),
    )
    .await;
    assert_eq!(env.order(entry).state, OrderState::PartiallyFilled);
    sell("0.002").await;
    common::orders::eventually(
        "both exits amended to the second fill",
        std::time::Duration::from_secs(10),
        || exits_at("0.005"),
    )
    .await;
    env.cancel(entry).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(exits_at("0.005"), "the exits stay at what filled");
    // The venue's own list of the host's conditional orders.
    let listed = own
        .get(
            "/v5/order/realtime",
            "category=linear&symbol=BTCUSDT&orderFilter=StopOrder",
        )
        .await;
    let sizes: Vec<(&str, &str)> = listed["list"]
        .as_array()
        .expect("list")
        .iter()
        .map(|order| {
            (
                order["orderStatus"].as_str().unwrap_or(""),
                order["qty"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        sizes,
        [("Untriggered", "0.005"), ("Untriggered", "0.005")],
        "{listed}"
    );
    env.stop().await;
}
