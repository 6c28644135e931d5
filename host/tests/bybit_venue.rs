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
