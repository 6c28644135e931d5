//! Public market data: server time, instruments, order book, tickers,
//! recent trades and funding.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::params::{Params, Reject};
use super::shapes::num;
use super::{QUOTE, market_of_symbol, symbol_of};
use crate::engine::Engine;

/// Funding interval (minutes).
const FUNDING_INTERVAL_MIN: u64 = 480;

/// `GET /v5/market/time`.
pub fn time(now: u64) -> Value {
    json!({ "timeSecond": (now / 1000).to_string(), "timeNano": (u128::from(now) * 1_000_000).to_string() })
}

/// The markets a request names: its `symbol`, or every linear one. Other
/// categories have none here.
fn selected(engine: &Engine, p: &Params) -> Result<Vec<usize>, Reject> {
    if p.text("category").as_deref() != Some("linear") {
        return Ok(Vec::new());
    }
    match p.text("symbol") {
        Some(symbol) => market_of_symbol(engine, &symbol)
            .map(|m| vec![m])
            .ok_or_else(|| Reject::params(format!("params error: symbol invalid: {symbol}"))),
        None => Ok((0..engine.markets.len())
            .filter(|m| engine.markets[*m].spec.tokens.is_none())
            .collect()),
    }
}

/// `GET /v5/market/instruments-info`.
pub fn instruments(engine: &Engine, p: &Params) -> Result<Value, Reject> {
    if p.text("category").is_none() {
        return Err(Reject::params("params error: category is required"));
    }
    let pre_launch = p.text("status").as_deref() == Some("PreLaunch");
    let markets = if pre_launch {
        Vec::new()
    } else {
        selected(engine, p)?
    };
    let list: Vec<Value> = markets
        .into_iter()
        .map(|market| {
            let spec = &engine.markets[market].spec;
            let tick = spec.tick_at(engine.markets[market].mark);
            let lot = spec.lot();
            json!({
                "symbol": symbol_of(engine, market),
                "contractType": "LinearPerpetual",
                "status": "Trading",
                "baseCoin": spec.coin,
                "quoteCoin": QUOTE,
                "settleCoin": QUOTE,
                "launchTime": "1585526400000",
                "deliveryTime": "0",
                "deliveryFeeRate": "",
                "priceScale": tick.scale().to_string(),
                "leverageFilter": {
                    "minLeverage": "1",
                    "maxLeverage": format!("{}.00", spec.max_leverage),
                    "leverageStep": "0.01",
                },
                "priceFilter": {
                    "minPrice": num(tick),
                    "maxPrice": num(Decimal::from(1_999_999) * tick),
                    "tickSize": num(tick),
                },
                "lotSizeFilter": {
                    "maxOrderQty": num(lot * Decimal::from(1_190_000)),
                    "maxMktOrderQty": num(lot * Decimal::from(119_000)),
                    "minOrderQty": num(lot),
                    "qtyStep": num(lot),
                    "postOnlyMaxOrderQty": num(lot * Decimal::from(1_190_000)),
                    "minNotionalValue": num(spec.min_notional),
                },
                "unifiedMarginTrade": true,
                "fundingInterval": FUNDING_INTERVAL_MIN,
                "upperFundingRate": "0.005",
                "lowerFundingRate": "-0.005",
                "copyTrading": "both",
                "isPreListing": false,
                "preListingInfo": null,
                "riskParameters": { "priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02" },
                "displayName": "",
            })
        })
        .collect();
    Ok(json!({ "category": p.text("category"), "list": list, "nextPageCursor": "" }))
}

/// Levels of one side as `[[price, size]]`, best first.
pub fn levels(engine: &Engine, market: usize, bids: bool, depth: usize) -> Vec<Value> {
    engine.markets[market]
        .book
        .levels(bids, depth)
        .iter()
        .map(|l| json!([num(l.px), num(l.sz)]))
        .collect()
}

/// `GET /v5/market/orderbook` (`limit` 1–500, default 25).
pub fn orderbook(engine: &Engine, p: &Params, now: u64) -> Result<Value, Reject> {
    p.linear()?;
    let symbol = p.required("symbol")?;
    let market = market_of_symbol(engine, &symbol)
        .ok_or_else(|| Reject::params(format!("params error: symbol invalid: {symbol}")))?;
    let depth = p.integer("limit")?.unwrap_or(25).clamp(1, 500) as usize;
    Ok(json!({
        "s": symbol,
        "b": levels(engine, market, true, depth),
        "a": levels(engine, market, false, depth),
        "ts": now,
        "u": engine.markets[market].book.version(),
        "seq": engine.markets[market].book.version(),
        "cts": now,
    }))
}

/// One ticker object (REST and the `tickers` topic).
pub fn ticker(engine: &Engine, market: usize, now: u64) -> Value {
    let m = &engine.markets[market];
    let best = |bids| m.book.levels(bids, 1).first().copied();
    let last = m.tape.back().map_or(m.mark, |t| t.px);
    let change = if m.prev_day_px.is_zero() {
        Decimal::ZERO
    } else {
        ((last - m.prev_day_px) / m.prev_day_px).round_dp(6)
    };
    let next_funding = (now / 3_600_000 / 8 + 1) * 8 * 3_600_000;
    json!({
        "symbol": symbol_of(engine, market),
        "lastPrice": num(last),
        "indexPrice": num(m.oracle),
        "markPrice": num(m.mark),
        "prevPrice24h": num(m.prev_day_px),
        "price24hPcnt": num(change),
        "highPrice24h": num(m.mark.max(m.prev_day_px)),
        "lowPrice24h": num(m.mark.min(m.prev_day_px)),
        "prevPrice1h": num(m.prev_day_px),
        "openInterest": "0",
        "openInterestValue": "0",
        "turnover24h": num(m.day_ntl_vlm.round_dp(4)),
        "volume24h": num(m.day_base_vlm),
        "fundingRate": num(m.spec.funding),
        "nextFundingTime": next_funding.to_string(),
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": "0",
        "ask1Size": best(false).map_or_else(|| "0".to_owned(), |l| num(l.sz)),
        "bid1Price": best(true).map_or_else(|| "0".to_owned(), |l| num(l.px)),
        "ask1Price": best(false).map_or_else(|| "0".to_owned(), |l| num(l.px)),
        "bid1Size": best(true).map_or_else(|| "0".to_owned(), |l| num(l.sz)),
        "basis": "",
        "fundingIntervalHour": "8",
        "fundingCap": "0.005",
    })
}

/// `GET /v5/market/tickers`.
pub fn tickers(engine: &Engine, p: &Params, now: u64) -> Result<Value, Reject> {
    let list: Vec<Value> = selected(engine, p)?
        .into_iter()
        .map(|m| ticker(engine, m, now))
        .collect();
    Ok(json!({ "category": p.text("category"), "list": list }))
}

/// `GET /v5/market/recent-trade` (`limit` 1–1000, default 500).
pub fn recent_trades(engine: &Engine, p: &Params) -> Result<Value, Reject> {
    p.linear()?;
    let symbol = p.required("symbol")?;
    let market = market_of_symbol(engine, &symbol)
        .ok_or_else(|| Reject::params(format!("params error: symbol invalid: {symbol}")))?;
    let limit = p.integer("limit")?.unwrap_or(500).clamp(1, 1000) as usize;
    let list: Vec<Value> = engine.markets[market]
        .tape
        .iter()
        .rev()
        .take(limit)
        .map(|t| {
            json!({
                "execId": format!("00000000-0000-4000-8000-{:012}", t.tid),
                "symbol": symbol,
                "price": num(t.px),
                "size": num(t.sz),
                "side": if t.taker_buys { "Buy" } else { "Sell" },
                "time": t.time.to_string(),
                "isBlockTrade": false,
                "isRPITrade": false,
            })
        })
        .collect();
    Ok(json!({ "category": "linear", "list": list }))
}

/// `GET /v5/market/funding/history`: the configured rate at each of the
/// last `limit` (default 200) funding times.
pub fn funding_history(engine: &Engine, p: &Params, now: u64) -> Result<Value, Reject> {
    p.linear()?;
    let symbol = p.required("symbol")?;
    let market = market_of_symbol(engine, &symbol)
        .ok_or_else(|| Reject::params(format!("params error: symbol invalid: {symbol}")))?;
    let limit = p.integer("limit")?.unwrap_or(200).clamp(1, 200) as u64;
    let period = FUNDING_INTERVAL_MIN * 60_000;
    let last = now / period * period;
    let list: Vec<Value> = (0..limit)
        .map(|i| {
            json!({
                "symbol": symbol,
                "fundingRate": num(engine.markets[market].spec.funding),
                "fundingRateTimestamp": (last - i * period).to_string(),
            })
        })
        .collect();
    Ok(json!({ "category": "linear", "list": list }))
}
