//! Market-data and user-event fan-out to WebSocket sessions.
//!
//! Every message is serialized once, as the full `{"channel","data"}` frame,
//! and tagged with the subscription topic it belongs to; sessions forward the
//! topics they subscribed to.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hyperliquid_core::Address;
use serde_json::{Value, json};
use tokio::sync::broadcast;

/// A subscription target.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// `l2Book` of a coin.
    L2Book(String),
    /// `trades` of a coin.
    Trades(String),
    /// `bbo` of a coin.
    Bbo(String),
    /// `allMids`.
    AllMids,
    /// `activeAssetCtx` of a coin.
    ActiveAssetCtx(String),
    /// `orderUpdates` of a user.
    OrderUpdates(Address),
    /// `userFills` of a user.
    UserFills(Address),
    /// `userEvents` (channel `user`) of a user.
    UserEvents(Address),
}

/// One outgoing frame and its topic.
#[derive(Debug)]
pub struct FeedMessage {
    /// Publication sequence number (1, 2, …).
    pub sequence: u64,
    /// Which subscription receives it.
    pub topic: Topic,
    /// The full JSON frame.
    pub text: String,
}

/// `{"channel": channel, "data": data}` as text.
pub fn frame(channel: &str, data: &Value) -> String {
    json!({ "channel": channel, "data": data }).to_string()
}

/// The broadcast hub.
#[derive(Debug, Clone)]
pub struct Feed {
    sender: broadcast::Sender<Arc<FeedMessage>>,
    published: Arc<AtomicU64>,
}

/// Frames a lagging session may fall behind before it is disconnected.
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
    /// A receiver of every frame published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<FeedMessage>> {
        self.sender.subscribe()
    }

    /// Whether any session listens (lets producers skip building frames).
    pub fn active(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    /// Sequence number of the last published frame. Read under the engine
    /// lock (where every frame is published) it splits frames into those
    /// already reflected in the engine's state and later ones.
    pub fn last_sequence(&self) -> u64 {
        self.published.load(Ordering::SeqCst)
    }

    /// Publishes one frame.
    pub fn publish(&self, topic: Topic, channel: &str, data: &Value) {
        if self.active() {
            let sequence = self.published.fetch_add(1, Ordering::SeqCst) + 1;
            // Sending fails only when nobody listens, which is fine.
            let _ = self.sender.send(Arc::new(FeedMessage {
                sequence,
                topic,
                text: frame(channel, data),
            }));
        }
    }
}

#[derive(Debug, Default)]
struct UserBatch {
    fills: Vec<Value>,
    order_updates: Vec<Value>,
    non_user_cancels: Vec<Value>,
}

/// Events gathered while one action or block is processed, published together
/// as the exchange does per block.
#[derive(Debug, Default)]
pub struct Pending {
    users: BTreeMap<Address, UserBatch>,
    trades: BTreeMap<String, Vec<Value>>,
}

impl Pending {
    /// A fill of `user`.
    pub fn fill(&mut self, user: Address, fill: Value) {
        self.users.entry(user).or_default().fills.push(fill);
    }

    /// An order status change of `user`.
    pub fn order_update(&mut self, user: Address, update: Value) {
        self.users
            .entry(user)
            .or_default()
            .order_updates
            .push(update);
    }

    /// A cancel the user did not ask for (scheduled cancel, margin).
    pub fn non_user_cancel(&mut self, user: Address, coin: &str, oid: u64) {
        self.users
            .entry(user)
            .or_default()
            .non_user_cancels
            .push(json!({ "coin": coin, "oid": oid }));
    }

    /// A public trade.
    pub fn trade(&mut self, coin: &str, trade: Value) {
        self.trades.entry(coin.to_owned()).or_default().push(trade);
    }

    /// Publishes and clears everything gathered.
    pub fn flush(&mut self, feed: &Feed) {
        for (coin, trades) in std::mem::take(&mut self.trades) {
            feed.publish(Topic::Trades(coin), "trades", &Value::Array(trades));
        }
        for (user, batch) in std::mem::take(&mut self.users) {
            if !batch.order_updates.is_empty() {
                feed.publish(
                    Topic::OrderUpdates(user),
                    "orderUpdates",
                    &Value::Array(batch.order_updates),
                );
            }
            if !batch.fills.is_empty() {
                feed.publish(
                    Topic::UserFills(user),
                    "userFills",
                    &json!({ "user": user, "fills": batch.fills }),
                );
                feed.publish(
                    Topic::UserEvents(user),
                    "user",
                    &json!({ "fills": batch.fills }),
                );
            }
            if !batch.non_user_cancels.is_empty() {
                feed.publish(
                    Topic::UserEvents(user),
                    "user",
                    &json!({ "nonUserCancel": batch.non_user_cancels }),
                );
            }
        }
    }
}
