//! Public market data (time, exchangeInfo, depth, trades, bookTicker,
//! premiumIndex, leverageBracket) and the diff-depth journal that numbers
//! book changes with Binance's `U`/`u`/`pu` and serves the REST snapshot at
//! an event boundary, so that a client can bridge the two as Binance documents.

use std::collections::{BTreeMap, HashMap, VecDeque};

use binance_core::{Filter, Lookup};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::errors::ApiError;
use super::params::Params;
use super::shapes::num;
use super::{QUOTE, market_of_symbol, symbol_of};
use crate::engine::Engine;

/// PERCENT_PRICE `multiplierUp`: a limit buy may be at most this × mark.
pub const PERCENT_PRICE_UP: Decimal = Decimal::from_parts(105, 0, 0, false, 2);
/// PERCENT_PRICE `multiplierDown`: a limit sell must be at least this × mark.
pub const PERCENT_PRICE_DOWN: Decimal = Decimal::from_parts(95, 0, 0, false, 2);

/// Levels a journal keeps per side.
const JOURNAL_DEPTH: usize = 1_000;
/// Diff events a journal keeps for late readers.
const JOURNAL_EVENTS: usize = 1_024;

/// One diff-depth event.
#[derive(Debug, Clone)]
pub struct DepthEvent {
    /// First update id in the event.
    pub first: u64,
    /// Final update id.
    pub last: u64,
    /// Final update id of the previous event.
    pub prev: u64,
    /// Event time (ms).
    pub time: u64,
    /// Changed bids `[price, qty]` (qty 0 deletes).
    pub bids: Vec<(Decimal, Decimal)>,
    /// Changed asks.
    pub asks: Vec<(Decimal, Decimal)>,
}

/// The book of one market as of its last event.
#[derive(Debug, Default)]
struct MarketJournal {
    update_id: u64,
    bids: BTreeMap<Decimal, Decimal>,
    asks: BTreeMap<Decimal, Decimal>,
    events: VecDeque<DepthEvent>,
}

/// Diff-depth events of every market.
#[derive(Debug, Default)]
pub struct Journal {
    markets: HashMap<usize, MarketJournal>,
}

fn side(engine: &Engine, market: usize, bids: bool) -> BTreeMap<Decimal, Decimal> {
    engine.markets[market]
        .book
        .levels(bids, JOURNAL_DEPTH)
        .iter()
        .map(|l| (l.px, l.sz))
        .collect()
}

fn changes(
    old: &BTreeMap<Decimal, Decimal>,
    new: &BTreeMap<Decimal, Decimal>,
) -> Vec<(Decimal, Decimal)> {
    let mut out: Vec<(Decimal, Decimal)> = new
        .iter()
        .filter(|(px, sz)| old.get(px) != Some(sz))
        .map(|(px, sz)| (*px, *sz))
        .collect();
    out.extend(
        old.keys()
            .filter(|px| !new.contains_key(px))
            .map(|px| (*px, Decimal::ZERO)),
    );
    out
}

impl Journal {
    /// Brings a market's journal up to the engine's book, adding an event
    /// when the book changed; the update id is the book's version.
    pub fn advance(&mut self, engine: &Engine, market: usize, now: u64) {
        let version = engine.markets[market].book.version();
        let journal = self.markets.entry(market).or_default();
        if version <= journal.update_id {
            return;
        }
        let (bids, asks) = (side(engine, market, true), side(engine, market, false));
        let event = DepthEvent {
            first: journal.update_id + 1,
            last: version,
            prev: journal.update_id,
            time: now,
            bids: changes(&journal.bids, &bids),
            asks: changes(&journal.asks, &asks),
        };
        journal.update_id = version;
        journal.bids = bids;
        journal.asks = asks;
        journal.events.push_back(event);
        while journal.events.len() > JOURNAL_EVENTS {
            journal.events.pop_front();
        }
    }

    /// The last update id of a market (0 before any event).
    pub fn update_id(&self, market: usize) -> u64 {
        self.markets.get(&market).map_or(0, |j| j.update_id)
    }

    /// Events of a market after update id `after`.
    pub fn since(&self, market: usize, after: u64) -> Vec<DepthEvent> {
        self.markets
            .get(&market)
            .map(|j| {
                j.events
                    .iter()
                    .filter(|e| e.last > after)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The snapshot at the last event: `(lastUpdateId, bids best first, asks best first)`.
    pub fn snapshot(&self, market: usize, depth: usize) -> (u64, Vec<Value>, Vec<Value>) {
        let Some(j) = self.markets.get(&market) else {
            return (0, Vec::new(), Vec::new());
        };
        let level = |(px, sz): (&Decimal, &Decimal)| json!([num(*px), num(*sz)]);
        (
            j.update_id,
            j.bids.iter().rev().take(depth).map(level).collect(),
            j.asks.iter().take(depth).map(level).collect(),
        )
    }
}

/// `GET /fapi/v1/time`.
pub fn time(now: u64) -> Value {
    json!({ "serverTime": now })
}

/// Every linear market.
pub fn markets(engine: &Engine) -> Vec<usize> {
    (0..engine.markets.len())
        .filter(|m| engine.markets[*m].spec.tokens.is_none())
        .collect()
}

/// A symbol's filters: its tick and lot (a market order may be 120 000
/// lots, a limit order a million), its minimum notional and the
/// PERCENT_PRICE band.
fn filters(tick: Decimal, lot: Decimal, min_notional: Decimal) -> Vec<Filter> {
    let (tick, lot) = (tick.normalize(), lot.normalize());
    let four_places = |mut multiplier: Decimal| {
        multiplier.rescale(4);
        multiplier
    };
    vec![
        Filter::Price {
            min_price: tick,
            max_price: (Decimal::from(4_529_764) * tick.max(Decimal::ONE)).normalize(),
            tick_size: tick,
        },
        Filter::LotSize {
            min_qty: lot,
            max_qty: (lot * Decimal::from(1_000_000)).normalize(),
            step_size: lot,
        },
        Filter::MarketLotSize {
            min_qty: lot,
            max_qty: (lot * Decimal::from(120_000)).normalize(),
            step_size: lot,
        },
        Filter::MaxNumOrders { limit: 200 },
        Filter::MaxNumAlgoOrders { limit: 10 },
        Filter::MinNotional {
            notional: min_notional.normalize(),
        },
        Filter::PercentPrice {
            multiplier_up: four_places(PERCENT_PRICE_UP),
            multiplier_down: four_places(PERCENT_PRICE_DOWN),
            multiplier_decimal: "4".into(),
        },
    ]
}

/// `GET /fapi/v1/exchangeInfo`.
pub fn exchange_info(engine: &Engine, now: u64) -> Value {
    let symbols: Vec<Value> = markets(engine)
        .into_iter()
        .map(|market| {
            let spec = &engine.markets[market].spec;
            let tick = spec.tick_at(engine.markets[market].mark);
            let lot = spec.lot();
            json!({
                "symbol": symbol_of(engine, market),
                "pair": symbol_of(engine, market),
                "contractType": "PERPETUAL",
                "deliveryDate": 4_133_404_800_000u64,
                "onboardDate": 1_569_398_400_000u64,
                "status": "TRADING",
                "maintMarginPercent": "2.5000",
                "requiredMarginPercent": "5.0000",
                "baseAsset": spec.coin,
                "quoteAsset": QUOTE,
                "marginAsset": QUOTE,
                "pricePrecision": tick.scale(),
                "quantityPrecision": lot.scale(),
                "baseAssetPrecision": 8,
                "quotePrecision": 8,
                "underlyingType": "COIN",
                "underlyingSubType": [],
                "settlePlan": 0,
                "triggerProtect": "0.0500",
                "liquidationFee": "0.012500",
                "marketTakeBound": "0.05",
                "maxMoveOrderLimit": 10000,
                "filters": filters(tick, lot, spec.min_notional),
                "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"],
                "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
            })
        })
        .collect();
    json!({
        "timezone": "UTC",
        "serverTime": now,
        "futuresType": "U_MARGINED",
        "rateLimits": [
            { "rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400 },
            { "rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200 },
            { "rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300 },
        ],
        "exchangeFilters": [],
        "assets": [{ "asset": QUOTE, "marginAvailable": true, "autoAssetExchange": "-10000" }],
        "symbols": symbols,
    })
}

fn market_param(engine: &Engine, p: &Params) -> Result<usize, ApiError> {
    market_of_symbol(engine, p.required("symbol")?).ok_or_else(ApiError::symbol)
}

/// `GET /fapi/v1/depth`: the book as of the last diff event, with its
/// `lastUpdateId`.
pub fn depth(
    engine: &Engine,
    journal: &mut Journal,
    p: &Params,
    now: u64,
) -> Result<Value, ApiError> {
    let market = market_param(engine, p)?;
    let limit = p.integer("limit")?.unwrap_or(500).clamp(5, 1000) as usize;
    journal.advance(engine, market, now);
    let (id, bids, asks) = journal.snapshot(market, limit);
    Ok(json!({ "lastUpdateId": id, "E": now, "T": now, "bids": bids, "asks": asks }))
}

/// `GET /fapi/v1/trades`: recent public trades, oldest first.
pub fn trades(engine: &Engine, p: &Params) -> Result<Value, ApiError> {
    let market = market_param(engine, p)?;
    let limit = p.integer("limit")?.unwrap_or(500).clamp(1, 1000) as usize;
    let tape = &engine.markets[market].tape;
    Ok(Value::Array(
        tape.iter()
            .skip(tape.len().saturating_sub(limit))
            .map(|t| {
                json!({
                    "id": t.tid, "price": num(t.px), "qty": num(t.sz),
                    "quoteQty": num((t.px * t.sz).round_dp(8)), "time": t.time,
                    "isBuyerMaker": !t.taker_buys,
                })
            })
            .collect(),
    ))
}

/// One `bookTicker` object.
pub fn book_ticker_of(engine: &Engine, market: usize, now: u64) -> Value {
    let book = &engine.markets[market].book;
    let best = |bids| {
        book.levels(bids, 1)
            .first()
            .map_or((Decimal::ZERO, Decimal::ZERO), |l| (l.px, l.sz))
    };
    let (bid, ask) = (best(true), best(false));
    json!({
        "symbol": symbol_of(engine, market),
        "bidPrice": num(bid.0), "bidQty": num(bid.1),
        "askPrice": num(ask.0), "askQty": num(ask.1),
        "time": now, "lastUpdateId": book.version(),
    })
}

/// `GET /fapi/v1/ticker/bookTicker` (one symbol or all).
pub fn book_ticker(engine: &Engine, p: &Params, now: u64) -> Result<Value, ApiError> {
    match p.text("symbol") {
        Some(_) => Ok(book_ticker_of(engine, market_param(engine, p)?, now)),
        None => Ok(Value::Array(
            markets(engine)
                .into_iter()
                .map(|m| book_ticker_of(engine, m, now))
                .collect(),
        )),
    }
}

/// One `premiumIndex` object.
pub fn premium_of(engine: &Engine, market: usize, now: u64) -> Value {
    let m = &engine.markets[market];
    let next = (now / 28_800_000 + 1) * 28_800_000;
    json!({
        "symbol": symbol_of(engine, market),
        "markPrice": num(m.mark), "indexPrice": num(m.oracle),
        "estimatedSettlePrice": num(m.oracle), "lastFundingRate": num(m.spec.funding),
        "interestRate": "0.00010000", "nextFundingTime": next, "time": now,
    })
}

/// `GET /fapi/v1/premiumIndex` (one symbol or all).
pub fn premium_index(engine: &Engine, p: &Params, now: u64) -> Result<Value, ApiError> {
    match p.text("symbol") {
        Some(_) => Ok(premium_of(engine, market_param(engine, p)?, now)),
        None => Ok(Value::Array(
            markets(engine)
                .into_iter()
                .map(|m| premium_of(engine, m, now))
                .collect(),
        )),
    }
}

/// `GET /fapi/v1/leverageBracket`: one bracket per symbol up to its maximum leverage.
pub fn leverage_bracket(engine: &Engine, p: &Params) -> Result<Value, ApiError> {
    let list: Vec<usize> = match p.text("symbol") {
        Some(_) => vec![market_param(engine, p)?],
        None => markets(engine),
    };
    Ok(Value::Array(
        list.into_iter()
            .map(|m| {
                json!({
                    "symbol": symbol_of(engine, m),
                    "brackets": [{
                        "bracket": 1, "initialLeverage": engine.markets[m].spec.max_leverage,
                        "notionalCap": 1_000_000, "notionalFloor": 0, "maintMarginRatio": 0.004, "cum": 0.0,
                    }],
                })
            })
            .collect(),
    ))
}
