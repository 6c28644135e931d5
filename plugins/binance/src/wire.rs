//! Binance's JSON, as REST answers and stream events carry it (numbers in
//! decimal strings, ids and times as integers). Only the fields the plugin
//! reads.

use binance_core::Filter;
use plugin_api::PriceSizeLevels;
use serde::Deserialize;

/// One order (`/fapi/v1/order` answers, `openOrders`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Order {
    pub(crate) order_id: u64,
    pub(crate) symbol: String,
    pub(crate) status: String,
    pub(crate) client_order_id: String,
    pub(crate) price: String,
    pub(crate) orig_qty: String,
    pub(crate) executed_qty: String,
    #[serde(default)]
    pub(crate) avg_price: Option<String>,
    pub(crate) side: String,
    #[serde(default)]
    pub(crate) update_time: u64,
}

/// A conditional order, as `/fapi/v1/algoOrder` and `openAlgoOrders`
/// answer it and as `ALGO_UPDATE` carries it (in its short names).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AlgoOrder {
    #[serde(alias = "aid")]
    pub(crate) algo_id: u64,
    #[serde(alias = "caid")]
    pub(crate) client_algo_id: String,
    #[serde(alias = "X")]
    pub(crate) algo_status: String,
    #[serde(alias = "s")]
    pub(crate) symbol: String,
    #[serde(alias = "S")]
    pub(crate) side: String,
    #[serde(alias = "q")]
    pub(crate) quantity: String,
    #[serde(alias = "p", default)]
    pub(crate) price: Option<String>,
    /// The order it became in the matching engine, once triggered.
    #[serde(alias = "ai", default)]
    pub(crate) actual_order_id: Option<String>,
    /// What that order filled.
    #[serde(alias = "aq", default)]
    pub(crate) executed_qty: Option<String>,
    /// Why it was refused, if it was.
    #[serde(alias = "rm", default)]
    pub(crate) reject_reason: Option<String>,
    #[serde(default)]
    pub(crate) update_time: u64,
}

/// The id a conditional order's placement or cancel answers with.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AlgoOrderId {
    pub(crate) algo_id: u64,
}

/// `ALGO_UPDATE`.
#[derive(Debug, Deserialize)]
pub(crate) struct AlgoUpdate {
    #[serde(rename = "T", default)]
    pub(crate) time: u64,
    #[serde(rename = "o")]
    pub(crate) order: AlgoOrder,
}

/// One of the account's trades (`/fapi/v1/userTrades`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Trade {
    pub(crate) id: u64,
    pub(crate) symbol: String,
    pub(crate) order_id: u64,
    pub(crate) side: String,
    pub(crate) price: String,
    pub(crate) qty: String,
    pub(crate) commission: String,
    pub(crate) commission_asset: String,
    pub(crate) maker: bool,
    pub(crate) time: u64,
}

/// One asset's balance (`/fapi/v2/balance`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Balance {
    pub(crate) asset: String,
    pub(crate) balance: String,
    pub(crate) available_balance: String,
    #[serde(default)]
    pub(crate) update_time: u64,
}

/// One symbol's position (`/fapi/v2/positionRisk`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Position {
    pub(crate) symbol: String,
    pub(crate) position_amt: String,
    pub(crate) entry_price: String,
    pub(crate) un_realized_profit: String,
    #[serde(default)]
    pub(crate) leverage: Option<String>,
    #[serde(default)]
    pub(crate) liquidation_price: Option<String>,
}

/// `/fapi/v1/exchangeInfo`.
#[derive(Debug, Deserialize)]
pub(crate) struct ExchangeInfo {
    pub(crate) symbols: Vec<Symbol>,
}

/// One symbol of `exchangeInfo`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Symbol {
    pub(crate) symbol: String,
    #[serde(default)]
    pub(crate) contract_type: String,
    pub(crate) status: String,
    pub(crate) base_asset: String,
    pub(crate) quote_asset: String,
    pub(crate) filters: Vec<Filter>,
}

/// `/fapi/v1/depth`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Depth {
    pub(crate) last_update_id: u64,
    #[serde(rename = "T", default)]
    pub(crate) time: u64,
    pub(crate) bids: PriceSizeLevels,
    pub(crate) asks: PriceSizeLevels,
}

/// `POST /fapi/v1/listenKey`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListenKey {
    pub(crate) listen_key: String,
}

/// `depthUpdate`.
#[derive(Debug, Deserialize)]
pub(crate) struct DepthUpdate {
    #[serde(rename = "T", default)]
    pub(crate) time: u64,
    #[serde(rename = "s")]
    pub(crate) symbol: String,
    #[serde(rename = "U")]
    pub(crate) first: u64,
    #[serde(rename = "u")]
    pub(crate) last: u64,
    #[serde(rename = "pu")]
    pub(crate) prev: u64,
    #[serde(rename = "b")]
    pub(crate) bids: PriceSizeLevels,
    #[serde(rename = "a")]
    pub(crate) asks: PriceSizeLevels,
}

/// `bookTicker`.
#[derive(Debug, Deserialize)]
pub(crate) struct BookTicker {
    #[serde(rename = "T", default)]
    pub(crate) time: u64,
    #[serde(rename = "s")]
    pub(crate) symbol: String,
    #[serde(rename = "b")]
    pub(crate) bid: String,
    #[serde(rename = "B")]
    pub(crate) bid_qty: String,
    #[serde(rename = "a")]
    pub(crate) ask: String,
    #[serde(rename = "A")]
    pub(crate) ask_qty: String,
}

/// `aggTrade`.
#[derive(Debug, Deserialize)]
pub(crate) struct AggTrade {
    #[serde(rename = "s")]
    pub(crate) symbol: String,
    #[serde(rename = "a")]
    pub(crate) id: u64,
    #[serde(rename = "p")]
    pub(crate) price: String,
    #[serde(rename = "q")]
    pub(crate) qty: String,
    #[serde(rename = "T")]
    pub(crate) time: u64,
    /// The buyer is the maker: the taker sold.
    #[serde(rename = "m")]
    pub(crate) buyer_is_maker: bool,
}

/// `markPriceUpdate`.
#[derive(Debug, Deserialize)]
pub(crate) struct MarkPrice {
    #[serde(rename = "E")]
    pub(crate) time: u64,
    #[serde(rename = "s")]
    pub(crate) symbol: String,
    #[serde(rename = "p")]
    pub(crate) mark: String,
    #[serde(rename = "i")]
    pub(crate) index: String,
    #[serde(rename = "r")]
    pub(crate) rate: String,
    #[serde(rename = "T")]
    pub(crate) next_funding: u64,
}

/// `ORDER_TRADE_UPDATE`.
#[derive(Debug, Deserialize)]
pub(crate) struct OrderTradeUpdate {
    #[serde(rename = "o")]
    pub(crate) order: OrderEvent,
}

/// The order of an `ORDER_TRADE_UPDATE`.
#[derive(Debug, Deserialize)]
pub(crate) struct OrderEvent {
    #[serde(rename = "s")]
    pub(crate) symbol: String,
    #[serde(rename = "c")]
    pub(crate) client_id: String,
    #[serde(rename = "S")]
    pub(crate) side: String,
    #[serde(rename = "f", default)]
    pub(crate) time_in_force: String,
    #[serde(rename = "q")]
    pub(crate) qty: String,
    #[serde(rename = "p")]
    pub(crate) price: String,
    /// Execution type: NEW, CANCELED, CALCULATED, EXPIRED, TRADE, AMENDMENT.
    #[serde(rename = "x")]
    pub(crate) execution: String,
    /// Order status.
    #[serde(rename = "X")]
    pub(crate) status: String,
    #[serde(rename = "i")]
    pub(crate) order_id: u64,
    /// Last filled quantity.
    #[serde(rename = "l")]
    pub(crate) last_qty: String,
    /// Cumulative filled quantity.
    #[serde(rename = "z")]
    pub(crate) filled_qty: String,
    /// Last filled price.
    #[serde(rename = "L")]
    pub(crate) last_price: String,
    #[serde(rename = "N", default)]
    pub(crate) fee_asset: Option<String>,
    #[serde(rename = "n", default)]
    pub(crate) fee: Option<String>,
    #[serde(rename = "T")]
    pub(crate) time: u64,
    #[serde(rename = "t", default)]
    pub(crate) trade_id: u64,
    #[serde(rename = "m", default)]
    pub(crate) maker: bool,
}

/// `ACCOUNT_UPDATE`.
#[derive(Debug, Deserialize)]
pub(crate) struct AccountUpdate {
    #[serde(rename = "T", default)]
    pub(crate) time: u64,
    #[serde(rename = "a")]
    pub(crate) account: AccountData,
}

/// The changes of an `ACCOUNT_UPDATE`.
#[derive(Debug, Deserialize)]
pub(crate) struct AccountData {
    #[serde(rename = "B", default)]
    pub(crate) balances: Vec<BalanceChange>,
    #[serde(rename = "P", default)]
    pub(crate) positions: Vec<PositionChange>,
}

/// A balance of an `ACCOUNT_UPDATE`.
#[derive(Debug, Deserialize)]
pub(crate) struct BalanceChange {
    #[serde(rename = "a")]
    pub(crate) asset: String,
    #[serde(rename = "wb")]
    pub(crate) wallet: String,
    #[serde(rename = "cw")]
    pub(crate) cross_wallet: String,
}

/// A position of an `ACCOUNT_UPDATE`.
#[derive(Debug, Deserialize)]
pub(crate) struct PositionChange {
    #[serde(rename = "s")]
    pub(crate) symbol: String,
    #[serde(rename = "pa")]
    pub(crate) amount: String,
    #[serde(rename = "ep")]
    pub(crate) entry: String,
    #[serde(rename = "up")]
    pub(crate) unrealized: String,
}
