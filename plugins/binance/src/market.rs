//! Market data: the `/public` and `/market` stream connections, the
//! streams wanted on each (subscribed with `SUBSCRIBE` whenever a
//! connection comes up), and the books, kept with
//! [`BridgedBook`]: `@depth@100ms` diffs bridged from a `GET
//! /fapi/v1/depth` snapshot fetched by the session's own job, chained by
//! `pu`, repaired once per gap.

use std::collections::{BTreeMap, HashMap};

use abi_stable::std_types::{ROption, RString, RVec};
use binance_core::endpoints::DEPTH;
use binance_core::{DepthSpeed, MarketStream, Route};
use plugin_api::book_sync::{BridgedBook, DiffIds, Repair, SyncStep};
use plugin_api::{
    Answer, AnswerKind, BookUpdate, ConnectionKind, ConnectionSpec, Event, Event_NE, Output,
    Output_NE, PluginError, Response, SESSION_JOB, Stream, StreamKind,
};
use serde_json::{Value, json};

use crate::config::Config;
use crate::rest::{self, Auth, Call};
use crate::{events, wire};

/// The `/public` connection's id (books, best bid and offer).
pub const PUBLIC: &str = "public";
/// The `/market` connection's id (trades, mark prices).
pub const MARKET: &str = "market";

/// A diff-depth event's type, as its frame spells it.
const DEPTH_UPDATE: &str = r#""e":"depthUpdate""#;

/// How a combined-stream frame (an event wrapped with its stream name)
/// starts.
const COMBINED: &str = r#"{"stream""#;

/// This module's jobs have this bit set besides `SESSION_JOB`.
const MARKET_JOB: u64 = 1 << 40;

/// The frame sent as a keep-alive: a cheap request the venue answers,
/// so that a quiet but live connection is never mistaken for a dead one.
pub const PING_FRAME: &str = r#"{"method":"LIST_SUBSCRIPTIONS","id":0}"#;
/// How often it is sent, ms.
pub const PING_INTERVAL_MS: u64 = 30_000;
/// A connection silent this long is dead, ms.
pub const IDLE_TIMEOUT_MS: u64 = 90_000;
/// Binance cuts connections at 24 h; the host replaces them before, ms.
pub const MAX_LIFETIME_MS: u64 = 23 * 60 * 60 * 1000;

/// A connection's spec.
pub fn connection_spec(id: &str, kind: ConnectionKind, url: String) -> ConnectionSpec {
    ConnectionSpec {
        id: id.into(),
        kind,
        url: url.into(),
        ping_frame: ROption::RSome(PING_FRAME.into()),
        ping_interval_ms: PING_INTERVAL_MS,
        idle_timeout_ms: IDLE_TIMEOUT_MS,
        max_lifetime_ms: ROption::RSome(MAX_LIFETIME_MS),
    }
}

/// The venue stream of a host stream; `None` for account streams.
fn venue_stream(stream: &Stream) -> Option<MarketStream> {
    match stream.kind {
        StreamKind::BOOK => Some(MarketStream::Depth(DepthSpeed::Ms100)),
        StreamKind::BBO => Some(MarketStream::BookTicker),
        StreamKind::TRADES => Some(MarketStream::AggTrade),
        StreamKind::FUNDING => Some(MarketStream::MarkPrice { every_second: true }),
        _ => None,
    }
}

fn connection_of(route: Route) -> &'static str {
    match route {
        Route::Public => PUBLIC,
        _ => MARKET,
    }
}

/// The request weight of a depth snapshot of `limit` levels.
fn depth_weight(limit: u64) -> u32 {
    match limit {
        0..=50 => 2,
        51..=100 => 5,
        101..=500 => 10,
        _ => 20,
    }
}

/// The market connections, their streams and the books.
#[derive(Default)]
pub struct MarketData {
    /// Stream names wanted, per connection.
    wanted: BTreeMap<&'static str, Vec<String>>,
    /// Connections asked for, and whether each is up.
    up: BTreeMap<&'static str, bool>,
    /// Books by symbol (upper case), for the markets whose book is wanted.
    books: HashMap<String, BridgedBook>,
    /// Snapshot fetches out, by job: their symbol.
    fetches: HashMap<u64, String>,
    next_job: u64,
    /// Ids of `SUBSCRIBE` requests (0 is the keep-alive's).
    next_request: u64,
}

fn out(output: Output) -> Output_NE {
    Output_NE::new(output)
}

fn event(event: Event) -> Output_NE {
    out(Output::Event(Event_NE::new(event)))
}

impl MarketData {
    fn request(&mut self, connection: &'static str, method: &str, names: &[String]) -> Output_NE {
        self.next_request += 1;
        out(Output::Send {
            connection: connection.into(),
            text: json!({"method": method, "params": names, "id": self.next_request})
                .to_string()
                .into(),
            job: ROption::RNone,
            costs: RVec::new(),
        })
    }

    /// The host wants (or no longer wants) streams; account streams are
    /// not this module's.
    pub fn subscribe(
        &mut self,
        config: &Config,
        streams: &[Stream],
        subscribe: bool,
    ) -> Vec<Output_NE> {
        let mut changed: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for stream in streams {
            let Some(venue) = venue_stream(stream) else {
                continue;
            };
            let connection = connection_of(venue.route());
            let name = venue.name(&stream.market);
            let wanted = self.wanted.entry(connection).or_default();
            if subscribe == wanted.contains(&name) {
                continue;
            }
            let symbol = stream.market.to_ascii_uppercase();
            if subscribe {
                wanted.push(name.clone());
                if stream.kind == StreamKind::BOOK {
                    self.books
                        .insert(symbol.clone(), BridgedBook::new(symbol.as_str()));
                }
            } else {
                wanted.retain(|known| *known != name);
                if stream.kind == StreamKind::BOOK {
                    self.books.remove(&symbol);
                    self.fetches.retain(|_, fetched| *fetched != symbol);
                }
            }
            changed.entry(connection).or_default().push(name);
        }
        let mut outputs = Vec::new();
        for (connection, names) in changed {
            match self.up.get(connection) {
                None => {
                    self.up.insert(connection, false);
                    let route = if connection == PUBLIC {
                        Route::Public
                    } else {
                        Route::Market
                    };
                    let url = format!("{}{}/ws", config.ws_url, route.path());
                    outputs.push(out(Output::Open(connection_spec(
                        connection,
                        ConnectionKind::MARKET,
                        url,
                    ))));
                }
                Some(true) => {
                    let method = if subscribe {
                        "SUBSCRIBE"
                    } else {
                        "UNSUBSCRIBE"
                    };
                    outputs.push(self.request(connection, method, &names));
                }
                Some(false) => {}
            }
        }
        outputs
    }

    /// Whether `connection` is one of this module's.
    pub fn owns_connection(&self, connection: &str) -> bool {
        self.up.contains_key(connection)
    }

    /// A market connection came up (its streams are subscribed) or went
    /// down (its books are stale until bridged again).
    pub fn on_connection(&mut self, connection: &str, up: bool, reason: &str) -> Vec<Output_NE> {
        let Some((&id, state)) = self.up.iter_mut().find(|(id, _)| **id == connection) else {
            return Vec::new();
        };
        *state = up;
        if up {
            let names = self.wanted.get(id).cloned().unwrap_or_default();
            if names.is_empty() {
                return Vec::new();
            }
            return vec![self.request(id, "SUBSCRIBE", &names)];
        }
        if id != PUBLIC {
            return Vec::new();
        }
        let reason = format!("connection {id} down: {reason}");
        let mut outputs = Vec::new();
        let symbols: Vec<String> = self.books.keys().cloned().collect();
        for symbol in symbols {
            if let Some(book) = self.books.get_mut(&symbol) {
                let step = book.lost(&reason);
                outputs.extend(self.act(&symbol, step, None));
            }
        }
        self.fetches.clear();
        outputs
    }

    /// One frame on a market connection.
    pub fn on_frame(
        &mut self,
        config: &Config,
        frame: &str,
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        // Diffs first, read straight into their shape (the bulk of the
        // traffic); anything else, or a diff that does not read so, through
        // the general path.
        if frame.contains(DEPTH_UPDATE)
            && !frame.starts_with(COMBINED)
            && let Ok(diff) = serde_json::from_str::<wire::DepthUpdate>(frame)
        {
            return self.diff(config, diff, now_ms);
        }
        let mut message: Value = serde_json::from_str(frame)
            .map_err(|error| PluginError::malformed(format!("market frame: {error}: {frame}")))?;
        if message.get("stream").is_some() {
            message = message["data"].take();
        }
        if let Some(id) = message.get("id") {
            return Ok(vec![answer_event(id, &message)]);
        }
        match message["e"].as_str().unwrap_or_default() {
            "depthUpdate" => {
                let diff: wire::DepthUpdate = read(message, frame)?;
                self.diff(config, diff, now_ms)
            }
            "bookTicker" => Ok(vec![event(events::bbo(&read(message, frame)?)?)]),
            "aggTrade" => Ok(vec![event(events::trade(&read(message, frame)?)?)]),
            "markPriceUpdate" => Ok(vec![event(events::funding(&read(message, frame)?)?)]),
            _ => Err(PluginError::malformed(format!(
                "unknown market event: {frame}"
            ))),
        }
    }

    fn diff(
        &mut self,
        config: &Config,
        diff: wire::DepthUpdate,
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        let Some(book) = self.books.get_mut(&diff.symbol) else {
            // A book no longer wanted.
            return Ok(Vec::new());
        };
        let update = BookUpdate {
            market: diff.symbol.as_str().into(),
            is_snapshot: false,
            bids: diff.bids.0,
            asks: diff.asks.0,
            seq: diff.last,
            time_ms: diff.time,
        };
        let ids = DiffIds {
            first: diff.first,
            last: diff.last,
            prev: diff.prev,
        };
        let step = book.diff(update, ids, now_ms);
        Ok(self.act(&diff.symbol, step, Some(config)))
    }

    /// Whether `job` is one of this module's snapshot fetches.
    pub fn owns(&self, job: u64) -> bool {
        job & (SESSION_JOB | MARKET_JOB) == SESSION_JOB | MARKET_JOB
    }

    /// A snapshot fetch's answer: bridged into its book, or fetched again
    /// later.
    pub fn on_answer(
        &mut self,
        config: &Config,
        job: u64,
        answer: &Answer,
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        let Some(symbol) = self.fetches.remove(&job) else {
            // The book was dropped while its snapshot was out.
            return Ok(Vec::new());
        };
        let mut outputs = Vec::new();
        let response = match (answer.kind, answer.response.as_ref().into_option()) {
            (AnswerKind::ANSWERED, Some(response)) => {
                outputs.extend(rest::rate_limits(response).into_iter().map(event));
                Some(response).filter(|_| rest::failure(response).is_none())
            }
            _ => None,
        };
        let snapshot = response.map(|response| snapshot_of(&symbol, response));
        let Some(book) = self.books.get_mut(&symbol) else {
            return Ok(outputs);
        };
        let step = match snapshot {
            Some(Ok(snapshot)) => book.snapshot(snapshot, now_ms),
            // An unreadable snapshot is a failed one: tried again later.
            Some(Err(error)) => {
                outputs.push(event(Event::Notice {
                    text: format!("binance depth snapshot of {symbol}: {error}").into(),
                    fatal: false,
                }));
                book.snapshot_failed(now_ms)
            }
            None => book.snapshot_failed(now_ms),
        };
        outputs.extend(self.act(&symbol, step, Some(config)));
        Ok(outputs)
    }

    /// Delayed snapshot fetches that are due.
    pub fn on_timer(&mut self, config: &Config, now_ms: u64) -> Vec<Output_NE> {
        let symbols: Vec<String> = self.books.keys().cloned().collect();
        let mut outputs = Vec::new();
        for symbol in symbols {
            if let Some(book) = self.books.get_mut(&symbol) {
                let step = book.on_timer(now_ms);
                outputs.extend(self.act(&symbol, step, Some(config)));
            }
        }
        outputs
    }

    /// When a delayed fetch is due.
    pub fn next_wakeup(&self) -> Option<u64> {
        self.books
            .values()
            .filter_map(BridgedBook::next_wakeup)
            .min()
    }

    /// The outputs of one sync step: its events, then its repair (a
    /// snapshot fetch, when there is a config to build it with).
    fn act(&mut self, symbol: &str, step: SyncStep, config: Option<&Config>) -> Vec<Output_NE> {
        let mut outputs: Vec<Output_NE> = step.events.into_iter().map(event).collect();
        if let (Some(Repair::FetchSnapshot), Some(config)) = (step.repair, config) {
            self.next_job += 1;
            let job = SESSION_JOB | MARKET_JOB | self.next_job;
            self.fetches.insert(job, symbol.to_owned());
            let mut call = Call::new("GET", DEPTH, depth_weight(config.depth_limit), Auth::Public);
            call.params
                .push("symbol", symbol)
                .push("limit", config.depth_limit.to_string());
            outputs.push(out(Output::Http {
                job,
                request: call.request(config),
            }));
        }
        outputs
    }
}

/// A stream event's fields.
pub fn read<T: serde::de::DeserializeOwned>(message: Value, frame: &str) -> Result<T, PluginError> {
    serde_json::from_value(message)
        .map_err(|error| PluginError::malformed(format!("{error}: {frame}")))
}

/// The event of an answer to a request on a stream connection: the
/// keep-alive's pong, a subscription's confirmation, or an error.
pub fn answer_event(id: &Value, message: &Value) -> Output_NE {
    if let Some(error) = message
        .get("error")
        .or(message.get("code").map(|_| message))
    {
        return event(Event::Notice {
            text: format!("stream request {id} refused: {error}").into(),
            fatal: false,
        });
    }
    if id.as_u64() == Some(0) {
        return event(Event::Pong);
    }
    event(Event::Subscribed(RString::from(format!("request {id}"))))
}

/// A depth snapshot answer as a book snapshot.
fn snapshot_of(symbol: &str, response: &Response) -> Result<BookUpdate, PluginError> {
    let depth: wire::Depth = rest::body(response, "depth")?;
    Ok(BookUpdate {
        market: symbol.into(),
        is_snapshot: true,
        bids: depth.bids.0,
        asks: depth.asks.0,
        seq: depth.last_update_id,
        time_ms: depth.time,
    })
}
