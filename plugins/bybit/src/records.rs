//! Bybit's order, execution, position and wallet records as events. REST
//! lists and socket topics carry the same records, so one reader serves
//! both (`snapshot` says which). Order and execution records — one or more
//! per order on the private socket — are read straight into their shape.

use std::borrow::Cow;

use abi_stable::std_types::ROption;
use bybit_core::order::{BUY, OrderStatus};
use plugin_api::{
    Balance, Dec, Event, Fill, OrderUpdate, PluginError, Position, Positions, Side,
    VenueOrderStatus,
};
use serde::Deserialize;
use serde_json::Value;

/// A field's text; absent or not a string is an error naming it.
pub fn text<'a>(record: &'a Value, field: &str) -> Result<&'a str, PluginError> {
    record
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| PluginError::malformed(format!("bybit record without `{field}`: {record}")))
}

/// A decimal field; an empty string (Bybit's "none") is zero.
pub fn dec(record: &Value, field: &str) -> Result<Dec, PluginError> {
    decimal(text(record, field)?, field)
}

/// A millisecond time field (Bybit writes them as strings).
pub fn millis(record: &Value, field: &str) -> Result<u64, PluginError> {
    match record.get(field) {
        Some(Value::String(value)) => value.parse().ok(),
        Some(Value::Number(value)) => value.as_u64(),
        _ => None,
    }
    .ok_or_else(|| PluginError::malformed(format!("bybit record without a time `{field}`")))
}

/// A millisecond time, as Bybit writes it: text, or a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Millis<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
    Number(u64),
}

impl Millis<'_> {
    fn value(&self, field: &str) -> Result<u64, PluginError> {
        match self {
            Millis::Text(text) => text.parse().ok(),
            Millis::Number(number) => Some(*number),
        }
        .ok_or_else(|| PluginError::malformed(format!("bybit record without a time `{field}`")))
    }
}

/// The fields of an order record the host reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRecord<'a> {
    #[serde(borrow, default)]
    order_link_id: Cow<'a, str>,
    #[serde(borrow)]
    order_id: Cow<'a, str>,
    #[serde(borrow)]
    symbol: Cow<'a, str>,
    #[serde(borrow)]
    order_status: Cow<'a, str>,
    #[serde(borrow)]
    side: Cow<'a, str>,
    #[serde(borrow)]
    price: Cow<'a, str>,
    #[serde(borrow)]
    qty: Cow<'a, str>,
    #[serde(borrow)]
    leaves_qty: Cow<'a, str>,
    #[serde(borrow)]
    cum_exec_qty: Cow<'a, str>,
    #[serde(borrow, default)]
    reject_reason: Cow<'a, str>,
    #[serde(borrow, default)]
    cancel_type: Cow<'a, str>,
    #[serde(borrow)]
    updated_time: Millis<'a>,
}

/// The fields of an execution record the host reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionRecord<'a> {
    #[serde(borrow, default)]
    exec_type: Cow<'a, str>,
    #[serde(borrow)]
    exec_id: Cow<'a, str>,
    #[serde(borrow, default)]
    order_link_id: Cow<'a, str>,
    #[serde(borrow)]
    order_id: Cow<'a, str>,
    #[serde(borrow)]
    symbol: Cow<'a, str>,
    #[serde(borrow)]
    side: Cow<'a, str>,
    #[serde(borrow)]
    exec_price: Cow<'a, str>,
    #[serde(borrow)]
    exec_qty: Cow<'a, str>,
    #[serde(borrow)]
    exec_fee: Cow<'a, str>,
    #[serde(borrow, default)]
    fee_currency: Cow<'a, str>,
    #[serde(default)]
    is_maker: bool,
    #[serde(borrow)]
    exec_time: Millis<'a>,
}

/// Reads records of shape `T` from a JSON list (a REST `list`, a topic's
/// `data`); `what` names them in an error.
pub fn read_list<'a, T: Deserialize<'a>>(
    list: &'a Value,
    what: &str,
) -> Result<Vec<T>, PluginError> {
    Vec::<T>::deserialize(list)
        .map_err(|error| PluginError::malformed(format!("bybit {what} record: {error}")))
}

/// A decimal as Bybit writes it; an empty string (Bybit's "none") is zero.
fn decimal(value: &str, field: &str) -> Result<Dec, PluginError> {
    match value {
        "" => Ok(Dec::ZERO),
        value => Dec::parse(value)
            .map_err(|error| PluginError::malformed(format!("bybit `{field}` {value:?}: {error}"))),
    }
}

fn side_of(side: &str) -> Side {
    if side == BUY { Side::BUY } else { Side::SELL }
}

fn client_id(link: &str) -> ROption<abi_stable::std_types::RString> {
    (!link.is_empty()).then(|| link.into()).into()
}

/// The normalized status: a `Rejected` order with fills ended cancelled.
fn status(word: &str, filled: Dec) -> VenueOrderStatus {
    match OrderStatus::parse(word) {
        Some(OrderStatus::Created | OrderStatus::New) => VenueOrderStatus::OPEN,
        Some(OrderStatus::PartiallyFilled) => VenueOrderStatus::PARTIALLY_FILLED,
        Some(OrderStatus::Untriggered) => VenueOrderStatus::UNTRIGGERED,
        Some(OrderStatus::Triggered) => VenueOrderStatus::TRIGGERED,
        Some(OrderStatus::Filled) => VenueOrderStatus::FILLED,
        Some(
            OrderStatus::Cancelled
            | OrderStatus::PartiallyFilledCanceled
            | OrderStatus::Deactivated,
        ) => VenueOrderStatus::CANCELLED,
        Some(OrderStatus::Rejected) if filled.is_zero() => VenueOrderStatus::REJECTED,
        Some(OrderStatus::Rejected) => VenueOrderStatus::CANCELLED,
        // An unfamiliar word: keep the raw status; the order is open as far
        // as anyone can tell, and a later update or refill settles it.
        None => VenueOrderStatus::OPEN,
    }
}

/// A reject reason or cancel type with its meaning, for people reading
/// events and logs: `post-only order would cross the book
/// (EC_PostOnlyWillTakeLiquidity)`. A word not listed here is given as it
/// is.
fn explained(word: &str) -> String {
    let meaning = match word {
        "EC_PostOnlyWillTakeLiquidity" => "post-only order would cross the book",
        "EC_NoImmediateQtyToFill" => "immediate-or-cancel order found nothing to match",
        "EC_NoEnoughQtyToFill" => "fill-or-kill order could not fill whole",
        "EC_CancelForNoFullFill" => "fill-or-kill order could not fill whole",
        "EC_OrigClOrdIDDoesNotExist" => "the order to cancel no longer exists",
        "EC_TooLateToCancel" => "too late to cancel",
        "EC_BySelfMatch" | "EC_StopBySelfMatch" => "stopped to prevent a self-trade",
        "EC_InvalidPriceScale" | "EC_LimitOrderInvalidPrice" => "invalid price",
        "EC_ReachRiskPriceLimit" | "EC_ReachMarketPriceLimit" => {
            "price beyond the exchange's limit"
        }
        "EC_PerCancelRequest" | "CancelByUser" => "cancelled on request",
        "CancelByReduceOnly" => "reduce-only order cancelled: the position shrank",
        "CancelByPrepareLiq" | "CancelAllBeforeLiq" => "cancelled before a liquidation",
        "CancelByPrepareAdl" | "CancelAllBeforeAdl" => "cancelled before an auto-deleveraging",
        "CancelByAdmin" => "cancelled by the exchange",
        "CancelBySettle" => "cancelled by a settlement",
        "CancelByTpSlTsClear" => "cancelled: its position's TP/SL was cleared",
        "CancelBySmp" => "cancelled to prevent a self-trade",
        "CancelByDCP" => "cancelled by the disconnection protection (dead man's switch)",
        other => return other.to_owned(),
    };
    format!("{meaning} ({word})")
}

/// One order record.
pub fn order(record: &OrderRecord, snapshot: bool) -> Result<Event, PluginError> {
    let raw = record.order_status.as_ref();
    let filled = decimal(&record.cum_exec_qty, "cumExecQty")?;
    let reason = [&record.reject_reason, &record.cancel_type]
        .into_iter()
        .map(|word| word.as_ref())
        .find(|word| !word.is_empty() && *word != "EC_NoError" && *word != "UNKNOWN")
        .map(explained)
        .unwrap_or_default();
    Ok(Event::Order(OrderUpdate {
        client_id: client_id(&record.order_link_id),
        exchange_order_id: record.order_id.as_ref().into(),
        market: record.symbol.as_ref().into(),
        status: status(raw, filled),
        raw_status: raw.into(),
        side: side_of(&record.side),
        price: decimal(&record.price, "price")?,
        size: decimal(&record.qty, "qty")?,
        remaining: decimal(&record.leaves_qty, "leavesQty")?,
        reason: reason.into(),
        snapshot,
        time_ms: record.updated_time.value("updatedTime")?,
    }))
}

/// One execution record; `None` for executions that are not trades of an
/// order (funding, delivery, settlement).
pub fn fill(record: &ExecutionRecord, snapshot: bool) -> Result<Option<Event>, PluginError> {
    if !record.exec_type.is_empty() && record.exec_type != "Trade" {
        return Ok(None);
    }
    let fee_asset = match record.fee_currency.as_ref() {
        "" => "USDT",
        asset => asset,
    };
    Ok(Some(Event::Fill(Fill {
        trade_id: record.exec_id.as_ref().into(),
        client_id: client_id(&record.order_link_id),
        exchange_order_id: record.order_id.as_ref().into(),
        market: record.symbol.as_ref().into(),
        side: side_of(&record.side),
        price: decimal(&record.exec_price, "execPrice")?,
        size: decimal(&record.exec_qty, "execQty")?,
        fee: decimal(&record.exec_fee, "execFee")?,
        fee_asset: fee_asset.into(),
        is_maker: record.is_maker,
        snapshot,
        time_ms: record.exec_time.value("execTime")?,
    })))
}

/// Position records (REST `avgPrice`, the socket `entryPrice`); `complete`
/// when they are every position of the account.
pub fn positions(records: &[Value], complete: bool, time_ms: u64) -> Result<Event, PluginError> {
    let positions = records
        .iter()
        .map(|record| {
            let size = dec(record, "size")?;
            let size = if text(record, "side")? == BUY || size.is_zero() {
                size
            } else {
                Dec::new(size.mantissa.saturating_neg(), size.scale)
            };
            let entry = dec(record, "avgPrice").or_else(|_| dec(record, "entryPrice"))?;
            let liquidation = dec(record, "liqPrice")?;
            Ok(Position {
                market: text(record, "symbol")?.into(),
                size,
                entry_price: entry,
                unrealized_pnl: dec(record, "unrealisedPnl")?,
                leverage: text(record, "leverage")?
                    .parse::<f64>()
                    .map_or(0, |l| l as u32),
                liquidation_price: (!liquidation.is_zero()).then_some(liquidation).into(),
            })
        })
        .collect::<Result<Vec<_>, PluginError>>()?;
    Ok(Event::Positions(Positions {
        positions: positions.into(),
        complete,
        time_ms,
    }))
}

/// The coins of one wallet record (`UNIFIED`).
pub fn balances(wallet: &Value, time_ms: u64) -> Result<Vec<Event>, PluginError> {
    let coins = wallet
        .get("coin")
        .and_then(Value::as_array)
        .ok_or_else(|| PluginError::malformed("bybit wallet without `coin`"))?;
    coins
        .iter()
        .map(|coin| {
            let available = match text(coin, "availableToWithdraw") {
                Ok("") | Err(_) => dec(wallet, "totalAvailableBalance")?,
                Ok(_) => dec(coin, "availableToWithdraw")?,
            };
            Ok(Event::Balance(Balance {
                asset: text(coin, "coin")?.into(),
                total: dec(coin, "equity")?,
                available,
                time_ms,
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(record: &Value, snapshot: bool) -> Result<Event, PluginError> {
        let record = OrderRecord::deserialize(record)
            .map_err(|error| PluginError::malformed(error.to_string()))?;
        super::order(&record, snapshot)
    }

    fn fill(record: &Value, snapshot: bool) -> Result<Option<Event>, PluginError> {
        super::fill(&ExecutionRecord::deserialize(record).unwrap(), snapshot)
    }

    #[test]
    fn reads_an_order_record_as_bybit_documents_it() {
        let record = json!({"category": "linear", "orderId": "5923240c-6901-4d48-b2a8-2b5c4a4a0b7f",
            "orderLinkId": "0x0102", "symbol": "BTCUSDT", "side": "Sell", "orderType": "Limit",
            "price": "72500", "qty": "0.5", "timeInForce": "GTC", "orderStatus": "Rejected",
            "rejectReason": "EC_PostOnlyWillTakeLiquidity", "cancelType": "UNKNOWN", "avgPrice": "",
            "leavesQty": "0", "cumExecQty": "0", "updatedTime": "1672364262457"});
        let Event::Order(update) = order(&record, false).unwrap() else {
            panic!()
        };
        assert_eq!(update.status, VenueOrderStatus::REJECTED);
        assert_eq!(update.side, Side::SELL);
        assert_eq!(
            update.reason.as_str(),
            "post-only order would cross the book (EC_PostOnlyWillTakeLiquidity)"
        );
        assert_eq!(
            update
                .client_id
                .as_ref()
                .map(|id| id.as_str())
                .into_option(),
            Some("0x0102")
        );
        let partly = json!({"orderStatus": "Rejected", "cumExecQty": "0.1", "rejectReason": "EC_NoError",
            "cancelType": "CancelByUser", "orderId": "1", "orderLinkId": "", "symbol": "BTCUSDT",
            "side": "Buy", "price": "1", "qty": "1", "leavesQty": "0", "updatedTime": "1"});
        let Event::Order(update) = order(&partly, true).unwrap() else {
            panic!()
        };
        assert_eq!(update.status, VenueOrderStatus::CANCELLED);
        assert_eq!(
            update.reason.as_str(),
            "cancelled on request (CancelByUser)"
        );
        assert!(update.client_id.is_none());
        assert!(order(&json!({"orderStatus": "New"}), false).is_err());
    }

    #[test]
    fn trades_become_fills_and_funding_does_not() {
        let trade = json!({"execId": "e1", "orderId": "1", "orderLinkId": "0x01", "symbol": "BTCUSDT",
            "side": "Buy", "execPrice": "100.5", "execQty": "0.2", "execFee": "0.01", "feeCurrency": "USDT",
            "isMaker": true, "execType": "Trade", "execTime": "1700000000000"});
        let Some(Event::Fill(trade)) = fill(&trade, false).unwrap() else {
            panic!()
        };
        assert_eq!(trade.price, Dec::new(1005, 1));
        assert!(trade.is_maker);
        let funding = json!({"execType": "Funding", "execId": "f", "orderId": "", "symbol": "BTCUSDT",
            "side": "Buy", "execPrice": "0", "execQty": "0", "execFee": "0.1", "execTime": 1700000000000u64});
        assert!(fill(&funding, false).unwrap().is_none());
    }

    #[test]
    fn positions_are_signed_and_balances_read_per_coin() {
        let short = json!({"symbol": "ETHUSDT", "side": "Sell", "size": "2", "avgPrice": "3000",
            "unrealisedPnl": "-5", "leverage": "10", "liqPrice": ""});
        let Event::Positions(set) = positions(&[short], true, 7).unwrap() else {
            panic!()
        };
        assert_eq!(set.positions[0].size, Dec::new(-2, 0));
        assert!(set.positions[0].liquidation_price.is_none());
        let wallet = json!({"totalAvailableBalance": "90", "coin": [{"coin": "USDT", "equity": "100", "availableToWithdraw": ""}]});
        let Event::Balance(balance) = &balances(&wallet, 7).unwrap()[0] else {
            panic!()
        };
        assert_eq!(balance.available, Dec::new(90, 0));
    }
}
