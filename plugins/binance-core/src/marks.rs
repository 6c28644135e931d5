//! Every symbol's mark price from the public `premiumIndex` endpoint, as the
//! signer reads it to value orders.

use rust_decimal::Decimal;
use serde::Deserialize;

/// `GET` here (no symbol) lists every symbol's mark, index and funding.
pub const MARK_PRICES_PATH: &str = "/fapi/v1/premiumIndex";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PremiumIndex {
    symbol: String,
    mark_price: String,
}

/// The `(symbol, mark)` pairs of a `premiumIndex` answer; an entry whose mark
/// is not a positive decimal is left out.
pub fn mark_prices(json: &str) -> Result<Vec<(String, Decimal)>, serde_json::Error> {
    let entries: Vec<PremiumIndex> = serde_json::from_str(json)?;
    Ok(entries
        .into_iter()
        .filter_map(|entry| {
            let mark: Decimal = entry.mark_price.parse().ok()?;
            (mark > Decimal::ZERO).then_some((entry.symbol, mark))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_read_per_symbol_and_unreadable_ones_left_out() {
        let json = r#"[
            {"symbol":"BTCUSDT","markPrice":"97000.10","indexPrice":"96990","lastFundingRate":"0.0001","time":1},
            {"symbol":"ETHUSDT","markPrice":"","indexPrice":"1","time":1},
            {"symbol":"XUSDT","markPrice":"0.00000000","time":1}
        ]"#;
        assert_eq!(
            mark_prices(json).unwrap(),
            vec![("BTCUSDT".to_owned(), "97000.10".parse().unwrap())]
        );
        assert!(mark_prices(r#"{"code":-1121,"msg":"Invalid symbol."}"#).is_err());
    }
}
