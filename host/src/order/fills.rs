//! An order's executions, each counted once by its trade id and kept with
//! the order (in the journal too), so that `fills` can list them later.

use std::collections::HashSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::TradeUpdate;

/// One execution of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fill {
    /// The exchange's id of the fill.
    pub trade_id: String,
    /// Execution price.
    pub price: Decimal,
    /// Executed size.
    pub amount: Decimal,
    /// Fee paid (negative for a rebate).
    pub fee: Decimal,
    /// The asset of the fee.
    pub fee_asset: String,
    /// When it happened, ms since the epoch.
    pub timestamp_ms: u64,
}

impl From<&TradeUpdate> for Fill {
    fn from(trade: &TradeUpdate) -> Fill {
        Fill {
            trade_id: trade.trade_id.clone(),
            price: trade.fill_price,
            amount: trade.fill_amount,
            fee: trade.fee,
            fee_asset: trade.fee_asset.clone(),
            timestamp_ms: trade.timestamp_ms,
        }
    }
}

/// The fills of one order in the order they were counted, with an index
/// of their trade ids. Written as a list of [`Fill`]s; the index is
/// rebuilt when read.
#[derive(Debug, Clone, Default)]
pub struct Fills {
    list: Vec<Fill>,
    ids: HashSet<String>,
}

impl Fills {
    /// Whether a fill with this trade id was counted.
    pub fn contains(&self, trade_id: &str) -> bool {
        self.ids.contains(trade_id)
    }

    /// Adds a fill whose trade id is not counted yet.
    pub fn push(&mut self, fill: Fill) {
        self.ids.insert(fill.trade_id.clone());
        self.list.push(fill);
    }

    /// How many were counted.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether none was.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The fills, oldest counted first.
    pub fn iter(&self) -> impl Iterator<Item = &Fill> {
        self.list.iter()
    }
}

impl PartialEq for Fills {
    fn eq(&self, other: &Fills) -> bool {
        self.list == other.list
    }
}

impl Serialize for Fills {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.list.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Fills {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Fills, D::Error> {
        let mut fills = Fills::default();
        for fill in Vec::<Fill>::deserialize(deserializer)? {
            if !fills.contains(&fill.trade_id) {
                fills.push(fill);
            }
        }
        Ok(fills)
    }
}
