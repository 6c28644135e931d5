//! Order entry, order queries and account settings, shared by REST and the
//! WebSocket API. Everything runs on the core; this module translates.

use std::sync::Arc;
use std::time::Duration;

use binance_core::{AlgoOrder, Lookup, NewOrder, OrderType, Side, WorkingType};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::errors::ApiError;
use super::market::{PERCENT_PRICE_DOWN, PERCENT_PRICE_UP};
use super::params::Params;
use super::{Binance, market_of_symbol, shapes};
use crate::account::AccountId;
use crate::accounts::Leverage;
use crate::book::Oid;
use crate::engine::{ActionContext, Engine};
use crate::entry::{
    EntryKind, OrderEntry, OrderTarget, Placement, TimeInForce, TriggerKind, TriggerSpec,
};
use crate::orders::OrderState;
use crate::venue::{
    VenueIds, VenueOrder, fok_fills, leverage_in, passive_price, place_core, set_leverage,
};

/// Slippage of a market order's protective price around the mark.
const MARKET_SLIPPAGE: Decimal = Decimal::from_parts(5, 0, 0, false, 2);
/// Most orders in one `batchOrders` request.
pub const MAX_BATCH: usize = 5;

/// The processing context of one request.
pub fn context(now: u64, post_only_window: bool, salt: &str) -> ActionContext {
    crate::venue::context("binance-emulator", now, post_only_window, salt)
}

fn symbol_param(engine: &Engine, p: &Params) -> Result<(usize, String), ApiError> {
    let symbol = p.required("symbol")?.to_ascii_uppercase();
    let market = market_of_symbol(engine, &symbol).ok_or_else(ApiError::symbol)?;
    Ok((market, symbol))
}

fn side_param(p: &Params) -> Result<bool, ApiError> {
    Ok(Side::decode(p, "side")? == Side::Buy)
}

/// Binance's answer to a core refusal (`None`: the order stands, perhaps expired).
fn refusal(engine: &Engine, market: usize, placement: &Placement) -> Option<ApiError> {
    let Placement::Refused { state, message, .. } = placement else {
        return None;
    };
    let min = engine.markets[market].spec.min_notional;
    Some(match state {
        Some(OrderState::IocCancelRejected) => return None,
        Some(OrderState::BadAloPxRejected) => binance_core::VenueError::gtx_would_take().into(),
        Some(OrderState::PerpMarginRejected) => ApiError::new(-2019, "Margin is insufficient."),
        Some(OrderState::MinTradeNtlRejected) => ApiError::new(
            -4164,
            format!(
                "Order's notional must be no smaller than {} (unless you choose reduce only).",
                min.normalize()
            ),
        ),
        Some(OrderState::ReduceOnlyRejected) => {
            ApiError::new(-2022, "ReduceOnly Order is rejected.")
        }
        Some(OrderState::TickRejected) => ApiError::new(-4014, "Price not increased by tick size."),
        Some(OrderState::BadTriggerPxRejected) => {
            ApiError::new(-2021, "Order would immediately trigger.")
        }
        Some(_) => ApiError::new(
            -1111,
            "Precision is over the maximum defined for this asset.",
        ),
        None => ApiError::new(-2010, message.clone()),
    })
}

/// Places `entry` on the core: the new order's id, or Binance's refusal.
fn placed(
    engine: &mut Engine,
    user: AccountId,
    market: usize,
    entry: &OrderEntry,
    ctx: &ActionContext,
) -> Result<Oid, ApiError> {
    let placement = place_core(engine, user, entry, ctx);
    if let Some(error) = refusal(engine, market, &placement) {
        return Err(error);
    }
    placement
        .oid()
        .ok_or_else(|| ApiError::new(-2010, "New order rejected."))
}

/// Earliest expiry a good-till-date order may have, after now (ms).
const MIN_GOOD_TILL_MS: u64 = 600_000;

/// The `goodTillDate` of a GTD order: more than ten minutes ahead, kept to
/// the second as Binance keeps it.
fn good_till_date(date: u64, now: u64) -> Result<u64, ApiError> {
    if date <= now + MIN_GOOD_TILL_MS {
        return Err(ApiError::new(
            -1130,
            "Data sent for parameter 'goodTillDate' is not valid.",
        ));
    }
    Ok(date - date % 1000)
}

/// The PERCENT_PRICE filter: a limit buy at most `multiplierUp` × mark, a
/// limit sell at least `multiplierDown` × mark.
fn check_percent_price(
    engine: &Engine,
    market: usize,
    is_buy: bool,
    price: Decimal,
) -> Result<(), ApiError> {
    let m = &engine.markets[market];
    let tick = m.spec.tick_at(m.mark);
    if is_buy {
        let cap = (m.mark * PERCENT_PRICE_UP / tick).floor() * tick;
        if price > cap {
            return Err(ApiError::new(
                -4016,
                format!("Limit price can't be higher than {}.", cap.normalize()),
            ));
        }
    } else {
        let floor = (m.mark * PERCENT_PRICE_DOWN / tick).ceil() * tick;
        if price < floor {
            return Err(ApiError::new(
                -4024,
                format!("Limit price can't be lower than {}.", floor.normalize()),
            ));
        }
    }
    Ok(())
}

/// `POST /fapi/v1/order`, `order.place`: LIMIT and MARKET (conditional types
/// belong to the algo service: `-4120`).
pub fn new_order(
    engine: &mut Engine,
    ids: &mut VenueIds,
    user: AccountId,
    p: &Params,
    ctx: &ActionContext,
) -> Result<Value, ApiError> {
    let order = NewOrder::decode(p)?;
    let market = market_of_symbol(engine, &order.symbol).ok_or_else(ApiError::symbol)?;
    let symbol = order.symbol.clone();
    let is_buy = order.side == Side::Buy;
    let order_type = order.order_type.as_str();
    let qty = order.quantity;
    let tif = order.time_in_force.map_or("GTC", |tif| tif.as_str());
    let link = order.client_order_id.map(|id| id.as_str().to_owned());
    refuse_open_link(engine, ids, user, link.as_deref())?;
    let price = match order.price {
        Some(price) => price,
        None => engine.slippage_price(market, is_buy, MARKET_SLIPPAGE),
    };
    if order.order_type == OrderType::Limit {
        check_percent_price(engine, market, is_buy, price)?;
    }
    let good_till = order
        .good_till_date
        .map(|date| good_till_date(date, ctx.now))
        .transpose()?;
    let mut wire_price = price;
    if tif == "FOK" && !fok_fills(engine, market, is_buy, price, qty) {
        wire_price = passive_price(engine, market, is_buy, price);
    }
    let entry = OrderEntry {
        market,
        is_buy,
        price: wire_price,
        size: qty,
        reduce_only: order.reduce_only,
        kind: EntryKind::Limit(match (order_type, tif) {
            ("MARKET", _) | (_, "IOC" | "FOK") => TimeInForce::ImmediateOrCancel,
            (_, "GTX") => TimeInForce::PostOnly,
            _ => TimeInForce::GoodTillCancel,
        }),
        client_id: None,
        good_till,
    };
    let oid = placed(engine, user, market, &entry, ctx)?;
    let order = VenueOrder {
        link_id: link.unwrap_or_else(|| format!("emu_{oid}")),
        order_type,
        tif: if order_type == "MARKET" { "GTC" } else { tif },
        price: if order_type == "MARKET" {
            Decimal::ZERO
        } else {
            price
        },
        ..VenueOrder::new(oid.to_string(), oid, user, symbol, &entry, ctx.now)
    };
    let answer = shapes::order(engine, &order);
    ids.insert(order);
    Ok(answer)
}

/// The order a request names by `orderId` or `origClientOrderId`.
fn named<'a>(
    engine: &Engine,
    ids: &'a VenueIds,
    user: AccountId,
    p: &Params,
) -> Result<&'a VenueOrder, ApiError> {
    let (market, _) = symbol_param(engine, p)?;
    let found = match binance_core::OrderTarget::decode(p)? {
        binance_core::OrderTarget::OrderId(id) => ids.get(&id.to_string()),
        binance_core::OrderTarget::Client(link) => ids.by_link(user, link.as_str()),
    };
    found
        .filter(|o| o.user == user && o.market == market && o.trigger_price.is_none())
        .ok_or_else(ApiError::no_such_order)
}

/// `GET /fapi/v1/order`, `order.status`.
pub fn query_order(
    engine: &Engine,
    ids: &VenueIds,
    user: AccountId,
    p: &Params,
) -> Result<Value, ApiError> {
    named(engine, ids, user, p).map(|o| shapes::order(engine, o))
}

/// `GET /fapi/v1/openOrder`.
pub fn query_open_order(
    engine: &Engine,
    ids: &VenueIds,
    user: AccountId,
    p: &Params,
) -> Result<Value, ApiError> {
    let order = named(engine, ids, user, p)?;
    if !order.is_open(engine) {
        return Err(ApiError::new(-2013, "Order does not exist."));
    }
    Ok(shapes::order(engine, order))
}

/// `DELETE /fapi/v1/order`, `order.cancel`.
pub fn cancel_order(
    engine: &mut Engine,
    ids: &mut VenueIds,
    user: AccountId,
    p: &Params,
    now: u64,
) -> Result<Value, ApiError> {
    let order = named(engine, ids, user, p)
        .map_err(|_| ApiError::unknown_order())?
        .clone();
    let oid = order.current().unwrap_or_default();
    let cancelled = engine.cancel_orders(user, &[(order.market, OrderTarget::Oid(oid))], now);
    if cancelled.first() != Some(&true) {
        return Err(ApiError::unknown_order());
    }
    if let Some(o) = ids.get_mut(&order.order_id) {
        o.updated = now;
    }
    Ok(shapes::order(engine, &order))
}

/// `PUT /fapi/v1/order`, `order.modify`: new quantity and price, same
/// `orderId`; cancelled when the new quantity is not above what filled.
pub fn modify_order(
    engine: &mut Engine,
    ids: &mut VenueIds,
    user: AccountId,
    p: &Params,
    ctx: &ActionContext,
) -> Result<Value, ApiError> {
    let order = named(engine, ids, user, p)?.clone();
    let is_buy = side_param(p)?;
    let qty = p
        .decimal("quantity")?
        .ok_or_else(|| ApiError::mandatory("quantity"))?;
    let price = p
        .decimal("price")?
        .ok_or_else(|| ApiError::mandatory("price"))?;
    if order.order_type != "LIMIT" || is_buy != order.is_buy {
        return Err(ApiError::new(
            -4028,
            "Order can only be modified for LIMIT orders of the same side.",
        ));
    }
    if !order.is_open(engine) {
        return Err(ApiError::new(-2013, "Order does not exist."));
    }
    let progress = order.progress(engine);
    let oid = order.current().unwrap_or_default();
    if qty <= progress.cum_qty {
        engine.cancel_orders(user, &[(order.market, OrderTarget::Oid(oid))], ctx.now);
        return Ok(shapes::order(engine, &order));
    }
    if qty == order.qty && price == order.price {
        return Err(ApiError::new(-5027, "No need to modify the order."));
    }
    check_percent_price(engine, order.market, is_buy, price)?;
    let entry = OrderEntry {
        market: order.market,
        is_buy,
        price,
        size: qty - progress.cum_qty,
        reduce_only: order.reduce_only,
        kind: EntryKind::Limit(match order.tif {
            "GTX" => TimeInForce::PostOnly,
            _ => TimeInForce::GoodTillCancel,
        }),
        client_id: None,
        good_till: order.good_till,
    };
    let placement = engine
        .amend_order(user, oid, &entry, ctx)
        .ok_or_else(|| ApiError::new(-2013, "Order does not exist."))?;
    if let Placement::Refused {
        state: Some(OrderState::BadAloPxRejected),
        ..
    } = placement
    {
        // A GTX order whose new price would take is cancelled by the amend.
        engine.cancel_orders(user, &[(order.market, OrderTarget::Oid(oid))], ctx.now);
    }
    if let Some(new_oid) = placement.oid() {
        ids.add_oid(&order.order_id, new_oid);
        if let Some(o) = ids.get_mut(&order.order_id) {
            o.qty = qty;
            o.price = price;
            o.updated = ctx.now;
        }
    }
    if let Some(error) = refusal(engine, order.market, &placement) {
        return Err(error);
    }
    let order = ids
        .get(&order.order_id)
        .ok_or_else(ApiError::no_such_order)?;
    Ok(shapes::order(engine, order))
}

/// `GET /fapi/v1/openOrders`.
pub fn open_orders(
    engine: &Engine,
    ids: &VenueIds,
    user: AccountId,
    p: &Params,
) -> Result<Value, ApiError> {
    let market = match p.text("symbol") {
        Some(_) => Some(symbol_param(engine, p)?.0),
        None => None,
    };
    Ok(Value::Array(
        ids.of_user(user)
            .filter(|o| o.trigger_price.is_none() && market.is_none_or(|m| o.market == m))
            .filter(|o| o.is_open(engine))
            .map(|o| shapes::order(engine, o))
            .collect(),
    ))
}

/// `GET /fapi/v1/allOrders` (oldest first, at most `limit`, default 500).
pub fn all_orders(
    engine: &Engine,
    ids: &VenueIds,
    user: AccountId,
    p: &Params,
) -> Result<Value, ApiError> {
    let (market, _) = symbol_param(engine, p)?;
    let limit = p.integer("limit")?.unwrap_or(500).clamp(1, 1000) as usize;
    let from = p.integer("orderId")?.unwrap_or(0);
    let mut list: Vec<Value> = ids
        .of_user(user)
        .filter(|o| o.trigger_price.is_none() && o.market == market && o.first() >= from)
        .take(limit)
        .map(|o| shapes::order(engine, o))
        .collect();
    list.reverse();
    Ok(Value::Array(list))
}

/// `DELETE /fapi/v1/allOpenOrders`.
pub fn cancel_all(
    engine: &mut Engine,
    ids: &VenueIds,
    user: AccountId,
    p: &Params,
    now: u64,
) -> Result<Value, ApiError> {
    let (market, _) = symbol_param(engine, p)?;
    cancel_market(engine, ids, user, market, now);
    Ok(json!({ "code": 200, "msg": "The operation of cancel all open order is done." }))
}

fn cancel_market(engine: &mut Engine, ids: &VenueIds, user: AccountId, market: usize, now: u64) {
    let targets: Vec<(usize, OrderTarget)> = ids
        .of_user(user)
        .filter(|o| o.market == market && o.is_open(engine))
        .filter_map(|o| o.current())
        .map(|oid| (market, OrderTarget::Oid(oid)))
        .collect();
    engine.cancel_orders(user, &targets, now);
}

/// `POST /fapi/v1/countdownCancelAll`: cancels the symbol's open orders
/// unless called again within `countdownTime` ms (0 switches it off).
pub fn countdown(
    binance: &Binance,
    engine: &Engine,
    user: AccountId,
    p: &Params,
    now: u64,
) -> Result<Value, ApiError> {
    let (market, symbol) = symbol_param(engine, p)?;
    let time = p
        .integer("countdownTime")?
        .ok_or_else(|| ApiError::mandatory("countdownTime"))?;
    let mut countdowns = binance.countdowns();
    if time == 0 {
        countdowns.remove(&(user, market));
    } else {
        countdowns.insert((user, market), now + time);
    }
    Ok(json!({ "symbol": symbol, "countdownTime": time.to_string() }))
}

/// Fires due countdown cancels every 10 ms until shutdown.
pub async fn countdown_loop(binance: Arc<Binance>) {
    let mut shutdown = binance.shared.shutdown.clone();
    let mut interval = tokio::time::interval(Duration::from_millis(10));
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        let now = binance.shared.faults.now_ms();
        let due: Vec<(AccountId, usize)> = {
            let mut countdowns = binance.countdowns();
            let due: Vec<_> = countdowns
                .iter()
                .filter(|(_, d)| **d <= now)
                .map(|(k, _)| *k)
                .collect();
            for key in &due {
                countdowns.remove(key);
            }
            due
        };
        if due.is_empty() {
            continue;
        }
        let (mut engine, ids) = binance.lock();
        for (user, market) in due {
            cancel_market(&mut engine, &ids, user, market, now);
        }
    }
}

/// `GET /fapi/v1/userTrades` (oldest first, at most `limit`, default 500).
pub fn user_trades(
    engine: &Engine,
    ids: &VenueIds,
    user: AccountId,
    p: &Params,
) -> Result<Value, ApiError> {
    let (market, _) = symbol_param(engine, p)?;
    let limit = p.integer("limit")?.unwrap_or(500).clamp(1, 1000) as usize;
    let order_filter = p.integer("orderId")?;
    let Some(account) = engine.accounts.get(&user) else {
        return Ok(json!([]));
    };
    let mut list: Vec<Value> = account
        .fills
        .iter()
        .rev()
        .filter_map(|fill| ids.of_oid(fill.oid).map(|o| (o, fill)))
        .filter(|(o, _)| o.market == market && order_filter.is_none_or(|id| o.first() == id))
        .take(limit)
        .map(|(o, fill)| shapes::trade(engine, o, fill))
        .collect();
    list.reverse();
    Ok(Value::Array(list))
}

/// `GET /fapi/v2|v3/positionRisk`.
pub fn position_risk(
    engine: &Engine,
    user: AccountId,
    p: &Params,
    v3: bool,
) -> Result<Value, ApiError> {
    let markets: Vec<usize> = match p.text("symbol") {
        Some(_) => vec![symbol_param(engine, p)?.0],
        None => (0..engine.markets.len())
            .filter(|m| engine.markets[*m].spec.tokens.is_none())
            .collect(),
    };
    Ok(Value::Array(
        markets
            .into_iter()
            .map(|m| shapes::position(engine, user, m))
            .filter(|p| !v3 || p["positionAmt"] != "0")
            .collect(),
    ))
}

/// `POST /fapi/v1/leverage`.
pub fn leverage(engine: &mut Engine, user: AccountId, p: &Params) -> Result<Value, ApiError> {
    let (market, symbol) = symbol_param(engine, p)?;
    let value = p
        .integer("leverage")?
        .ok_or_else(|| ApiError::mandatory("leverage"))?;
    let is_cross = leverage_in(engine, user, market).is_none_or(|l| l.is_cross);
    let leverage =
        u32::try_from(value).map_err(|_| ApiError::new(-4028, "Leverage is not valid"))?;
    let setting = Leverage {
        is_cross,
        value: leverage,
    };
    set_leverage(engine, user, market, setting)
        .map_err(|_| ApiError::new(-4028, format!("Leverage {value} is not valid")))?;
    Ok(json!({ "leverage": value, "maxNotionalValue": "1000000", "symbol": symbol }))
}

/// `POST /fapi/v1/marginType` (`ISOLATED` or `CROSSED`).
pub fn margin_type(engine: &mut Engine, user: AccountId, p: &Params) -> Result<Value, ApiError> {
    let (market, _) = symbol_param(engine, p)?;
    let is_cross = match p.required("marginType")? {
        "CROSSED" => true,
        "ISOLATED" => false,
        _ => return Err(ApiError::mandatory("marginType")),
    };
    let current = leverage_in(engine, user, market).ok_or_else(ApiError::api_key)?;
    if current.is_cross == is_cross {
        return Err(ApiError::new(-4046, "No need to change margin type."));
    }
    let setting = Leverage {
        is_cross,
        value: current.value,
    };
    set_leverage(engine, user, market, setting).map_err(|_| {
        ApiError::new(
            -4048,
            "Margin type cannot be changed if there exists position.",
        )
    })?;
    Ok(json!({ "code": 200, "msg": "success" }))
}

/// Most orders in one `DELETE /fapi/v1/batchOrders`.
pub const MAX_BATCH_CANCEL: usize = 10;

/// The JSON list a batch parameter holds: 1 to `max` items, else `-1130`.
fn batch_list<T: serde::de::DeserializeOwned>(
    p: &Params,
    name: &str,
    max: usize,
) -> Result<Vec<T>, ApiError> {
    let invalid = || {
        ApiError::new(
            -1130,
            format!("Data sent for parameter '{name}' is not valid."),
        )
    };
    let list: Vec<T> = serde_json::from_str(p.required(name)?).map_err(|_| invalid())?;
    if list.is_empty() || list.len() > max {
        return Err(invalid());
    }
    Ok(list)
}

/// One answer per batch item: the order, or `{code, msg}`.
fn batch_answers(
    items: &[Params],
    mut each: impl FnMut(&Params) -> Result<Value, ApiError>,
) -> Value {
    Value::Array(
        items
            .iter()
            .map(|item| match each(item) {
                Ok(order) => order,
                Err(e) => json!({ "code": e.code, "msg": e.msg }),
            })
            .collect(),
    )
}

/// One order operation as REST and the WebSocket API run it.
pub type OrderOperation =
    fn(&mut Engine, &mut VenueIds, AccountId, &Params, &ActionContext) -> Result<Value, ApiError>;

/// `POST|PUT /fapi/v1/batchOrders`: up to five new orders ([`new_order`])
/// or modifications ([`modify_order`]), one answer each.
pub fn batch_orders(
    engine: &mut Engine,
    ids: &mut VenueIds,
    user: AccountId,
    p: &Params,
    ctx: &ActionContext,
    each: OrderOperation,
) -> Result<Value, ApiError> {
    let items: Vec<Value> = batch_list(p, "batchOrders", MAX_BATCH)?;
    let items: Vec<Params> = items.iter().map(Params::from_object).collect();
    Ok(batch_answers(&items, |item| {
        each(engine, ids, user, item, ctx)
    }))
}

/// `DELETE /fapi/v1/batchOrders`: up to ten orders of one symbol, named by
/// `orderIdList` or `origClientOrderIdList`, one answer each.
pub fn batch_cancel(
    engine: &mut Engine,
    ids: &mut VenueIds,
    user: AccountId,
    p: &Params,
    now: u64,
) -> Result<Value, ApiError> {
    let symbol = symbol_param(engine, p)?.1;
    let item = |key: &str, value: String| {
        Params(vec![
            ("symbol".to_owned(), symbol.clone()),
            (key.to_owned(), value),
        ])
    };
    let items: Vec<Params> = if p.text("orderIdList").is_some() {
        batch_list::<u64>(p, "orderIdList", MAX_BATCH_CANCEL)?
            .into_iter()
            .map(|id| item("orderId", id.to_string()))
            .collect()
    } else if p.text("origClientOrderIdList").is_some() {
        batch_list::<String>(p, "origClientOrderIdList", MAX_BATCH_CANCEL)?
            .into_iter()
            .map(|id| item("origClientOrderId", id))
            .collect()
    } else {
        return Err(ApiError::mandatory("orderIdList"));
    };
    Ok(batch_answers(&items, |item| {
        cancel_order(engine, ids, user, item, now)
    }))
}

/// The price an algo order's trigger watches, in Binance's words.
pub fn working_type(order: &VenueOrder) -> &'static str {
    match order.trigger_on_last_trade {
        true => "CONTRACT_PRICE",
        false => "MARK_PRICE",
    }
}

/// Algo order JSON (REST and `ALGO_UPDATE`).
pub fn algo_json(engine: &Engine, order: &VenueOrder) -> Value {
    let progress = order.progress(engine);
    let status = match shapes::status(&progress) {
        _ if progress.waiting && progress.is_open() => "NEW",
        _ if progress.waiting => "CANCELED",
        "FILLED" | "EXPIRED" => "FINISHED",
        "CANCELED" => "CANCELED",
        _ => "TRIGGERED",
    };
    json!({
        "algoId": order.first(),
        "clientAlgoId": order.link_id,
        "algoType": "CONDITIONAL",
        "orderType": order.order_type,
        "symbol": order.symbol,
        "side": shapes::side(order.is_buy),
        "positionSide": "BOTH",
        "timeInForce": order.tif,
        "quantity": shapes::num(order.qty),
        "algoStatus": status,
        "triggerPrice": order.trigger_price.map(shapes::num),
        "price": shapes::num(order.price),
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "workingType": working_type(order),
        "priceMatch": "NONE",
        "closePosition": false,
        "priceProtect": false,
        "reduceOnly": order.reduce_only,
        "createTime": order.created,
        "updateTime": progress.updated,
        "triggerTime": 0,
        "goodTillDate": 0,
        // Once triggered, the order in the matching engine (here the core
        // order goes on under the algo's id).
        "actualOrderId": if progress.waiting { String::new() } else { order.first().to_string() },
        "executedQty": shapes::num(progress.cum_qty),
        "avgPrice": shapes::num(progress.avg_price()),
    })
}

/// `-4116` when an open order of `user` (plain or algo) has the client id
/// `link`: Binance keeps client ids unique among open orders.
fn refuse_open_link(
    engine: &Engine,
    ids: &VenueIds,
    user: AccountId,
    link: Option<&str>,
) -> Result<(), ApiError> {
    match link {
        Some(link) if ids.by_link(user, link).is_some_and(|o| o.is_open(engine)) => {
            Err(binance_core::VenueError::duplicated_client_id().into())
        }
        _ => Ok(()),
    }
}

/// `POST /fapi/v1/algoOrder` (`algoType=CONDITIONAL`): STOP, STOP_MARKET,
/// TAKE_PROFIT, TAKE_PROFIT_MARKET with `triggerPrice`.
pub fn new_algo_order(
    engine: &mut Engine,
    ids: &mut VenueIds,
    user: AccountId,
    p: &Params,
    ctx: &ActionContext,
) -> Result<Value, ApiError> {
    let algo = AlgoOrder::decode(p)?;
    refuse_open_link(
        engine,
        ids,
        user,
        algo.client_algo_id.as_ref().map(|id| id.as_str()),
    )?;
    let market = market_of_symbol(engine, &algo.symbol).ok_or_else(ApiError::symbol)?;
    let is_market = algo.order_type.is_market();
    let kind = match algo.order_type.is_take_profit() {
        true => TriggerKind::TakeProfit,
        false => TriggerKind::StopLoss,
    };
    let entry = OrderEntry {
        market,
        is_buy: algo.side == Side::Buy,
        price: algo.price.unwrap_or(algo.trigger_price),
        size: algo.quantity,
        reduce_only: algo.reduce_only,
        kind: EntryKind::Trigger(TriggerSpec {
            price: algo.trigger_price,
            is_market,
            kind,
            on_last_trade: algo.working_type == WorkingType::ContractPrice,
        }),
        client_id: None,
        good_till: None,
    };
    let oid = placed(engine, user, market, &entry, ctx)?;
    let order = VenueOrder {
        link_id: algo
            .client_algo_id
            .map_or_else(|| format!("emu_algo_{oid}"), |id| id.as_str().to_owned()),
        order_type: algo.order_type.as_str(),
        tif: "GTC",
        price: algo.price.unwrap_or(Decimal::ZERO),
        ..VenueOrder::new(oid.to_string(), oid, user, algo.symbol, &entry, ctx.now)
    };
    let answer = algo_json(engine, &order);
    ids.insert(order);
    Ok(answer)
}

fn named_algo<'a>(
    ids: &'a VenueIds,
    user: AccountId,
    p: &Params,
) -> Result<&'a VenueOrder, ApiError> {
    let found = match (p.integer("algoId")?, p.text("clientAlgoId")) {
        (Some(id), _) => ids.get(&id.to_string()),
        (None, Some(link)) => ids.by_link(user, link),
        (None, None) => return Err(ApiError::mandatory("algoId")),
    };
    found
        .filter(|o| o.user == user && o.trigger_price.is_some())
        .ok_or_else(|| ApiError::new(-2011, "Unknown order sent."))
}

/// `DELETE /fapi/v1/algoOrder`.
pub fn cancel_algo_order(
    engine: &mut Engine,
    ids: &VenueIds,
    user: AccountId,
    p: &Params,
    now: u64,
) -> Result<Value, ApiError> {
    let order = named_algo(ids, user, p)?;
    let oid = order.current().unwrap_or_default();
    let cancelled = engine.cancel_orders(user, &[(order.market, OrderTarget::Oid(oid))], now);
    if cancelled.first() != Some(&true) {
        return Err(ApiError::new(-2011, "Unknown order sent."));
    }
    Ok(
        json!({ "algoId": order.first(), "clientAlgoId": order.link_id, "code": "200", "msg": "success" }),
    )
}

/// `GET /fapi/v1/openAlgoOrders`.
pub fn open_algo_orders(engine: &Engine, ids: &VenueIds, user: AccountId) -> Value {
    Value::Array(
        ids.of_user(user)
            .filter(|o| o.trigger_price.is_some() && o.is_open(engine))
            .map(|o| algo_json(engine, o))
            .collect(),
    )
}

/// `GET /fapi/v1/algoOrder`.
pub fn query_algo_order(
    engine: &Engine,
    ids: &VenueIds,
    user: AccountId,
    p: &Params,
) -> Result<Value, ApiError> {
    named_algo(ids, user, p).map(|o| algo_json(engine, o))
}
