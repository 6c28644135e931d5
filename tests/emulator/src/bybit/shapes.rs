//! JSON of orders, executions, positions and wallets as Bybit's REST and
//! private topics report them (numbers as strings).

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{QUOTE, symbol_of};
use crate::account::AccountId;
use crate::engine::Engine;
use crate::orders::{Fill, OrderState};
use crate::venue::PositionView;
use crate::venue::{Progress, VenueIds, VenueOrder};

/// A decimal as Bybit prints it.
pub fn num(value: Decimal) -> String {
    value.normalize().to_string()
}

/// An optional price: `""` when absent? Bybit prints `"0"`.
fn opt(value: Option<Decimal>) -> String {
    value.map_or_else(|| "0".to_owned(), num)
}

/// Side text.
pub fn side(is_buy: bool) -> &'static str {
    if is_buy { "Buy" } else { "Sell" }
}

/// `orderId` of an order whose first core order is `oid`: UUID-shaped.
pub fn order_id_of(oid: crate::book::Oid) -> String {
    format!("00000000-0000-4000-8000-{oid:012}")
}

/// `orderStatus`, `cancelType` and `rejectReason` of an order.
pub fn status(
    order: &VenueOrder,
    progress: &Progress,
) -> (&'static str, &'static str, &'static str) {
    let filled = progress.cum_qty > Decimal::ZERO;
    match progress.state {
        None => ("Rejected", "UNKNOWN", "EC_NoError"),
        Some(_) if progress.is_open() && progress.waiting => {
            ("Untriggered", "UNKNOWN", "EC_NoError")
        }
        Some(_) if progress.is_open() && filled => ("PartiallyFilled", "UNKNOWN", "EC_NoError"),
        Some(_) if progress.is_open() => ("New", "UNKNOWN", "EC_NoError"),
        Some(OrderState::Filled) => ("Filled", "UNKNOWN", "EC_NoError"),
        Some(state) => {
            let cancel_type = match state {
                OrderState::ScheduledCancel => "CancelByDCP",
                OrderState::ReduceOnlyCanceled => "CancelByReduceOnly",
                OrderState::MarginCanceled => "CancelByCannotAffordOrderCost",
                OrderState::SelfTradeCanceled => "CancelBySmp",
                OrderState::Canceled if order.tif == "IOC" || order.tif == "FOK" => "UNKNOWN",
                OrderState::Canceled => "CancelByUser",
                _ => "UNKNOWN",
            };
            let reason = match state {
                OrderState::BadAloPxRejected => "EC_PostOnlyWillTakeLiquidity",
                OrderState::IocCancelRejected => "EC_NoImmediateQtyToFill",
                _ => "EC_NoError",
            };
            let status = if progress.waiting {
                "Deactivated"
            } else {
                "Cancelled"
            };
            (status, cancel_type, reason)
        }
    }
}

/// One order (`/v5/order/realtime`, `/v5/order/history`, topic `order`).
pub fn order(engine: &Engine, order: &VenueOrder) -> Value {
    let progress = order.progress(engine);
    let avg = progress.avg_price();
    let (status, cancel_type, reject_reason) = status(order, &progress);
    let price = order.price;
    json!({
        "category": "linear",
        "orderId": order.order_id,
        "orderLinkId": order.link_id,
        "blockTradeId": "",
        "symbol": order.symbol,
        "price": num(price),
        "qty": num(order.qty),
        "side": side(order.is_buy),
        "isLeverage": "",
        "positionIdx": 0,
        "orderStatus": status,
        "createType": "CreateByUser",
        "cancelType": cancel_type,
        "rejectReason": reject_reason,
        "avgPrice": num(avg),
        "leavesQty": num(progress.leaves),
        "leavesValue": num((progress.leaves * price).round_dp(8)),
        "cumExecQty": num(progress.cum_qty),
        "cumExecValue": num(progress.cum_value.round_dp(8)),
        "cumExecFee": num(progress.cum_fee),
        "timeInForce": order.tif,
        "orderType": order.order_type,
        "stopOrderType": order.stop_order_type,
        "orderIv": "",
        "triggerPrice": opt(order.trigger_price),
        "takeProfit": opt(order.take_profit),
        "stopLoss": opt(order.stop_loss),
        "tpTriggerBy": "",
        "slTriggerBy": "",
        "triggerDirection": order.trigger_direction,
        "triggerBy": match (order.trigger_price, order.trigger_on_last_trade) {
            (None, _) => "",
            (Some(_), false) => "MarkPrice",
            (Some(_), true) => "LastPrice",
        },
        "lastPriceOnCreated": "",
        "reduceOnly": order.reduce_only,
        "closeOnTrigger": !order.stop_order_type.is_empty(),
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "tpslMode": if order.take_profit.is_some() || order.stop_loss.is_some() { "Full" } else { "" },
        "tpLimitPrice": "",
        "slLimitPrice": "",
        "placeType": "",
        "createdTime": order.created.to_string(),
        "updatedTime": progress.updated.to_string(),
    })
}

/// `execId` of one side of a core trade.
pub fn exec_id(fill: &Fill) -> String {
    format!(
        "{:08x}-0000-4000-8000-{:012}",
        u32::from(!fill.crossed),
        fill.tid
    )
}

/// One execution (`/v5/execution/list`, topic `execution`); `None` when the
/// fill is not of a Bybit order.
pub fn execution(engine: &Engine, ids: &VenueIds, fill: &Fill, fee_rate: Decimal) -> Option<Value> {
    let order = ids.of_oid(fill.oid)?;
    let mark = engine.markets[order.market].mark;
    let progress = order.progress(engine);
    Some(json!({
        "category": "linear",
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderLinkId": order.link_id,
        "side": side(order.is_buy),
        "orderPrice": num(order.price),
        "orderQty": num(order.qty),
        "leavesQty": num(progress.leaves),
        "createType": "CreateByUser",
        "orderType": order.order_type,
        "stopOrderType": order.stop_order_type,
        "execFee": num(fill.fee),
        "execId": exec_id(fill),
        "execPrice": num(fill.px),
        "execQty": num(fill.sz),
        "execPnl": num(fill.closed_pnl),
        "execType": "Trade",
        "execValue": num((fill.px * fill.sz).round_dp(8)),
        "execTime": fill.time.to_string(),
        "feeCurrency": QUOTE,
        "isMaker": !fill.crossed,
        "feeRate": num(fee_rate),
        "tradeIv": "",
        "markIv": "",
        "markPrice": num(mark),
        "indexPrice": num(mark),
        "underlyingPrice": "",
        "blockTradeId": "",
        "closedSize": "0",
        "seq": fill.tid,
    }))
}

/// One position (`/v5/position/list`, topic `position`), flat ones included.
pub fn position(engine: &Engine, user: AccountId, market: usize) -> Value {
    let view = PositionView::of(engine, user, market);
    let (size, entry) = (view.size, view.entry);
    let leverage = view.leverage.map_or(10, |l| l.value);
    let is_cross = view.is_cross();
    let value = size.abs() * entry;
    let im = value / Decimal::from(leverage.max(1));
    let side = if size.is_zero() {
        ""
    } else {
        side(size > Decimal::ZERO)
    };
    json!({
        "positionIdx": 0,
        "riskId": 1,
        "riskLimitValue": "2000000",
        "symbol": symbol_of(engine, market),
        "side": side,
        "size": num(size.abs()),
        "avgPrice": num(entry.round_dp(8)),
        "positionValue": num(value.round_dp(8)),
        "tradeMode": if is_cross { 0 } else { 1 },
        "positionStatus": "Normal",
        "autoAddMargin": 0,
        "adlRankIndicator": if size.is_zero() { 0 } else { 2 },
        "leverage": leverage.to_string(),
        "positionBalance": num(im.round_dp(8)),
        "markPrice": num(view.mark),
        "liqPrice": "",
        "bustPrice": "",
        "positionMM": num(view.maintenance(value)),
        "positionIM": num(im.round_dp(8)),
        "tpslMode": "Full",
        "takeProfit": "0",
        "stopLoss": "0",
        "trailingStop": "0",
        "unrealisedPnl": num(view.unrealised()),
        "curRealisedPnl": "0",
        "cumRealisedPnl": "0",
        "seq": engine.markets[market].book.version(),
        "isReduceOnly": false,
        "mmrSysUpdatedTime": "",
        "leverageSysUpdatedTime": "",
        "createdTime": "0",
        "updatedTime": crate::clock::now_ms().to_string(),
    })
}

/// The unified wallet of one account (`/v5/account/wallet-balance`, topic `wallet`).
pub fn wallet(engine: &Engine, user: AccountId) -> Value {
    let Some(account) = engine.accounts.get(&user) else {
        return json!({ "accountType": "UNIFIED", "coin": [] });
    };
    let summary = engine.margin_summary(account);
    let equity = summary.account_value;
    let upnl = equity - account.usdc;
    let available = (equity - summary.total_margin_used - account.order_margin).max(Decimal::ZERO);
    let initial = summary.total_margin_used + account.order_margin;
    let text = |value: Decimal| num(value.round_dp(8));
    json!({
        "accountType": "UNIFIED",
        "accountIMRate": if equity.is_zero() { "0".to_owned() } else { text(initial / equity) },
        "accountMMRate": if equity.is_zero() { "0".to_owned() } else { text(summary.maintenance / equity) },
        "accountLTV": "0",
        "totalEquity": text(equity),
        "totalWalletBalance": text(account.usdc),
        "totalMarginBalance": text(equity),
        "totalAvailableBalance": text(available),
        "totalPerpUPL": text(upnl),
        "totalInitialMargin": text(initial),
        "totalMaintenanceMargin": text(summary.maintenance),
        "coin": [{
            "coin": QUOTE,
            "equity": text(equity),
            "usdValue": text(equity),
            "walletBalance": text(account.usdc),
            "locked": "0",
            "spotHedgingQty": "0",
            "borrowAmount": "0",
            "accruedInterest": "0",
            "totalOrderIM": text(account.order_margin),
            "totalPositionIM": text(summary.total_margin_used),
            "totalPositionMM": text(summary.maintenance),
            "unrealisedPnl": text(upnl),
            "cumRealisedPnl": "0",
            "bonus": "0",
            "marginCollateral": true,
            "collateralSwitch": true,
            "availableToWithdraw": text(available),
        }],
    })
}
