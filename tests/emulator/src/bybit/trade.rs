//! Order entry and account settings, shared by REST and the `/v5/trade`
//! WebSocket: create (limit, market, conditional, TP/SL on create), amend in
//! place, cancel, cancel-all, the batch forms, leverage, margin mode and DCP.
//! Everything runs on the core; this module only translates.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::params::*;
use super::shapes::order_id_of;
use super::{market_of_symbol, shapes};
use crate::account::AccountId;
use crate::accounts::Leverage;
use crate::engine::{ActionContext, Engine};
use crate::entry::{
    EntryKind, OrderEntry, OrderTarget, Placement, TimeInForce, TriggerKind, TriggerSpec,
};
use crate::orders::OrderState;
use crate::venue::{self, VenueIds, VenueOrder, fok_fills, leverage_in, passive_price, place_core};

/// The processing context of one request.
pub fn context(now: u64, post_only_window: bool, salt: &str) -> ActionContext {
    crate::venue::context("bybit-emulator", now, post_only_window, salt)
}

/// Slippage of a market order's protective price around the mark.
const MARKET_SLIPPAGE: Decimal = Decimal::from_parts(5, 0, 0, false, 2);
/// Most orders in one batch request.
pub const MAX_BATCH: usize = 20;
/// Longest `orderLinkId`.
const MAX_LINK_ID: usize = 36;

/// A parsed create request.
struct NewOrder {
    market: usize,
    symbol: String,
    is_buy: bool,
    order_type: &'static str,
    tif: &'static str,
    qty: Decimal,
    price: Decimal,
    link_id: String,
    reduce_only: bool,
    /// Price, direction, and whether it watches the last price.
    trigger: Option<(Decimal, u8, bool)>,
    take_profit: Option<Decimal>,
    stop_loss: Option<Decimal>,
}

fn parse_new(engine: &Engine, p: &Params) -> Result<NewOrder, Reject> {
    p.linear()?;
    let symbol = p.required("symbol")?;
    let market = market_of_symbol(engine, &symbol)
        .ok_or_else(|| Reject::params(format!("params error: symbol invalid: {symbol}")))?;
    let is_buy = match p.required("side")?.as_str() {
        "Buy" => true,
        "Sell" => false,
        _ => return Err(Reject::params("params error: side invalid")),
    };
    let order_type = match p.required("orderType")?.as_str() {
        "Limit" => "Limit",
        "Market" => "Market",
        _ => return Err(Reject::params("params error: orderType invalid")),
    };
    let qty = p
        .decimal("qty")?
        .ok_or_else(|| Reject::params("params error: qty is required"))?;
    if qty <= Decimal::ZERO {
        return Err(Reject::params("Qty invalid"));
    }
    let tif = match (order_type, p.text("timeInForce").as_deref()) {
        ("Market", _) => "IOC",
        (_, None | Some("GTC")) => "GTC",
        (_, Some("IOC")) => "IOC",
        (_, Some("FOK")) => "FOK",
        (_, Some("PostOnly")) => "PostOnly",
        _ => return Err(Reject::params("params error: timeInForce invalid")),
    };
    let price = match order_type {
        "Limit" => p
            .decimal("price")?
            .filter(|px| *px > Decimal::ZERO)
            .ok_or_else(|| Reject::params("params error: price is required for Limit orders"))?,
        _ => Decimal::ZERO,
    };
    let link_id = p.text("orderLinkId").unwrap_or_default();
    if link_id.len() > MAX_LINK_ID
        || !link_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Reject::params("params error: orderLinkId invalid"));
    }
    let trigger = match p.decimal("triggerPrice")? {
        None => None,
        Some(px) if px <= Decimal::ZERO => return Err(Reject::params("TriggerPrice invalid")),
        Some(px) => {
            let mark = engine.markets[market].mark;
            let direction = match p.integer("triggerDirection")? {
                Some(1) => 1,
                Some(2) => 2,
                None if px > mark => 1,
                None => 2,
                Some(_) => return Err(Reject::params("params error: triggerDirection invalid")),
            };
            let on_last = match p.text("triggerBy").as_deref() {
                None | Some("LastPrice") => true,
                Some("MarkPrice") => false,
                Some(_) => return Err(Reject::params("params error: triggerBy invalid")),
            };
            Some((px, direction, on_last))
        }
    };
    Ok(NewOrder {
        market,
        symbol,
        is_buy,
        order_type,
        tif,
        qty,
        price,
        link_id,
        reduce_only: p.flag("reduceOnly")?,
        trigger,
        take_profit: p.decimal("takeProfit")?.filter(|v| !v.is_zero()),
        stop_loss: p.decimal("stopLoss")?.filter(|v| !v.is_zero()),
    })
}

/// The core's kind of a Bybit order: conditional orders become core
/// triggers whose kind encodes the direction.
fn entry_kind(
    order_type: &str,
    tif: &str,
    is_buy: bool,
    trigger: Option<(Decimal, u8, bool)>,
) -> EntryKind {
    match trigger {
        Some((price, direction, on_last_trade)) => EntryKind::Trigger(TriggerSpec {
            price,
            is_market: order_type == "Market",
            kind: TriggerKind::firing(direction == 1, is_buy),
            on_last_trade,
        }),
        None => EntryKind::Limit(match tif {
            "PostOnly" => TimeInForce::PostOnly,
            "IOC" | "FOK" => TimeInForce::ImmediateOrCancel,
            _ => TimeInForce::GoodTillCancel,
        }),
    }
}

/// Bybit's answer to a core refusal. A new PostOnly order that would take
/// and an IOC that cannot fill are accepted and reported on the order
/// (`None`); an amend has no such order to report on, so it is refused.
fn refusal(placement: &Placement, direction: u8, amending: bool) -> Option<Reject> {
    let Placement::Refused { state, message, .. } = placement else {
        return None;
    };
    let reject = match state {
        Some(OrderState::BadAloPxRejected) if amending => Reject::params(
            "PostOnly order would take liquidity after the amend; the order remains unchanged",
        ),
        Some(OrderState::BadAloPxRejected | OrderState::IocCancelRejected) => return None,
        Some(OrderState::PerpMarginRejected) => {
            Reject::new(INSUFFICIENT_BALANCE, "ab not enough for new order")
        }
        Some(OrderState::MinTradeNtlRejected) => Reject::new(
            MIN_NOTIONAL,
            "The order value must be greater than the minimum order value",
        ),
        Some(OrderState::ReduceOnlyRejected) => Reject::new(
            REDUCE_ONLY,
            "current position is zero, cannot fix reduce-only order qty",
        ),
        Some(OrderState::BadTriggerPxRejected) if direction == 1 => Reject::new(
            TRIGGER_RISING,
            "expect Rising, but trigger_price <= current",
        ),
        Some(OrderState::BadTriggerPxRejected) => Reject::new(
            TRIGGER_FALLING,
            "expect Falling, but trigger_price >= current",
        ),
        Some(OrderState::TickRejected) => {
            Reject::params("The price does not conform to the tick size")
        }
        Some(_) => Reject::params(format!("Qty invalid: {message}")),
        None => Reject::params(message.clone()),
    };
    Some(reject)
}

/// `order.create` / `POST /v5/order/create`: `{orderId, orderLinkId}`.
pub fn create(
    engine: &mut Engine,
    ids: &mut VenueIds,
    user: AccountId,
    p: &Params,
    ctx: &ActionContext,
) -> Result<Value, Reject> {
    let new = parse_new(engine, p)?;
    if !new.link_id.is_empty() && ids.link_used(user, &new.link_id) {
        return Err(Reject::new(DUPLICATE_LINK_ID, "OrderLinkedID is duplicate"));
    }
    let mark = engine.markets[new.market].mark;
    let base = new.trigger.map_or(mark, |(px, _, _)| px);
    if let Some(tp) = new.take_profit
        && (tp > base) != new.is_buy
    {
        return Err(Reject::params(format!(
            "TakeProfit:{tp} set for {} position should be {} than base_price:{base}",
            shapes::side(new.is_buy),
            if new.is_buy { "higher" } else { "lower" }
        )));
    }
    if let Some(sl) = new.stop_loss
        && (sl < base) != new.is_buy
    {
        return Err(Reject::params(format!(
            "StopLoss:{sl} set for {} position should be {} than base_price:{base}",
            shapes::side(new.is_buy),
            if new.is_buy { "lower" } else { "higher" }
        )));
    }
    let price = match new.order_type {
        "Market" => engine.slippage_price(new.market, new.is_buy, MARKET_SLIPPAGE),
        _ => new.price,
    };
    let mut wire_price = match (new.order_type, new.trigger) {
        ("Market", Some((px, _, _))) => px,
        _ => price,
    };
    if new.tif == "FOK"
        && new.trigger.is_none()
        && !fok_fills(engine, new.market, new.is_buy, price, new.qty)
    {
        // It would not fill completely: sent to the core at a price that
        // cannot match, it is cancelled unfilled, as Bybit does.
        wire_price = passive_price(engine, new.market, new.is_buy, price);
    }
    let entry = OrderEntry {
        market: new.market,
        is_buy: new.is_buy,
        price: wire_price,
        size: new.qty,
        reduce_only: new.reduce_only,
        kind: entry_kind(new.order_type, new.tif, new.is_buy, new.trigger),
        client_id: None,
        good_till: None,
    };
    let placement = place_core(engine, user, &entry, ctx);
    if let Some(reject) = refusal(&placement, new.trigger.map_or(0, |t| t.1), false) {
        return Err(reject);
    }
    let Some(oid) = placement.oid() else {
        return Err(Reject::params("order refused"));
    };
    let order_id = order_id_of(oid);
    let order = VenueOrder {
        link_id: new.link_id.clone(),
        order_type: new.order_type,
        tif: new.tif,
        price: if new.order_type == "Market" {
            Decimal::ZERO
        } else {
            price
        },
        trigger_direction: new.trigger.map_or(0, |t| t.1),
        take_profit: new.take_profit,
        stop_loss: new.stop_loss,
        ..VenueOrder::new(
            order_id.clone(),
            oid,
            user,
            new.symbol.clone(),
            &entry,
            ctx.now,
        )
    };
    ids.insert(order);
    for (level, kind) in [(new.take_profit, "TakeProfit"), (new.stop_loss, "StopLoss")] {
        if let Some(px) = level {
            attach_exit(engine, ids, user, &new, px, kind, ctx)?;
        }
    }
    Ok(json!({ "orderId": order_id, "orderLinkId": new.link_id }))
}

/// A reduce-only conditional market order closing what `entry` opens, for
/// TP/SL on create.
fn attach_exit(
    engine: &mut Engine,
    ids: &mut VenueIds,
    user: AccountId,
    entry: &NewOrder,
    px: Decimal,
    kind: &'static str,
    ctx: &ActionContext,
) -> Result<(), Reject> {
    let exit = OrderEntry {
        market: entry.market,
        is_buy: !entry.is_buy,
        price: px,
        size: entry.qty,
        reduce_only: true,
        kind: EntryKind::Trigger(TriggerSpec {
            price: px,
            is_market: true,
            kind: if kind == "TakeProfit" {
                TriggerKind::TakeProfit
            } else {
                TriggerKind::StopLoss
            },
            // `tpslTriggerBy` defaults to the last price.
            on_last_trade: true,
        }),
        client_id: None,
        good_till: None,
    };
    let placement = place_core(engine, user, &exit, ctx);
    let Some(oid) = placement
        .oid()
        .filter(|oid| engine.orders.get(oid).is_some_and(|r| r.status.is_open()))
    else {
        return Ok(());
    };
    let rises = (px > engine.markets[entry.market].mark) as u8;
    ids.insert(VenueOrder {
        order_type: "Market",
        tif: "IOC",
        price: Decimal::ZERO,
        trigger_direction: 2 - rises,
        stop_order_type: kind,
        ..VenueOrder::new(
            order_id_of(oid),
            oid,
            user,
            entry.symbol.clone(),
            &exit,
            ctx.now,
        )
    });
    Ok(())
}

/// The open order a cancel or amend names.
fn target(
    engine: &Engine,
    ids: &VenueIds,
    user: AccountId,
    p: &Params,
) -> Result<VenueOrder, Reject> {
    p.linear()?;
    let symbol = p.required("symbol")?;
    let (id, link) = (p.text("orderId"), p.text("orderLinkId"));
    if id.is_none() && link.is_none() {
        return Err(Reject::params(
            "params error: orderId or orderLinkId is required",
        ));
    }
    ids.find(user, id.as_deref(), link.as_deref())
        .filter(|o| o.symbol == symbol)
        .filter(|o| o.is_open(engine))
        .cloned()
        .ok_or_else(|| Reject::new(ORDER_NOT_FOUND, "order not exists or too late to cancel"))
}

/// `order.cancel` / `POST /v5/order/cancel`.
pub fn cancel(
    engine: &mut Engine,
    ids: &mut VenueIds,
    user: AccountId,
    p: &Params,
    now: u64,
) -> Result<Value, Reject> {
    let order = target(engine, ids, user, p)?;
    let oid = order.current().unwrap_or_default();
    let cancelled = engine.cancel_orders(user, &[(order.market, OrderTarget::Oid(oid))], now);
    if cancelled.first() != Some(&true) {
        return Err(Reject::new(
            ORDER_NOT_FOUND,
            "order not exists or too late to cancel",
        ));
    }
    if let Some(order) = ids.get_mut(&order.order_id) {
        order.updated = now;
    }
    Ok(json!({ "orderId": order.order_id, "orderLinkId": order.link_id }))
}

/// `order.amend` / `POST /v5/order/amend`: quantity, price or trigger price
/// changed, same `orderId`.
pub fn amend(
    engine: &mut Engine,
    ids: &mut VenueIds,
    user: AccountId,
    p: &Params,
    ctx: &ActionContext,
) -> Result<Value, Reject> {
    let order = target(engine, ids, user, p)
        .map_err(|r| Reject::new(r.code, "order not exists or too late to replace"))?;
    let progress = order.progress(engine);
    let qty = p.decimal("qty")?.unwrap_or(order.qty);
    let price = p.decimal("price")?.unwrap_or(order.price);
    let trigger_price = match p.decimal("triggerPrice")? {
        Some(px) if order.trigger_price.is_none() => {
            return Err(Reject::params(format!(
                "params error: triggerPrice {px} on an order without trigger"
            )));
        }
        other => other.or(order.trigger_price),
    };
    if qty == order.qty && price == order.price && trigger_price == order.trigger_price {
        return Err(Reject::params("order not modified"));
    }
    let leaves = qty - progress.cum_qty;
    if leaves <= Decimal::ZERO || price < Decimal::ZERO {
        return Err(Reject::params("Qty invalid"));
    }
    let oid = order.current().unwrap_or_default();
    let waiting = engine
        .orders
        .get(&oid)
        .and_then(|r| r.trigger)
        .is_some_and(|t| !t.fired);
    let wire_price = if order.order_type == "Market" {
        trigger_price.unwrap_or(price)
    } else {
        price
    };
    let trigger = if waiting {
        trigger_price.map(|px| (px, order.trigger_direction, order.trigger_on_last_trade))
    } else {
        None
    };
    let entry = OrderEntry {
        market: order.market,
        is_buy: order.is_buy,
        price: wire_price,
        size: leaves,
        reduce_only: order.reduce_only,
        kind: entry_kind(order.order_type, order.tif, order.is_buy, trigger),
        client_id: None,
        good_till: None,
    };
    let placement = engine
        .amend_order(user, oid, &entry, ctx)
        .ok_or_else(|| Reject::new(ORDER_NOT_FOUND, "order not exists or too late to replace"))?;
    if let Some(new_oid) = placement.oid() {
        ids.add_oid(&order.order_id, new_oid);
        if let Some(o) = ids.get_mut(&order.order_id) {
            o.qty = qty;
            o.price = price;
            o.trigger_price = trigger_price;
            o.updated = ctx.now;
        }
    }
    if let Some(reject) = refusal(&placement, order.trigger_direction, true) {
        return Err(reject);
    }
    Ok(json!({ "orderId": order.order_id, "orderLinkId": order.link_id }))
}

/// `POST /v5/order/cancel-all`: every open order of the symbol (or of every
/// linear symbol), filtered by `orderFilter`.
pub fn cancel_all(
    engine: &mut Engine,
    ids: &mut VenueIds,
    user: AccountId,
    p: &Params,
    now: u64,
) -> Result<Value, Reject> {
    p.linear()?;
    let symbol = p.text("symbol");
    if let Some(symbol) = &symbol
        && market_of_symbol(engine, symbol).is_none()
    {
        return Err(Reject::params(format!(
            "params error: symbol invalid: {symbol}"
        )));
    }
    let filter = p.text("orderFilter");
    let victims: Vec<VenueOrder> = ids
        .of_user(user)
        .filter(|o| symbol.as_ref().is_none_or(|s| &o.symbol == s))
        .filter(|o| match filter.as_deref() {
            Some("StopOrder") => o.trigger_price.is_some(),
            Some("Order") => o.trigger_price.is_none(),
            _ => true,
        })
        .filter(|o| o.is_open(engine))
        .cloned()
        .collect();
    let targets: Vec<(usize, OrderTarget)> = victims
        .iter()
        .map(|o| (o.market, OrderTarget::Oid(o.current().unwrap_or_default())))
        .collect();
    engine.cancel_orders(user, &targets, now);
    let list: Vec<Value> = victims
        .iter()
        .map(|o| json!({ "orderId": o.order_id, "orderLinkId": o.link_id }))
        .collect();
    Ok(json!({ "list": list, "success": "1" }))
}

/// Which single-order operation a batch repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchKind {
    /// `create-batch`.
    Create,
    /// `amend-batch`.
    Amend,
    /// `cancel-batch`.
    Cancel,
}

/// A batch: `(result, retExtInfo)` with one entry per order, each carrying
/// its own code.
pub fn batch(
    engine: &mut Engine,
    ids: &mut VenueIds,
    user: AccountId,
    p: &Params,
    kind: BatchKind,
    ctx: &ActionContext,
) -> Result<(Value, Value), Reject> {
    p.linear()?;
    let Some(Value::Array(requests)) = p.0.get("request") else {
        return Err(Reject::params("params error: request is required"));
    };
    if requests.is_empty() || requests.len() > MAX_BATCH {
        return Err(Reject::params(format!(
            "params error: a batch holds 1 to {MAX_BATCH} orders"
        )));
    }
    let mut list = Vec::new();
    let mut info = Vec::new();
    for request in requests {
        let mut item = Params::from_value(request.clone()).unwrap_or_default();
        item.0.insert("category".to_owned(), json!("linear"));
        let outcome = match kind {
            BatchKind::Create => create(engine, ids, user, &item, ctx),
            BatchKind::Amend => amend(engine, ids, user, &item, ctx),
            BatchKind::Cancel => cancel(engine, ids, user, &item, ctx.now),
        };
        let symbol = item.text("symbol").unwrap_or_default();
        match outcome {
            Ok(answer) => {
                list.push(json!({
                    "category": "linear",
                    "symbol": symbol,
                    "orderId": answer["orderId"],
                    "orderLinkId": answer["orderLinkId"],
                    "createAt": ctx.now.to_string(),
                }));
                info.push(json!({ "code": 0, "msg": "OK" }));
            }
            Err(reject) => {
                list.push(json!({
                    "category": "linear",
                    "symbol": symbol,
                    "orderId": "",
                    "orderLinkId": item.text("orderLinkId").unwrap_or_default(),
                    "createAt": "",
                }));
                info.push(json!({ "code": reject.code, "msg": reject.msg }));
            }
        }
    }
    Ok((json!({ "list": list }), json!({ "list": info })))
}

/// The market of a request's `symbol` (linear only).
fn symbol_market(engine: &Engine, p: &Params) -> Result<usize, Reject> {
    p.linear()?;
    let symbol = p.required("symbol")?;
    market_of_symbol(engine, &symbol)
        .ok_or_else(|| Reject::params(format!("params error: symbol invalid: {symbol}")))
}

/// `POST /v5/position/set-leverage` (one-way mode: buy and sell leverage equal).
pub fn set_leverage(engine: &mut Engine, user: AccountId, p: &Params) -> Result<Value, Reject> {
    let market = symbol_market(engine, p)?;
    let buy = p
        .decimal("buyLeverage")?
        .ok_or_else(|| Reject::params("params error: buyLeverage is required"))?;
    let sell = p.decimal("sellLeverage")?.unwrap_or(buy);
    if buy != sell {
        return Err(Reject::params(
            "buy leverage must equal sell leverage in one-way mode",
        ));
    }
    let value = u32::try_from(buy.trunc().mantissa())
        .ok()
        .filter(|_| buy.fract().is_zero());
    let Some(value) = value else {
        return Err(Reject::params("leverage invalid"));
    };
    let current = leverage_in(engine, user, market);
    if current.is_some_and(|c| c.value == value) {
        return Err(Reject::new(LEVERAGE_NOT_MODIFIED, "leverage not modified"));
    }
    let is_cross = current.is_none_or(|c| c.is_cross);
    venue::set_leverage(engine, user, market, Leverage { is_cross, value })
        .map_err(Reject::params)?;
    Ok(json!({}))
}

/// `POST /v5/position/switch-isolated`: `tradeMode` 0 cross, 1 isolated.
pub fn switch_isolated(engine: &mut Engine, user: AccountId, p: &Params) -> Result<Value, Reject> {
    let market = symbol_market(engine, p)?;
    let is_cross = match p.integer("tradeMode")? {
        Some(0) => true,
        Some(1) => false,
        _ => return Err(Reject::params("params error: tradeMode invalid")),
    };
    let value = p
        .decimal("buyLeverage")?
        .and_then(|l| u32::try_from(l.trunc().mantissa()).ok())
        .unwrap_or(10);
    if leverage_in(engine, user, market).is_some_and(|c| c.is_cross == is_cross) {
        return Err(Reject::new(
            110026,
            "Cross/isolated margin mode is not modified",
        ));
    }
    venue::set_leverage(engine, user, market, Leverage { is_cross, value })
        .map_err(Reject::params)?;
    Ok(json!({}))
}

/// `POST /v5/account/set-margin-mode`: `REGULAR_MARGIN` (cross) or
/// `ISOLATED_MARGIN` for every linear symbol.
pub fn set_margin_mode(engine: &mut Engine, user: AccountId, p: &Params) -> Result<Value, Reject> {
    let is_cross = match p.required("setMarginMode")?.as_str() {
        "REGULAR_MARGIN" => true,
        "ISOLATED_MARGIN" => false,
        _ => return Err(Reject::params("params error: setMarginMode invalid")),
    };
    for market in 0..engine.markets.len() {
        if engine.markets[market].spec.tokens.is_some() {
            continue;
        }
        let Some(current) = leverage_in(engine, user, market) else {
            return Err(Reject::new(super::params::API_KEY, "API key is invalid."));
        };
        if current.is_cross != is_cross {
            let setting = Leverage {
                is_cross,
                value: current.value,
            };
            venue::set_leverage(engine, user, market, setting)
                .map_err(|text| Reject::new(3400045, text))?;
        }
    }
    Ok(json!({ "reasons": [] }))
}
