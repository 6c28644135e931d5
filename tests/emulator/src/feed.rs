//! The core's venue-neutral event model and its fan-out to WebSocket
//! sessions: order updates, fills, cancels the user did not ask for, public
//! trades and market refreshes ([`Event`]). Each front end's sessions
//! translate the events they subscribed to into the venue's frames.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hyperliquid_core::B256;
use rust_decimal::Decimal;
use tokio::sync::broadcast;

use crate::account::AccountId;
use crate::book::Oid;
use crate::orders::{Fill, OrderRecord};

/// One public trade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Print {
    /// Trade id (shared by both sides' fills).
    pub tid: u64,
    /// Price.
    pub px: Decimal,
    /// Size.
    pub sz: Decimal,
    /// Whether the taker bought.
    pub taker_buys: bool,
    /// Time (ms).
    pub time: u64,
    /// Transaction hash of the action or block.
    pub hash: B256,
    /// Buyer.
    pub buyer: AccountId,
    /// Seller.
    pub seller: AccountId,
}

/// Something that happened in the core.
#[derive(Debug, Clone)]
pub enum Event {
    /// Orders of one account changed status (their records at that moment).
    OrderUpdates {
        /// The owner.
        account: AccountId,
        /// The records, in the order of the changes.
        orders: Vec<OrderRecord>,
    },
    /// Fills of one account.
    Fills {
        /// The owner.
        account: AccountId,
        /// The fills, oldest first.
        fills: Vec<Fill>,
    },
    /// Orders the core cancelled without the owner asking (scheduled cancel,
    /// margin): market index and order id.
    NonUserCancels {
        /// The owner.
        account: AccountId,
        /// Market and order id of each.
        cancels: Vec<(usize, Oid)>,
    },
    /// Public trades of a market.
    Trades {
        /// Market index.
        market: usize,
        /// The trades, oldest first.
        trades: Vec<Print>,
    },
    /// A market's book, best bid and offer and context were refreshed
    /// (published when the book changed, and at least every second).
    Market {
        /// Market index.
        market: usize,
        /// Time (ms).
        time: u64,
    },
    /// A block ended (every market's mid may have moved).
    Block {
        /// Time (ms).
        time: u64,
    },
}

/// One published event.
#[derive(Debug)]
pub struct FeedMessage {
    /// Publication sequence number (1, 2, …).
    pub sequence: u64,
    /// What happened.
    pub event: Event,
}

/// The broadcast hub.
#[derive(Debug, Clone)]
pub struct Feed {
    sender: broadcast::Sender<Arc<FeedMessage>>,
    published: Arc<AtomicU64>,
}

/// Events a lagging session may fall behind before it is disconnected.
const FEED_CAPACITY: usize = 16_384;

impl Default for Feed {
    fn default() -> Self {
        Self {
            sender: broadcast::Sender::new(FEED_CAPACITY),
            published: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Feed {
    /// A receiver of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<FeedMessage>> {
        self.sender.subscribe()
    }

    /// Whether any session listens (lets producers skip building events).
    pub fn active(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    /// Sequence number of the last published event. Read under the engine
    /// lock (where every event is published) it splits events into those
    /// already reflected in the engine's state and later ones.
    pub fn last_sequence(&self) -> u64 {
        self.published.load(Ordering::SeqCst)
    }

    /// Publishes one event.
    pub fn publish(&self, event: Event) {
        if self.active() {
            let sequence = self.published.fetch_add(1, Ordering::SeqCst) + 1;
            // Sending fails only when nobody listens, which is fine.
            let _ = self.sender.send(Arc::new(FeedMessage { sequence, event }));
        }
    }
}

#[derive(Debug, Default)]
struct AccountBatch {
    fills: Vec<Fill>,
    order_updates: Vec<OrderRecord>,
    non_user_cancels: Vec<(usize, Oid)>,
}

/// Events gathered while one action or block is processed, published together
/// as the exchange does per block.
#[derive(Debug, Default)]
pub struct Pending {
    accounts: BTreeMap<AccountId, AccountBatch>,
    trades: BTreeMap<usize, Vec<Print>>,
}

impl Pending {
    /// A fill of `account`.
    pub fn fill(&mut self, account: AccountId, fill: Fill) {
        self.accounts.entry(account).or_default().fills.push(fill);
    }

    /// An order status change (the record as it now stands).
    pub fn order_update(&mut self, order: OrderRecord) {
        self.accounts
            .entry(order.user)
            .or_default()
            .order_updates
            .push(order);
    }

    /// A cancel the owner did not ask for (scheduled cancel, margin).
    pub fn non_user_cancel(&mut self, account: AccountId, market: usize, oid: Oid) {
        self.accounts
            .entry(account)
            .or_default()
            .non_user_cancels
            .push((market, oid));
    }

    /// A public trade.
    pub fn trade(&mut self, market: usize, print: Print) {
        self.trades.entry(market).or_default().push(print);
    }

    /// Publishes and clears everything gathered.
    pub fn flush(&mut self, feed: &Feed) {
        for (market, trades) in std::mem::take(&mut self.trades) {
            feed.publish(Event::Trades { market, trades });
        }
        for (account, batch) in std::mem::take(&mut self.accounts) {
            if !batch.order_updates.is_empty() {
                feed.publish(Event::OrderUpdates {
                    account,
                    orders: batch.order_updates,
                });
            }
            if !batch.fills.is_empty() {
                feed.publish(Event::Fills {
                    account,
                    fills: batch.fills,
                });
            }
            if !batch.non_user_cancels.is_empty() {
                feed.publish(Event::NonUserCancels {
                    account,
                    cancels: batch.non_user_cancels,
                });
            }
        }
    }
}
