//! Order-entry requests: what the host asks a plugin to encode.

use abi_stable::StableAbi;
use abi_stable::std_types::{ROption, RString};

use crate::{Dec, Market};

crate::abi_code! {
    /// Buy or sell.
    Side {
        /// Buy (bid).
        BUY = 1 => "buy",
        /// Sell (ask).
        SELL = 2 => "sell",
    }
}

crate::abi_code! {
    /// The order types a plugin may support (see the manifest).
    OrderKind {
        /// A limit order.
        LIMIT = 1 => "limit",
        /// A market order (Hyperliquid: an aggressive IOC limit).
        MARKET = 2 => "market",
        /// A post-only limit order.
        LIMIT_MAKER = 3 => "limit_maker",
        /// A stop that sends a market order when triggered.
        STOP_MARKET = 4 => "stop_market",
        /// A stop that sends a limit order when triggered.
        STOP_LIMIT = 5 => "stop_limit",
        /// A take-profit that sends a market order when triggered.
        TAKE_PROFIT_MARKET = 6 => "take_profit_market",
        /// A take-profit that sends a limit order when triggered.
        TAKE_PROFIT_LIMIT = 7 => "take_profit_limit",
    }
}

impl OrderKind {
    /// Whether it waits for a trigger price (stops and take-profits).
    pub fn is_trigger(self) -> bool {
        matches!(
            self,
            OrderKind::STOP_MARKET
                | OrderKind::STOP_LIMIT
                | OrderKind::TAKE_PROFIT_MARKET
                | OrderKind::TAKE_PROFIT_LIMIT
        )
    }
}

crate::abi_code! {
    /// The price a trigger order's trigger watches.
    TriggerReference {
        /// The mark price (Hyperliquid's only reference, Bybit `MarkPrice`,
        /// Binance `MARK_PRICE`).
        MARK = 1 => "mark",
        /// The last traded price (Bybit `LastPrice`, Binance
        /// `CONTRACT_PRICE`).
        LAST = 2 => "last",
    }
}

crate::abi_code! {
    /// How long an order stays on the book.
    TimeInForce {
        /// Good till cancelled.
        GTC = 1 => "gtc",
        /// Immediate or cancel.
        IOC = 2 => "ioc",
        /// Fill or kill.
        FOK = 3 => "fok",
        /// Post only (Hyperliquid `Alo`, Binance `GTX`, Bybit `PostOnly`).
        POST_ONLY = 4 => "post_only",
    }
}

/// A new order, already validated and quantized by the host.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct OrderRequest {
    /// The client order id, already encoded in the venue's format.
    pub client_id: RString,
    /// The market.
    pub market: Market,
    /// Buy or sell.
    pub side: Side,
    /// The order type.
    pub kind: OrderKind,
    /// The time in force.
    pub time_in_force: TimeInForce,
    /// The limit price. For market orders: the reference price (mid) the
    /// plugin derives its protective limit from. For trigger orders that
    /// execute at market: the worst price accepted once triggered (the
    /// host derives it from the trigger price), sent as the venue's limit.
    pub price: Dec,
    /// The size in base units.
    pub size: Dec,
    /// Only reduce a position.
    pub reduce_only: bool,
    /// The trigger price of stop and take-profit orders.
    pub trigger_price: ROption<Dec>,
    /// The price the trigger watches (trigger orders only; the host sends
    /// one the manifest lists).
    pub trigger_reference: TriggerReference,
    /// For market orders: the worst acceptable move from `price`, as a
    /// fraction (0.05 = 5 %).
    pub max_slippage: ROption<Dec>,
}

/// Names an existing order.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct OrderRef {
    /// The client order id in the venue's format.
    pub client_id: RString,
    /// The exchange's id, once known (a trigger order's, once triggered,
    /// is the id of the order it became when the venue reported one).
    pub exchange_order_id: ROption<RString>,
    /// The market.
    pub market: Market,
    /// The order's type: a venue that keeps trigger orders apart (Binance's
    /// algo service) routes by it.
    pub kind: OrderKind,
    /// Whether a trigger order is known to have triggered.
    pub triggered: bool,
}

/// Replace an order's price and size.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct ModifyRequest {
    /// The order to modify.
    pub target: OrderRef,
    /// The order as it should be after the change.
    pub order: OrderRequest,
}
