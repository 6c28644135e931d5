//! Bybit's order identity over the core's: one `orderId` (kept across
//! amends, which the core carries out as cancel-and-replace with a new core
//! order id) and one `orderLinkId` per order, unique per account forever.

use std::collections::HashMap;

use hyperliquid_core::Address;
use rust_decimal::Decimal;

use crate::book::Oid;
use crate::engine::Engine;
use crate::orders::{OrderRecord, OrderState};

/// What a Bybit order is besides its core records.
#[derive(Debug, Clone)]
pub struct BybitOrder {
    /// `orderId`.
    pub order_id: String,
    /// `orderLinkId` ("" when none).
    pub link_id: String,
    /// Owner.
    pub user: Address,
    /// Market index.
    pub market: usize,
    /// Symbol (`BTCUSDT`).
    pub symbol: String,
    /// Buy side.
    pub is_buy: bool,
    /// `Limit` or `Market`.
    pub order_type: &'static str,
    /// `GTC`, `IOC`, `FOK` or `PostOnly`.
    pub tif: &'static str,
    /// Total quantity (including what filled before an amend).
    pub qty: Decimal,
    /// Limit price (0 for market orders).
    pub price: Decimal,
    /// Conditional trigger price.
    pub trigger_price: Option<Decimal>,
    /// 1 rise, 2 fall, 0 none.
    pub trigger_direction: u8,
    /// Take-profit price set on create.
    pub take_profit: Option<Decimal>,
    /// Stop-loss price set on create.
    pub stop_loss: Option<Decimal>,
    /// `""`, `TakeProfit` or `StopLoss` (the orders TP/SL on create makes).
    pub stop_order_type: &'static str,
    /// Reduce only.
    pub reduce_only: bool,
    /// The core orders, oldest first (one more per amend).
    pub oids: Vec<Oid>,
    /// Creation time (ms).
    pub created: u64,
    /// Last change made through the API (ms).
    pub updated: u64,
}

/// Derived live facts of a Bybit order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// `orderStatus`.
    pub status: &'static str,
    /// Executed quantity over every core order.
    pub cum_qty: Decimal,
    /// Executed value.
    pub cum_value: Decimal,
    /// Fees paid.
    pub cum_fee: Decimal,
    /// Open quantity.
    pub leaves: Decimal,
    /// `cancelType`.
    pub cancel_type: &'static str,
    /// `rejectReason`.
    pub reject_reason: &'static str,
    /// Time of the last status change (ms).
    pub updated: u64,
}

impl BybitOrder {
    /// The current core order.
    pub fn current(&self) -> Option<Oid> {
        self.oids.last().copied()
    }

    /// Status, executed amounts and reasons, from the core's records.
    pub fn progress(&self, engine: &Engine) -> Progress {
        let records: Vec<&OrderRecord> = self
            .oids
            .iter()
            .filter_map(|oid| engine.orders.get(oid))
            .collect();
        let cum_qty: Decimal = records.iter().map(|r| r.filled).sum();
        let cum_value: Decimal = records.iter().map(|r| r.filled_notional).sum();
        let cum_fee: Decimal = records.iter().map(|r| r.fees).sum();
        let Some(last) = records.last() else {
            return Progress {
                status: "Rejected",
                cum_qty,
                cum_value,
                cum_fee,
                leaves: Decimal::ZERO,
                cancel_type: "UNKNOWN",
                reject_reason: "EC_NoError",
                updated: self.updated,
            };
        };
        let waiting = last.trigger.is_some_and(|t| !t.fired);
        let (status, cancel_type, reject_reason) = match last.status {
            OrderState::Open | OrderState::Triggered if waiting => ("Untriggered", "UNKNOWN", ""),
            OrderState::Open | OrderState::Triggered if cum_qty > Decimal::ZERO => {
                ("PartiallyFilled", "UNKNOWN", "")
            }
            OrderState::Open | OrderState::Triggered => ("New", "UNKNOWN", ""),
            OrderState::Filled => ("Filled", "UNKNOWN", ""),
            state => {
                let cancel_type = match state {
                    OrderState::ScheduledCancel => "CancelByDCP",
                    OrderState::ReduceOnlyCanceled => "CancelByReduceOnly",
                    OrderState::MarginCanceled => "CancelByCannotAffordOrderCost",
                    OrderState::SelfTradeCanceled => "CancelBySmp",
                    OrderState::Canceled if self.tif == "IOC" || self.tif == "FOK" => "UNKNOWN",
                    OrderState::Canceled => "CancelByUser",
                    _ => "UNKNOWN",
                };
                let reason = match state {
                    OrderState::BadAloPxRejected => "EC_PostOnlyWillTakeLiquidity",
                    OrderState::IocCancelRejected => "EC_NoImmediateQtyToFill",
                    _ => "EC_NoError",
                };
                let status = if waiting { "Deactivated" } else { "Cancelled" };
                (status, cancel_type, reason)
            }
        };
        let leaves = if last.status.is_open() {
            last.sz
        } else {
            Decimal::ZERO
        };
        Progress {
            status,
            cum_qty,
            cum_value,
            cum_fee,
            leaves,
            cancel_type,
            reject_reason: if reject_reason.is_empty() {
                "EC_NoError"
            } else {
                reject_reason
            },
            updated: last.status_timestamp.max(self.updated),
        }
    }
}

/// Every Bybit order and the maps into it.
#[derive(Debug, Default)]
pub struct Ids {
    orders: HashMap<String, BybitOrder>,
    by_oid: HashMap<Oid, String>,
    by_link: HashMap<(Address, String), String>,
    per_user: HashMap<Address, Vec<String>>,
}

/// `orderId` of an order whose first core order is `oid`: UUID-shaped.
pub fn order_id_of(oid: Oid) -> String {
    format!("00000000-0000-4000-8000-{oid:012}")
}

impl Ids {
    /// Whether `user` used `link_id` before.
    pub fn link_used(&self, user: Address, link_id: &str) -> bool {
        self.by_link.contains_key(&(user, link_id.to_owned()))
    }

    /// Registers a new order.
    pub fn insert(&mut self, order: BybitOrder) {
        for oid in &order.oids {
            self.by_oid.insert(*oid, order.order_id.clone());
        }
        if !order.link_id.is_empty() {
            self.by_link
                .insert((order.user, order.link_id.clone()), order.order_id.clone());
        }
        self.per_user
            .entry(order.user)
            .or_default()
            .push(order.order_id.clone());
        self.orders.insert(order.order_id.clone(), order);
    }

    /// Adds the core order an amend made.
    pub fn add_oid(&mut self, order_id: &str, oid: Oid) {
        if let Some(order) = self.orders.get_mut(order_id) {
            order.oids.push(oid);
            self.by_oid.insert(oid, order_id.to_owned());
        }
    }

    /// An order by id.
    pub fn get(&self, order_id: &str) -> Option<&BybitOrder> {
        self.orders.get(order_id)
    }

    /// An order by id, to change.
    pub fn get_mut(&mut self, order_id: &str) -> Option<&mut BybitOrder> {
        self.orders.get_mut(order_id)
    }

    /// The order of a core order id.
    pub fn of_oid(&self, oid: Oid) -> Option<&BybitOrder> {
        self.orders.get(self.by_oid.get(&oid)?)
    }

    /// An order of `user` by `orderId` (preferred) or `orderLinkId`.
    pub fn find(
        &self,
        user: Address,
        order_id: Option<&str>,
        link_id: Option<&str>,
    ) -> Option<&BybitOrder> {
        let id = match (order_id, link_id) {
            (Some(id), _) => id.to_owned(),
            (None, Some(link)) => self.by_link.get(&(user, link.to_owned()))?.clone(),
            (None, None) => return None,
        };
        self.orders.get(&id).filter(|o| o.user == user)
    }

    /// Every order of `user`, newest first.
    pub fn of_user(&self, user: Address) -> impl Iterator<Item = &BybitOrder> {
        self.per_user
            .get(&user)
            .into_iter()
            .flat_map(|ids| ids.iter().rev())
            .filter_map(|id| self.orders.get(id))
    }
}
