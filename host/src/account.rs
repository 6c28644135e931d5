//! Balances and positions: refreshed from the exchange, published on
//! `account.<exchange>.balance` and `account.<exchange>.position` when they
//! change. A position missing from a complete set is closed and published
//! as size zero (a venue may omit closed positions instead of sending 0).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use plugin_api::{Balance, Event, Operation, Position, Positions};
use rust_decimal::Decimal;
use serde::Serialize;
use tokio::sync::{Notify, watch};
use tracing::warn;

use crate::publisher::{Family, JsonDecimal, Publisher};
use crate::runtime::Querier;
use crate::runtime::clock::now_ns;

/// How often the account is refreshed when nothing else asks for it.
pub const ACCOUNT_REFRESH: Duration = Duration::from_secs(5);

/// `account.<exchange>.balance`.
#[derive(Serialize)]
struct BalanceData<'a> {
    exchange: &'a str,
    asset: &'a str,
    total: JsonDecimal,
    available: JsonDecimal,
    exchange_time: u64,
}

/// `account.<exchange>.position`.
#[derive(Serialize)]
struct PositionData<'a> {
    exchange: &'a str,
    symbol: &'a str,
    size: JsonDecimal,
    entry_price: JsonDecimal,
    unrealized_pnl: JsonDecimal,
    leverage: u32,
    liquidation_price: Option<JsonDecimal>,
    exchange_time: u64,
}

#[derive(Debug, Clone, PartialEq)]
struct Held {
    size: Decimal,
    entry_price: Decimal,
    unrealized_pnl: Decimal,
    leverage: u32,
    liquidation_price: Option<Decimal>,
}

impl From<&Position> for Held {
    fn from(position: &Position) -> Held {
        Held {
            size: position.size.to_decimal(),
            entry_price: position.entry_price.to_decimal(),
            unrealized_pnl: position.unrealized_pnl.to_decimal(),
            leverage: position.leverage,
            liquidation_price: position
                .liquidation_price
                .into_option()
                .map(|p| p.to_decimal()),
        }
    }
}

#[derive(Default)]
struct State {
    balances: HashMap<String, (Decimal, Decimal)>,
    positions: HashMap<String, Held>,
}

/// One exchange account's balances and positions.
pub struct Account {
    exchange: String,
    symbols: HashMap<String, String>,
    state: Mutex<State>,
    publisher: Publisher,
    family: Family,
    refresh: Notify,
}

impl Account {
    /// An empty account; `symbols` maps venue symbols to host symbols.
    pub fn new(
        exchange: &str,
        symbols: HashMap<String, String>,
        publisher: Publisher,
    ) -> Arc<Account> {
        Arc::new(Account {
            exchange: exchange.to_owned(),
            symbols,
            state: Mutex::new(State::default()),
            family: publisher.family(&format!("account.{exchange}")),
            publisher,
            refresh: Notify::new(),
        })
    }

    /// The signed size of a position (zero when flat), by host or venue
    /// symbol.
    pub fn position(&self, symbol: &str) -> Decimal {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state
            .positions
            .iter()
            .find(|(venue, _)| {
                venue.as_str() == symbol || self.symbols.get(*venue).is_some_and(|s| s == symbol)
            })
            .map_or(Decimal::ZERO, |(_, held)| held.size)
    }

    /// The balances and positions held now, as the `snapshot` command
    /// gives them, and the seq of the last `account.<exchange>` event they
    /// include at least.
    pub fn snapshot(&self) -> serde_json::Value {
        let seq = self.family.last_seq();
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut balances: Vec<(&String, &(Decimal, Decimal))> = state.balances.iter().collect();
        balances.sort();
        let mut positions: Vec<(&str, &Held)> = state
            .positions
            .iter()
            .map(|(venue, held)| {
                let symbol = self
                    .symbols
                    .get(venue)
                    .map_or(venue.as_str(), String::as_str);
                (symbol, held)
            })
            .collect();
        positions.sort_by(|a, b| a.0.cmp(b.0));
        serde_json::json!({
            "seq": seq,
            "balances": balances.iter().map(|(asset, (total, available))| serde_json::json!({
                "asset": asset,
                "total": JsonDecimal::from(*total),
                "available": JsonDecimal::from(*available),
            })).collect::<Vec<_>>(),
            "positions": positions.iter().map(|(symbol, held)| serde_json::json!({
                "symbol": symbol,
                "size": JsonDecimal::from(held.size),
                "entry_price": JsonDecimal::from(held.entry_price),
                "unrealized_pnl": JsonDecimal::from(held.unrealized_pnl),
                "leverage": held.leverage,
                "liquidation_price": held.liquidation_price.map(JsonDecimal::from),
            })).collect::<Vec<_>>(),
        })
    }

    /// Asks for a refresh now (after a fill, for example).
    pub fn refresh_soon(&self) {
        self.refresh.notify_one();
    }

    /// Applies an account event, publishing what changed.
    pub fn apply(&self, event: &Event) {
        match event {
            Event::Balance(balance) => self.balance(balance),
            Event::Positions(positions) => self.positions(positions),
            _ => {}
        }
    }

    fn balance(&self, balance: &Balance) {
        let value = (balance.total.to_decimal(), balance.available.to_decimal());
        let changed = self
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .balances
            .insert(balance.asset.to_string(), value)
            != Some(value);
        if changed {
            self.publisher.publish(
                &self.family,
                format!("account.{}.balance", self.exchange),
                "balance",
                now_ns(),
                &BalanceData {
                    exchange: &self.exchange,
                    asset: &balance.asset,
                    total: value.0.into(),
                    available: value.1.into(),
                    exchange_time: balance.time_ms.saturating_mul(1_000_000),
                },
            );
        }
    }

    fn positions(&self, update: &Positions) {
        let mut changed: Vec<(String, Held)> = Vec::new();
        {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            for position in update.positions.iter() {
                let held = Held::from(position);
                if state.positions.get(position.market.as_str()) != Some(&held) {
                    changed.push((position.market.to_string(), held.clone()));
                }
                state.positions.insert(position.market.to_string(), held);
            }
            if update.complete {
                let closed: Vec<String> = state
                    .positions
                    .keys()
                    .filter(|venue| {
                        !update
                            .positions
                            .iter()
                            .any(|p| p.market.as_str() == venue.as_str())
                    })
                    .cloned()
                    .collect();
                for venue in closed {
                    if let Some(mut held) = state.positions.remove(&venue) {
                        held.size = Decimal::ZERO;
                        held.unrealized_pnl = Decimal::ZERO;
                        held.liquidation_price = None;
                        changed.push((venue, held));
                    }
                }
            }
        }
        for (venue, held) in changed {
            let symbol = self
                .symbols
                .get(&venue)
                .map_or(venue.as_str(), String::as_str);
            self.publisher.publish(
                &self.family,
                format!("account.{}.position", self.exchange),
                "position",
                now_ns(),
                &PositionData {
                    exchange: &self.exchange,
                    symbol,
                    size: held.size.into(),
                    entry_price: held.entry_price.into(),
                    unrealized_pnl: held.unrealized_pnl.into(),
                    leverage: held.leverage,
                    liquidation_price: held.liquidation_price.map(JsonDecimal),
                    exchange_time: update.time_ms.saturating_mul(1_000_000),
                },
            );
        }
    }

    /// Refreshes from the exchange every [`ACCOUNT_REFRESH`] and whenever
    /// [`refresh_soon`](Account::refresh_soon) asks, until shutdown.
    pub async fn keep_fresh(
        self: Arc<Self>,
        querier: Querier,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            match querier.events(Operation::FetchAccount).await {
                Ok(events) => events.iter().for_each(|event| self.apply(event)),
                Err(error) => warn!(exchange = %self.exchange, "account refresh failed: {error}"),
            }
            tokio::select! {
                _ = tokio::time::sleep(ACCOUNT_REFRESH) => {}
                _ = self.refresh.notified() => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
