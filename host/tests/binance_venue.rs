//! Binance USDⓈ-M through the host: the `binance-usdm` plugin against the
//! in-process Binance emulator, its requests signed by the real signer with
//! an Ed25519 or an HMAC key from a keyring, each checked by the emulator
//! (the scenarios are in `common::venue`, shared with Bybit).

mod common;

use common::venue::{self, BinanceKey as Key, VenueEnv};
use connector_host::config::ExchangeConfig;
use connector_host::order::{ClientOrderId, OrderState, OrderType};
use hl_emulator::FaultSettings;

async fn start(key: Key, adjust: impl FnOnce(&mut ExchangeConfig)) -> VenueEnv {
    venue::binance(key, &FaultSettings::default(), adjust).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_order_rests_is_amended_in_place_and_cancelled() {
    let env = start(Key::Ed25519, |_| {}).await;
    venue::a_limit_order_rests_is_amended_in_place_and_cancelled(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_market_order_fills_once_and_the_position_follows() {
    let env = start(Key::Hmac, |_| {}).await;
    venue::a_market_order_fills_once_and_the_position_follows(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_whose_answer_is_lost_is_found_by_a_signed_read() {
    let env = start(Key::Ed25519, |_| {}).await;
    venue::an_order_whose_answer_is_lost_is_found_by_a_signed_read(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kill_switch_cancels_on_the_venue_and_refuses_new_orders() {
    let env = start(Key::Hmac, |_| {}).await;
    venue::the_kill_switch_cancels_on_the_venue_and_refuses_new_orders(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_dead_mans_switch_has_the_venue_cancel() {
    let env = start(Key::Hmac, venue::lapsing_switch).await;
    venue::a_lapsed_dead_mans_switch_has_the_venue_cancel(env).await;
}

/// Binance refuses a timestamp 1 s or more ahead of its clock: against a
/// venue 3 s behind this machine, the plugin stamps with the venue's time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_venue_clock_behind_this_machines_is_followed() {
    let env = venue::binance(Key::Hmac, &venue::clock_offset(-3_000), |_| {}).await;
    venue::a_market_order_fills_once_and_the_position_follows(env).await;
}

/// … and older than the receive window: against a venue 20 s ahead (an
/// order's window is the host's deadline, 2 s here), likewise. (Further
/// off, the signer refuses: its policy takes no stamp a minute off its own
/// clock.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_venue_clock_ahead_of_this_machines_is_followed() {
    let env = venue::binance(Key::Ed25519, &venue::clock_offset(20_000), |_| {}).await;
    venue::a_limit_order_rests_is_amended_in_place_and_cancelled(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risk_limits_refuse_before_the_venue_sees_the_order() {
    let env = start(Key::Hmac, venue::tight_limits).await;
    venue::risk_limits_refuse_before_the_venue_sees_the_order(env).await;
}

/// A market buy of 0.010 placed under `faults` while the user stream is
/// silent: once the host has settled it, it is `FILLED` with 0.010 filled.
async fn a_market_buy_in_doubt_fills_once(env: &VenueEnv, faults: FaultSettings) -> ClientOrderId {
    let (_, ask) = env.top().await;
    env.emulator
        .set_faults(&FaultSettings {
            // The user stream says nothing of the fill meanwhile.
            ws_silence_secs: Some(3),
            ..faults
        })
        .expect("faults");
    let order = common::buy_order("BTC-USDT", &ask.to_string(), "0.010", OrderType::Market);
    let id = env.trading.submit(&order).expect("accepted");
    env.until(id, "the order filled", |o| o.state == OrderState::Filled)
        .await;
    env.trading.reconcile().await;
    assert_eq!(
        env.order(id).filled_amount,
        "0.010".parse().expect("amount")
    );
    id
}

/// An order answered `-1007` (placed, its outcome unknown) that filled at
/// once while the user stream said nothing: the host settles it by a query
/// by client id, and counts its fill from the trade list, which names the
/// order by the venue's id alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_in_doubt_that_filled_is_counted_from_the_trade_list() {
    let env = start(Key::Hmac, |_| {}).await;
    let answer = reqwest::Client::new()
        .post(format!("{}/admin/binance/faults", env.emulator.base_url()))
        .json(&serde_json::json!({"unknown_outcome_rate": 1.0}))
        .send()
        .await
        .expect("the emulator's admin API");
    assert!(answer.status().is_success());
    a_market_buy_in_doubt_fills_once(&env, FaultSettings::default()).await;
    env.stop().await;
}

/// An order placed and then answered HTTP 503 is in doubt, not refused: the
/// host settles it by a query and never sends it again — once it has filled
/// and closed, Binance would take the same client id for a second order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_answered_503_after_it_was_placed_is_not_placed_twice() {
    let env = start(Key::Ed25519, |_| {}).await;
    let faults = FaultSettings {
        exchange_5xx_next: Some(1),
        http_5xx_after_apply: Some(true),
        ..FaultSettings::default()
    };
    let id = a_market_buy_in_doubt_fills_once(&env, faults).await;
    let link = id.to_string().trim_start_matches("0x").to_owned();
    let placed = env
        .emulator
        .venue_orders()
        .as_array()
        .into_iter()
        .flatten()
        .filter(|order| order["linkId"] == link.as_str())
        .count();
    assert_eq!(placed, 1, "orders on the venue under {id}");
    env.stop().await;
}

/// A ban (HTTP 418 with `Retry-After`) pauses every request of the
/// exchange until it ends: a request sent meanwhile would be refused again
/// and, on Binance, lengthen the ban. An order submitted during the ban
/// waits for its end, then goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_pauses_every_request_until_it_ends() {
    // No periodic reconciliation: one of its queries in flight as the first
    // order brings the ban would arrive during it, sent before anyone could
    // know (seen on a loaded machine); what is checked is that nothing is
    // sent once the ban is known.
    let env = start(Key::Ed25519, |exchange| {
        exchange.reconcile_interval_ms = 600_000;
    })
    .await;
    let (bid, _) = env.top().await;
    let admin = |path: &str| format!("{}/admin/binance/{path}", env.emulator.base_url());
    let http = reqwest::Client::new();
    let set = |faults: serde_json::Value| {
        let request = http.post(admin("faults")).json(&faults).send();
        async move {
            let answer = request.await.expect("the emulator's admin API");
            assert!(answer.status().is_success());
        }
    };
    let bans = || async {
        let answer = http.get(admin("bans")).send().await.expect("the admin API");
        answer.json::<serde_json::Value>().await.expect("JSON")
    };
    // No weight left: the next request is over the limit and banned for
    // 2 s.
    set(serde_json::json!({"weight_limit_per_min": 0, "ban_after_429s": 0, "ban_secs": 2})).await;
    let price = (bid - rust_decimal::Decimal::from(500)).to_string();
    let first = common::buy_order("BTC-USDT", &price, "0.010", OrderType::Limit);
    let first = env.trading.submit(&first).expect("accepted");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while bans().await["bans"] == 0 {
        assert!(std::time::Instant::now() < deadline, "never banned");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The host reads the ban's answer within milliseconds; the second
    // order comes well within the ban's 2 s.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    set(serde_json::json!({"weight_limit_per_min": 1_000_000})).await;
    let second = common::buy_order("BTC-USDT", &price, "0.010", OrderType::Limit);
    let second = env.trading.submit(&second).expect("accepted");
    for id in [first, second] {
        env.until(id, "the order open", |o| o.state == OrderState::Open)
            .await;
    }
    let bans = bans().await;
    assert_eq!(bans["bans"], 1, "{bans}");
    assert_eq!(bans["requests_while_banned"], 0, "{bans}");
    env.stop().await;
}

/// Over the WebSocket API with an Ed25519 key: the connection logs on, and
/// orders, modifies and cancels go unsigned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_entry_goes_over_the_websocket_api_after_a_logon() {
    let env = start(Key::Ed25519, venue::over_the_socket).await;
    venue::order_entry_goes_over_the_trading_socket(env).await;
}

/// With an HMAC key (Binance logs only Ed25519 keys on), each request is
/// signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_entry_goes_over_the_websocket_api_signed_one_by_one() {
    let env = start(Key::Hmac, venue::over_the_socket).await;
    venue::order_entry_goes_over_the_trading_socket(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_lost_with_the_websocket_api_is_settled_by_a_query() {
    let env = start(Key::Ed25519, venue::over_the_socket).await;
    venue::a_request_lost_with_the_trading_socket_is_settled_by_a_query(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn books_converge_after_repeated_and_reordered_frames() {
    venue::books_converge_after_repeated_and_reordered_frames(start(Key::Hmac, |_| {}).await).await;
}
