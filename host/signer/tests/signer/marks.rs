//! Orders valued at the worse of their limit and the mark, the marks
//! fetched by the signer from each venue's emulator: a marketable sell with
//! a low limit is worth its size at the mark.

use std::time::{Duration, Instant};

use connector_signer::protocol::{ErrorCode, Response};
use hl_emulator::{Config, Emulator, binance, bybit};
use rust_decimal::Decimal;
use serde_json::json;

use crate::common::{KEY, Server, now_ms, write_file};

/// A `[[key]]` entry whose orders are capped at 1000, valued at the marks
/// of `url`.
fn key_entry(name: &str, venue: &str, extra: &str, url: &str) -> String {
    format!(
        "[[key]]\nname = \"{name}\"\nvenue = \"{venue}\"\n{extra}\n\
         [key.policy]\nmax_order_notional = \"1000\"\n\
         [key.policy.mark_prices]\nurl = \"{url}\"\nrefresh_ms = 50\nmax_age_ms = 1000\n\n"
    )
}

fn hl_order(buy: bool, price: &str, size: &str) -> String {
    json!({"id": 1, "key": "hl", "scheme": "hyperliquid-l1", "nonce": now_ms(), "network": "mainnet",
           "action": {"type": "order", "grouping": "na", "orders": [
               {"a": 0, "b": buy, "p": price, "s": size, "r": false, "t": {"limit": {"tif": "Gtc"}}}]}})
    .to_string()
}

fn binance_market_sell(quantity: &str) -> String {
    json!({"id": 2, "key": "bn", "scheme": "binance-rest", "api_key": "bn-key", "method": "POST",
           "path": "/fapi/v1/order",
           "query": [["symbol", "BTCUSDT"], ["side", "SELL"], ["type", "MARKET"],
                     ["quantity", quantity], ["timestamp", now_ms().to_string()]]})
    .to_string()
}

fn bybit_limit_sell(price: &str, qty: &str) -> String {
    let body = json!({"category": "linear", "symbol": "BTCUSDT", "side": "Sell",
                      "orderType": "Limit", "qty": qty, "price": price})
    .to_string();
    json!({"id": 3, "key": "by", "scheme": "bybit-rest", "api_key": "by-key", "timestamp": now_ms(),
           "recv_window": 5000, "method": "POST", "path": "/v5/order/create", "body": body})
    .to_string()
}

fn refusal(response: &Response) -> String {
    let error = response.result.as_ref().expect_err("refused");
    assert_eq!(error.code, ErrorCode::PolicyDenied, "{}", error.message);
    error.message.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_are_valued_at_the_worse_of_limit_and_the_venues_mark() {
    // No drift and no takers: the marks stay where the test puts them.
    let quiet = |mut config: Config| {
        config.liquidity.levels = 0;
        config.liquidity.taker_rate_per_sec = 0.0;
        config.liquidity.volatility_bps_per_sec = 0.0;
        config
    };
    let hl = Emulator::start(quiet(Config::default()))
        .await
        .expect("hyperliquid emulator");
    let bn = binance::start(
        quiet(binance::default_config()),
        binance::BinanceOptions::default(),
    )
    .await
    .expect("binance emulator");
    let by = bybit::start(
        quiet(bybit::default_config()),
        bybit::BybitOptions::default(),
    )
    .await
    .expect("bybit emulator");
    let mark = Decimal::from(50_000);
    for venue in [&hl, &bn, &by] {
        venue.set_price("BTC", mark).expect("mark");
    }

    let dir = tempfile::tempdir().expect("temp dir");
    write_file(dir.path(), "hl.key", KEY, 0o600);
    write_file(dir.path(), "bn.secret", "bn-secret", 0o600);
    write_file(dir.path(), "by.secret", "by-secret", 0o600);
    let api = |name: &str| {
        format!("file = \"{name}.secret\"\nalgorithm = \"hmac-sha256\"\napi_key = \"{name}-key\"")
    };
    let keyring = [
        key_entry("hl", "hyperliquid", "file = \"hl.key\"", &hl.base_url()),
        key_entry("bn", "binance-usdm", &api("bn"), &bn.base_url()),
        key_entry("by", "bybit", &api("by"), &by.base_url()),
    ]
    .concat();
    let keyring = write_file(dir.path(), "keyring.toml", &keyring, 0o600);
    let server = Server::serve(dir, &["--keyring".into(), keyring.into_os_string()]);
    let mut client = server.connect();

    // Sells whose limits value them at a few dollars are worth their size at
    // the mark, and refused; orders within the cap at the mark are signed.
    assert_eq!(
        refusal(&client.call(&hl_order(false, "1", "0.1"))),
        "order notional 50000 (the mark; limit 1) × 0.1 = 5000.0 exceeds 1000 (rule: max_order_notional)"
    );
    assert!(client.call(&hl_order(true, "50000", "0.01")).result.is_ok());
    // A buy limit above the mark is valued at its limit.
    assert!(
        refusal(&client.call(&hl_order(true, "200000", "0.01")))
            .starts_with("order notional 200000 × 0.01 ="),
    );
    assert_eq!(
        refusal(&client.call(&binance_market_sell("1"))),
        "order notional 50000 (the mark; a market order) × 1 = 50000 exceeds 1000 (rule: max_order_notional)"
    );
    assert!(client.call(&binance_market_sell("0.001")).result.is_ok());
    assert_eq!(
        refusal(&client.call(&bybit_limit_sell("1", "0.5"))),
        "order notional 50000 (the mark; limit 1) × 0.5 = 25000.0 exceeds 1000 (rule: max_order_notional)"
    );

    // A mark that moves is followed.
    by.set_price("BTC", Decimal::from(1_000)).expect("mark");
    let deadline = Instant::now() + Duration::from_secs(10);
    while client.call(&bybit_limit_sell("1", "0.5")).result.is_err() {
        assert!(Instant::now() < deadline, "the new mark was never fetched");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A venue that stops answering leaves its marks to age, and once they
    // are too old its orders are refused, whatever their limit.
    bn.shutdown().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let stale = loop {
        let response = client.call(&binance_market_sell("0.001"));
        if let Err(error) = &response.result {
            break error.message.clone();
        }
        assert!(Instant::now() < deadline, "old marks kept being used");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        stale.starts_with("no mark price for BTCUSDT fresher than 1000 ms: the last is")
            && stale.contains("(the last fetch failed: "),
        "{stale}"
    );
    // The other venues' marks are unaffected.
    assert!(client.call(&hl_order(true, "50000", "0.01")).result.is_ok());
    hl.shutdown().await;
    by.shutdown().await;
}

#[test]
fn a_venue_that_does_not_answer_at_start_leaves_orders_refused_and_the_rest_signed() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_file(dir.path(), "hl.key", KEY, 0o600);
    let keyring = key_entry(
        "hl",
        "hyperliquid",
        "file = \"hl.key\"",
        "http://127.0.0.1:1",
    );
    let keyring = write_file(dir.path(), "keyring.toml", &keyring, 0o600);
    let server = Server::serve(dir, &["--keyring".into(), keyring.into_os_string()]);
    let mut client = server.connect();
    let refused = refusal(&client.call(&hl_order(true, "1", "0.001")));
    assert!(
        refused.starts_with(
            "no mark price for 0 yet: none fetched from http://127.0.0.1:1 (the last fetch failed: "
        ),
        "{refused}"
    );
    let cancel = json!({"id": 4, "key": "hl", "scheme": "hyperliquid-l1", "nonce": now_ms(),
        "network": "mainnet", "action": {"type": "cancel", "cancels": [{"a": 0, "o": 1}]}});
    assert!(client.call(&cancel.to_string()).result.is_ok());
}
