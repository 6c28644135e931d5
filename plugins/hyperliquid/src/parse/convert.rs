//! From Hyperliquid's shapes to the normalized events of the plugin ABI.

use abi_stable::std_types::{ROption, RString, RVec};
use plugin_api::{
    Balance, Bbo, BookUpdate, Dec, Event, Event_NE, Fill, Funding, Level, OrderUpdate, PluginError,
    Position, Positions, Side, Trade, VenueOrderStatus,
};

use super::model::{
    WireAssetCtx, WireBbo, WireBook, WireClearinghouse, WireFill, WireLevel, WireNonUserCancel,
    WireOrderStatus, WireTrade,
};

/// Hyperliquid funds perps every hour, on the hour.
const FUNDING_INTERVAL_MS: u64 = 3_600_000;

pub fn dec(field: &str, text: &str) -> Result<Dec, PluginError> {
    Dec::parse(text).map_err(|error| PluginError::malformed(format!("{field}: {error}")))
}

fn side(text: &str) -> Result<Side, PluginError> {
    match text {
        "B" => Ok(Side::BUY),
        "A" => Ok(Side::SELL),
        other => Err(PluginError::malformed(format!(
            "side `{other}` is neither B nor A"
        ))),
    }
}

fn level(wire: &WireLevel<'_>) -> Result<Level, PluginError> {
    Ok(Level {
        price: dec("px", wire.px)?,
        size: dec("sz", wire.sz)?,
        orders: wire.n,
    })
}

fn levels(wire: &[WireLevel<'_>]) -> Result<RVec<Level>, PluginError> {
    let mut out = RVec::with_capacity(wire.len());
    for entry in wire {
        out.push(level(entry)?);
    }
    Ok(out)
}

/// An l2Book message: always a full snapshot, no sequence numbers.
pub fn book(wire: &WireBook<'_>) -> Result<Event_NE, PluginError> {
    Ok(Event_NE::new(Event::Book(BookUpdate {
        market: wire.coin.into(),
        is_snapshot: true,
        bids: levels(&wire.levels[0])?,
        asks: levels(&wire.levels[1])?,
        seq: 0,
        time_ms: wire.time,
    })))
}

pub fn trade(wire: &WireTrade<'_>) -> Result<Event_NE, PluginError> {
    Ok(Event_NE::new(Event::Trade(Trade {
        market: wire.coin.into(),
        price: dec("px", wire.px)?,
        size: dec("sz", wire.sz)?,
        taker_side: side(wire.side)?,
        trade_id: wire.tid.to_string().into(),
        time_ms: wire.time,
    })))
}

pub fn bbo(wire: &WireBbo<'_>) -> Result<Event_NE, PluginError> {
    let [bid, ask] = &wire.bbo;
    Ok(Event_NE::new(Event::Bbo(Bbo {
        market: wire.coin.into(),
        bid: bid.as_ref().map(level).transpose()?.into(),
        ask: ask.as_ref().map(level).transpose()?.into(),
        time_ms: wire.time,
    })))
}

pub fn funding(wire: &WireAssetCtx<'_>, now_ms: u64) -> Result<Event_NE, PluginError> {
    Ok(Event_NE::new(Event::Funding(Funding {
        market: wire.coin.into(),
        rate: dec("funding", wire.ctx.funding)?,
        mark_price: dec("markPx", wire.ctx.mark_px)?,
        oracle_price: dec("oraclePx", wire.ctx.oracle_px)?,
        next_funding_ms: (now_ms / FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS,
        open_interest: dec("openInterest", wire.ctx.open_interest)?,
        time_ms: now_ms,
    })))
}

/// Hyperliquid's order status words. The list keeps growing: an unknown
/// word ending in `Canceled` or `Rejected` is still final.
pub fn status(word: &str, remaining: Dec, original: Dec) -> VenueOrderStatus {
    match word {
        "open" if remaining < original => VenueOrderStatus::PARTIALLY_FILLED,
        "open" => VenueOrderStatus::OPEN,
        "filled" => VenueOrderStatus::FILLED,
        "triggered" => VenueOrderStatus::TRIGGERED,
        "canceled" | "scheduledCancel" | "internalCancel" => VenueOrderStatus::CANCELLED,
        "rejected" => VenueOrderStatus::REJECTED,
        other if other.ends_with("Canceled") => VenueOrderStatus::CANCELLED,
        other if other.ends_with("Rejected") => VenueOrderStatus::REJECTED,
        _ => VenueOrderStatus(0),
    }
}

/// A final status word with its meaning, for people reading events and
/// logs: `post-only order would cross the book (badAloPxRejected)`. A word
/// not listed here is given as it is.
pub fn explained(word: &str) -> String {
    let meaning = match word {
        "canceled" => "cancelled",
        "rejected" => "rejected",
        "marginCanceled" => "cancelled: not enough margin",
        "vaultWithdrawalCanceled" => "cancelled by a vault withdrawal",
        "openInterestCapCanceled" => "cancelled: the market is at its open interest cap",
        "selfTradeCanceled" => "cancelled to prevent a self-trade",
        "reduceOnlyCanceled" => "reduce-only order cancelled: the position closed or flipped",
        "siblingFilledCanceled" => "cancelled: its TP/SL sibling filled",
        "delistedCanceled" => "cancelled: the market was delisted",
        "liquidatedCanceled" => "cancelled by a liquidation",
        "outcomeSettledCanceled" => "cancelled: the outcome settled",
        "scheduledCancel" => "cancelled by the scheduled cancel (dead man's switch)",
        "internalCancel" => "cancelled by the exchange",
        "tickRejected" => "price is not a multiple of the tick size",
        "minTradeNtlRejected" => "order value is below the exchange's minimum",
        "perpMarginRejected" => "not enough margin",
        "reduceOnlyRejected" => "reduce-only order would increase the position",
        "badAloPxRejected" => "post-only order would cross the book",
        "iocCancelRejected" => "immediate-or-cancel order found nothing to match",
        "badTriggerPxRejected" => "the trigger price is already reached",
        "marketOrderNoLiquidityRejected" => "market order found no liquidity",
        "positionIncreaseAtOpenInterestCapRejected" => {
            "the market is at its open interest cap: no position increase"
        }
        "positionFlipAtOpenInterestCapRejected" => {
            "the market is at its open interest cap: no position flip"
        }
        "tooAggressiveAtOpenInterestCapRejected" => {
            "the market is at its open interest cap: price too aggressive"
        }
        "openInterestIncreaseRejected" => "open interest increase refused",
        "insufficientSpotBalanceRejected" => "not enough spot balance",
        "oracleRejected" => "price too far from the oracle price",
        "perpMaxPositionRejected" => "the position would exceed its maximum size",
        "tooManyOpenOrdersRejected" => "too many open orders",
        other => return other.to_owned(),
    };
    format!("{meaning} ({word})")
}

pub fn order(wire: &WireOrderStatus<'_>, snapshot: bool) -> Result<Event_NE, PluginError> {
    let remaining = dec("sz", wire.order.sz)?;
    let size = dec("origSz", wire.order.orig_sz)?;
    let status = status(wire.status, remaining, size);
    let reason = if matches!(
        status,
        VenueOrderStatus::CANCELLED | VenueOrderStatus::REJECTED
    ) {
        RString::from(explained(wire.status))
    } else {
        RString::new()
    };
    Ok(Event_NE::new(Event::Order(OrderUpdate {
        client_id: wire.order.cloid.map(RString::from).into(),
        exchange_order_id: wire.order.oid.to_string().into(),
        market: wire.order.coin.into(),
        status,
        raw_status: wire.status.into(),
        side: side(wire.order.side)?,
        price: dec("limitPx", wire.order.limit_px)?,
        size,
        remaining,
        reason,
        snapshot,
        time_ms: wire.status_timestamp.max(wire.order.timestamp),
    })))
}

/// An order cancelled by the exchange (`nonUserCancel`): only its id and
/// coin are known.
pub fn non_user_cancel(wire: &WireNonUserCancel<'_>, now_ms: u64) -> Event_NE {
    Event_NE::new(Event::Order(OrderUpdate {
        client_id: ROption::RNone,
        exchange_order_id: wire.oid.to_string().into(),
        market: wire.coin.into(),
        status: VenueOrderStatus::CANCELLED,
        raw_status: "nonUserCancel".into(),
        side: Side(0),
        price: Dec::ZERO,
        size: Dec::ZERO,
        remaining: Dec::ZERO,
        reason: "cancelled by the exchange".into(),
        snapshot: false,
        time_ms: now_ms,
    }))
}

pub fn fill(wire: &WireFill<'_>, snapshot: bool) -> Result<Event_NE, PluginError> {
    Ok(Event_NE::new(Event::Fill(Fill {
        trade_id: wire.tid.to_string().into(),
        client_id: wire.cloid.map(RString::from).into(),
        exchange_order_id: wire.oid.to_string().into(),
        market: wire.coin.into(),
        side: side(wire.side)?,
        price: dec("px", wire.px)?,
        size: dec("sz", wire.sz)?,
        fee: dec("fee", wire.fee)?,
        fee_asset: wire.fee_token.into(),
        is_maker: !wire.crossed,
        snapshot,
        time_ms: wire.time,
    })))
}

/// `clearinghouseState`: the USDC balance and every open position (the list
/// is complete: a position missing from it is closed).
pub fn account(wire: &WireClearinghouse<'_>) -> Result<[Event_NE; 2], PluginError> {
    let balance = Event_NE::new(Event::Balance(Balance {
        asset: "USDC".into(),
        total: dec("accountValue", wire.margin_summary.account_value)?,
        available: dec("withdrawable", wire.withdrawable)?,
        time_ms: wire.time,
    }));
    let mut positions = RVec::with_capacity(wire.asset_positions.len());
    for entry in &wire.asset_positions {
        let position = &entry.position;
        positions.push(Position {
            market: position.coin.into(),
            size: dec("szi", position.szi)?,
            entry_price: position
                .entry_px
                .map(|px| dec("entryPx", px))
                .transpose()?
                .unwrap_or(Dec::ZERO),
            unrealized_pnl: dec("unrealizedPnl", position.unrealized_pnl)?,
            leverage: position.leverage.as_ref().map_or(0, |l| l.value),
            liquidation_price: position
                .liquidation_px
                .map(|px| dec("liquidationPx", px))
                .transpose()?
                .into(),
        });
    }
    let positions = Event_NE::new(Event::Positions(Positions {
        positions,
        complete: true,
        time_ms: wire.time,
    }));
    Ok([balance, positions])
}
