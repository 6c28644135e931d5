//! Binance's JSON (see [`crate::wire`]) to the host's events: orders,
//! fills, balances, positions, markets, and public market data.

use abi_stable::std_types::{ROption, RString, RVec};
use binance_core::{ClientOrderId, SymbolRules};
use plugin_api::{
    Balance, Bbo, Dec, Event, Fill, Funding, Level, Market, MarketKind, OrderUpdate, PluginError,
    Position, Positions, PriceRule, Side, Trade, TradingRule, VenueOrderStatus,
};
use rust_decimal::Decimal;

use crate::wire;

/// A decimal string Binance sent for `what`.
pub(crate) fn dec(text: &str, what: &str) -> Result<Dec, PluginError> {
    Dec::parse(text).map_err(|error| PluginError::malformed(format!("{what}: {error}")))
}

fn rule_dec(value: Decimal, what: &str) -> Result<Dec, PluginError> {
    Dec::from_decimal(value.normalize())
        .map_err(|error| PluginError::malformed(format!("{what}: {error}")))
}

fn side(text: &str) -> Result<Side, PluginError> {
    match binance_core::Side::parse(text) {
        Some(binance_core::Side::Buy) => Ok(Side::BUY),
        Some(binance_core::Side::Sell) => Ok(Side::SELL),
        None => Err(PluginError::malformed(format!("unknown side `{text}`"))),
    }
}

/// The host's status of a Binance order status.
fn status(text: &str) -> Result<VenueOrderStatus, PluginError> {
    Ok(match text {
        "NEW" | "NEW_INSURANCE" | "NEW_ADL" => VenueOrderStatus::OPEN,
        "PARTIALLY_FILLED" => VenueOrderStatus::PARTIALLY_FILLED,
        "FILLED" => VenueOrderStatus::FILLED,
        // EXPIRED_IN_MATCH: self-trade prevention cancelled it.
        "CANCELED" | "EXPIRED_IN_MATCH" => VenueOrderStatus::CANCELLED,
        "EXPIRED" => VenueOrderStatus::EXPIRED,
        "REJECTED" => VenueOrderStatus::REJECTED,
        other => {
            return Err(PluginError::malformed(format!(
                "unknown order status `{other}`"
            )));
        }
    })
}

/// The host's client id of a Binance `clientOrderId`: only ids the host
/// made (32 hex digits) are the host's; Binance's own (`autoclose-…`) and
/// others' are not.
pub(crate) fn host_client_id(text: &str) -> ROption<RString> {
    ClientOrderId::new(text)
        .ok()
        .and_then(|id| id.to_host())
        .map(RString::from)
        .into()
}

/// A fill's id for the host: Binance numbers trades per symbol, so the
/// symbol goes with the number.
pub(crate) fn trade_id(symbol: &str, id: u64) -> RString {
    format!("{symbol}-{id}").into()
}

fn remaining(size: Dec, filled: Dec) -> Result<Dec, PluginError> {
    Dec::from_decimal((size.to_decimal() - filled.to_decimal()).max(Decimal::ZERO))
        .map_err(|error| PluginError::malformed(format!("remaining size: {error}")))
}

/// An order as a REST answer gives it.
pub(crate) fn order(order: &wire::Order, snapshot: bool) -> Result<OrderUpdate, PluginError> {
    let size = dec(&order.orig_qty, "origQty")?;
    let filled = dec(&order.executed_qty, "executedQty")?;
    Ok(OrderUpdate {
        client_id: host_client_id(&order.client_order_id),
        exchange_order_id: order.order_id.to_string().into(),
        market: order.symbol.as_str().into(),
        status: status(&order.status)?,
        raw_status: order.status.as_str().into(),
        side: side(&order.side)?,
        price: dec(&order.price, "price")?,
        size,
        remaining: remaining(size, filled)?,
        reason: RString::new(),
        snapshot,
        time_ms: order.update_time,
    })
}

/// The host's status of a conditional order's status: finished, it filled
/// when its order in the matching engine filled all of it, else that
/// order was cancelled or expired.
fn algo_status(text: &str, size: Dec, filled: Dec) -> Result<VenueOrderStatus, PluginError> {
    Ok(match text {
        "NEW" => VenueOrderStatus::UNTRIGGERED,
        "TRIGGERING" | "TRIGGERED" => VenueOrderStatus::TRIGGERED,
        "FINISHED" if filled.to_decimal() >= size.to_decimal() => VenueOrderStatus::FILLED,
        "FINISHED" | "CANCELED" => VenueOrderStatus::CANCELLED,
        "EXPIRED" => VenueOrderStatus::EXPIRED,
        "REJECTED" => VenueOrderStatus::REJECTED,
        other => {
            return Err(PluginError::malformed(format!(
                "unknown algo order status `{other}`"
            )));
        }
    })
}

/// A conditional order (a REST answer, or `ALGO_UPDATE` at `time_ms`):
/// known by its algo id until it triggers, then by the id of the order it
/// became.
pub(crate) fn algo_order(
    order: &wire::AlgoOrder,
    snapshot: bool,
    time_ms: u64,
) -> Result<OrderUpdate, PluginError> {
    let size = dec(&order.quantity, "quantity")?;
    let filled = dec(order.executed_qty.as_deref().unwrap_or("0"), "executedQty")?;
    let exchange_order_id = match order.actual_order_id.as_deref() {
        Some(actual) if !actual.is_empty() => actual.to_owned(),
        _ => order.algo_id.to_string(),
    };
    Ok(OrderUpdate {
        client_id: host_client_id(&order.client_algo_id),
        exchange_order_id: exchange_order_id.into(),
        market: order.symbol.as_str().into(),
        status: algo_status(&order.algo_status, size, filled)?,
        raw_status: format!("algo {}", order.algo_status).into(),
        side: side(&order.side)?,
        price: dec(order.price.as_deref().unwrap_or("0"), "price")?,
        size,
        remaining: remaining(size, filled)?,
        reason: order.reject_reason.as_deref().unwrap_or_default().into(),
        snapshot,
        time_ms,
    })
}

/// An `ORDER_TRADE_UPDATE`: the order, and the fill when it traded.
pub(crate) fn order_event(event: &wire::OrderEvent) -> Result<Vec<Event>, PluginError> {
    let size = dec(&event.qty, "q")?;
    let filled = dec(&event.filled_qty, "z")?;
    let client_id = host_client_id(&event.client_id);
    let side = side(&event.side)?;
    let status = status(&event.status)?;
    let reason = match (event.status.as_str(), event.time_in_force.as_str()) {
        // Binance's older post-only path: accepted, then expired.
        ("EXPIRED", "GTX") => "post-only order would have taken",
        ("EXPIRED_IN_MATCH", _) => "self-trade prevention",
        _ => "",
    };
    let mut events = vec![Event::Order(OrderUpdate {
        client_id: client_id.clone(),
        exchange_order_id: event.order_id.to_string().into(),
        market: event.symbol.as_str().into(),
        status,
        raw_status: format!("{} ({})", event.status, event.execution).into(),
        side,
        price: dec(&event.price, "p")?,
        size,
        remaining: remaining(size, filled)?,
        reason: reason.into(),
        snapshot: false,
        time_ms: event.time,
    })];
    if event.execution == "TRADE" {
        events.push(Event::Fill(Fill {
            trade_id: trade_id(&event.symbol, event.trade_id),
            client_id,
            exchange_order_id: event.order_id.to_string().into(),
            market: event.symbol.as_str().into(),
            side,
            price: dec(&event.last_price, "L")?,
            size: dec(&event.last_qty, "l")?,
            fee: dec(event.fee.as_deref().unwrap_or("0"), "n")?,
            fee_asset: event.fee_asset.as_deref().unwrap_or_default().into(),
            is_maker: event.maker,
            snapshot: false,
            time_ms: event.time,
        }));
    }
    Ok(events)
}

/// One of the account's trades from `userTrades`.
pub(crate) fn trade_fill(trade: &wire::Trade) -> Result<Fill, PluginError> {
    Ok(Fill {
        trade_id: trade_id(&trade.symbol, trade.id),
        client_id: ROption::RNone,
        exchange_order_id: trade.order_id.to_string().into(),
        market: trade.symbol.as_str().into(),
        side: side(&trade.side)?,
        price: dec(&trade.price, "price")?,
        size: dec(&trade.qty, "qty")?,
        fee: dec(&trade.commission, "commission")?,
        fee_asset: trade.commission_asset.as_str().into(),
        is_maker: trade.maker,
        snapshot: true,
        time_ms: trade.time,
    })
}

/// Balances from `/fapi/v2/balance`.
pub(crate) fn balances(list: &[wire::Balance]) -> Result<Vec<Event>, PluginError> {
    list.iter()
        .map(|balance| {
            Ok(Event::Balance(Balance {
                asset: balance.asset.as_str().into(),
                total: dec(&balance.balance, "balance")?,
                available: dec(&balance.available_balance, "availableBalance")?,
                time_ms: balance.update_time,
            }))
        })
        .collect()
}

/// Every open position from `/fapi/v2/positionRisk` (which lists every
/// symbol, flat ones with a zero amount): complete.
pub(crate) fn positions(list: &[wire::Position], time_ms: u64) -> Result<Event, PluginError> {
    let mut positions = Vec::new();
    for position in list {
        let size = dec(&position.position_amt, "positionAmt")?;
        if size.is_zero() {
            continue;
        }
        let liquidation = position
            .liquidation_price
            .as_deref()
            .map(|text| dec(text, "liquidationPrice"))
            .transpose()?
            .filter(|price| !price.is_zero());
        positions.push(Position {
            market: position.symbol.as_str().into(),
            size,
            entry_price: dec(&position.entry_price, "entryPrice")?,
            unrealized_pnl: dec(&position.un_realized_profit, "unRealizedProfit")?,
            leverage: position
                .leverage
                .as_deref()
                .and_then(|text| text.parse().ok())
                .unwrap_or(0),
            liquidation_price: liquidation.into(),
        });
    }
    Ok(Event::Positions(Positions {
        positions: RVec::from(positions),
        complete: true,
        time_ms,
    }))
}

/// An `ACCOUNT_UPDATE`: the balances and positions that changed.
pub(crate) fn account_update(update: &wire::AccountUpdate) -> Result<Vec<Event>, PluginError> {
    let mut events = Vec::new();
    for balance in &update.account.balances {
        events.push(Event::Balance(Balance {
            asset: balance.asset.as_str().into(),
            total: dec(&balance.wallet, "wb")?,
            available: dec(&balance.cross_wallet, "cw")?,
            time_ms: update.time,
        }));
    }
    if !update.account.positions.is_empty() {
        let positions = update
            .account
            .positions
            .iter()
            .map(|position| {
                Ok(Position {
                    market: position.symbol.as_str().into(),
                    size: dec(&position.amount, "pa")?,
                    entry_price: dec(&position.entry, "ep")?,
                    unrealized_pnl: dec(&position.unrealized, "up")?,
                    leverage: 0,
                    liquidation_price: ROption::RNone,
                })
            })
            .collect::<Result<_, PluginError>>()?;
        events.push(Event::Positions(Positions {
            positions,
            complete: false,
            time_ms: update.time,
        }));
    }
    Ok(events)
}

/// The perpetuals of `exchangeInfo` open for trading, named
/// `BASE-QUOTE` for the host (`BTC-USDT`).
pub(crate) fn markets(info: &wire::ExchangeInfo) -> Result<Vec<Market>, PluginError> {
    let mut markets = Vec::new();
    for symbol in &info.symbols {
        if symbol.contract_type != "PERPETUAL" || symbol.status != "TRADING" {
            continue;
        }
        let rules = SymbolRules::from_filters(&symbol.filters).ok_or_else(|| {
            PluginError::malformed(format!(
                "{} has no PRICE_FILTER or LOT_SIZE filter",
                symbol.symbol
            ))
        })?;
        markets.push(Market {
            symbol: format!("{}-{}", symbol.base_asset, symbol.quote_asset).into(),
            venue_symbol: symbol.symbol.as_str().into(),
            venue_id: 0,
            kind: MarketKind::PERPETUAL,
            base: symbol.base_asset.as_str().into(),
            quote: symbol.quote_asset.as_str().into(),
            rule: TradingRule {
                price: PriceRule {
                    tick: rule_dec(rules.tick_size, "tickSize")?,
                    max_significant_figures: 0,
                    max_decimals: ROption::RNone,
                    integers_always_valid: false,
                    min_price: rule_dec(rules.min_price, "minPrice")?,
                    max_price: rule_dec(rules.max_price, "maxPrice")?,
                },
                size_step: rule_dec(rules.step_size, "stepSize")?,
                min_size: rule_dec(rules.min_qty, "minQty")?,
                max_size: rule_dec(rules.max_qty, "maxQty")?,
                min_notional: rule_dec(rules.min_notional, "notional")?,
                reduce_only_exempt_from_min_notional: true,
            },
            max_leverage: 0,
        });
    }
    Ok(markets)
}

/// A `bookTicker` event.
pub(crate) fn bbo(ticker: &wire::BookTicker) -> Result<Event, PluginError> {
    let level = |price: &str, size: &str| -> Result<ROption<Level>, PluginError> {
        let size = dec(size, "bookTicker size")?;
        Ok(if size.is_zero() {
            ROption::RNone
        } else {
            ROption::RSome(Level {
                price: dec(price, "bookTicker price")?,
                size,
                orders: 0,
            })
        })
    };
    Ok(Event::Bbo(Bbo {
        market: ticker.symbol.as_str().into(),
        bid: level(&ticker.bid, &ticker.bid_qty)?,
        ask: level(&ticker.ask, &ticker.ask_qty)?,
        time_ms: ticker.time,
    }))
}

/// An `aggTrade` event.
pub(crate) fn trade(trade: &wire::AggTrade) -> Result<Event, PluginError> {
    Ok(Event::Trade(Trade {
        market: trade.symbol.as_str().into(),
        price: dec(&trade.price, "aggTrade price")?,
        size: dec(&trade.qty, "aggTrade quantity")?,
        taker_side: if trade.buyer_is_maker {
            Side::SELL
        } else {
            Side::BUY
        },
        trade_id: trade.id.to_string().into(),
        time_ms: trade.time,
    }))
}

/// A `markPriceUpdate` event.
pub(crate) fn funding(mark: &wire::MarkPrice) -> Result<Event, PluginError> {
    Ok(Event::Funding(Funding {
        market: mark.symbol.as_str().into(),
        rate: dec(&mark.rate, "funding rate")?,
        mark_price: dec(&mark.mark, "mark price")?,
        oracle_price: dec(&mark.index, "index price")?,
        next_funding_ms: mark.next_funding,
        open_interest: Dec::ZERO,
        time_ms: mark.time,
    }))
}
