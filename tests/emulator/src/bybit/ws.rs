//! Bybit's WebSocket paths: `/v5/public/linear` (`orderbook.{1,50,200}`,
//! `publicTrade`, `tickers`), `/v5/private` (`auth`, then `order`,
//! `execution`, `position`, `wallet`, `dcp`) and `/v5/trade` (`auth`, then
//! `order.create` / `order.amend` / `order.cancel` with `reqId`).
//!
//! Sessions translate the core's feed; frames go out through the core's
//! faulty writer, so every WebSocket fault applies here as on Hyperliquid.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::response::Response;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::faults::BookFate;
use super::params::{Params, RATE_LIMIT, Reject};
use super::rest::LimitStatus;
use super::{Bybit, auth, market, market_of_symbol, shapes, symbol_of, trade};
use crate::account::AccountId;
use crate::clock;
use crate::feed::{Event, FeedMessage};
use crate::orders::Fill;
use crate::session::Handler;
use crate::venue::VenueOrder;
use crate::ws::Out;

/// Which path a session serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// `/v5/public/linear`.
    Public,
    /// `/v5/private`.
    Private,
    /// `/v5/trade`.
    Trade,
}

/// `GET /v5/public/linear`.
pub async fn public_handler(upgrade: WebSocketUpgrade, State(b): State<Arc<Bybit>>) -> Response {
    upgrade.on_upgrade(move |socket| session(socket, b, Path::Public))
}

/// `GET /v5/private`.
pub async fn private_handler(upgrade: WebSocketUpgrade, State(b): State<Arc<Bybit>>) -> Response {
    upgrade.on_upgrade(move |socket| session(socket, b, Path::Private))
}

/// `GET /v5/trade`.
pub async fn trade_handler(upgrade: WebSocketUpgrade, State(b): State<Arc<Bybit>>) -> Response {
    upgrade.on_upgrade(move |socket| session(socket, b, Path::Trade))
}

/// A book subscription: the levels last sent, to compute deltas.
#[derive(Debug)]
struct BookSub {
    market: usize,
    depth: usize,
    bids: BTreeMap<Decimal, Decimal>,
    asks: BTreeMap<Decimal, Decimal>,
    update_id: u64,
}

/// Per-connection state.
struct Session {
    bybit: Arc<Bybit>,
    path: Path,
    conn_id: String,
    /// The API key and account of an authenticated session.
    key: Option<String>,
    user: Option<AccountId>,
    books: BTreeMap<String, BookSub>,
    trades: HashSet<usize>,
    tickers: HashSet<usize>,
    private: HashSet<String>,
    dcp: bool,
}

/// Serves one connection until it closes, idles out, is dropped by a fault,
/// or the emulator stops.
async fn session(socket: WebSocket, bybit: Arc<Bybit>, path: Path) {
    let state = Session {
        bybit: bybit.clone(),
        path,
        conn_id: format!("emu-{}", bybit.next_conn_id()),
        key: None,
        user: None,
        books: BTreeMap::new(),
        trades: HashSet::new(),
        tickers: HashSet::new(),
        private: HashSet::new(),
        dcp: false,
    };
    crate::session::serve(socket, bybit.shared.clone(), state).await;
}

impl Handler for Session {
    fn request(&mut self, text: &str, out: &Out) {
        let bybit = self.bybit.clone();
        request(&bybit, self, text, out);
    }

    fn event(&mut self, message: &FeedMessage, out: &Out) {
        let bybit = self.bybit.clone();
        forward(&bybit, self, &message.event, out);
    }

    fn close(&mut self) {
        if let (true, Some(user)) = (self.dcp, self.user) {
            self.bybit.dcp_disconnected(user, clock::now_ms());
        }
    }
}

fn text_of(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Handles one client frame.
fn request(bybit: &Arc<Bybit>, state: &mut Session, text: &str, out: &Out) {
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        return out.send(
            json!({ "success": false, "ret_msg": format!("error:request not json, {text}"), "conn_id": state.conn_id, "op": "" })
                .to_string(),
        );
    };
    let req_id = frame.get("req_id").cloned().unwrap_or(Value::Null);
    let op = frame.get("op").and_then(Value::as_str).unwrap_or("");
    let now = bybit.shared.faults.now_ms();
    match op {
        "ping" => {
            let pong = match state.path {
                Path::Public => json!({ "success": true, "ret_msg": "pong", "conn_id": state.conn_id, "req_id": req_id, "op": "ping" }),
                _ => json!({ "req_id": req_id, "op": "pong", "args": [now.to_string()], "conn_id": state.conn_id }),
            };
            out.send(pong.to_string());
        }
        "auth" if state.path != Path::Public => authenticate(bybit, state, &frame, now, out),
        "subscribe" | "unsubscribe" if state.path != Path::Trade => {
            subscribe(bybit, state, &frame, op == "subscribe", now, out)
        }
        op if state.path == Path::Trade && op.starts_with("order.") => {
            trade_request(bybit, state, &frame, op, now, out)
        }
        _ => out.send(
            json!({ "success": false, "ret_msg": format!("error:handler not found,topic:{op}"), "conn_id": state.conn_id, "req_id": req_id, "op": op })
                .to_string(),
        ),
    }
}

/// The `auth` op (private and trade paths).
fn authenticate(bybit: &Arc<Bybit>, state: &mut Session, frame: &Value, now: u64, out: &Out) {
    let args = frame.get("args").and_then(Value::as_array);
    let arg = |i: usize| args.and_then(|a| a.get(i));
    let key = arg(0).and_then(Value::as_str).unwrap_or("");
    let expires = arg(1).and_then(|v| match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    });
    let signature = arg(2).and_then(Value::as_str).unwrap_or("");
    let outcome = if state.user.is_some() {
        Err(Reject::new(20001, "Repeat auth"))
    } else {
        match expires {
            Some(expires) => {
                auth::authenticate_ws(bybit, key, expires, signature, now).map(|k| k.key.clone())
            }
            None => Err(Reject::params("Params Error")),
        }
    };
    if let Ok(key) = &outcome {
        state.user = Some(bybit.account(key));
        state.key = Some(key.clone());
    }
    let req_id = frame.get("req_id").cloned().unwrap_or(Value::Null);
    let reply = match (state.path, &outcome) {
        (Path::Trade, Ok(_)) => {
            json!({ "retCode": 0, "retMsg": "OK", "op": "auth", "connId": state.conn_id, "reqId": req_id })
        }
        (Path::Trade, Err(r)) => {
            json!({ "retCode": r.code, "retMsg": r.msg, "op": "auth", "connId": state.conn_id, "reqId": req_id })
        }
        (_, Ok(_)) => {
            json!({ "success": true, "ret_msg": "", "op": "auth", "conn_id": state.conn_id, "req_id": req_id })
        }
        (_, Err(r)) => {
            json!({ "success": false, "ret_msg": r.msg, "op": "auth", "conn_id": state.conn_id, "req_id": req_id })
        }
    };
    out.send(reply.to_string());
}

/// `subscribe` / `unsubscribe`: all topics of the frame, or none.
fn subscribe(
    bybit: &Arc<Bybit>,
    state: &mut Session,
    frame: &Value,
    on: bool,
    now: u64,
    out: &Out,
) {
    let topics: Vec<String> = frame
        .get("args")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let req_id = frame.get("req_id").cloned().unwrap_or(Value::Null);
    let ack = |success: bool, msg: &str| {
        json!({ "success": success, "ret_msg": msg, "conn_id": state.conn_id, "req_id": req_id, "op": if on { "subscribe" } else { "unsubscribe" } })
            .to_string()
    };
    let engine = bybit.shared.engine();
    let mut parsed = Vec::new();
    for topic in &topics {
        let ok = match state.path {
            Path::Public => public_topic(&engine, topic).is_some(),
            _ => matches!(
                topic.as_str(),
                "order" | "execution" | "position" | "wallet" | "dcp" | "dcp.future"
            ),
        };
        if !ok {
            return out.send(ack(false, &format!("Invalid topic: {topic}")));
        }
        parsed.push(topic.clone());
    }
    if state.path == Path::Private && state.user.is_none() {
        return out.send(ack(false, "Request not authorized"));
    }
    out.send(ack(true, ""));
    let mut dcp_change = None;
    for topic in parsed {
        match (state.path, public_topic(&engine, &topic)) {
            (Path::Public, Some(PublicTopic::Book(market, depth))) => {
                if on {
                    let mut sub = BookSub {
                        market,
                        depth,
                        bids: BTreeMap::new(),
                        asks: BTreeMap::new(),
                        update_id: 0,
                    };
                    out.send(book_frame(&engine, &topic, &mut sub, true, now).unwrap_or_default());
                    state.books.insert(topic, sub);
                } else {
                    state.books.remove(&topic);
                }
            }
            (Path::Public, Some(PublicTopic::Trades(market))) => {
                if on {
                    state.trades.insert(market);
                } else {
                    state.trades.remove(&market);
                }
            }
            (Path::Public, Some(PublicTopic::Tickers(market))) => {
                if on {
                    state.tickers.insert(market);
                    out.send(ticker_frame(&engine, market, "snapshot", now));
                } else {
                    state.tickers.remove(&market);
                }
            }
            _ => {
                let dcp = topic.starts_with("dcp");
                if on {
                    state.private.insert(topic);
                } else {
                    state.private.remove(&topic);
                }
                if dcp && state.user.is_some() && on != state.dcp {
                    state.dcp = on;
                    dcp_change = Some(on);
                }
            }
        }
    }
    // The DCP bookkeeping locks the engine itself: release it first.
    drop(engine);
    match (dcp_change, state.user) {
        (Some(true), Some(user)) => bybit.dcp_connected(user),
        // The core's scheduled cancel runs on this machine's clock.
        (Some(false), Some(user)) => bybit.dcp_disconnected(user, clock::now_ms()),
        _ => {}
    }
}

/// A public topic: `orderbook.{1,50,200}.{symbol}`, `publicTrade.{symbol}`,
/// `tickers.{symbol}`.
enum PublicTopic {
    Book(usize, usize),
    Trades(usize),
    Tickers(usize),
}

fn public_topic(engine: &crate::engine::Engine, topic: &str) -> Option<PublicTopic> {
    let mut parts = topic.split('.');
    let kind = parts.next()?;
    match kind {
        "orderbook" => {
            let depth = match parts.next()? {
                "1" => 1,
                "50" => 50,
                "200" => 200,
                _ => return None,
            };
            let market = market_of_symbol(engine, parts.next()?)?;
            parts
                .next()
                .is_none()
                .then_some(PublicTopic::Book(market, depth))
        }
        "publicTrade" | "tickers" => {
            let market = market_of_symbol(engine, parts.next()?)?;
            if parts.next().is_some() {
                return None;
            }
            Some(if kind == "tickers" {
                PublicTopic::Tickers(market)
            } else {
                PublicTopic::Trades(market)
            })
        }
        _ => None,
    }
}

fn side_map(levels: &[crate::book::LevelSummary]) -> BTreeMap<Decimal, Decimal> {
    levels.iter().map(|l| (l.px, l.sz)).collect()
}

/// Changes from `old` to `new` as `[[price, size]]` (size 0 deletes).
fn changes(old: &BTreeMap<Decimal, Decimal>, new: &BTreeMap<Decimal, Decimal>) -> Vec<Value> {
    let mut out = Vec::new();
    for (px, sz) in new {
        if old.get(px) != Some(sz) {
            out.push(json!([shapes::num(*px), shapes::num(*sz)]));
        }
    }
    for px in old.keys() {
        if !new.contains_key(px) {
            out.push(json!([shapes::num(*px), "0"]));
        }
    }
    out
}

/// The next book frame of a subscription: the snapshot, or the delta since
/// the last frame (`None` when nothing changed). Depth 1 is snapshots only.
fn book_frame(
    engine: &crate::engine::Engine,
    topic: &str,
    sub: &mut BookSub,
    snapshot: bool,
    now: u64,
) -> Option<String> {
    let book = &engine.markets[sub.market].book;
    let bids = side_map(&book.levels(true, sub.depth));
    let asks = side_map(&book.levels(false, sub.depth));
    let snapshot = snapshot || sub.depth == 1;
    let (b, a) = if snapshot {
        let side = |m: &BTreeMap<Decimal, Decimal>, rev: bool| -> Vec<Value> {
            let mut v: Vec<Value> = m
                .iter()
                .map(|(p, s)| json!([shapes::num(*p), shapes::num(*s)]))
                .collect();
            if rev {
                v.reverse();
            }
            v
        };
        (side(&bids, true), side(&asks, false))
    } else {
        (changes(&sub.bids, &bids), changes(&sub.asks, &asks))
    };
    if !snapshot && b.is_empty() && a.is_empty() {
        return None;
    }
    if sub.depth == 1 && sub.bids == bids && sub.asks == asks && sub.update_id > 0 {
        return None;
    }
    sub.update_id += 1;
    sub.bids = bids;
    sub.asks = asks;
    let seq = book.version();
    Some(
        json!({
            "topic": topic,
            "type": if snapshot { "snapshot" } else { "delta" },
            "ts": now,
            "data": { "s": symbol_of(engine, sub.market), "b": b, "a": a, "u": sub.update_id, "seq": seq },
            "cts": now,
        })
        .to_string(),
    )
}

fn ticker_frame(engine: &crate::engine::Engine, market: usize, kind: &str, now: u64) -> String {
    json!({
        "topic": format!("tickers.{}", symbol_of(engine, market)),
        "type": kind,
        "data": market::ticker(engine, market, now),
        "cs": engine.markets[market].book.version(),
        "ts": now,
    })
    .to_string()
}

fn private_frame(topic: &str, data: Vec<Value>, now: u64) -> String {
    json!({ "id": format!("{topic}-{now}"), "topic": topic, "creationTime": now, "data": data })
        .to_string()
}

/// Translates one core event for this session.
fn forward(bybit: &Arc<Bybit>, state: &mut Session, event: &Event, out: &Out) {
    let now = clock::now_ms();
    match event {
        Event::Market { market, .. } if !state.books.is_empty() || !state.tickers.is_empty() => {
            let engine = bybit.shared.engine();
            let market = *market;
            for (name, sub) in state.books.iter_mut().filter(|(_, s)| s.market == market) {
                let frame = match bybit.faults.book_update() {
                    BookFate::Normal => book_frame(&engine, name, sub, false, now),
                    BookFate::SkipId => {
                        sub.update_id += 1;
                        book_frame(&engine, name, sub, false, now)
                    }
                    BookFate::Reset => {
                        sub.update_id = 0;
                        book_frame(&engine, name, sub, true, now)
                    }
                };
                if let Some(frame) = frame {
                    out.send(frame);
                }
            }
            if state.tickers.contains(&market) {
                out.send(ticker_frame(&engine, market, "delta", now));
            }
        }
        Event::Trades { market, trades } if state.trades.contains(market) => {
            let symbol = symbol_of(&bybit.shared.engine(), *market);
            let data: Vec<Value> = trades
                .iter()
                .map(|t| {
                    json!({
                        "T": t.time, "s": symbol,
                        "S": shapes::side(t.taker_buys),
                        "v": shapes::num(t.sz), "p": shapes::num(t.px), "L": "ZeroPlusTick",
                        "i": format!("00000000-0000-4000-8000-{:012}", t.tid),
                        "BT": false, "RPI": false, "seq": t.tid,
                    })
                })
                .collect();
            out.send(json!({ "topic": format!("publicTrade.{symbol}"), "type": "snapshot", "ts": now, "data": data }).to_string());
        }
        Event::OrderUpdates { account, orders }
            if state.path == Path::Private
                && state.user == Some(*account)
                && !state.private.is_empty() =>
        {
            let (engine, ids) = bybit.lock();
            let mut markets = HashSet::new();
            let orders: Vec<Value> = orders
                .iter()
                .filter_map(|record| ids.of_oid(record.oid))
                .map(|o| {
                    markets.insert(o.market);
                    shapes::order(&engine, o)
                })
                .collect();
            if state.private.contains("order") && !orders.is_empty() {
                out.send(private_frame("order", orders, now));
            }
            send_positions(state, &engine, *account, &markets, now, out);
        }
        Event::Fills { account, fills }
            if state.path == Path::Private
                && state.user == Some(*account)
                && !state.private.is_empty() =>
        {
            let (engine, ids) = bybit.lock();
            let mut markets = HashSet::new();
            // Fills change an order's progress (PartiallyFilled, Filled)
            // even when the core publishes no status change for it.
            let mut touched: Vec<&VenueOrder> = Vec::new();
            let executions: Vec<Value> = fills
                .iter()
                .filter_map(|fill: &Fill| {
                    let order = ids.of_oid(fill.oid)?;
                    markets.insert(order.market);
                    if !touched.iter().any(|o| o.order_id == order.order_id) {
                        touched.push(order);
                    }
                    let rate = if fill.crossed {
                        engine.fees.taker
                    } else {
                        engine.fees.maker
                    };
                    shapes::execution(&engine, &ids, fill, rate)
                })
                .collect();
            if state.private.contains("execution") && !executions.is_empty() {
                out.send(private_frame("execution", executions, now));
            }
            if state.private.contains("order") && !touched.is_empty() {
                let orders = touched.iter().map(|o| shapes::order(&engine, o)).collect();
                out.send(private_frame("order", orders, now));
            }
            if state.private.contains("wallet") && !markets.is_empty() {
                out.send(private_frame(
                    "wallet",
                    vec![shapes::wallet(&engine, *account)],
                    now,
                ));
            }
            send_positions(state, &engine, *account, &markets, now, out);
        }
        _ => {}
    }
}

/// The `position` topic for the markets an event touched.
fn send_positions(
    state: &Session,
    engine: &crate::engine::Engine,
    user: AccountId,
    markets: &HashSet<usize>,
    now: u64,
    out: &Out,
) {
    if state.private.contains("position") && !markets.is_empty() {
        let positions = markets
            .iter()
            .map(|m| shapes::position(engine, user, *m))
            .collect();
        out.send(private_frame("position", positions, now));
    }
}

/// The `header` of a `/v5/trade` reply: the request's count against its
/// limit (a full allowance before authentication).
fn limit_header(bybit: &Bybit, limit: Option<LimitStatus>, now: u64) -> Value {
    let limit = limit.unwrap_or_else(|| bybit.limits.allowance(now));
    json!({
        "X-Bapi-Limit": limit.limit.to_string(),
        "X-Bapi-Limit-Status": limit.remaining.to_string(),
        "X-Bapi-Limit-Reset-Timestamp": limit.reset.to_string(),
        "Traceid": format!("{now:032x}"),
        "Timenow": now.to_string(),
    })
}

/// One `/v5/trade` request: `{reqId, header, op, args: [params]}`.
fn trade_request(
    bybit: &Arc<Bybit>,
    state: &mut Session,
    frame: &Value,
    op: &str,
    now: u64,
    out: &Out,
) {
    let req_id = frame.get("reqId").cloned().unwrap_or(Value::Null);
    let header = frame.get("header").cloned().unwrap_or(Value::Null);
    let timestamp = text_of(&header, "X-BAPI-TIMESTAMP").and_then(|t| t.parse::<u64>().ok());
    let recv_window = text_of(&header, "X-BAPI-RECV-WINDOW")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(auth::DEFAULT_RECV_WINDOW);
    let params = frame
        .get("args")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .cloned()
        .map(Params::from_value);
    // Order entry over the socket shares the account's per-endpoint limit
    // with REST (`order.create` counts as `/v5/order/create`).
    let limit = state.key.as_ref().map(|key| {
        let path = format!("/v5/order/{}", op.trim_start_matches("order."));
        bybit.limits.count(key, &path, now)
    });
    let outcome: Result<Value, Reject> = (|| {
        let user = state
            .user
            .ok_or_else(|| Reject::new(10_003, "Request not authorized"))?;
        if limit.is_some_and(|l| l.exceeded) {
            return Err(Reject::new(RATE_LIMIT, "Too many visits!"));
        }
        let timestamp = timestamp
            .ok_or_else(|| Reject::params("params error: X-BAPI-TIMESTAMP is required"))?;
        auth::check_timestamp(timestamp, recv_window, now)?;
        let params = params.ok_or_else(|| Reject::params("params error: args is required"))??;
        let ctx = trade::context(now, bybit.shared.faults.post_only_window(), op);
        let (mut engine, mut ids) = bybit.lock();
        match op {
            "order.create" => trade::create(&mut engine, &mut ids, user, &params, &ctx),
            "order.amend" => trade::amend(&mut engine, &mut ids, user, &params, &ctx),
            "order.cancel" => trade::cancel(&mut engine, &mut ids, user, &params, now),
            _ => Err(Reject::params(format!(
                "params error: op {op} not supported"
            ))),
        }
    })();
    let (code, msg, data) = match outcome {
        Ok(data) => (0, "OK".to_owned(), data),
        Err(r) => (r.code, r.msg, json!({})),
    };
    let reply = json!({
        "reqId": req_id, "retCode": code, "retMsg": msg, "op": op, "data": data, "retExtInfo": {},
        "header": limit_header(bybit, limit, now),
        "connId": state.conn_id,
    })
    .to_string();
    let delivery = bybit.shared.faults.action_delivery();
    let (shared, out) = (bybit.shared.clone(), out.clone());
    tokio::spawn(async move {
        if shared.wait_for_delivery(delivery).await {
            out.send(reply);
        }
    });
}
