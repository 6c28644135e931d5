//! JSON of orders, trades, positions, balances and account as Binance's
//! REST and WebSocket API answer them (quantities and prices as strings,
//! ids and times as integers).

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{QUOTE, symbol_of};
use crate::account::AccountId;
use crate::engine::Engine;
use crate::orders::{Fill, OrderState};
use crate::venue::PositionView;
use crate::venue::{Progress, VenueOrder};

/// A decimal as text.
pub fn num(value: Decimal) -> String {
    value.normalize().to_string()
}

/// `BUY` or `SELL`.
pub fn side(is_buy: bool) -> &'static str {
    if is_buy { "BUY" } else { "SELL" }
}

/// Binance's order status.
pub fn status(progress: &Progress) -> &'static str {
    let filled = progress.cum_qty > Decimal::ZERO;
    match progress.state {
        _ if progress.is_open() && filled => "PARTIALLY_FILLED",
        _ if progress.is_open() => "NEW",
        Some(OrderState::Filled) => "FILLED",
        Some(OrderState::Canceled | OrderState::MarginCanceled | OrderState::ScheduledCancel) => {
            "CANCELED"
        }
        Some(_) => "EXPIRED",
        None => "REJECTED",
    }
}

/// One order (`/fapi/v1/order`, `openOrders`, `allOrders`, the WebSocket API).
pub fn order(engine: &Engine, order: &VenueOrder) -> Value {
    let progress = order.progress(engine);
    json!({
        "orderId": order.first(),
        "symbol": order.symbol,
        "pair": order.symbol,
        "status": status(&progress),
        "clientOrderId": order.link_id,
        "price": num(order.price),
        "avgPrice": num(progress.avg_price()),
        "origQty": num(order.qty),
        "executedQty": num(progress.cum_qty),
        "cumQty": num(progress.cum_qty),
        "cumQuote": num(progress.cum_value.round_dp(8)),
        "timeInForce": order.tif,
        "type": order.order_type,
        "reduceOnly": order.reduce_only,
        "closePosition": false,
        "side": side(order.is_buy),
        "positionSide": "BOTH",
        "stopPrice": order.trigger_price.map_or_else(|| "0".to_owned(), num),
        "workingType": "CONTRACT_PRICE",
        "priceProtect": false,
        "origType": order.order_type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "goodTillDate": order.good_till.unwrap_or(0),
        "time": order.created,
        "updateTime": progress.updated,
    })
}

/// One account trade (`/fapi/v1/userTrades`).
pub fn trade(engine: &Engine, order: &VenueOrder, fill: &Fill) -> Value {
    let buyer = fill.side == "B";
    json!({
        "buyer": buyer,
        "commission": num(fill.fee),
        "commissionAsset": QUOTE,
        "id": fill.tid,
        "maker": !fill.crossed,
        "orderId": order.first(),
        "price": num(fill.px),
        "qty": num(fill.sz),
        "quoteQty": num((fill.px * fill.sz).round_dp(8)),
        "realizedPnl": num(fill.closed_pnl),
        "side": side(buyer),
        "positionSide": "BOTH",
        "symbol": symbol_of(engine, order.market),
        "marginAsset": QUOTE,
        "time": fill.time,
    })
}

/// One position (`positionRisk` v2 and v3 fields together).
pub fn position(engine: &Engine, user: AccountId, market: usize) -> Value {
    let view = PositionView::of(engine, user, market);
    let (size, entry, mark) = (view.size, view.entry, view.mark);
    let notional = size * mark;
    let lev = view.leverage.map_or(20, |l| l.value);
    let initial = notional.abs() / Decimal::from(lev.max(1));
    json!({
        "symbol": symbol_of(engine, market),
        "positionSide": "BOTH",
        "positionAmt": num(size),
        "entryPrice": num(entry.round_dp(8)),
        "breakEvenPrice": num(entry.round_dp(8)),
        "markPrice": num(mark),
        "unRealizedProfit": num(view.unrealised()),
        "liquidationPrice": "0",
        "leverage": lev.to_string(),
        "maxNotionalValue": "1000000",
        "marginType": if view.is_cross() { "cross" } else { "isolated" },
        "isolatedMargin": "0",
        "isAutoAddMargin": "false",
        "notional": num(notional.round_dp(8)),
        "marginAsset": QUOTE,
        "isolatedWallet": "0",
        "initialMargin": num(initial.round_dp(8)),
        "maintMargin": num(view.maintenance(notional)),
        "positionInitialMargin": num(initial.round_dp(8)),
        "openOrderInitialMargin": "0",
        "adl": 0,
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": 0,
    })
}

/// Balance figures of an account: (wallet, unrealised, margin balance, available).
fn figures(engine: &Engine, user: AccountId) -> (Decimal, Decimal, Decimal, Decimal, Decimal) {
    let Some(account) = engine.accounts.get(&user) else {
        return Default::default();
    };
    let summary = engine.margin_summary(account);
    let upnl = summary.account_value - account.usdc;
    let available = (summary.account_value - summary.total_margin_used - account.order_margin)
        .max(Decimal::ZERO);
    (
        account.usdc,
        upnl,
        summary.account_value,
        available,
        summary.total_margin_used + account.order_margin,
    )
}

/// `/fapi/v2|v3/balance`: one USDT entry.
pub fn balance(engine: &Engine, user: AccountId, now: u64) -> Value {
    let (wallet, upnl, _, available, _) = figures(engine, user);
    json!([{
        "accountAlias": "emulator",
        "asset": QUOTE,
        "balance": num(wallet.round_dp(8)),
        "crossWalletBalance": num(wallet.round_dp(8)),
        "crossUnPnl": num(upnl.round_dp(8)),
        "availableBalance": num(available.round_dp(8)),
        "maxWithdrawAmount": num(available.round_dp(8)),
        "marginAvailable": true,
        "updateTime": now,
    }])
}

/// `/fapi/v2|v3/account`.
pub fn account(engine: &Engine, user: AccountId, now: u64) -> Value {
    let (wallet, upnl, equity, available, initial) = figures(engine, user);
    let text = |v: Decimal| num(v.round_dp(8));
    let positions: Vec<Value> = (0..engine.markets.len())
        .filter(|m| engine.markets[*m].spec.tokens.is_none())
        .map(|m| position(engine, user, m))
        .filter(|p| p["positionAmt"] != "0")
        .collect();
    json!({
        "totalInitialMargin": text(initial),
        "totalMaintMargin": "0",
        "totalWalletBalance": text(wallet),
        "totalUnrealizedProfit": text(upnl),
        "totalMarginBalance": text(equity),
        "totalPositionInitialMargin": text(initial),
        "totalOpenOrderInitialMargin": "0",
        "totalCrossWalletBalance": text(wallet),
        "totalCrossUnPnl": text(upnl),
        "availableBalance": text(available),
        "maxWithdrawAmount": text(available),
        "canTrade": true,
        "canDeposit": true,
        "canWithdraw": true,
        "feeTier": 0,
        "updateTime": 0,
        "multiAssetsMargin": false,
        "assets": [{
            "asset": QUOTE,
            "walletBalance": text(wallet),
            "unrealizedProfit": text(upnl),
            "marginBalance": text(equity),
            "maintMargin": "0",
            "initialMargin": text(initial),
            "positionInitialMargin": text(initial),
            "openOrderInitialMargin": "0",
            "crossWalletBalance": text(wallet),
            "crossUnPnl": text(upnl),
            "availableBalance": text(available),
            "maxWithdrawAmount": text(available),
            "marginAvailable": true,
            "updateTime": now,
        }],
        "positions": positions,
    })
}
