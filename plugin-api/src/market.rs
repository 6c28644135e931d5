//! Markets and their trading rules, as a plugin describes them to the host.

use abi_stable::StableAbi;
use abi_stable::std_types::{ROption, RString};

use crate::Dec;

crate::abi_code! {
    /// What kind of instrument a market trades.
    MarketKind {
        /// A perpetual future.
        PERPETUAL = 1 => "perpetual",
        /// A spot pair.
        SPOT = 2 => "spot",
        /// A dated future.
        FUTURE = 3 => "future",
    }
}

/// How an exchange constrains order prices.
///
/// Tick-based venues (Binance, Bybit) set `tick`; Hyperliquid has no tick and
/// sets `max_significant_figures` and `max_decimals` instead. A rule may use
/// both.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct PriceRule {
    /// The price increment; zero when prices are not tick-based.
    pub tick: Dec,
    /// At most this many significant figures; zero for no limit.
    pub max_significant_figures: u32,
    /// At most this many decimals, if limited.
    pub max_decimals: ROption<u32>,
    /// Integer prices are valid whatever their significant figures
    /// (Hyperliquid's rule).
    pub integers_always_valid: bool,
    /// The lowest valid price; zero for none.
    pub min_price: Dec,
    /// The highest valid price; zero for none.
    pub max_price: Dec,
}

/// Everything a venue checks about an order's numbers before accepting it.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct TradingRule {
    /// Rules for prices.
    pub price: PriceRule,
    /// Sizes must be a multiple of this step.
    pub size_step: Dec,
    /// The smallest size; zero for none.
    pub min_size: Dec,
    /// The largest size of a limit order; zero for none.
    pub max_size: Dec,
    /// The smallest notional (price × size) in the quote asset; zero for none.
    pub min_notional: Dec,
    /// Reduce-only orders are exempt from `min_notional` (Binance).
    pub reduce_only_exempt_from_min_notional: bool,
}

/// One tradable market.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Market {
    /// The host's name for it, e.g. `BTC-USD`.
    pub symbol: RString,
    /// The exchange's name for it, e.g. `BTC` or `@107` on Hyperliquid,
    /// `BTCUSDT` on Binance.
    pub venue_symbol: RString,
    /// The exchange's numeric id where it has one (Hyperliquid asset id),
    /// otherwise zero.
    pub venue_id: u64,
    /// What kind of instrument it is.
    pub kind: MarketKind,
    /// The base asset.
    pub base: RString,
    /// The quote (and settlement) asset.
    pub quote: RString,
    /// Its trading rules.
    pub rule: TradingRule,
    /// The highest leverage the venue allows; zero for spot.
    pub max_leverage: u32,
}
