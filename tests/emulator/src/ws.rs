//! WebSocket sessions: greeting, subscribe/unsubscribe, channel forwarding,
//! ping/pong, `post` requests, the idle timeout, and the WebSocket faults
//! (drop, silence, delay, duplicate, reorder, malformed frames).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use hyperliquid_core::{Address, ExchangeRequest};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::exchange::DESERIALIZE_ERROR;
use crate::faults::WsFate;
use crate::feed::{Event, FeedMessage, Print};
use crate::info;
use crate::orders::{Fill, OrderRecord};
use crate::server::Shared;
use crate::session::Handler;

/// `{"channel": channel, "data": data}` as text.
pub fn frame(channel: &str, data: &Value) -> String {
    json!({ "channel": channel, "data": data }).to_string()
}

/// First frame of every connection (plain text, not JSON).
pub const GREETING: &str = "Websocket connection established.";
/// How long a reordered message waits for a successor before it is sent anyway.
const REORDER_HOLD: Duration = Duration::from_millis(100);

/// A frame queued for the writer, with the time it was produced.
#[derive(Debug)]
pub(crate) struct Outgoing {
    at: Instant,
    text: String,
}

/// The session's handle on its writer (every front end's sessions use it).
#[derive(Debug, Clone)]
pub(crate) struct Out(mpsc::UnboundedSender<Outgoing>);

impl Out {
    /// A writer handle and the queue [`write_frames`] drains.
    pub(crate) fn channel() -> (Out, mpsc::UnboundedReceiver<Outgoing>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (Out(sender), receiver)
    }

    /// Queues one text frame.
    pub(crate) fn send(&self, text: String) {
        // Fails only once the writer is gone, when the session ends anyway.
        let _ = self.0.send(Outgoing {
            at: Instant::now(),
            text,
        });
    }

    fn error(&self, text: String) {
        self.send(frame("error", &Value::String(text)));
    }
}

/// A Hyperliquid subscription target.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Topic {
    /// `l2Book` of a coin.
    L2Book(String),
    /// `trades` of a coin.
    Trades(String),
    /// `bbo` of a coin.
    Bbo(String),
    /// `allMids`.
    AllMids,
    /// `activeAssetCtx` of a coin.
    ActiveAssetCtx(String),
    /// `orderUpdates` of a user.
    OrderUpdates(Address),
    /// `userFills` of a user.
    UserFills(Address),
    /// `userEvents` (channel `user`) of a user.
    UserEvents(Address),
}

/// One Hyperliquid connection.
struct Session {
    shared: Arc<Shared>,
    /// Topic → sequence of the last event already reflected when it was subscribed.
    topics: HashMap<Topic, u64>,
}

/// Serves one connection until it closes, idles out, is dropped by a fault,
/// or the emulator stops.
pub(crate) async fn session(socket: WebSocket, shared: Arc<Shared>) {
    let handler = Session {
        shared: shared.clone(),
        topics: HashMap::new(),
    };
    crate::session::serve(socket, shared, handler).await;
}

impl Handler for Session {
    fn open(&mut self, out: &Out) {
        out.send(GREETING.to_owned());
    }

    fn request(&mut self, text: &str, out: &Out) {
        handle_request(&self.shared, text, &mut self.topics, out);
    }

    fn event(&mut self, message: &FeedMessage, out: &Out) {
        let wanted = |topic: &Topic| {
            self.topics
                .get(topic)
                .is_some_and(|cut| message.sequence > *cut)
        };
        match &message.event {
            Event::OrderUpdates { account, orders } => {
                if wanted(&Topic::OrderUpdates((*account).into())) {
                    let updates = orders.iter().map(OrderRecord::update_json).collect();
                    out.send(frame("orderUpdates", &Value::Array(updates)));
                }
            }
            Event::Fills { account, fills } => {
                let user = Address::from(*account);
                let fills: Vec<Value> = fills.iter().map(Fill::to_json).collect();
                if wanted(&Topic::UserFills(user)) {
                    out.send(frame("userFills", &json!({ "user": user, "fills": fills })));
                }
                if wanted(&Topic::UserEvents(user)) {
                    out.send(frame("user", &json!({ "fills": fills })));
                }
            }
            Event::NonUserCancels { account, cancels } => {
                if wanted(&Topic::UserEvents((*account).into())) {
                    let engine = self.shared.engine();
                    let cancels: Vec<Value> = cancels
                        .iter()
                        .filter_map(|(market, oid)| {
                            let coin = &engine.markets.get(*market)?.spec.coin;
                            Some(json!({ "coin": coin, "oid": oid }))
                        })
                        .collect();
                    out.send(frame("user", &json!({ "nonUserCancel": cancels })));
                }
            }
            Event::Trades { market, trades } => {
                let engine = self.shared.engine();
                let Some(coin) = engine.markets.get(*market).map(|m| m.spec.coin.clone()) else {
                    return;
                };
                drop(engine);
                if wanted(&Topic::Trades(coin.clone())) {
                    let trades: Vec<Value> = trades.iter().map(|t| trade_json(&coin, t)).collect();
                    out.send(frame("trades", &Value::Array(trades)));
                }
            }
            Event::Market { market, time } => {
                let engine = self.shared.engine();
                let Some(coin) = engine.markets.get(*market).map(|m| m.spec.coin.clone()) else {
                    return;
                };
                if wanted(&Topic::L2Book(coin.clone())) {
                    out.send(frame("l2Book", &info::l2_book(&engine, *market, *time)));
                }
                if wanted(&Topic::Bbo(coin.clone())) {
                    out.send(frame("bbo", &info::bbo(&engine, *market, *time)));
                }
                if wanted(&Topic::ActiveAssetCtx(coin)) {
                    let (channel, ctx) = info::active_asset_ctx(&engine, *market);
                    out.send(frame(channel, &ctx));
                }
            }
            Event::Block { .. } => {
                if wanted(&Topic::AllMids) {
                    let engine = self.shared.engine();
                    out.send(frame(
                        "allMids",
                        &json!({ "mids": info::all_mids(&engine) }),
                    ));
                }
            }
        }
    }
}

/// One element of a `trades` message.
fn trade_json(coin: &str, print: &Print) -> Value {
    json!({
        "coin": coin,
        "side": if print.taker_buys { "B" } else { "A" },
        "px": print.px.normalize().to_string(),
        "sz": print.sz.normalize().to_string(),
        "time": print.time,
        "hash": print.hash.to_string(),
        "tid": print.tid,
        "users": [Address::from(print.buyer), Address::from(print.seller)],
    })
}

/// Writes queued frames through the fault filter. Returning ends the session
/// (a `Drop` fault cuts the connection without a close frame).
pub(crate) async fn write_frames(
    mut sink: SplitSink<WebSocket, Message>,
    mut queue: mpsc::UnboundedReceiver<Outgoing>,
    shared: Arc<Shared>,
) {
    let mut held: Option<String> = None;
    loop {
        let next = match &held {
            None => queue.recv().await,
            Some(_) => match tokio::time::timeout(REORDER_HOLD, queue.recv()).await {
                Ok(next) => next,
                Err(_) => {
                    if let Some(text) = held.take()
                        && sink.send(Message::Text(text.into())).await.is_err()
                    {
                        return;
                    }
                    continue;
                }
            },
        };
        let Some(Outgoing { at, text }) = next else {
            return;
        };
        if let Some(delay) = shared.faults.ws_delay() {
            tokio::time::sleep_until(at + delay).await;
        }
        let (duplicate, reorder, malformed) = match shared.faults.ws_message() {
            WsFate::Drop => return,
            WsFate::Swallow => continue,
            WsFate::Send {
                duplicate,
                reorder,
                malformed,
            } => (duplicate, reorder, malformed),
        };
        let text = if malformed { truncate(&text) } else { text };
        if reorder && held.is_none() {
            held = Some(text);
            continue;
        }
        let copies = if duplicate { 2 } else { 1 };
        for _ in 0..copies {
            if sink.send(Message::Text(text.clone().into())).await.is_err() {
                return;
            }
        }
        if let Some(earlier) = held.take()
            && sink.send(Message::Text(earlier.into())).await.is_err()
        {
            return;
        }
    }
}

/// The first half of a frame: unparsable JSON.
fn truncate(text: &str) -> String {
    let mut end = text.len() / 2;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Handles one client request.
fn handle_request(shared: &Arc<Shared>, text: &str, topics: &mut HashMap<Topic, u64>, out: &Out) {
    let invalid = || format!("Error parsing JSON into valid websocket request: {text}");
    let Ok(request) = serde_json::from_str::<Value>(text) else {
        return out.error(invalid());
    };
    match request.get("method").and_then(Value::as_str) {
        Some("ping") => out.send(json!({ "channel": "pong" }).to_string()),
        Some(method @ ("subscribe" | "unsubscribe")) => match request.get("subscription") {
            Some(subscription) => subscription_request(shared, method, subscription, topics, out),
            None => out.error(invalid()),
        },
        Some("post") => match (
            request.get("id").and_then(Value::as_u64),
            request.get("request"),
        ) {
            (Some(id), Some(body)) => post(shared, id, body, out),
            _ => out.error(invalid()),
        },
        _ => out.error(invalid()),
    }
}

/// The topic of a subscription, if it names an existing coin or a valid user.
fn topic_of(shared: &Shared, subscription: &Value) -> Option<Topic> {
    let text = |key: &str| subscription.get(key).and_then(Value::as_str);
    let coin = || {
        text("coin")
            .filter(|coin| shared.engine().market_of_coin(coin).is_some())
            .map(str::to_owned)
    };
    let user = || text("user").and_then(|u| u.parse::<Address>().ok());
    match text("type")? {
        "l2Book" => coin().map(Topic::L2Book),
        "trades" => coin().map(Topic::Trades),
        "bbo" => coin().map(Topic::Bbo),
        "activeAssetCtx" => coin().map(Topic::ActiveAssetCtx),
        "allMids" => Some(Topic::AllMids),
        "orderUpdates" => user().map(Topic::OrderUpdates),
        "userFills" => user().map(Topic::UserFills),
        "userEvents" => user().map(Topic::UserEvents),
        _ => None,
    }
}

fn subscription_request(
    shared: &Arc<Shared>,
    method: &str,
    subscription: &Value,
    topics: &mut HashMap<Topic, u64>,
    out: &Out,
) {
    let Some(topic) = topic_of(shared, subscription) else {
        return out.error(format!("Invalid subscription {subscription}"));
    };
    let subscribe = method == "subscribe";
    if subscribe == topics.contains_key(&topic) {
        let state = if subscribe {
            "subscribed"
        } else {
            "unsubscribed"
        };
        return out.error(format!("Already {state}: {subscription}"));
    }
    out.send(frame(
        "subscriptionResponse",
        &json!({ "method": method, "subscription": subscription }),
    ));
    if subscribe {
        let cut = send_snapshot(shared, &topic, out);
        topics.insert(topic, cut);
    } else {
        topics.remove(&topic);
    }
}

/// What a new subscriber gets at once: the `userFills` snapshot
/// (`isSnapshot: true`) and the current market data. Returns the sequence of
/// the last published frame the snapshot already covers.
fn send_snapshot(shared: &Shared, topic: &Topic, out: &Out) -> u64 {
    let now = crate::clock::now_ms();
    let engine = shared.engine();
    let cut = shared.feed.last_sequence();
    let market = |coin: &str| engine.market_of_coin(coin);
    let message = match topic {
        Topic::UserFills(user) => {
            let fills: Vec<Value> =
                engine
                    .accounts
                    .get(&(*user).into())
                    .map_or_else(Vec::new, |a| {
                        a.fills
                            .iter()
                            .rev()
                            .take(crate::info::MAX_FILLS)
                            .map(crate::orders::Fill::to_json)
                            .collect()
                    });
            Some(frame(
                "userFills",
                &json!({ "user": user, "isSnapshot": true, "fills": fills }),
            ))
        }
        Topic::L2Book(coin) => {
            market(coin).map(|m| frame("l2Book", &crate::info::l2_book(&engine, m, now)))
        }
        Topic::Bbo(coin) => market(coin).map(|m| frame("bbo", &crate::info::bbo(&engine, m, now))),
        Topic::ActiveAssetCtx(coin) => market(coin).map(|m| {
            let (channel, data) = crate::info::active_asset_ctx(&engine, m);
            frame(channel, &data)
        }),
        Topic::AllMids => Some(frame(
            "allMids",
            &json!({ "mids": crate::info::all_mids(&engine) }),
        )),
        Topic::Trades(_) | Topic::OrderUpdates(_) | Topic::UserEvents(_) => None,
    };
    drop(engine);
    if let Some(message) = message {
        out.send(message);
    }
    cut
}

/// `{"method":"post"}`: an `/info` or `/exchange` body over the socket.
fn post(shared: &Arc<Shared>, id: u64, body: &Value, out: &Out) {
    let answer = |response: Value| frame("post", &json!({ "id": id, "response": response }));
    let error = |text: &str| answer(json!({ "type": "error", "payload": text }));
    let payload = body.get("payload").unwrap_or(&Value::Null);
    match body.get("type").and_then(Value::as_str) {
        Some("info") => {
            let kind = payload.get("type").cloned().unwrap_or(Value::Null);
            out.send(match shared.run_info(payload) {
                Ok(data) => {
                    answer(json!({ "type": "info", "payload": { "type": kind, "data": data } }))
                }
                Err(e) => error(&e.to_string()),
            });
        }
        Some("action") => match serde_json::from_value::<ExchangeRequest>(payload.clone()) {
            Err(_) => out.send(error(DESERIALIZE_ERROR)),
            Ok(request) => {
                let response =
                    answer(json!({ "type": "action", "payload": shared.run_action(request) }));
                let delivery = shared.faults.action_delivery();
                let (shared, out) = (shared.clone(), out.clone());
                tokio::spawn(async move {
                    if shared.wait_for_delivery(delivery).await {
                        out.send(response);
                    }
                });
            }
        },
        _ => out.send(error(
            "Invalid post request type; expected \"info\" or \"action\"",
        )),
    }
}
