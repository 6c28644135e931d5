//! Bybit's order, execution, position and wallet records as events. REST
//! lists and socket topics carry the same records, so one reader serves
//! both (`snapshot` says which).

use abi_stable::std_types::ROption;
use bybit_core::order::{BUY, OrderStatus};
use plugin_api::{
    Balance, Dec, Event, Fill, OrderUpdate, PluginError, Position, Positions, Side,
    VenueOrderStatus,
};
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
    match text(record, field)? {
        "" => Ok(Dec::ZERO),
        value => Dec::parse(value)
            .map_err(|error| PluginError::malformed(format!("bybit `{field}` {value:?}: {error}"))),
    }
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

fn side(record: &Value) -> Result<Side, PluginError> {
    Ok(if text(record, "side")? == BUY {
        Side::BUY
    } else {
        Side::SELL
    })
}

fn client_id(record: &Value) -> ROption<abi_stable::std_types::RString> {
    record
        .get("orderLinkId")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(Into::into)
        .into()
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

/// One order record.
pub fn order(record: &Value, snapshot: bool) -> Result<Event, PluginError> {
    let raw = text(record, "orderStatus")?;
    let filled = dec(record, "cumExecQty")?;
    let reason = [text(record, "rejectReason"), text(record, "cancelType")]
        .into_iter()
        .flatten()
        .find(|word| !word.is_empty() && *word != "EC_NoError" && *word != "UNKNOWN")
        .unwrap_or_default();
    Ok(Event::Order(OrderUpdate {
        client_id: client_id(record),
        exchange_order_id: text(record, "orderId")?.into(),
        market: text(record, "symbol")?.into(),
        status: status(raw, filled),
        raw_status: raw.into(),
        side: side(record)?,
        price: dec(record, "price")?,
        size: dec(record, "qty")?,
        remaining: dec(record, "leavesQty")?,
        reason: reason.into(),
        snapshot,
        time_ms: millis(record, "updatedTime")?,
    }))
}

/// One execution record; `None` for executions that are not trades of an
/// order (funding, delivery, settlement).
pub fn fill(record: &Value, snapshot: bool) -> Result<Option<Event>, PluginError> {
    if record
        .get("execType")
        .and_then(Value::as_str)
        .is_some_and(|kind| kind != "Trade")
    {
        return Ok(None);
    }
    let fee_asset = record
        .get("feeCurrency")
        .and_then(Value::as_str)
        .filter(|asset| !asset.is_empty())
        .unwrap_or("USDT");
    Ok(Some(Event::Fill(Fill {
        trade_id: text(record, "execId")?.into(),
        client_id: client_id(record),
        exchange_order_id: text(record, "orderId")?.into(),
        market: text(record, "symbol")?.into(),
        side: side(record)?,
        price: dec(record, "execPrice")?,
        size: dec(record, "execQty")?,
        fee: dec(record, "execFee")?,
        fee_asset: fee_asset.into(),
        is_maker: record
            .get("isMaker")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        snapshot,
        time_ms: millis(record, "execTime")?,
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
        assert_eq!(update.reason.as_str(), "EC_PostOnlyWillTakeLiquidity");
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
        assert_eq!(update.reason.as_str(), "CancelByUser");
        assert!(update.client_id.is_none());
        assert!(order(&json!({"orderStatus": "New"}), false).is_err());
    }

    #[test]
    fn trades_become_fills_and_funding_does_not() {
        let trade = json!({"execId": "e1", "orderId": "1", "orderLinkId": "0x01", "symbol": "BTCUSDT",
            "side": "Buy", "execPrice": "100.5", "execQty": "0.2", "execFee": "0.01", "feeCurrency": "USDT",
            "isMaker": true, "execType": "Trade", "execTime": "1700000000000"});
        let Some(Event::Fill(fill)) = fill(&trade, false).unwrap() else {
            panic!()
        };
        assert_eq!(fill.price, Dec::new(1005, 1));
        assert!(fill.is_maker);
        let funding = json!({"execType": "Funding"});
        assert!(super::fill(&funding, false).unwrap().is_none());
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
