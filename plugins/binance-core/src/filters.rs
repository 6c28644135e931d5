//! `exchangeInfo` symbol filters: what the emulator serves and the plugin
//! reads into trading rules.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One entry of a symbol's `filters` list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "filterType")]
pub enum Filter {
    /// Prices: `(price − minPrice) % tickSize == 0`, within bounds (0
    /// disables a rule).
    #[serde(rename = "PRICE_FILTER", rename_all = "camelCase")]
    Price {
        /// The lowest price.
        min_price: Decimal,
        /// The highest price.
        max_price: Decimal,
        /// The tick.
        tick_size: Decimal,
    },
    /// Limit-order quantities.
    #[serde(rename = "LOT_SIZE", rename_all = "camelCase")]
    LotSize {
        /// The smallest quantity.
        min_qty: Decimal,
        /// The largest quantity.
        max_qty: Decimal,
        /// The step.
        step_size: Decimal,
    },
    /// Market-order quantities.
    #[serde(rename = "MARKET_LOT_SIZE", rename_all = "camelCase")]
    MarketLotSize {
        /// The smallest quantity.
        min_qty: Decimal,
        /// The largest quantity.
        max_qty: Decimal,
        /// The step.
        step_size: Decimal,
    },
    /// The smallest notional; reduce-only orders are exempt.
    #[serde(rename = "MIN_NOTIONAL")]
    MinNotional {
        /// Price × quantity, in the quote asset.
        notional: Decimal,
    },
    /// A buy at most `multiplierUp` × mark, a sell at least
    /// `multiplierDown` × mark.
    #[serde(rename = "PERCENT_PRICE", rename_all = "camelCase")]
    PercentPrice {
        /// The buy cap's multiplier.
        multiplier_up: Decimal,
        /// The sell floor's multiplier.
        multiplier_down: Decimal,
        /// The multipliers' decimals, as text.
        multiplier_decimal: String,
    },
    /// The most open orders per symbol.
    #[serde(rename = "MAX_NUM_ORDERS")]
    MaxNumOrders {
        /// The limit.
        limit: u32,
    },
    /// The most open conditional orders per symbol.
    #[serde(rename = "MAX_NUM_ALGO_ORDERS")]
    MaxNumAlgoOrders {
        /// The limit.
        limit: u32,
    },
    /// A filter this crate does not know.
    #[serde(other)]
    Other,
}

/// A symbol's numbers rules, read from its filters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SymbolRules {
    /// The tick.
    pub tick_size: Decimal,
    /// The lowest price (0: none).
    pub min_price: Decimal,
    /// The highest price (0: none).
    pub max_price: Decimal,
    /// The quantity step of limit orders.
    pub step_size: Decimal,
    /// The smallest quantity.
    pub min_qty: Decimal,
    /// The largest limit-order quantity (0: none).
    pub max_qty: Decimal,
    /// The largest market-order quantity (0: none).
    pub max_market_qty: Decimal,
    /// The smallest notional (0: none), reduce-only orders exempt.
    pub min_notional: Decimal,
}

impl SymbolRules {
    /// The rules of a symbol's filters; `None` without both a price and a
    /// lot-size filter, which every tradable symbol has.
    pub fn from_filters(filters: &[Filter]) -> Option<SymbolRules> {
        let mut rules = SymbolRules::default();
        let (mut price, mut lot) = (false, false);
        for filter in filters {
            match filter {
                Filter::Price {
                    min_price,
                    max_price,
                    tick_size,
                } => {
                    price = true;
                    rules.tick_size = *tick_size;
                    rules.min_price = *min_price;
                    rules.max_price = *max_price;
                }
                Filter::LotSize {
                    min_qty,
                    max_qty,
                    step_size,
                } => {
                    lot = true;
                    rules.step_size = *step_size;
                    rules.min_qty = *min_qty;
                    rules.max_qty = *max_qty;
                }
                Filter::MarketLotSize { max_qty, .. } => rules.max_market_qty = *max_qty,
                Filter::MinNotional { notional } => rules.min_notional = *notional,
                _ => {}
            }
        }
        (price && lot).then_some(rules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Filters as Binance's exchangeInfo documentation shows them.
    const FILTERS: &str = r#"[
        {"filterType":"PRICE_FILTER","maxPrice":"300","minPrice":"0.0001","tickSize":"0.0001"},
        {"filterType":"LOT_SIZE","maxQty":"10000000","minQty":"1","stepSize":"1"},
        {"filterType":"MARKET_LOT_SIZE","maxQty":"590119","minQty":"1","stepSize":"1"},
        {"filterType":"MAX_NUM_ORDERS","limit":200},
        {"filterType":"MAX_NUM_ALGO_ORDERS","limit":10},
        {"filterType":"MIN_NOTIONAL","notional":"5.0"},
        {"filterType":"PERCENT_PRICE","multiplierUp":"1.1500","multiplierDown":"0.8500","multiplierDecimal":"4"},
        {"filterType":"SOMETHING_NEW","x":1}
    ]"#;

    #[test]
    fn documented_filters_read_into_rules_and_back() {
        let filters: Vec<Filter> = serde_json::from_str(FILTERS).unwrap();
        assert_eq!(filters.len(), 8);
        assert_eq!(filters[7], Filter::Other);
        let rules = SymbolRules::from_filters(&filters).unwrap();
        assert_eq!(rules.tick_size, Decimal::new(1, 4));
        assert_eq!(rules.step_size, Decimal::ONE);
        assert_eq!(rules.max_market_qty, Decimal::from(590_119));
        assert_eq!(rules.min_notional, Decimal::new(50, 1));
        let again: Vec<Filter> =
            serde_json::from_value(serde_json::to_value(&filters[..7]).unwrap()).unwrap();
        assert_eq!(again, filters[..7]);
        let written = serde_json::to_value(&filters[0]).unwrap();
        assert_eq!(written["filterType"], "PRICE_FILTER");
        assert_eq!(written["tickSize"], "0.0001");
        assert_eq!(SymbolRules::from_filters(&filters[2..]), None);
    }
}
