//! Private queries: open and recent orders, order history, executions,
//! positions and the wallet.

use serde_json::{Value, json};

use super::params::{Params, Reject};
use super::{market_of_symbol, shapes};
use crate::account::AccountId;
use crate::engine::Engine;
use crate::venue::VenueIds;

/// Default and largest page of order and execution lists.
const PAGE: (usize, usize) = (20, 50);

fn page_size(p: &Params) -> Result<usize, Reject> {
    let limit = p.integer("limit")?.map_or(PAGE.0, |l| l.max(1) as usize);
    Ok(limit.min(PAGE.1))
}

fn symbol_filter(engine: &Engine, p: &Params) -> Result<Option<String>, Reject> {
    match p.text("symbol") {
        Some(symbol) if market_of_symbol(engine, &symbol).is_none() => Err(Reject::params(
            format!("params error: symbol invalid: {symbol}"),
        )),
        other => Ok(other),
    }
}

fn list(items: Vec<Value>) -> Value {
    json!({ "category": "linear", "list": items, "nextPageCursor": "" })
}

/// `GET /v5/order/realtime`: open orders (`openOnly=0`, default) or the
/// recently closed ones (`openOnly=1`).
pub fn realtime(
    engine: &Engine,
    ids: &VenueIds,
    user: AccountId,
    p: &Params,
) -> Result<Value, Reject> {
    p.linear()?;
    let symbol = symbol_filter(engine, p)?;
    let closed = p.integer("openOnly")?.unwrap_or(0) == 1;
    let (id, link) = (p.text("orderId"), p.text("orderLinkId"));
    let filter = p.text("orderFilter");
    let limit = page_size(p)?;
    let items = ids
        .of_user(user)
        .filter(|o| symbol.as_ref().is_none_or(|s| &o.symbol == s))
        .filter(|o| id.as_ref().is_none_or(|i| &o.order_id == i))
        .filter(|o| link.as_ref().is_none_or(|l| &o.link_id == l))
        .filter(|o| match filter.as_deref() {
            Some("StopOrder") => o.trigger_price.is_some(),
            Some("Order") => o.trigger_price.is_none(),
            _ => true,
        })
        .filter(|o| o.is_open(engine) != closed)
        .take(limit)
        .map(|o| shapes::order(engine, o))
        .collect();
    Ok(list(items))
}

/// `GET /v5/order/history`: every order, newest first.
pub fn history(
    engine: &Engine,
    ids: &VenueIds,
    user: AccountId,
    p: &Params,
) -> Result<Value, Reject> {
    p.linear()?;
    let symbol = symbol_filter(engine, p)?;
    let (id, link) = (p.text("orderId"), p.text("orderLinkId"));
    let status = p.text("orderStatus");
    let limit = page_size(p)?;
    let items = ids
        .of_user(user)
        .filter(|o| symbol.as_ref().is_none_or(|s| &o.symbol == s))
        .filter(|o| id.as_ref().is_none_or(|i| &o.order_id == i))
        .filter(|o| link.as_ref().is_none_or(|l| &o.link_id == l))
        .map(|o| shapes::order(engine, o))
        .filter(|o| {
            status
                .as_ref()
                .is_none_or(|s| o["orderStatus"] == *s.as_str())
        })
        .take(limit)
        .collect();
    Ok(list(items))
}

/// `GET /v5/execution/list`: the account's fills, newest first.
pub fn executions(
    engine: &Engine,
    ids: &VenueIds,
    user: AccountId,
    p: &Params,
) -> Result<Value, Reject> {
    p.linear()?;
    let symbol = symbol_filter(engine, p)?;
    let (id, link) = (p.text("orderId"), p.text("orderLinkId"));
    let limit = page_size(p)?.max(if p.text("limit").is_some() { 1 } else { 50 });
    let Some(account) = engine.accounts.get(&user) else {
        return Ok(list(Vec::new()));
    };
    let items = account
        .fills
        .iter()
        .rev()
        .filter_map(|fill| {
            let rate = if fill.crossed {
                engine.fees.taker
            } else {
                engine.fees.maker
            };
            shapes::execution(engine, ids, fill, rate)
        })
        .filter(|e| symbol.as_ref().is_none_or(|s| e["symbol"] == *s.as_str()))
        .filter(|e| id.as_ref().is_none_or(|i| e["orderId"] == *i.as_str()))
        .filter(|e| {
            link.as_ref()
                .is_none_or(|l| e["orderLinkId"] == *l.as_str())
        })
        .take(limit)
        .collect();
    Ok(list(items))
}

/// `GET /v5/position/list`: the symbol's position (flat included), or every
/// open position with `settleCoin=USDT`.
pub fn positions(engine: &Engine, user: AccountId, p: &Params) -> Result<Value, Reject> {
    p.linear()?;
    let items: Vec<Value> = match p.text("symbol") {
        Some(symbol) => {
            let market = market_of_symbol(engine, &symbol)
                .ok_or_else(|| Reject::params(format!("params error: symbol invalid: {symbol}")))?;
            vec![shapes::position(engine, user, market)]
        }
        None => {
            if p.text("settleCoin").is_none() && p.text("baseCoin").is_none() {
                return Err(Reject::params(
                    "params error: symbol or settleCoin is required",
                ));
            }
            let account = engine.accounts.get(&user);
            (0..engine.markets.len())
                .filter(|m| engine.markets[*m].spec.tokens.is_none())
                .filter(|m| {
                    account
                        .is_some_and(|a| !a.position_size(engine.markets[*m].spec.asset).is_zero())
                })
                .map(|m| shapes::position(engine, user, m))
                .collect()
        }
    };
    Ok(list(items))
}

/// `GET /v5/account/wallet-balance` (`accountType=UNIFIED`).
pub fn wallet(engine: &Engine, user: AccountId, p: &Params) -> Result<Value, Reject> {
    match p.text("accountType").as_deref() {
        Some("UNIFIED") | Some("CONTRACT") => {}
        _ => return Err(Reject::params("accountType only support UNIFIED")),
    }
    Ok(json!({ "list": [shapes::wallet(engine, user)] }))
}
