//! Orders and fills from the journal, by market and time: the `history`
//! and `fills` commands. The journal has every order of the last day
//! (closed ones too, long after the tracker has let them go).

use std::path::Path;

use super::last_orders;
use crate::order::{Fill, InFlightOrder};

/// Which orders or fills a query wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Window {
    /// Only this market (host symbol).
    pub trading_pair: Option<String>,
    /// From this time on, ms since the epoch.
    pub since_ms: Option<u64>,
    /// Before this time, ms since the epoch.
    pub until_ms: Option<u64>,
}

impl Window {
    fn market(&self, order: &InFlightOrder) -> bool {
        self.trading_pair
            .as_deref()
            .is_none_or(|pair| pair == order.spec.trading_pair)
    }

    fn contains(&self, time_ms: u64) -> bool {
        self.since_ms.is_none_or(|since| time_ms >= since)
            && self.until_ms.is_none_or(|until| time_ms < until)
    }

    /// Whether the order was alive at some time in the window: created
    /// before its end, and live still or closed after its start.
    fn overlaps(&self, order: &InFlightOrder) -> bool {
        let end = if order.state.is_terminal() {
            order.last_update_timestamp_ms
        } else {
            u64::MAX
        };
        self.until_ms
            .is_none_or(|until| order.spec.creation_timestamp_ms < until)
            && self.since_ms.is_none_or(|since| end >= since)
    }
}

/// The orders of the journal at `path` that were alive during the window,
/// in their last recorded state.
pub fn orders(path: &Path, window: &Window) -> std::io::Result<Vec<InFlightOrder>> {
    last_orders(path, |order| window.market(order) && window.overlaps(order))
}

/// The fills in the window of the journal at `path`'s orders, each with
/// its order.
pub fn fills(path: &Path, window: &Window) -> std::io::Result<Vec<(InFlightOrder, Fill)>> {
    let with_fills_in_window = |order: &InFlightOrder| {
        window.market(order)
            && order
                .fills
                .iter()
                .any(|fill| window.contains(fill.timestamp_ms))
    };
    Ok(last_orders(path, with_fills_in_window)?
        .into_iter()
        .flat_map(|order| {
            let fills: Vec<Fill> = order
                .fills
                .iter()
                .filter(|fill| window.contains(fill.timestamp_ms))
                .cloned()
                .collect();
            fills.into_iter().map(move |fill| (order.clone(), fill))
        })
        .collect())
}
