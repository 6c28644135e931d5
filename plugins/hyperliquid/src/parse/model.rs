//! Hyperliquid's message shapes, borrowed from the frame text (no copies
//! of strings that are only parsed).

use serde::Deserialize;

/// A book level: `{"px","sz","n"}`.
#[derive(Deserialize)]
pub struct WireLevel<'a> {
    pub px: &'a str,
    pub sz: &'a str,
    pub n: u32,
}

/// `l2Book` data, on the socket and from `/info`.
#[derive(Deserialize)]
pub struct WireBook<'a> {
    #[serde(borrow)]
    pub coin: &'a str,
    pub time: u64,
    #[serde(borrow)]
    pub levels: [Vec<WireLevel<'a>>; 2],
}

/// One public trade.
#[derive(Deserialize)]
pub struct WireTrade<'a> {
    pub coin: &'a str,
    pub side: &'a str,
    pub px: &'a str,
    pub sz: &'a str,
    pub time: u64,
    pub tid: u64,
}

/// `bbo` data.
#[derive(Deserialize)]
pub struct WireBbo<'a> {
    pub coin: &'a str,
    pub time: u64,
    #[serde(borrow)]
    pub bbo: [Option<WireLevel<'a>>; 2],
}

/// `activeAssetCtx` data (perp context).
#[derive(Deserialize)]
pub struct WireAssetCtx<'a> {
    pub coin: &'a str,
    #[serde(borrow)]
    pub ctx: WirePerpCtx<'a>,
}

/// The perp context fields the host uses.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WirePerpCtx<'a> {
    pub funding: &'a str,
    pub open_interest: &'a str,
    pub oracle_px: &'a str,
    pub mark_px: &'a str,
}

/// An order as `orderUpdates`, `openOrders` and `orderStatus` show it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireOrder<'a> {
    pub coin: &'a str,
    pub side: &'a str,
    pub limit_px: &'a str,
    pub sz: &'a str,
    pub oid: u64,
    pub timestamp: u64,
    pub orig_sz: &'a str,
    #[serde(default)]
    pub cloid: Option<&'a str>,
}

/// An order with its status (`orderUpdates` element, `orderStatus` body).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireOrderStatus<'a> {
    #[serde(borrow)]
    pub order: WireOrder<'a>,
    pub status: &'a str,
    pub status_timestamp: u64,
}

/// One of the account's fills.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireFill<'a> {
    pub coin: &'a str,
    pub px: &'a str,
    pub sz: &'a str,
    pub side: &'a str,
    pub time: u64,
    pub oid: u64,
    pub crossed: bool,
    pub fee: &'a str,
    pub fee_token: &'a str,
    pub tid: u64,
    #[serde(default)]
    pub cloid: Option<&'a str>,
}

/// `userFills` data.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireUserFills<'a> {
    #[serde(default)]
    pub is_snapshot: bool,
    #[serde(borrow)]
    pub fills: Vec<WireFill<'a>>,
}

/// A `nonUserCancel` entry of `userEvents`.
#[derive(Deserialize)]
pub struct WireNonUserCancel<'a> {
    pub coin: &'a str,
    pub oid: u64,
}

/// `userEvents` data (channel `user`): one of several shapes.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireUserEvent<'a> {
    #[serde(default, borrow)]
    pub fills: Option<Vec<WireFill<'a>>>,
    #[serde(default, borrow)]
    pub non_user_cancel: Option<Vec<WireNonUserCancel<'a>>>,
    #[serde(default, borrow)]
    pub liquidation: Option<&'a serde_json::value::RawValue>,
}

/// A position in `clearinghouseState`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WirePosition<'a> {
    pub coin: &'a str,
    pub szi: &'a str,
    #[serde(default)]
    pub entry_px: Option<&'a str>,
    pub unrealized_pnl: &'a str,
    #[serde(default)]
    pub liquidation_px: Option<&'a str>,
    #[serde(default, borrow)]
    pub leverage: Option<WireLeverage<'a>>,
}

/// A position's leverage.
#[derive(Deserialize)]
pub struct WireLeverage<'a> {
    #[serde(rename = "type")]
    pub _kind: &'a str,
    pub value: u32,
}

/// An `assetPositions` element.
#[derive(Deserialize)]
pub struct WireAssetPosition<'a> {
    #[serde(borrow)]
    pub position: WirePosition<'a>,
}

/// `marginSummary`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireMarginSummary<'a> {
    pub account_value: &'a str,
}

/// `clearinghouseState`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireClearinghouse<'a> {
    #[serde(borrow)]
    pub margin_summary: WireMarginSummary<'a>,
    pub withdrawable: &'a str,
    #[serde(borrow)]
    pub asset_positions: Vec<WireAssetPosition<'a>>,
    pub time: u64,
}
