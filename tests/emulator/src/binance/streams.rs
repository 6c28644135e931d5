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

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::Response;
use futures_util::StreamExt;
use hyperliquid_core::Address;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::time::Instant;

use super::market::{DepthEvent, book_ticker_of, premium_of};
use super::shapes::{num, side};
use super::{Binance, QUOTE, market_of_symbol, shapes, symbol_of, trade};
use crate::clock;
use crate::engine::Engine;
use crate::feed::Topic;
use crate::orders::OrderState;
use crate::ws::{Out, write_frames};

/// What one stream name carries.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stream {
    Depth(usize),
    BookTicker(usize),
    AggTrade(usize),
    MarkPrice(usize),
    User(String, Address),
}

/// Per-connection state.
struct Session {
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
    let (symbol, rest) = name.split_once('@')?;
    let market = market_of_symbol(engine, symbol)?;
    match rest {
        "depth" | "depth@100ms" | "depth@250ms" | "depth@500ms" | "depth@0ms" => {
            Some(Stream::Depth(market))
        }
        "bookTicker" => Some(Stream::BookTicker(market)),
        "aggTrade" => Some(Stream::AggTrade(market)),
        "markPrice" | "markPrice@1s" => Some(Stream::MarkPrice(market)),
        _ => None,
    }
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
    let shared = binance.shared.clone();
    let (sink, mut stream) = socket.split();
    let (out, queue) = Out::channel();
    let mut writer = tokio::spawn(write_frames(sink, queue, shared.clone()));
    let mut feed = shared.feed.subscribe();
    let mut drops = shared.faults.drop_signal();
    drops.borrow_and_update();
    let mut shutdown = shared.shutdown.clone();
    let mut state = Session {
        combined: path.ends_with("stream"),
        streams: BTreeMap::new(),
        depth_cursor: HashMap::new(),
    };
    {
        let engine = shared.engine();
        let now = clock::now_ms();
        for name in initial_names(&path, &query) {
            state.add(&binance, &engine, &name, now);
        }
    }
    let mut expiry_check = tokio::time::interval(Duration::from_millis(200));
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    last_heard = Instant::now();
                    request(&binance, &mut state, text.as_str(), &out);
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => last_heard = Instant::now(),
            },
            message = feed.recv() => match message {
                Ok(message) => forward(&binance, &mut state, &message.topic, &message.text, &out),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "dropping a WebSocket that fell behind");
                    break;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = expiry_check.tick() => expire(&binance, &mut state, &out),
            _ = drops.changed() => break,
            _ = shutdown.wait_for(|stop| *stop) => break,
            _ = tokio::time::sleep_until(last_heard + shared.ws_idle_timeout.max(Duration::from_secs(600))) => break,
            _ = &mut writer => break,
        }
    }
    writer.abort();
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
            let now = clock::now_ms();
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
    let now = clock::now_ms();
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

/// Translates one core feed message for this session.
fn forward(binance: &Binance, state: &mut Session, topic: &Topic, text: &str, out: &Out) {
    if state.streams.is_empty() {
        return;
    }
    let now = clock::now_ms();
    match topic {
        Topic::L2Book(coin) => {
            let engine = binance.shared.engine();
            let Some(market) = engine.market_of_coin(coin) else {
                return;
            };
            let names: Vec<String> = state
                .streams
                .iter()
                .filter(|(_, s)| **s == Stream::Depth(market))
                .map(|(n, _)| n.clone())
                .collect();
            if names.is_empty() {
                return;
            }
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
        Topic::Bbo(coin) | Topic::ActiveAssetCtx(coin) => {
            let engine = binance.shared.engine();
            let Some(market) = engine.market_of_coin(coin) else {
                return;
            };
            let wanted = if matches!(topic, Topic::Bbo(_)) {
                Stream::BookTicker(market)
            } else {
                Stream::MarkPrice(market)
            };
            for (name, _) in state.streams.iter().filter(|(_, s)| **s == wanted) {
                let data = match wanted {
                    Stream::BookTicker(_) => {
                        let mut t = book_ticker_of(&engine, market, now);
                        json!({ "e": "bookTicker", "u": t["lastUpdateId"].take(), "E": now, "T": now, "s": t["symbol"].take(),
                                "b": t["bidPrice"].take(), "B": t["bidQty"].take(), "a": t["askPrice"].take(), "A": t["askQty"].take() })
                    }
                    _ => {
                        let mut p = premium_of(&engine, market, now);
                        json!({ "e": "markPriceUpdate", "E": now, "s": p["symbol"].take(), "p": p["markPrice"].take(),
                                "i": p["indexPrice"].take(), "P": p["estimatedSettlePrice"].take(),
                                "r": p["lastFundingRate"].take(), "T": p["nextFundingTime"].take() })
                    }
                };
                out.send(state.wrap(name, data));
            }
        }
        Topic::Trades(coin) => {
            let engine = binance.shared.engine();
            let Some(market) = engine.market_of_coin(coin) else {
                return;
            };
            let Ok(frame) = serde_json::from_str::<Value>(text) else {
                return;
            };
            for (name, _) in state
                .streams
                .iter()
                .filter(|(_, s)| **s == Stream::AggTrade(market))
            {
                for t in frame["data"].as_array().into_iter().flatten() {
                    let data = json!({
                        "e": "aggTrade", "E": now, "s": symbol_of(&engine, market), "a": t["tid"],
                        "p": t["px"], "q": t["sz"], "f": t["tid"], "l": t["tid"], "T": t["time"],
                        "m": t["side"] == "A",
                    });
                    out.send(state.wrap(name, data));
                }
            }
        }
        Topic::OrderUpdates(user) | Topic::UserFills(user) => {
            let names: Vec<String> = state
                .streams
                .iter()
                .filter(|(_, s)| matches!(s, Stream::User(_, u) if u == user))
                .map(|(n, _)| n.clone())
                .collect();
            if names.is_empty() {
                return;
            }
            let Ok(frame) = serde_json::from_str::<Value>(text) else {
                return;
            };
            let events = user_events(binance, *user, topic, &frame, now);
            for name in &names {
                for event in &events {
                    out.send(state.wrap(name, event.clone()));
                }
            }
        }
        _ => {}
    }
}

/// `ORDER_TRADE_UPDATE` (`x` NEW, AMENDMENT, CANCELED, EXPIRED, TRADE),
/// `ALGO_UPDATE` and, after trades, `ACCOUNT_UPDATE`.
fn user_events(
    binance: &Binance,
    user: Address,
    topic: &Topic,
    frame: &Value,
    now: u64,
) -> Vec<Value> {
    let (engine, ids) = binance.lock();
    let mut events = Vec::new();
    let order_event = |order: &crate::venue::VenueOrder,
                       x: &str,
                       fill: Option<&crate::orders::Fill>| {
        let progress = order.progress(&engine);
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
                "pP": false, "si": 0, "ss": 0, "V": "EXPIRE_MAKER", "pm": "NONE", "gtd": 0,
            }
        })
    };
    if matches!(topic, Topic::OrderUpdates(_)) {
        for update in frame["data"].as_array().into_iter().flatten() {
            let Some(oid) = update["order"]["oid"].as_u64() else {
                continue;
            };
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
                    "wt": "CONTRACT_PRICE", "pm": "NONE", "cp": false, "pP": false, "R": order.reduce_only,
                    "tt": 0, "gtd": 0,
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
            events.push(order_event(order, x, None));
        }
    } else {
        let Some(account) = engine.accounts.get(&user) else {
            return events;
        };
        let mut markets = Vec::new();
        for f in frame["data"]["fills"].as_array().into_iter().flatten() {
            let (Some(oid), Some(tid)) = (f["oid"].as_u64(), f["tid"].as_u64()) else {
                continue;
            };
            let Some(order) = ids.of_oid(oid) else {
                continue;
            };
            let Some(fill) = account
                .fills
                .iter()
                .rev()
                .find(|x| x.oid == oid && x.tid == tid)
            else {
                continue;
            };
            events.push(order_event(order, "TRADE", Some(fill)));
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
    }
    events
}
