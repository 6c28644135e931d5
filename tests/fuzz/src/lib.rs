//! Fuzz harnesses: one function per parser that reads data from outside
//! the process, each taking arbitrary bytes and failing only by panicking.
//!
//! | harness | reads | from |
//! |---|---|---|
//! | [`plugin_frame`] | WebSocket frames (market and user connections) | the exchange |
//! | [`plugin_response`] | `/info` and `/exchange` answers, for every operation | the exchange |
//! | [`bybit_frame`] | Bybit public and private socket frames | the exchange |
//! | [`bybit_response`] | Bybit REST answers, for every operation | the exchange |
//! | [`binance_frame`] | Binance USDⓈ-M stream frames (`/public`, `/market`, the listen key's account stream) | the exchange |
//! | [`binance_response`] | Binance USDⓈ-M REST answers (status, headers, body), for every operation and the session's own requests (book snapshot, listen key, server time) | the exchange |
//! | [`command`] | a command, then the order it asks for (or a modify leaves), quantized, risk-checked and encoded | a strategy |
//! | [`signer_request`] | one request line to the signer | the host, or anything on its socket |
//! | [`mark_prices`] | an answer to the signer's fetch of mark prices (Hyperliquid perp and spot contexts, Binance `premiumIndex`, Bybit tickers), then orders valued at each mark | the exchange |
//! | [`config`] | the host's TOML configuration | the user |
//!
//! The coverage-guided runs live in `libfuzzer/` (`cargo fuzz`, run by
//! `tests/fuzz/run.sh`); `tests/regressions.rs` replays the seed corpus and
//! every input that once failed through the same functions on every
//! `cargo test`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use abi_stable::std_types::{ROption, RVec, Tuple2};
use binance_plugin::Binance;
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
use connector_signer::marks::{MarkSource, MarkValuation};
use connector_signer::policy::{KeyPolicy, NotionalCap, api, check_notional, hyperliquid};
use connector_signer::schemes::Venue;
use ed25519_dalek::SigningKey;
use hyperliquid_core::PrivateKey;
use hyperliquid_plugin::Hyperliquid;
use plugin_api::{
    Answer, AnswerKind, Dec, Event, Exchange, Market, ModifyRequest, Operation, OrderRef, Output,
    Output_NE, PluginError, PriceRule, RequestContext, Response, SESSION_JOB, Stream, StreamKind,
    TradingRule,
};
use rust_decimal::Decimal;

/// The names of the harnesses, as `run.sh`, the libFuzzer targets and the
/// corpus folders spell them.
pub const TARGETS: [&str; 10] = [
    "plugin_frame",
    "plugin_response",
    "bybit_frame",
    "bybit_response",
    "binance_frame",
    "binance_response",
    "command",
    "signer_request",
    "mark_prices",
    "config",
];

/// Runs the harness named `target` on `data`; `false` for an unknown name.
pub fn run(target: &str, data: &[u8]) -> bool {
    match target {
        "plugin_frame" => plugin_frame(data),
        "plugin_response" => plugin_response(data),
        "bybit_frame" => bybit_frame(data),
        "bybit_response" => bybit_response(data),
        "binance_frame" => binance_frame(data),
        "binance_response" => binance_response(data),
        "command" => command(data),
        "signer_request" => signer_request(data),
        "mark_prices" => mark_prices(data),
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

/// An answer with `status`, read from `text` as HTTP gives it: `Name:
/// value` header lines, a blank line (`\r\n\r\n`), then the body; text
/// without a blank line is all body.
fn response(status: u16, text: &str) -> Response {
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or(("", text));
    let headers = head
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| Tuple2(name.into(), value.trim().into()))
        .collect();
    Response {
        status,
        body: body.into(),
        headers,
    }
}

/// The jobs among `outputs` that wait for an answer: a request to sign or
/// to send.
fn requests(outputs: &[Output_NE]) -> impl Iterator<Item = u64> + '_ {
    outputs.iter().filter_map(|output| match output.as_enum() {
        Ok(Output::Sign { job, .. } | Output::Http { job, .. }) => Some(*job),
        _ => None,
    })
}

/// A job whose answers a harness feeds.
enum Job<S> {
    /// One the host begins for an operation.
    Host(Box<Operation>),
    /// One the session begins itself (a book snapshot, a listen key): its
    /// request to this path among the outputs of this call.
    Own(
        fn(&mut S) -> Result<Vec<Output_NE>, PluginError>,
        &'static str,
    ),
}

/// The operations as jobs the host begins.
fn host_jobs<S>(operations: Vec<Operation>) -> Vec<Job<S>> {
    operations
        .into_iter()
        .map(|operation| Job::Host(Box::new(operation)))
        .collect()
}

/// How many calls of one job are answered; a job still asking after that
/// is given up (unsent), as the host gives up a read after its page limit.
const MAX_CALLS: usize = 4;

/// Starts `job` on `session` and answers its calls in turn with
/// `responses` (the last one again for any further call) until it asks
/// for no more: what the session makes of the last answer.
fn run_job<S: Exchange>(
    session: &mut S,
    job: &Job<S>,
    responses: &[Response],
) -> Result<Vec<Output_NE>, PluginError> {
    let (id, mut outputs) = match job {
        Job::Host(operation) => {
            static NEXT_JOB: AtomicU64 = AtomicU64::new(1);
            let id = NEXT_JOB.fetch_add(1, Ordering::Relaxed);
            (id, session.begin(id, operation, &context())?)
        }
        Job::Own(cause, path) => {
            let outputs = cause(session)?;
            let id = outputs
                .iter()
                .find_map(|output| match output.as_enum() {
                    Ok(Output::Http { job, request })
                        if job & SESSION_JOB != 0
                            && request.url.split('?').next().unwrap_or("").ends_with(path) =>
                    {
                        Some(*job)
                    }
                    _ => None,
                })
                .unwrap_or_else(|| panic!("the session asks for no {path} of its own"));
            (id, outputs)
        }
    };
    let Some(last) = responses.last() else {
        return Ok(outputs);
    };
    for call in 0..=MAX_CALLS {
        if !requests(&outputs).any(|job| job == id) {
            return Ok(outputs);
        }
        let answer = if call < MAX_CALLS {
            Answer::answered(responses.get(call).unwrap_or(last).clone())
        } else {
            Answer::failed(AnswerKind::NOT_SENT, "fuzzing: too many calls")
        };
        outputs = session.on_answer(id, &answer, NOW_MS)?;
    }
    Ok(outputs)
}

/// The first market of a markets answer, read by `session`.
fn market_from(session: &mut impl Exchange, body: &str) -> Market {
    let outputs = run_job(
        session,
        &Job::Host(Box::new(Operation::FetchMarkets { cursor: "".into() })),
        &[response(200, body)],
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

/// A Binance USDⓈ-M session as the host leaves it once it streams
/// BTCUSDT (book, best bid and offer, trades, mark price), ETHUSDT trades
/// and the account: both market connections up, the listen key made (its
/// stream is `user-1`), the BTCUSDT book bridged from its snapshot and in
/// sync at [`BINANCE_BOOK_ID`]. A new one for each input, unlike the
/// other venues' shared sessions: what it keeps (its place in the `pu`
/// chain, a snapshot fetch or key request under way, the markets it
/// trades) comes from the host's calls, and would drift with every input
/// (a book broken by one frame would stay broken, as no snapshot answers
/// it here); and an input that fails replays on its own.
fn binance() -> Binance {
    let mut session =
        Binance::new(r#"{"api_key":"fuzz"}"#).expect("the plugin takes its own config");
    let stream = |kind, market: &str| Stream {
        kind,
        market: market.into(),
    };
    let streams = [
        stream(StreamKind::BOOK, "BTCUSDT"),
        stream(StreamKind::BBO, "BTCUSDT"),
        stream(StreamKind::TRADES, "BTCUSDT"),
        stream(StreamKind::FUNDING, "BTCUSDT"),
        stream(StreamKind::TRADES, "ETHUSDT"),
        stream(StreamKind::ORDERS, ""),
        stream(StreamKind::FILLS, ""),
        stream(StreamKind::ACCOUNT, ""),
    ];
    let opened = session
        .subscribe(&streams, true, NOW_MS)
        .expect("the streams are subscribed");
    let listen_key = requests(&opened).next().expect("a listen key is asked for");
    for connection in ["public", "market"] {
        session
            .on_connection(connection, true, "", NOW_MS)
            .expect("a market connection comes up");
    }
    session
        .on_answer(
            listen_key,
            &Answer::answered(response(
                200,
                &format!(r#"{{"listenKey":"{BINANCE_LISTEN_KEY}"}}"#),
            )),
            NOW_MS,
        )
        .expect("the listen key is made");
    session
        .on_connection("user-1", true, "", NOW_MS)
        .expect("the account connection comes up");
    let first = binance_diff(BINANCE_BOOK_ID - 5, BINANCE_BOOK_ID, BINANCE_BOOK_ID - 6);
    let buffered = session
        .on_frame("public", &first, NOW_MS)
        .expect("the first diff is buffered");
    let fetch = requests(&buffered)
        .next()
        .expect("the book's snapshot is fetched");
    let snapshot = format!(
        r#"{{"lastUpdateId":{},"E":1700000000000,"T":1700000000000,"bids":[["36500.10","1.250"],["36500.00","0.400"]],"asks":[["36500.20","0.830"],["36500.50","2.000"]]}}"#,
        BINANCE_BOOK_ID - 2
    );
    session
        .on_answer(fetch, &Answer::answered(response(200, &snapshot)), NOW_MS)
        .expect("the snapshot bridges the book");
    session
}

/// The listen key of [`binance`]'s account stream.
const BINANCE_LISTEN_KEY: &str = "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1";

/// The update id the BTCUSDT book of [`binance`] is in sync at: a diff
/// whose `pu` is this one continues it.
const BINANCE_BOOK_ID: u64 = 7_000_000_010;

/// A BTCUSDT `depthUpdate` of ids `first..=last` that follows `prev`.
fn binance_diff(first: u64, last: u64, prev: u64) -> String {
    format!(
        r#"{{"e":"depthUpdate","E":1700000000000,"T":1700000000000,"s":"BTCUSDT","U":{first},"u":{last},"pu":{prev},"b":[["36500.00","0.900"]],"a":[["36500.20","0"]]}}"#
    )
}

/// BTCUSDT as the Binance plugin describes it from an `exchangeInfo`
/// answer.
fn binance_btc() -> &'static Market {
    static MARKET: OnceLock<Market> = OnceLock::new();
    MARKET.get_or_init(|| {
        market_from(
            &mut binance(),
            r#"{"timezone":"UTC","serverTime":1700000000000,"rateLimits":[],"exchangeFilters":[],"symbols":[
            {"symbol":"BTCUSDT","pair":"BTCUSDT","contractType":"PERPETUAL","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","marginAsset":"USDT","pricePrecision":2,"quantityPrecision":3,
            "filters":[{"filterType":"PRICE_FILTER","maxPrice":"4529764","minPrice":"556.80","tickSize":"0.10"},{"filterType":"LOT_SIZE","maxQty":"1000","minQty":"0.001","stepSize":"0.001"},
            {"filterType":"MARKET_LOT_SIZE","maxQty":"120","minQty":"0.001","stepSize":"0.001"},{"filterType":"MIN_NOTIONAL","notional":"100"},
            {"filterType":"PERCENT_PRICE","multiplierUp":"1.0500","multiplierDown":"0.9500","multiplierDecimal":"4"}]}]}"#,
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
fn frame_into(session: &mut impl Exchange, connections: &[&str], data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Some(frame) = text(rest) else { return };
    let connection = connections[usize::from(which) % connections.len()];
    if let Err(error) = session.on_frame(connection, frame, NOW_MS) {
        check_error(&error);
    }
}

/// A Hyperliquid frame on the market or the user connection.
pub fn plugin_frame(data: &[u8]) {
    frame_into(&mut *plugin(), &["market", "user"], data);
}

/// A Bybit frame on the public or the private socket.
pub fn bybit_frame(data: &[u8]) {
    frame_into(&mut *bybit(), &["public", "private"], data);
}

/// A Binance frame on the `/public` (books, best bid and offer) or the
/// `/market` stream (trades, mark prices), or on the listen key's account
/// stream. The plugin trades over REST: it opens no trading socket.
pub fn binance_frame(data: &[u8]) {
    frame_into(&mut binance(), &["public", "market", "user-1"], data);
}

fn order_ref(market: &Market) -> OrderRef {
    OrderRef {
        kind: plugin_api::OrderKind::LIMIT,
        triggered: false,
        client_id: "0x00000000000000000000000000000001".into(),
        exchange_order_id: ROption::RSome("77".into()),
        market: market.clone(),
    }
}

fn order_request(market: &Market) -> plugin_api::OrderRequest {
    plugin_api::OrderRequest {
        trigger_reference: plugin_api::TriggerReference::MARK,
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

/// The answers for `session` to one of `jobs` (the first byte picks it,
/// the second the HTTP status), the rest their text: one answer per call
/// of the job, separated by U+001E (the last one answers any further
/// call), each read by [`response`].
fn response_into<S: Exchange>(session: &mut S, jobs: &[Job<S>], data: &[u8]) {
    const STATUSES: [u16; 16] = [
        200, 200, 200, 200, 400, 422, 429, 500, 200, 401, 403, 404, 408, 418, 502, 503,
    ];
    let [which, status, answers @ ..] = data else {
        return;
    };
    let Some(answers) = text(answers) else { return };
    let status = STATUSES[usize::from(*status) % STATUSES.len()];
    let responses: Vec<Response> = answers
        .split('\u{1e}')
        .map(|answer| response(status, answer))
        .collect();
    let job = &jobs[usize::from(*which) % jobs.len()];
    if let Err(error) = run_job(session, job, &responses) {
        check_error(&error);
    }
}

/// A Hyperliquid `/info` or `/exchange` answer.
pub fn plugin_response(data: &[u8]) {
    let jobs = host_jobs(operations(btc()));
    response_into(&mut *plugin(), &jobs, data);
}

/// A Bybit REST answer.
pub fn bybit_response(data: &[u8]) {
    let jobs = host_jobs(operations(bybit_btc()));
    response_into(&mut *bybit(), &jobs, data);
}

/// A Binance REST answer: to each operation, then (after them, in this
/// order) to the session's own requests: the book snapshot fetched again
/// after a gap in the `pu` chain (the diff that broke it buffered), a new
/// listen key after `listenKeyExpired`, the key's keep-alive when the
/// timer finds it due, and Binance's time, measured when the timer first
/// runs.
pub fn binance_response(data: &[u8]) {
    let mut jobs = host_jobs(operations(binance_btc()));
    jobs.extend([
        Job::Own(
            |session: &mut Binance| {
                let gap = binance_diff(
                    BINANCE_BOOK_ID + 20,
                    BINANCE_BOOK_ID + 30,
                    BINANCE_BOOK_ID + 15,
                );
                session.on_frame("public", &gap, NOW_MS)
            },
            "/fapi/v1/depth",
        ),
        Job::Own(
            |session: &mut Binance| {
                let expired = format!(
                    r#"{{"e":"listenKeyExpired","E":1700000000000,"listenKey":"{BINANCE_LISTEN_KEY}"}}"#
                );
                session.on_frame("user-1", &expired, NOW_MS)
            },
            "/fapi/v1/listenKey",
        ),
        Job::Own(
            |session: &mut Binance| session.on_timer(NOW_MS + 60 * 60 * 1000),
            "/fapi/v1/listenKey",
        ),
        Job::Own(
            |session: &mut Binance| session.on_timer(NOW_MS),
            "/fapi/v1/time",
        ),
    ]);
    response_into(&mut binance(), &jobs, data);
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
        exits: None,
        parent: None,
        trigger_reference: None,
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
        trigger_price: None,
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

/// One venue answer to the signer's fetch of mark prices — the first byte
/// picks whose: Hyperliquid perp contexts, spot contexts, Binance
/// `premiumIndex`, Bybit tickers — and then orders valued at each mark read
/// (with a limit below it, at it, and none), under a cap they exceed.
pub fn mark_prices(data: &[u8]) {
    let Some((&venue, answer)) = data.split_first() else {
        return;
    };
    let Ok(answer) = std::str::from_utf8(answer) else {
        return;
    };
    let by_asset = |marks: Vec<(u32, Decimal)>| {
        marks
            .into_iter()
            .map(|(asset, mark)| (asset.to_string(), mark))
            .collect()
    };
    let marks: Vec<(String, Decimal)> = match venue % 4 {
        0 => hyperliquid_core::perp_mark_prices(answer).map_or_else(|_| Vec::new(), by_asset),
        1 => hyperliquid_core::spot_mark_prices(answer).map_or_else(|_| Vec::new(), by_asset),
        2 => binance_core::marks::mark_prices(answer).unwrap_or_default(),
        _ => bybit_core::marks::mark_prices(answer).unwrap_or_default(),
    };
    let valuation = MarkValuation::new(MarkSource {
        url: "http://127.0.0.1:1".to_owned(),
        refresh_ms: 1,
        max_age_ms: 2,
    });
    valuation.update(marks.clone(), NOW_MS);
    let cap = NotionalCap::own(Decimal::ONE);
    let size = Decimal::from(1_000_000);
    for (market, read) in &marks {
        assert!(*read > Decimal::ZERO, "{market}: a mark of {read} was read");
        // A market listed twice is valued at its highest mark.
        let mark = &marks
            .iter()
            .filter(|(other, _)| other == market)
            .map(|(_, mark)| *mark)
            .fold(*read, Decimal::max);
        for limit in [None, Some(*mark), Some(Decimal::ONE)] {
            let valued = check_notional(market, limit, size, cap, Some(&valuation), NOW_MS);
            let price = limit.map_or(*mark, |limit| limit.max(*mark));
            let exceeds = price.checked_mul(size).is_none_or(|value| value > cap.max);
            assert_eq!(
                valued.is_err(),
                exceeds,
                "{market}: {limit:?} against {mark}"
            );
        }
    }
}

/// One request line to a signer with a key of each venue (Binance's twice:
/// an HMAC-SHA256 secret and an Ed25519 key), each with a restrictive
/// policy, at a fixed time (so that seeds stay valid).
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
        let api_key = |name: &str, venue, secret| Key {
            name: name.to_owned(),
            venue,
            material: Material::Api(ApiKey::new(name, secret)),
            policy: api_policy(),
        };
        let hmac = || ApiSecret::hmac(b"fuzz-secret");
        let ed25519 = ApiSecret::Ed25519(Box::new(SigningKey::from_bytes(&[7; 32])));
        let keys = vec![
            Key {
                name: "hl".to_owned(),
                venue: Venue::Hyperliquid,
                material: Material::Secp256k1(key),
                policy: KeyPolicy::Hyperliquid(policy),
            },
            api_key("binance", Venue::BinanceUsdm, hmac()),
            api_key("binance-ed25519", Venue::BinanceUsdm, ed25519),
            api_key("bybit", Venue::Bybit, hmac()),
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
