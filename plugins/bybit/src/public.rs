//! The public socket (`/v5/public/linear`): `orderbook.50` books (a
//! snapshot, then deltas whose `u` grows by one; any snapshot, `u = 1`
//! included, replaces the book; a gap is repaired by subscribing again),
//! `orderbook.1` as the best bid and offer, `publicTrade` and `tickers`
//! (a snapshot, then only the fields that changed) as funding.

use std::collections::{BTreeSet, HashMap};

use abi_stable::std_types::RVec;
use plugin_api::book_sync::{Repair, ResettingBook, SyncStep};
use plugin_api::{
    Bbo, BookUpdate, ConnectionKind, ConnectionSpec, Dec, Event, Event_NE, Funding, Level, Output,
    Output_NE, PluginError, PriceSizeLevels, Side, Stream, StreamKind, Trade,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::records::{dec, millis, text};

/// The public connection's id.
pub const CONNECTION: &str = "public";

/// How often the session pings (Bybit asks for every 20 s), ms.
pub const PING_MS: u64 = 20_000;

/// The book depth kept.
const DEPTH: u32 = 50;

/// Topics per subscribe frame.
const TOPICS_PER_FRAME: usize = 10;

fn topic(stream: &Stream) -> Option<String> {
    let market = stream.market.as_str();
    Some(match stream.kind {
        StreamKind::BOOK => format!("orderbook.{DEPTH}.{market}"),
        StreamKind::BBO => format!("orderbook.1.{market}"),
        StreamKind::TRADES => format!("publicTrade.{market}"),
        StreamKind::FUNDING => format!("tickers.{market}"),
        _ => return None,
    })
}

/// The public socket's topics, books and tickers.
pub struct Public {
    url: String,
    topics: BTreeSet<String>,
    opened: bool,
    up: bool,
    books: HashMap<String, ResettingBook>,
    /// Each market's ticker as merged from its snapshot and deltas.
    tickers: HashMap<String, Value>,
}

fn send(text: String) -> Output_NE {
    Output_NE::new(Output::Send {
        connection: CONNECTION.into(),
        text: text.into(),
        job: None.into(),
        costs: RVec::new(),
    })
}

fn frames(op: &str, topics: &[String]) -> Vec<Output_NE> {
    topics
        .chunks(TOPICS_PER_FRAME)
        .map(|args| send(json!({"op": op, "args": args}).to_string()))
        .collect()
}

fn levels(data: &Value, side: &str) -> Result<RVec<Level>, PluginError> {
    match data.get(side) {
        None | Some(Value::Null) => Ok(RVec::new()),
        Some(levels) => PriceSizeLevels::deserialize(levels)
            .map(|levels| levels.0)
            .map_err(|error| PluginError::malformed(format!("bybit book side `{side}`: {error}"))),
    }
}

/// What an `orderbook.50` frame's topic starts with, quoted as in the
/// frame.
const BOOK_TOPIC: &str = "\"orderbook.50.";

/// An `orderbook.50` frame, its text borrowed.
#[derive(Deserialize)]
struct BookFrame<'a> {
    topic: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    ts: u64,
    data: BookData,
}

/// Its levels (price, size), update id and cross sequence.
#[derive(Deserialize)]
struct BookData {
    #[serde(default)]
    b: PriceSizeLevels,
    #[serde(default)]
    a: PriceSizeLevels,
    u: u64,
    /// The cross sequence (zero when absent).
    #[serde(default)]
    seq: u64,
}

fn u64_field(value: &Value, field: &str) -> Result<u64, PluginError> {
    value
        .get(field)
        .and_then(Value::as_u64)
        .ok_or_else(|| PluginError::malformed(format!("bybit message without `{field}`")))
}

impl Public {
    /// The public socket at `stream_url`.
    pub fn new(stream_url: &str) -> Public {
        Public {
            url: format!("{stream_url}/v5/public/linear"),
            topics: BTreeSet::new(),
            opened: false,
            up: false,
            books: HashMap::new(),
            tickers: HashMap::new(),
        }
    }

    /// The host wants (or no longer wants) these market streams.
    pub fn subscribe(&mut self, streams: &[Stream], subscribe: bool) -> Vec<Output_NE> {
        let topics: Vec<String> = streams.iter().filter_map(topic).collect();
        if topics.is_empty() {
            return Vec::new();
        }
        let mut outputs = Vec::new();
        let changed: Vec<String> = if subscribe {
            topics
                .into_iter()
                .filter(|t| self.topics.insert(t.clone()))
                .collect()
        } else {
            topics
                .into_iter()
                .filter(|t| self.topics.remove(t))
                .collect()
        };
        if !subscribe {
            for market in changed
                .iter()
                .filter_map(|t| t.strip_prefix(&format!("orderbook.{DEPTH}.")))
            {
                self.books.remove(market);
            }
        }
        if !self.opened && subscribe {
            self.opened = true;
            outputs.push(Output_NE::new(Output::Open(ConnectionSpec {
                id: CONNECTION.into(),
                kind: ConnectionKind::MARKET,
                url: self.url.as_str().into(),
                ping_frame: Some(r#"{"op":"ping"}"#.into()).into(),
                ping_interval_ms: PING_MS,
                idle_timeout_ms: 3 * PING_MS,
                max_lifetime_ms: None.into(),
            })));
        } else if self.up {
            outputs.extend(frames(
                if subscribe {
                    "subscribe"
                } else {
                    "unsubscribe"
                },
                &changed,
            ));
        }
        outputs
    }

    /// The socket came up (subscribe everything) or went down (every book
    /// is stale until its next snapshot).
    pub fn on_connection(&mut self, up: bool, reason: &str) -> Vec<Output_NE> {
        self.up = up;
        if up {
            let topics: Vec<String> = self.topics.iter().cloned().collect();
            return frames("subscribe", &topics);
        }
        self.tickers.clear();
        let reason = format!("connection {CONNECTION} down: {reason}");
        self.books
            .values_mut()
            .flat_map(|book| book.lost(&reason).events)
            .map(|event| Output_NE::new(Output::Event(Event_NE::new(event))))
            .collect()
    }

    fn book(&mut self, message: &Value, market: &str) -> Result<Vec<Output_NE>, PluginError> {
        let data = message.get("data").unwrap_or(&Value::Null);
        let update = BookUpdate {
            market: market.into(),
            is_snapshot: false,
            bids: levels(data, "b")?,
            asks: levels(data, "a")?,
            seq: u64_field(data, "u")?,
            time_ms: u64_field(message, "ts")?,
        };
        let cross = data.get("seq").and_then(Value::as_u64).unwrap_or(0);
        let snapshot = text(message, "type")? == "snapshot";
        Ok(self.apply(market, snapshot, update, cross))
    }

    /// A snapshot or delta of `market`'s book (`cross` its cross
    /// sequence), kept in sync; a gap has the topic subscribed anew.
    fn apply(
        &mut self,
        market: &str,
        snapshot: bool,
        update: BookUpdate,
        cross: u64,
    ) -> Vec<Output_NE> {
        if !self.books.contains_key(market) {
            self.books
                .insert(market.to_owned(), ResettingBook::new(market));
        }
        let Some(book) = self.books.get_mut(market) else {
            return Vec::new();
        };
        let SyncStep { events, repair } = if snapshot {
            book.snapshot(update, cross)
        } else {
            book.delta(update, cross)
        };
        let mut outputs: Vec<Output_NE> = events
            .into_iter()
            .map(|event| Output_NE::new(Output::Event(Event_NE::new(event))))
            .collect();
        if repair == Some(Repair::Resubscribe) && self.up {
            let topic = vec![format!("orderbook.{DEPTH}.{market}")];
            outputs.extend(frames("unsubscribe", &topic));
            outputs.extend(frames("subscribe", &topic));
        }
        outputs
    }

    /// The hot path: an `orderbook.50` frame read straight into its typed
    /// shape (borrowing its text); `None` for any other frame, or one that
    /// does not read so, which the general path reads (and explains).
    pub fn on_book_text(&mut self, frame: &str) -> Option<Vec<Output_NE>> {
        if !frame.contains(BOOK_TOPIC) {
            return None;
        }
        let book: BookFrame = serde_json::from_str(frame).ok()?;
        let market = book.topic.strip_prefix(&BOOK_TOPIC[1..])?;
        let update = BookUpdate {
            market: market.into(),
            is_snapshot: false,
            bids: book.data.b.0,
            asks: book.data.a.0,
            seq: book.data.u,
            time_ms: book.ts,
        };
        Some(self.apply(market, book.kind == "snapshot", update, book.data.seq))
    }

    fn bbo(message: &Value, market: &str) -> Result<Event, PluginError> {
        let data = message.get("data").unwrap_or(&Value::Null);
        let best = |side| levels(data, side).map(|levels| levels.first().copied());
        Ok(Event::Bbo(Bbo {
            market: market.into(),
            bid: best("b")?.into(),
            ask: best("a")?.into(),
            time_ms: u64_field(message, "ts")?,
        }))
    }

    fn trades(message: &Value) -> Result<Vec<Event>, PluginError> {
        let trades = message
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| PluginError::malformed("bybit publicTrade without data"))?;
        trades
            .iter()
            .map(|trade| {
                Ok(Event::Trade(Trade {
                    market: text(trade, "s")?.into(),
                    price: dec(trade, "p")?,
                    size: dec(trade, "v")?,
                    taker_side: if text(trade, "S")? == "Buy" {
                        Side::BUY
                    } else {
                        Side::SELL
                    },
                    trade_id: text(trade, "i")?.into(),
                    time_ms: u64_field(trade, "T")?,
                }))
            })
            .collect()
    }

    fn ticker(&mut self, message: &Value, market: &str) -> Result<Option<Event>, PluginError> {
        let data = message
            .get("data")
            .and_then(Value::as_object)
            .ok_or_else(|| PluginError::malformed("bybit tickers without data"))?;
        let merged = self
            .tickers
            .entry(market.to_owned())
            .or_insert_with(|| json!({}));
        if text(message, "type")? == "snapshot" {
            *merged = json!({});
        }
        for (key, value) in data {
            merged[key] = value.clone();
        }
        let has = |field: &str| {
            merged
                .get(field)
                .and_then(Value::as_str)
                .is_some_and(|v| !v.is_empty())
        };
        if !has("markPrice") || !has("fundingRate") {
            return Ok(None);
        }
        let optional = |field: &str| {
            if has(field) {
                dec(merged, field)
            } else {
                Ok(Dec::ZERO)
            }
        };
        Ok(Some(Event::Funding(Funding {
            market: market.into(),
            rate: dec(merged, "fundingRate")?,
            mark_price: dec(merged, "markPrice")?,
            oracle_price: optional("indexPrice")?,
            next_funding_ms: millis(merged, "nextFundingTime").unwrap_or(0),
            open_interest: optional("openInterest")?,
            time_ms: u64_field(message, "ts")?,
        })))
    }

    /// One frame.
    pub fn on_frame(&mut self, message: &Value) -> Result<Vec<Output_NE>, PluginError> {
        let event = |event: Event| Output_NE::new(Output::Event(Event_NE::new(event)));
        let Some(topic) = message.get("topic").and_then(Value::as_str) else {
            return Ok(control(message).into_iter().map(event).collect());
        };
        let (kind, market) = topic.rsplit_once('.').unwrap_or((topic, ""));
        Ok(match kind {
            "orderbook.50" => self.book(message, market)?,
            "orderbook.1" => vec![event(Self::bbo(message, market)?)],
            "publicTrade" => Self::trades(message)?.into_iter().map(event).collect(),
            "tickers" => self
                .ticker(message, market)?
                .into_iter()
                .map(event)
                .collect(),
            _ => vec![event(Event::Notice {
                text: format!("bybit topic not asked for: {topic}").into(),
                fatal: false,
            })],
        })
    }
}

/// A control message (`op` answers) on either socket: a pong, a
/// subscription confirmed, or a refusal to log.
pub fn control(message: &Value) -> Option<Event> {
    let op = message
        .get("op")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let success = message.get("success").and_then(Value::as_bool);
    let said = message
        .get("ret_msg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Some(match (op, success) {
        ("ping" | "pong", _) => Event::Pong,
        ("subscribe", Some(true)) => Event::Subscribed(said.into()),
        ("unsubscribe", Some(true)) => return None,
        _ => Event::Notice {
            text: format!("bybit: {message}").into(),
            fatal: false,
        },
    })
}
