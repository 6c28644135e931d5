//! Every Bybit REST answer (and every trade-socket reply's core):
//! `{"retCode", "retMsg", "result", "retExtInfo", "time"}`, HTTP 200 also
//! for business errors.

use serde::Deserialize;
use serde_json::Value;

use crate::codes::{self, Meaning};

/// One answer, its `result` left for the caller to read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// `retCode`: zero for success.
    pub ret_code: i64,
    /// `retMsg`.
    #[serde(default)]
    pub ret_msg: String,
    /// `result` (an object; empty on errors).
    #[serde(default)]
    pub result: Value,
    /// `retExtInfo`: per-item codes of a batch (`list`).
    #[serde(default)]
    pub ret_ext_info: Value,
    /// Server time, ms.
    #[serde(default)]
    pub time: u64,
}

/// One item's code of a batch answer (`retExtInfo.list[i]`).
#[derive(Debug, Clone, Deserialize)]
pub struct ItemCode {
    /// The item's `code`.
    pub code: i64,
    /// The item's `msg`.
    #[serde(default)]
    pub msg: String,
}

impl Envelope {
    /// Reads an answer body.
    pub fn parse(body: &str) -> Result<Envelope, serde_json::Error> {
        serde_json::from_str(body)
    }

    /// What the answer proves.
    pub fn meaning(&self) -> Meaning {
        codes::meaning(self.ret_code)
    }

    /// The per-item codes of a batch answer, in request order.
    pub fn item_codes(&self) -> Result<Vec<ItemCode>, serde_json::Error> {
        match self.ret_ext_info.get("list") {
            Some(list) => Vec::<ItemCode>::deserialize(list),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_answers_and_batch_items() {
        let answer = Envelope::parse(
            r#"{"retCode":0,"retMsg":"OK","result":{"list":[{"orderId":"1"},{"orderId":""}]},
                "retExtInfo":{"list":[{"code":0,"msg":"OK"},{"code":110001,"msg":"order not exists"}]},"time":1}"#,
        )
        .unwrap();
        assert_eq!(answer.meaning(), Meaning::Done);
        let items = answer.item_codes().unwrap();
        assert_eq!(items[1].code, codes::ORDER_NOT_FOUND);
        let refused = Envelope::parse(
            r#"{"retCode":10004,"retMsg":"error sign!","result":{},"retExtInfo":{},"time":2}"#,
        )
        .unwrap();
        assert_eq!(
            refused.meaning(),
            Meaning::Refused(codes::Refusal::Authentication)
        );
        assert!(refused.item_codes().unwrap().is_empty());
        assert!(Envelope::parse("<html>").is_err());
    }
}
