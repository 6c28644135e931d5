//! Market streams and user data streams on every path Binance routes them:
//! `/ws/<stream>`, `/ws` (then `SUBSCRIBE`), `/stream?streams=a/b`,
//! `/public/…` and `/market/…` in both forms, `/private/ws?listenKey=…`,
//! `/private/stream` and `/ws/<listenKey>`. Paths ending in `stream` wrap
//! events as `{"stream","data"}`.
//!
//! Streams: `<symbol>@depth[@100ms|@250ms|@500ms]` (diff depth from the
//! shared journal: `U`, `u`, `pu`), `<symbol>@bookTicker`, `<symbol>@aggTrade`,
//! `<symbol>@markPrice[@1s]`, and a listen key for `ORDER_TRADE_UPDATE`,
//! `ACCOUNT_UPDATE`, `ALGO_UPDATE` and `listenKeyExpired`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::Response;
use binance_core::MarketStream;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::market::{DepthEvent, book_ticker_of, premium_of};
use super::shapes::{num, side};
use super::{Binance, QUOTE, market_of_symbol, shapes, symbol_of, trade};
use crate::account::AccountId;
use crate::engine::Engine;
use crate::feed::{Event, FeedMessage};
use crate::orders::{Fill, OrderRecord, OrderState};
use crate::session::Handler;
use crate::ws::Out;

/// What one stream name carries.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stream {
    Depth(usize),
    BookTicker(usize),
    AggTrade(usize),
    MarkPrice(usize),
    User(String, AccountId),
}

/// Streams stay open this long without a client frame at least (Binance
/// only asks for pongs to its pings).
pub(crate) const STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// Per-connection state.
struct Session {
    binance: Arc<Binance>,
    combined: bool,
    /// Stream name → what it is.
    streams: BTreeMap<String, Stream>,
    /// Diff-depth cursor per market (last `u` sent or skipped).
    depth_cursor: HashMap<usize, u64>,
}

/// Every stream path.
pub async fn handler(
    upgrade: WebSocketUpgrade,
    State(binance): State<Arc<Binance>>,
    uri: Uri,
) -> Response {
    let query: HashMap<String, String> = Query::try_from_uri(&uri)
        .map(|Query(q)| q)
        .unwrap_or_default();
    let path = uri.path().to_owned();
    upgrade.on_upgrade(move |socket| session(socket, binance, path, query))
}

fn parse_stream(binance: &Binance, engine: &Engine, name: &str, now: u64) -> Option<Stream> {
    if let Some(key) = binance.listen_keys().get(name).filter(|k| k.expires > now) {
        return Some(Stream::User(name.to_owned(), key.user));
    }
    let (symbol, stream) = MarketStream::parse(name)?;
    let market = market_of_symbol(engine, &symbol)?;
    Some(match stream {
        MarketStream::Depth(_) => Stream::Depth(market),
        MarketStream::BookTicker => Stream::BookTicker(market),
        MarketStream::AggTrade => Stream::AggTrade(market),
        MarketStream::MarkPrice { .. } => Stream::MarkPrice(market),
    })
}

fn initial_names(path: &str, query: &HashMap<String, String>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if let Some(streams) = query.get("streams") {
        names.extend(
            streams
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
    }
    if let Some(key) = query.get("listenKey") {
        names.push(key.clone());
    }
    for prefix in ["/ws/", "/public/ws/", "/market/ws/", "/private/ws/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            names.extend(rest.split('/').filter(|s| !s.is_empty()).map(str::to_owned));
        }
    }
    names
}

impl Session {
    fn add(&mut self, binance: &Binance, engine: &Engine, name: &str, now: u64) -> bool {
        let Some(stream) = parse_stream(binance, engine, name, now) else {
            return false;
        };
        if let Stream::Depth(market) = stream {
            let mut journal = binance.journal();
            journal.advance(engine, market, now);
            self.depth_cursor.insert(market, journal.update_id(market));
        }
        self.streams.insert(name.to_owned(), stream);
        true
    }

    fn wrap(&self, name: &str, data: Value) -> String {
        if self.combined {
            json!({ "stream": name, "data": data }).to_string()
        } else {
            data.to_string()
        }
    }
}

async fn session(
    socket: WebSocket,
    binance: Arc<Binance>,
    path: String,
    query: HashMap<String, String>,
) {
    let mut state = Session {
        binance: binance.clone(),
        combined: path.ends_with("stream"),
        streams: BTreeMap::new(),
        depth_cursor: HashMap::new(),
    };
    {
        let engine = binance.shared.engine();
        let now = binance.shared.faults.now_ms();
        for name in initial_names(&path, &query) {
            state.add(&binance, &engine, &name, now);
        }
    }
    crate::session::serve(socket, binance.shared.clone(), state).await;
}

impl Handler for Session {
    fn request(&mut self, text: &str, out: &Out) {
        let binance = self.binance.clone();
        request(&binance, self, text, out);
    }

    fn event(&mut self, message: &FeedMessage, out: &Out) {
        let binance = self.binance.clone();
        forward(&binance, self, &message.event, out);
    }

    fn tick_period(&self) -> Option<Duration> {
        Some(Duration::from_millis(200))
    }

    fn tick(&mut self, out: &Out) {
        let binance = self.binance.clone();
        expire(&binance, self, out);
    }

    fn idle_timeout(&self, configured: Duration) -> Duration {
        configured.max(STREAM_IDLE_TIMEOUT)
    }
}

/// `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`.
fn request(binance: &Binance, state: &mut Session, text: &str, out: &Out) {
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        return out.send(json!({ "error": { "code": 3, "msg": "Invalid JSON" } }).to_string());
    };
    let id = frame.get("id").cloned().unwrap_or(Value::Null);
    let names: Vec<String> = frame["params"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    match frame["method"].as_str() {
        Some("SUBSCRIBE") => {
            let engine = binance.shared.engine();
            let now = binance.shared.faults.now_ms();
            let bad: Vec<&String> = names
                .iter()
                .filter(|n| !state.add(binance, &engine, n, now))
                .collect();
            if bad.is_empty() {
                out.send(json!({ "result": null, "id": id }).to_string());
            } else {
                out.send(json!({ "error": { "code": 2, "msg": format!("Invalid request: unknown stream {}", bad[0]) }, "id": id }).to_string());
            }
        }
        Some("UNSUBSCRIBE") => {
            for name in &names {
                state.streams.remove(name);
            }
            out.send(json!({ "result": null, "id": id }).to_string());
        }
        Some("LIST_SUBSCRIPTIONS") => {
            let list: Vec<&String> = state.streams.keys().collect();
            out.send(json!({ "result": list, "id": id }).to_string());
        }
        _ => out.send(
            json!({ "error": { "code": 2, "msg": "Invalid request: unknown method" }, "id": id })
                .to_string(),
        ),
    }
}

/// Sends `listenKeyExpired` for user streams whose key expired and stops them.
fn expire(binance: &Binance, state: &mut Session, out: &Out) {
    let now = binance.shared.faults.now_ms();
    let expired: Vec<String> = {
        let keys = binance.listen_keys();
        state
            .streams
            .iter()
            .filter_map(|(name, s)| match s {
                Stream::User(key, _) if keys.get(key).is_none_or(|k| k.expires <= now) => {
                    Some(name.clone())
                }
                _ => None,
            })
            .collect()
    };
    for name in expired {
        state.streams.remove(&name);
        let event = json!({ "e": "listenKeyExpired", "E": now.to_string(), "listenKey": name });
        out.send(state.wrap(&name, event));
    }
}

fn depth_event(engine: &Engine, market: usize, event: &DepthEvent) -> Value {
    let levels = |side: &[(Decimal, Decimal)]| -> Vec<Value> {
        side.iter()
            .map(|(p, q)| json!([num(*p), num(*q)]))
            .collect()
    };
    json!({
        "e": "depthUpdate", "E": event.time, "T": event.time,
        "s": symbol_of(engine, market),
        "U": event.first, "u": event.last, "pu": event.prev,
        "b": levels(&event.bids), "a": levels(&event.asks),
    })
}

/// Translates one core event for this session.
fn forward(binance: &Binance, state: &mut Session, event: &Event, out: &Out) {
    if state.streams.is_empty() {
        return;
    }
    let now = binance.shared.faults.now_ms();
    match event {
        Event::Market { market, .. } => {
            let market = *market;
            let engine = binance.shared.engine();
            let names: Vec<String> = state
                .streams
                .iter()
                .filter(|(_, s)| **s == Stream::Depth(market))
                .map(|(n, _)| n.clone())
                .collect();
            if !names.is_empty() {
                let events = {
                    let mut journal = binance.journal();
                    journal.advance(&engine, market, now);
                    let cursor = state.depth_cursor.get(&market).copied().unwrap_or(0);
                    journal.since(market, cursor)
                };
                for event in events {
                    state.depth_cursor.insert(market, event.last);
                    if binance.faults.pu_break() {
                        continue;
                    }
                    let data = depth_event(&engine, market, &event);
                    for name in &names {
                        out.send(state.wrap(name, data.clone()));
                    }
                }
            }
            for (name, stream) in &state.streams {
                let data = match stream {
                    Stream::BookTicker(m) if *m == market => {
                        let mut t = book_ticker_of(&engine, market, now);
                        json!({ "e": "bookTicker", "u": t["lastUpdateId"].take(), "E": now, "T": now, "s": t["symbol"].take(),
                                "b": t["bidPrice"].take(), "B": t["bidQty"].take(), "a": t["askPrice"].take(), "A": t["askQty"].take() })
                    }
                    Stream::MarkPrice(m) if *m == market => {
                        let mut p = premium_of(&engine, market, now);
                        json!({ "e": "markPriceUpdate", "E": now, "s": p["symbol"].take(), "p": p["markPrice"].take(),
                                "i": p["indexPrice"].take(), "P": p["estimatedSettlePrice"].take(),
                                "r": p["lastFundingRate"].take(), "T": p["nextFundingTime"].take() })
                    }
                    _ => continue,
                };
                out.send(state.wrap(name, data));
            }
        }
        Event::Trades { market, trades } => {
            let symbol = symbol_of(&binance.shared.engine(), *market);
            for (name, _) in state
                .streams
                .iter()
                .filter(|(_, s)| **s == Stream::AggTrade(*market))
            {
                for t in trades {
                    let data = json!({
                        "e": "aggTrade", "E": now, "s": symbol, "a": t.tid,
                        "p": num(t.px), "q": num(t.sz), "f": t.tid, "l": t.tid, "T": t.time,
                        "m": !t.taker_buys,
                    });
                    out.send(state.wrap(name, data));
                }
            }
        }
        Event::OrderUpdates { account, .. } | Event::Fills { account, .. } => {
            let names: Vec<String> = state
                .streams
                .iter()
                .filter(|(_, s)| matches!(s, Stream::User(_, u) if u == account))
                .map(|(n, _)| n.clone())
                .collect();
            if names.is_empty() {
                return;
            }
            let events = match event {
                Event::OrderUpdates { orders, .. } => order_events(binance, orders, now),
                Event::Fills { fills, .. } => trade_events(binance, *account, fills, now),
                _ => Vec::new(),
            };
            for name in &names {
                for event in &events {
                    out.send(state.wrap(name, event.clone()));
                }
            }
        }
        _ => {}
    }
}

/// `ORDER_TRADE_UPDATE` of one order (`fill` for `x` TRADE).
fn order_event(
    engine: &Engine,
    order: &crate::venue::VenueOrder,
    x: &str,
    fill: Option<&Fill>,
    now: u64,
) -> Value {
    let progress = order.progress(engine);
    let status = match (x, shapes::status(&progress)) {
        ("TRADE", "NEW") => "PARTIALLY_FILLED",
        (_, status) => status,
    };
    json!({
        "e": "ORDER_TRADE_UPDATE", "E": now, "T": now,
        "o": {
            "s": order.symbol, "c": order.link_id, "S": side(order.is_buy), "o": order.order_type,
            "f": order.tif, "q": num(order.qty), "p": num(order.price), "ap": num(progress.avg_price()),
            "sp": "0", "x": x, "X": status, "i": order.first(),
            "l": fill.map_or_else(|| "0".to_owned(), |f| num(f.sz)),
            "z": num(progress.cum_qty),
            "L": fill.map_or_else(|| "0".to_owned(), |f| num(f.px)),
            "N": QUOTE, "n": fill.map_or_else(|| "0".to_owned(), |f| num(f.fee)),
            "T": fill.map_or(progress.updated, |f| f.time), "t": fill.map_or(0, |f| f.tid),
            "b": "0", "a": "0", "m": fill.is_some_and(|f| !f.crossed), "R": order.reduce_only,
            "wt": "CONTRACT_PRICE", "ot": order.order_type, "ps": "BOTH", "cp": false,
            "rp": fill.map_or_else(|| "0".to_owned(), |f| num(f.closed_pnl)),
            "pP": false, "si": 0, "ss": 0, "V": "EXPIRE_MAKER", "pm": "NONE", "gtd": order.good_till.unwrap_or(0),
        }
    })
}

/// `ORDER_TRADE_UPDATE` (`x` NEW, AMENDMENT, CANCELED, EXPIRED) and
/// `ALGO_UPDATE` for status changes of core orders.
fn order_events(binance: &Binance, records: &[OrderRecord], now: u64) -> Vec<Value> {
    let (engine, ids) = binance.lock();
    let mut events = Vec::new();
    for record in records {
        let oid = record.oid;
        let Some(order) = ids.of_oid(oid) else {
            continue;
        };
        if order.trigger_price.is_some() && order.oids.len() == 1 {
            let mut algo = trade::algo_json(&engine, order);
            events.push(json!({ "e": "ALGO_UPDATE", "T": now, "E": now, "o": {
                "caid": algo["clientAlgoId"].take(), "aid": algo["algoId"].take(), "at": "CONDITIONAL",
                "o": algo["orderType"].take(), "s": algo["symbol"].take(), "S": algo["side"].take(),
                "ps": "BOTH", "f": algo["timeInForce"].take(), "q": algo["quantity"].take(),
                "X": algo["algoStatus"].take(), "tp": algo["triggerPrice"].take(), "p": algo["price"].take(),
                "wt": algo["workingType"].take(), "pm": "NONE", "cp": false, "pP": false, "R": order.reduce_only,
                "tt": 0, "gtd": 0, "ai": algo["actualOrderId"].take(),
                "aq": algo["executedQty"].take(), "ap": algo["avgPrice"].take(),
            }}));
            continue;
        }
        let current = order.current() == Some(oid);
        let state = engine.orders.get(&oid).map(|r| r.status);
        let x = match state {
            Some(s) if s.is_open() && current => {
                if order.oids.len() > 1 {
                    "AMENDMENT"
                } else if order.progress(&engine).cum_qty.is_zero() {
                    "NEW"
                } else {
                    continue;
                }
            }
            Some(OrderState::Filled) | Some(OrderState::Open | OrderState::Triggered) => {
                continue;
            }
            Some(OrderState::Canceled) if !current => continue,
            Some(
                OrderState::Canceled | OrderState::MarginCanceled | OrderState::ScheduledCancel,
            ) => "CANCELED",
            _ => "EXPIRED",
        };
        events.push(order_event(&engine, order, x, None, now));
    }
    events
}

/// `ORDER_TRADE_UPDATE` (`x` TRADE) per fill, then `ACCOUNT_UPDATE`.
fn trade_events(binance: &Binance, user: AccountId, fills: &[Fill], now: u64) -> Vec<Value> {
    let (engine, ids) = binance.lock();
    let mut events = Vec::new();
    let mut markets = Vec::new();
    for fill in fills {
        let Some(order) = ids.of_oid(fill.oid) else {
            continue;
        };
        events.push(order_event(&engine, order, "TRADE", Some(fill), now));
        if !markets.contains(&order.market) {
            markets.push(order.market);
        }
    }
    if !markets.is_empty() {
        let balance = shapes::balance(&engine, user, now);
        let positions: Vec<Value> = markets
            .iter()
            .map(|m| {
                let p = shapes::position(&engine, user, *m);
                json!({ "s": p["symbol"], "pa": p["positionAmt"], "ep": p["entryPrice"], "bep": p["breakEvenPrice"],
                        "cr": "0", "up": p["unRealizedProfit"], "mt": p["marginType"], "iw": "0", "ps": "BOTH" })
            })
            .collect();
        events.push(json!({ "e": "ACCOUNT_UPDATE", "E": now, "T": now, "a": {
            "m": "ORDER",
            "B": [{ "a": QUOTE, "wb": balance[0]["balance"], "cw": balance[0]["crossWalletBalance"], "bc": "0" }],
            "P": positions,
        }}));
    }
    events
}
