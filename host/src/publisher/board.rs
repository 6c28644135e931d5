//! The latest state of each exchange's connections and dead man's switch,
//! as last published on `host.status.*`, for the `status` command (a
//! subscriber that starts late has missed those events).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use serde_json::Value;

/// What the board keeps of one exchange.
#[derive(Debug, Clone, Default)]
pub struct ExchangeBoard {
    /// Each connection's last `host.status.connection` data, with `since`
    /// (ns) added, by connection id.
    pub connections: BTreeMap<String, Value>,
    /// The last `host.status.dead_man_switch` data, with `since` added.
    pub dead_man_switch: Option<Value>,
}

/// The latest published status of every exchange of one host.
#[derive(Debug, Default)]
pub struct StatusBoard {
    exchanges: Mutex<BTreeMap<String, ExchangeBoard>>,
}

impl StatusBoard {
    fn with<T>(&self, exchange: &str, change: impl FnOnce(&mut ExchangeBoard) -> T) -> T {
        let mut exchanges = self
            .exchanges
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        change(exchanges.entry(exchange.to_owned()).or_default())
    }

    /// Notes a connection's new state (`data` as published); `since` is
    /// kept from before while the state stays the same.
    pub fn connection(&self, exchange: &str, connection: &str, data: Value, now_ns: u64) {
        self.with(exchange, |board| {
            let next = since(data, board.connections.get(connection), now_ns);
            board.connections.insert(connection.to_owned(), next);
        });
    }

    /// Notes the dead man's switch's new state (`data` as published).
    pub fn dead_man_switch(&self, exchange: &str, data: Value, now_ns: u64) {
        self.with(exchange, |board| {
            let next = since(data, board.dead_man_switch.as_ref(), now_ns);
            board.dead_man_switch = Some(next);
        });
    }

    /// What is known of `exchange` (empty before its first status).
    pub fn exchange(&self, exchange: &str) -> ExchangeBoard {
        self.exchanges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(exchange)
            .cloned()
            .unwrap_or_default()
    }
}

/// `data` with `since`: the previous one's when the state did not change,
/// otherwise now.
fn since(mut data: Value, previous: Option<&Value>, now_ns: u64) -> Value {
    let same_state = previous.is_some_and(|old| old.get("state") == data.get("state"));
    let since = previous
        .filter(|_| same_state)
        .and_then(|old| old.get("since"))
        .cloned()
        .unwrap_or_else(|| now_ns.into());
    if let Value::Object(object) = &mut data {
        object.insert("since".into(), since);
    }
    data
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_state_keeps_its_since_until_it_changes() {
        let board = StatusBoard::default();
        board.connection("hl", "user", json!({"state": "up"}), 10);
        board.connection("hl", "user", json!({"state": "up"}), 20);
        assert_eq!(board.exchange("hl").connections["user"]["since"], 10);
        board.connection("hl", "user", json!({"state": "down", "reason": "eof"}), 30);
        let user = &board.exchange("hl").connections["user"];
        assert_eq!(
            (user["state"].as_str(), user["since"].as_u64()),
            (Some("down"), Some(30))
        );
        board.dead_man_switch("hl", json!({"state": "armed", "deadline": 5}), 40);
        board.dead_man_switch("hl", json!({"state": "armed", "deadline": 9}), 50);
        let switch = board.exchange("hl").dead_man_switch.unwrap();
        assert_eq!(
            (switch["deadline"].as_u64(), switch["since"].as_u64()),
            (Some(9), Some(40))
        );
        assert!(board.exchange("other").connections.is_empty());
    }
}
