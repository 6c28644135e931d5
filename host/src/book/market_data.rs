//! The market-data side of one exchange: books per market, kept from the
//! plugin's events, published on `market.<exchange>.*`, and marked stale —
//! with the staleness published — whenever the plugin says they cannot be
//! trusted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};

use abi_stable::std_types::RVec;
use plugin_api::{Event, Event_NE, Market, PluginError, Side, Stream};
use rust_decimal::Decimal;
use tracing::warn;

use super::{BookLevel, BookStatus, OrderBook};
use crate::publisher::encode;
use crate::publisher::market::{BboData, FundingData, TradeData};
use crate::publisher::{Family, JsonDecimal, Publisher, StatusPublisher};
use crate::runtime::clock::now_ns;
use crate::runtime::{ConnectionSink, log_dropped_frame};

/// Levels per side in published book messages.
pub const BOOK_DEPTH: usize = 20;

/// Best bid, best ask and mid of a book, when it is in sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Top {
    /// Best bid price.
    pub bid: Option<Decimal>,
    /// Best ask price.
    pub ask: Option<Decimal>,
    /// Mid price.
    pub mid: Option<Decimal>,
}

/// The books of one exchange and their publisher.
pub struct MarketData {
    exchange: String,
    /// Configured markets by venue symbol (markets come and go with
    /// configuration reloads).
    markets: RwLock<HashMap<String, Market>>,
    books: Mutex<HashMap<String, OrderBook>>,
    publisher: Publisher,
    market: Family,
    status: StatusPublisher,
}

impl MarketData {
    /// Books for `markets`, all awaiting their first snapshot.
    pub fn new(exchange: &str, markets: &[Market], publisher: Publisher) -> Arc<MarketData> {
        Arc::new(MarketData {
            exchange: exchange.to_owned(),
            markets: RwLock::new(
                markets
                    .iter()
                    .map(|m| (m.venue_symbol.to_string(), m.clone()))
                    .collect(),
            ),
            books: Mutex::new(
                markets
                    .iter()
                    .map(|m| (m.venue_symbol.to_string(), OrderBook::new()))
                    .collect(),
            ),
            market: publisher.family(&format!("market.{exchange}")),
            status: StatusPublisher::new(publisher.clone()),
            publisher,
        })
    }

    fn books(&self) -> MutexGuard<'_, HashMap<String, OrderBook>> {
        self.books.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn markets(&self) -> RwLockReadGuard<'_, HashMap<String, Market>> {
        self.markets.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts keeping a market's book (awaiting its first snapshot); the
    /// market connection subscribes once given the new [`streams`](Self::streams).
    pub fn add_market(&self, market: &Market) {
        let venue = market.venue_symbol.to_string();
        self.books().entry(venue.clone()).or_default();
        self.markets
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(venue, market.clone());
    }

    /// Stops keeping a market's book.
    pub fn remove_market(&self, venue_symbol: &str) {
        self.markets
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(venue_symbol);
        self.books().remove(venue_symbol);
    }

    /// The streams a market connection should carry.
    pub fn streams(&self) -> Vec<Stream> {
        use plugin_api::StreamKind;
        let mut streams = Vec::new();
        let markets = self.markets();
        let mut venues: Vec<&String> = markets.keys().collect();
        venues.sort();
        for venue in venues {
            for kind in [
                StreamKind::BOOK,
                StreamKind::TRADES,
                StreamKind::BBO,
                StreamKind::FUNDING,
            ] {
                streams.push(Stream {
                    kind,
                    market: venue.as_str().into(),
                });
            }
        }
        streams
    }

    /// Each book's state as the `snapshot` command gives it: host symbol,
    /// `synced`, `awaiting_snapshot` or `stale`, and why when stale.
    pub fn sync_states(&self) -> Vec<serde_json::Value> {
        let markets = self.markets.read().unwrap_or_else(PoisonError::into_inner);
        let books = self.books.lock().unwrap_or_else(PoisonError::into_inner);
        let mut states: Vec<serde_json::Value> = books
            .iter()
            .map(|(venue, book)| {
                let symbol = markets
                    .get(venue)
                    .map_or(venue.as_str(), |market| market.symbol.as_str());
                let (state, reason) = match book.status() {
                    BookStatus::Synced => ("synced", None),
                    BookStatus::AwaitingSnapshot => ("awaiting_snapshot", None),
                    BookStatus::Stale(reason) => ("stale", Some(reason.as_str())),
                };
                serde_json::json!({"symbol": symbol, "state": state, "reason": reason})
            })
            .collect();
        states.sort_by(|a, b| a["symbol"].as_str().cmp(&b["symbol"].as_str()));
        states
    }

    /// The top of a market's book by venue symbol, if the book is in sync.
    pub fn top(&self, venue_symbol: &str) -> Option<Top> {
        let books = self.books();
        let book = books.get(venue_symbol)?;
        (book.status() == &BookStatus::Synced).then(|| Top {
            bid: book.best_bid().map(|l| l.price),
            ask: book.best_ask().map(|l| l.price),
            mid: book.mid(),
        })
    }

    /// A copy of a market's book by venue symbol.
    pub fn book(&self, venue_symbol: &str) -> Option<OrderBook> {
        self.books().get(venue_symbol).cloned()
    }

    fn symbol(&self, venue: &str) -> Option<String> {
        self.markets().get(venue).map(|m| m.symbol.to_string())
    }

    fn on_book(&self, update: &plugin_api::BookUpdate) {
        let Some(symbol) = self.symbol(&update.market) else {
            return;
        };
        let symbol = symbol.as_str();
        let mut books = self.books();
        let Some(book) = books.get_mut(update.market.as_str()) else {
            return;
        };
        let was_synced = book.status() == &BookStatus::Synced;
        if let Err(error) = book.apply(update) {
            drop(books);
            warn!(exchange = %self.exchange, symbol, "plugin: {error}; ignored");
            return;
        }
        self.publisher.publish_with(
            &self.market,
            format!("market.{}.book.{symbol}", self.exchange),
            "book",
            now_ns(),
            |out| {
                encode::book(out, &self.exchange, symbol, book, BOOK_DEPTH);
                Ok(())
            },
        );
        if !was_synced {
            drop(books);
            self.status.book(&self.exchange, symbol, true, None);
        }
    }

    /// Marks one book stale as its plugin says, publishing the change.
    fn on_stale(&self, venue: &str, reason: &str) {
        let Some(symbol) = self.symbol(venue) else {
            return;
        };
        let was_synced = {
            let mut books = self.books();
            let Some(book) = books.get_mut(venue) else {
                return;
            };
            let was_synced = book.status() == &BookStatus::Synced;
            book.mark_stale(reason);
            was_synced
        };
        if was_synced {
            warn!(exchange = %self.exchange, symbol, %reason, "book out of sync");
            self.status
                .book(&self.exchange, &symbol, false, Some(reason));
        }
    }

    fn on_event(&self, event: &Event) {
        let exchange = self.exchange.as_str();
        let exchange_ns = |ms: u64| ms.saturating_mul(1_000_000);
        match event {
            Event::Book(update) => self.on_book(update),
            Event::BookStale { market, reason } => self.on_stale(market, reason),
            Event::Trade(trade) => {
                let Some(symbol) = self.symbol(&trade.market) else {
                    return;
                };
                let symbol = symbol.as_str();
                self.publisher.publish(
                    &self.market,
                    format!("market.{exchange}.trade.{symbol}"),
                    "trade",
                    now_ns(),
                    &TradeData {
                        exchange,
                        symbol,
                        price: trade.price.to_decimal().into(),
                        size: trade.size.to_decimal().into(),
                        side: if trade.taker_side == Side::BUY {
                            "BUY"
                        } else {
                            "SELL"
                        },
                        trade_id: &trade.trade_id,
                        exchange_time: exchange_ns(trade.time_ms),
                    },
                );
            }
            Event::Bbo(bbo) => {
                let Some(symbol) = self.symbol(&bbo.market) else {
                    return;
                };
                let symbol = symbol.as_str();
                let price =
                    |l: &Option<plugin_api::Level>| l.map(|l| JsonDecimal(l.price.to_decimal()));
                let size =
                    |l: &Option<plugin_api::Level>| l.map(|l| JsonDecimal(l.size.to_decimal()));
                let (bid, ask) = (bbo.bid.into_option(), bbo.ask.into_option());
                self.publisher.publish(
                    &self.market,
                    format!("market.{exchange}.bbo.{symbol}"),
                    "bbo",
                    now_ns(),
                    &BboData {
                        exchange,
                        symbol,
                        bid_price: price(&bid),
                        bid_size: size(&bid),
                        ask_price: price(&ask),
                        ask_size: size(&ask),
                        exchange_time: exchange_ns(bbo.time_ms),
                    },
                );
            }
            Event::Funding(funding) => {
                let Some(symbol) = self.symbol(&funding.market) else {
                    return;
                };
                let symbol = symbol.as_str();
                self.publisher.publish(
                    &self.market,
                    format!("market.{exchange}.funding.{symbol}"),
                    "funding",
                    now_ns(),
                    &FundingData {
                        exchange,
                        symbol,
                        rate: funding.rate.to_decimal().into(),
                        mark_price: funding.mark_price.to_decimal().into(),
                        oracle_price: funding.oracle_price.to_decimal().into(),
                        next_funding_time: exchange_ns(funding.next_funding_ms),
                        open_interest: funding.open_interest.to_decimal().into(),
                    },
                );
            }
            Event::Notice { text, .. } => warn!(exchange, "exchange says: {text}"),
            _ => {}
        }
    }

    /// Applies a book as another host published it (`data` of a
    /// `market.<exchange>.book.<symbol>` event): a full snapshot of its top
    /// levels.
    pub fn apply_relayed_book(&self, symbol: &str, data: &serde_json::Value) -> Result<(), String> {
        let venue = self
            .markets()
            .values()
            .find(|m| m.symbol == symbol)
            .map(|m| m.venue_symbol.to_string())
            .ok_or_else(|| format!("{symbol} is not configured here"))?;
        let side = |key: &str| -> Result<RVec<plugin_api::Level>, String> {
            levels_from_json(&data[key])
                .ok_or_else(|| format!("`{key}` is not a list of levels"))?
                .into_iter()
                .map(|level| {
                    Ok(plugin_api::Level {
                        price: plugin_api::Dec::from_decimal(level.price)
                            .map_err(|e| e.to_string())?,
                        size: plugin_api::Dec::from_decimal(level.size)
                            .map_err(|e| e.to_string())?,
                        orders: level.orders,
                    })
                })
                .collect()
        };
        let update = plugin_api::BookUpdate {
            market: venue.as_str().into(),
            is_snapshot: true,
            bids: side("bids")?,
            asks: side("asks")?,
            seq: data["seq"].as_u64().unwrap_or(0),
            time_ms: data["exchange_time"].as_u64().unwrap_or(0) / 1_000_000,
        };
        self.on_book(&update);
        Ok(())
    }

    /// Marks every book stale, publishing it (the host the books are
    /// relayed from fell silent).
    pub fn mark_all_stale(&self, reason: &str) {
        let mut stale = Vec::new();
        for (venue, book) in self.books().iter_mut() {
            if book.status() == &BookStatus::Synced {
                book.mark_stale(reason);
                stale.push(venue.clone());
            }
        }
        for venue in stale {
            if let Some(symbol) = self.symbol(&venue).as_deref() {
                self.status
                    .book(&self.exchange, symbol, false, Some(reason));
            }
        }
    }
}

/// The sink of a market connection.
pub struct MarketSink(pub Arc<MarketData>);

impl ConnectionSink for MarketSink {
    fn on_events(&self, _connection: &str, events: RVec<Event_NE>) {
        for event in events.iter() {
            if let Ok(event) = event.as_enum() {
                self.0.on_event(event);
            }
        }
    }

    fn on_parse_error(&self, connection: &str, frame: &str, error: PluginError) {
        log_dropped_frame(&self.0.exchange, connection, frame, &error);
    }

    fn on_up(&self, connection: &str) {
        self.0
            .status
            .connection(&self.0.exchange, connection, true, None);
    }

    fn on_down(&self, connection: &str, reason: &str) {
        // The plugin says which books the connection carried.
        self.0
            .status
            .connection(&self.0.exchange, connection, false, Some(reason));
    }
}

/// Book levels from a published book body (for hosts that take market data
/// from another host's ZeroMQ topics).
pub fn levels_from_json(levels: &serde_json::Value) -> Option<Vec<BookLevel>> {
    levels
        .as_array()?
        .iter()
        .map(|level| {
            let level = level.as_array()?;
            let number = |value: &serde_json::Value| value.to_string().parse::<Decimal>().ok();
            Some(BookLevel {
                price: number(level.first()?)?,
                size: number(level.get(1)?)?,
                orders: level.get(2).and_then(|n| n.as_u64()).unwrap_or(0) as u32,
            })
        })
        .collect()
}
