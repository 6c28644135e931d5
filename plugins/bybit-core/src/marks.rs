//! Every linear symbol's mark price from the public tickers endpoint, as the
//! signer reads it to value orders.

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::envelope::Envelope;

/// `GET` here lists every linear symbol's ticker, `markPrice` among them.
pub const MARK_PRICES_PATH: &str = "/v5/market/tickers?category=linear";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ticker {
    symbol: String,
    mark_price: String,
}

#[derive(Deserialize)]
struct Tickers {
    list: Vec<Ticker>,
}

/// Why a tickers answer gave no marks.
#[derive(Debug, thiserror::Error)]
pub enum MarksError {
    /// Not an envelope with a ticker list.
    #[error("not a tickers answer: {0}")]
    Json(#[from] serde_json::Error),
    /// The venue refused the request.
    #[error("retCode {code}: {message}")]
    Refused {
        /// `retCode`.
        code: i64,
        /// `retMsg`.
        message: String,
    },
}

/// The `(symbol, mark)` pairs of a tickers answer; an entry whose mark is
/// not a positive decimal is left out.
pub fn mark_prices(json: &str) -> Result<Vec<(String, Decimal)>, MarksError> {
    let envelope = Envelope::parse(json)?;
    if envelope.ret_code != 0 {
        return Err(MarksError::Refused {
            code: envelope.ret_code,
            message: envelope.ret_msg,
        });
    }
    let tickers = Tickers::deserialize(envelope.result)?;
    Ok(tickers
        .list
        .into_iter()
        .filter_map(|ticker| {
            let mark: Decimal = ticker.mark_price.parse().ok()?;
            (mark > Decimal::ZERO).then_some((ticker.symbol, mark))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_read_per_symbol_and_refusals_are_errors() {
        let json = r#"{"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[
            {"symbol":"BTCUSDT","lastPrice":"97001","markPrice":"97000.5"},
            {"symbol":"ETHUSDT","lastPrice":"1","markPrice":""}
        ]},"retExtInfo":{},"time":1}"#;
        assert_eq!(
            mark_prices(json).unwrap(),
            vec![("BTCUSDT".to_owned(), "97000.5".parse().unwrap())]
        );
        let refused = r#"{"retCode":10001,"retMsg":"params error","result":{},"time":1}"#;
        assert_eq!(
            mark_prices(refused).unwrap_err().to_string(),
            "retCode 10001: params error"
        );
    }
}
