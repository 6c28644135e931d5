//! Fuzz harnesses: one function per parser that reads data from outside
//! the process, each taking arbitrary bytes and failing only by panicking.
//!
//! | harness | reads | from |
//! |---|---|---|
//! | [`plugin_frame`] | WebSocket frames (market and user connections) | the exchange |
//! | [`plugin_response`] | `/info` and `/exchange` answers, for every operation | the exchange |
//! | [`bybit_frame`] | Bybit public and private socket frames | the exchange |
//! | [`bybit_response`] | Bybit REST answers, for every operation | the exchange |
//! | [`command`] | a command, then the order it asks for (or a modify leaves), quantized, risk-checked and encoded | a strategy |
//! | [`signer_request`] | one request line to the signer | the host, or anything on its socket |
//! | [`config`] | the host's TOML configuration | the user |
//!
//! The coverage-guided runs live in `libfuzzer/` (`cargo fuzz`, run by
//! `tests/fuzz/run.sh`); `tests/regressions.rs` replays the seed corpus and
//! every input that once failed through the same functions on every
//! `cargo test`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use abi_stable::std_types::{ROption, RVec};
use bybit_plugin::Bybit;
use connector_host::commands::{Command, parse_request};
use connector_host::config::Limits;
use connector_host::order::{
    ClientOrderId, InFlightOrder, NewOrder, OrderState, OrderType, TimeInForce, TradeType,
};
use connector_host::trading::{
    Amendment, Exposure, MarketPricing, OrderCommand, RiskLimits, prepare_order,
};
use connector_signer::handler::Signer;
use connector_signer::keyring::{ApiKey, ApiSecret, Key, Keyring, Material};
use connector_signer::policy::{KeyPolicy, api, hyperliquid};
use connector_signer::schemes::Venue;
use hyperliquid_core::PrivateKey;
use hyperliquid_plugin::Hyperliquid;
use plugin_api::{
    Answer, AnswerKind, Dec, Event, Exchange, Market, ModifyRequest, Operation, OrderRef, Output,
    Output_NE, PluginError, PriceRule, RequestContext, Response, TradingRule,
};
use rust_decimal::Decimal;

/// The names of the harnesses, as `run.sh`, the libFuzzer targets and the
/// corpus folders spell them.
pub const TARGETS: [&str; 7] = [
    "plugin_frame",
    "plugin_response",
    "bybit_frame",
    "bybit_response",
    "command",
    "signer_request",
    "config",
];

/// Runs the harness named `target` on `data`; `false` for an unknown name.
pub fn run(target: &str, data: &[u8]) -> bool {
    match target {
        "plugin_frame" => plugin_frame(data),
        "plugin_response" => plugin_response(data),
        "bybit_frame" => bybit_frame(data),
        "bybit_response" => bybit_response(data),
        "command" => command(data),
        "signer_request" => signer_request(data),
        "config" => config(data),
        _ => return false,
    }
    true
}

const ACCOUNT: &str = "0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE";

/// The plugin session every harness drives (one at a time).
fn plugin() -> MutexGuard<'static, Hyperliquid> {
    static PLUGIN: OnceLock<Mutex<Hyperliquid>> = OnceLock::new();
    PLUGIN
        .get_or_init(|| {
            Mutex::new(
                Hyperliquid::new(&format!(r#"{{"network":"mainnet","account":"{ACCOUNT}"}}"#))
                    .expect("the plugin takes its own config"),
            )
        })
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

const NOW_MS: u64 = 1_700_000_000_000;

fn context() -> RequestContext {
    RequestContext {
        now_ms: NOW_MS,
        nonce: NOW_MS,
        valid_until_ms: ROption::RSome(NOW_MS + 2_000),
        prefer_socket: false,
    }
}

/// The Bybit session the Bybit harnesses drive.
fn bybit() -> MutexGuard<'static, Bybit> {
    static PLUGIN: OnceLock<Mutex<Bybit>> = OnceLock::new();
    PLUGIN
        .get_or_init(|| {
            Mutex::new(
                Bybit::new(r#"{"api_url":"https://api.bybit.com","api_key":"fuzz"}"#)
                    .expect("the plugin takes its own config"),
            )
        })
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// A job of `session` for `operation` answered with `response`: what the
/// session makes of the answer.
fn answer_with(
    session: &mut impl Exchange,
    operation: &Operation,
    response: Response,
) -> Result<Vec<Output_NE>, PluginError> {
    static NEXT_JOB: AtomicU64 = AtomicU64::new(1);
    let job = NEXT_JOB.fetch_add(1, Ordering::Relaxed);
    session.begin(job, operation, &context())?;
    session.on_answer(job, &Answer::answered(response), NOW_MS)
}

/// The first market of a markets answer, read by `session`.
fn market_from(session: &mut impl Exchange, body: &str) -> Market {
    let response = Response {
        status: 200,
        body: body.into(),
        headers: RVec::new(),
    };
    let outputs = answer_with(
        session,
        &Operation::FetchMarkets { cursor: "".into() },
        response,
    )
    .expect("the markets answer");
    let reply = match outputs.first().map(|output| output.as_enum()) {
        Some(Ok(Output::Done { reply, .. })) => (**reply).clone(),
        other => panic!("the markets job did not finish: {other:?}"),
    };
    match reply.events.first().map(|event| event.as_enum()) {
        Some(Ok(Event::Markets(markets))) => markets[0].clone(),
        other => panic!("no market in the markets answer: {other:?}"),
    }
}

/// BTC-USD as the Hyperliquid plugin describes it from a `meta` answer.
fn btc() -> &'static Market {
    static MARKET: OnceLock<Market> = OnceLock::new();
    MARKET.get_or_init(|| {
        market_from(
            &mut *plugin(),
            r#"{"universe":[{"name":"BTC","szDecimals":5,"maxLeverage":40}]}"#,
        )
    })
}

/// BTCUSDT as the Bybit plugin describes it from an `instruments-info`
/// answer.
fn bybit_btc() -> &'static Market {
    static MARKET: OnceLock<Market> = OnceLock::new();
    MARKET.get_or_init(|| {
        market_from(
            &mut *bybit(),
            r#"{"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[{"symbol":"BTCUSDT",
            "contractType":"LinearPerpetual","status":"Trading","baseCoin":"BTC","quoteCoin":"USDT",
            "leverageFilter":{"maxLeverage":"100.00"},"priceFilter":{"minPrice":"0.10","maxPrice":"199999.80","tickSize":"0.10"},
            "lotSizeFilter":{"maxOrderQty":"100.000","minOrderQty":"0.001","qtyStep":"0.001","minNotionalValue":"5"}}],
            "nextPageCursor":""},"retExtInfo":{},"time":1700000000000}"#,
        )
    })
}

/// A plugin error must say what was wrong.
fn check_error(error: &PluginError) {
    assert!(!error.message.is_empty(), "an error without a message");
}

/// The bytes as text: frames and bodies reach the plugin as UTF-8 strings
/// (the host refuses others before), so other bytes are not interesting.
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A frame for `session` on one of `connections` (the first byte picks).
fn frame_into(session: &mut impl Exchange, connections: [&str; 2], data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Some(frame) = text(rest) else { return };
    let connection = connections[usize::from(which % 2)];
    if let Err(error) = session.on_frame(connection, frame, NOW_MS) {
        check_error(&error);
    }
}

/// A Hyperliquid frame on the market or the user connection.
pub fn plugin_frame(data: &[u8]) {
    frame_into(&mut *plugin(), ["market", "user"], data);
}

/// A Bybit frame on the public or the private socket.
pub fn bybit_frame(data: &[u8]) {
    frame_into(&mut *bybit(), ["public", "private"], data);
}

fn order_ref(market: &Market) -> OrderRef {
    OrderRef {
        client_id: "0x00000000000000000000000000000001".into(),
        exchange_order_id: ROption::RSome("77".into()),
        market: market.clone(),
    }
}

fn order_request(market: &Market) -> plugin_api::OrderRequest {
    plugin_api::OrderRequest {
        client_id: "0x00000000000000000000000000000001".into(),
        market: market.clone(),
        side: plugin_api::Side::BUY,
        kind: plugin_api::OrderKind::LIMIT,
        time_in_force: plugin_api::TimeInForce::GTC,
        price: Dec::new(100_000, 0),
        size: Dec::new(1, 3),
        reduce_only: false,
        trigger_price: ROption::RNone,
        max_slippage: ROption::RNone,
    }
}

/// Every operation whose answer a plugin reads, on `market`.
fn operations(market: &Market) -> Vec<Operation> {
    vec![
        Operation::PlaceOrders(RVec::from(vec![order_request(market)])),
        Operation::PlaceOrders(RVec::from(vec![
            order_request(market),
            order_request(market),
        ])),
        Operation::CancelOrders(RVec::from(vec![order_ref(market)])),
        Operation::ModifyOrders(RVec::from(vec![ModifyRequest {
            target: order_ref(market),
            order: order_request(market),
        }])),
        Operation::ArmDeadManSwitch(ROption::RSome(1_700_000_010_000)),
        Operation::SetLeverage {
            market: market.clone(),
            leverage: 10,
            cross: true,
        },
        Operation::FetchMarkets { cursor: "".into() },
        Operation::FetchOpenOrders,
        Operation::FetchOrder(order_ref(market)),
        Operation::FetchFills {
            since_ms: 1_700_000_000_000,
        },
        Operation::FetchAccount,
        Operation::FetchRateLimits,
        Operation::CancelOrders(RVec::from(vec![order_ref(market), order_ref(market)])),
    ]
}

/// An answer for `session` to one of `operations` (the first byte picks
/// it, the second the HTTP status), the rest the body.
fn response_into(session: &mut impl Exchange, operations: &[Operation], data: &[u8]) {
    const STATUSES: [u16; 8] = [200, 200, 200, 200, 400, 422, 429, 500];
    let [which, status, body @ ..] = data else {
        return;
    };
    let Some(body) = text(body) else { return };
    let operation = &operations[usize::from(*which) % operations.len()];
    let response = Response {
        status: STATUSES[usize::from(*status) % STATUSES.len()],
        body: body.into(),
        headers: RVec::new(),
    };
    if let Err(error) = answer_with(session, operation, response) {
        check_error(&error);
    }
}

/// A Hyperliquid `/info` or `/exchange` answer.
pub fn plugin_response(data: &[u8]) {
    let operations = operations(btc());
    response_into(&mut *plugin(), &operations, data);
}

/// A Bybit REST answer.
pub fn bybit_response(data: &[u8]) {
    let operations = operations(bybit_btc());
    response_into(&mut *bybit(), &operations, data);
}

/// A market with the finest tick and lot a venue could have (1e-8): the
/// quantization divides by them, so large numbers meet the edge of the
/// decimal range here first.
fn fine_market() -> &'static Market {
    static MARKET: OnceLock<Market> = OnceLock::new();
    MARKET.get_or_init(|| {
        let mut market = btc().clone();
        market.rule = TradingRule {
            price: PriceRule {
                tick: Dec::new(1, 8),
                max_significant_figures: 0,
                max_decimals: ROption::RNone,
                integers_always_valid: false,
                min_price: Dec::ZERO,
                max_price: Dec::ZERO,
            },
            size_step: Dec::new(1, 8),
            min_size: Dec::ZERO,
            max_size: Dec::ZERO,
            min_notional: Dec::ZERO,
            reduce_only_exempt_from_min_notional: true,
        };
        market
    })
}

/// Every risk limit set, so that every check runs.
fn risk_limits(symbol: &str) -> RiskLimits {
    let limits = Limits {
        max_order_size: Some(Decimal::from(2)),
        max_order_notional: Some(Decimal::from(100_000)),
        max_open_orders: Some(50),
        max_position: Some(Decimal::from(5)),
        price_band_percent: Some(Decimal::from(5)),
        max_orders_per_second: Some(1_000),
    };
    RiskLimits::new(HashMap::from([(symbol.to_owned(), limits)]))
}

/// What the account holds: ordinary, and at the edge of the decimal range.
fn exposures() -> [Exposure; 2] {
    [
        Exposure {
            position: Decimal::ONE,
            open_buys: Decimal::ONE,
            open_sells: Decimal::ONE,
            open_orders: 3,
        },
        Exposure {
            position: Decimal::MAX,
            open_buys: Decimal::MAX,
            open_sells: Decimal::MIN,
            open_orders: u32::MAX,
        },
    ]
}

/// A resting order to modify.
fn resting(market: &Market) -> InFlightOrder {
    let mut order = InFlightOrder::new(NewOrder {
        client_order_id: ClientOrderId(1),
        exchange: "hl".to_owned(),
        trading_pair: market.symbol.to_string(),
        order_type: OrderType::Limit,
        trade_type: TradeType::Buy,
        position_action: None,
        time_in_force: TimeInForce::Gtc,
        price: Decimal::from(99_000),
        amount: Decimal::new(1, 3),
        creation_timestamp_ms: 0,
    });
    order.state = OrderState::Open;
    order
}

/// A command as a strategy sends it. A new order, or an order as a modify
/// would leave it, then goes through validation, quantization (on a
/// significant-figure market and on one with the finest tick), every risk
/// limit (with ordinary and extreme exposures) and the plugin's encoding,
/// as the host does before tracking and signing it.
pub fn command(data: &[u8]) {
    let request = match parse_request(data) {
        Ok(request) => request,
        Err(reply) => {
            let error = reply.error.as_ref().expect("a refusal carries an error");
            assert_eq!(error.code, "bad_request");
            assert!(!error.message.is_empty());
            return;
        }
    };
    for market in [btc(), fine_market()] {
        let order = match &request.command {
            Command::Buy(fields) => fields.clone().order_command(TradeType::Buy),
            Command::Sell(fields) => fields.clone().order_command(TradeType::Sell),
            Command::Modify(fields) => {
                let amendment = Amendment {
                    price: fields.price.map(|p| p.0),
                    amount: fields.amount.map(|a| a.0),
                };
                Ok(amendment.applied_to(&resting(market)))
            }
            _ => return,
        };
        let Ok(mut order) = order else {
            continue;
        };
        order.trading_pair = market.symbol.to_string();
        order_path(market, &order);
    }
}

/// Validation, quantization, risk and encoding of one order.
fn order_path(market: &Market, order: &OrderCommand) {
    let pricing = MarketPricing {
        mid: Some(100_000.into()),
        default_slippage_percent: None,
    };
    let id = ClientOrderId(1);
    let manifest = Hyperliquid::manifest();
    let new_order = match prepare_order("hl", &manifest, market, order, id, pricing, 0) {
        Ok((new_order, request)) => {
            encode(request);
            new_order
        }
        Err(error) => {
            assert!(!error.to_string().is_empty());
            return;
        }
    };
    let limits = risk_limits(&market.symbol);
    for exposure in exposures() {
        for mid in [
            None,
            Some(Decimal::from(100_000)),
            Some(Decimal::new(1, 28)),
        ] {
            if let Err(refusal) = limits.admit(&new_order, mid, || exposure, 0) {
                assert!(!refusal.detail.is_empty());
            }
        }
    }
}

/// The plugin's encoding of a placement (the job is then given up).
fn encode(request: plugin_api::OrderRequest) {
    let operation = Operation::PlaceOrders(RVec::from(vec![request]));
    let mut plugin = plugin();
    match plugin.begin(0, &operation, &context()) {
        Ok(_) => {
            let given_up = Answer::failed(AnswerKind::NOT_SENT, "fuzzing");
            if let Err(error) = plugin.on_answer(0, &given_up, NOW_MS) {
                check_error(&error);
            }
        }
        Err(error) => check_error(&error),
    }
}

/// One request line to a signer with a key of each venue, each with a
/// restrictive policy, at a fixed time (so that seeds stay valid).
pub fn signer_request(data: &[u8]) {
    static SIGNER: OnceLock<Signer> = OnceLock::new();
    let signer = SIGNER.get_or_init(|| {
        let key = PrivateKey::from_hex(&format!("0x{}", "11".repeat(32))).expect("a valid key");
        let policy = hyperliquid::Policy::from_toml(
            "allowed_assets = [0, 1]\nmax_order_notional = \"1000000\"",
        )
        .expect("a valid policy");
        let api_policy = || {
            let table =
                toml::from_str("allowed_markets = [\"BTCUSDT\"]\nmax_order_notional = \"1000000\"")
                    .expect("a valid table");
            KeyPolicy::Api(api::Policy::from_table(table).expect("a valid policy"))
        };
        let api_key = |name: &str, venue| Key {
            name: name.to_owned(),
            venue,
            material: Material::Api(ApiKey::new(name, ApiSecret::hmac(b"fuzz-secret"))),
            policy: api_policy(),
        };
        let keys = vec![
            Key {
                name: "hl".to_owned(),
                venue: Venue::Hyperliquid,
                material: Material::Secp256k1(key),
                policy: KeyPolicy::Hyperliquid(policy),
            },
            api_key("binance", Venue::BinanceUsdm),
            api_key("bybit", Venue::Bybit),
        ];
        Signer::new(Keyring::new(keys).expect("unique names"))
    });
    let response = signer.handle_line_at(data, 1_700_000_000_000);
    let line = response.to_json_line();
    assert!(
        serde_json::from_slice::<serde_json::Value>(&line).is_ok(),
        "the signer's answer is not JSON"
    );
}

/// The host's configuration file.
pub fn config(data: &[u8]) {
    let Some(text) = text(data) else { return };
    match connector_host::config::parse(text) {
        Ok(config) => {
            let _ = config.summary();
        }
        Err(errors) => {
            assert!(!errors.errors.is_empty(), "refused without an error");
            assert!(!errors.to_string().is_empty());
        }
    }
}
