//! Opportunistic coalescing of placements: while one placement of an
//! exchange is being signed and sent, new orders for it wait, and go out
//! together — one signed batch of at most the venue's `max_batch` — as
//! soon as that one has left. An idle exchange sends each order at once
//! (no added delay); a busy one signs and sends once for many orders.
//! Venues without batches (`max_batch` 1), and orders sent over the
//! venue's trading socket (`order_transport = "websocket"`, where batches
//! would go over REST on some venues), go one by one as they come.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use abi_stable::std_types::RVec;
use plugin_api::{Operation, OrderRequest};

use super::{Inner, eager};
use crate::order::ClientOrderId;
use crate::runtime::clock::now_ms;

/// An order tracked and ready to send.
pub(super) type Ready = (ClientOrderId, OrderRequest);

/// Whether a placement is on its way out, and the orders waiting for it.
#[derive(Default)]
pub(super) struct Placements {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// A placement is being signed or sent.
    busy: bool,
    /// Orders that came meanwhile, oldest first.
    waiting: VecDeque<Ready>,
}

impl Placements {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    /// The most orders one request of this venue carries.
    pub(super) fn batch_size(&self) -> usize {
        (self.manifest.max_batch as usize).max(1)
    }

    /// Sends `orders` (in order): at once when no placement is on its way
    /// out, else with the next one.
    pub(super) fn place(self: &Arc<Self>, orders: Vec<Ready>) {
        if orders.is_empty() {
            return;
        }
        let batch = self.batch_size();
        if batch == 1 || self.prefer_socket {
            for order in orders {
                self.send_placement(vec![order], Chained::No, Start::Here);
            }
            return;
        }
        let first = {
            let mut state = self.placements.state();
            state.waiting.extend(orders);
            if state.busy {
                return;
            }
            state.busy = true;
            take(&mut state.waiting, batch)
        };
        self.send_placement(first, Chained::Yes, Start::Here);
    }

    /// The next batch of waiting orders, sent once the placement before it
    /// has left (or failed to); nothing waiting frees the way.
    fn next_placement(self: &Arc<Self>) {
        let next = {
            let mut state = self.placements.state();
            if state.waiting.is_empty() {
                state.busy = false;
                return;
            }
            take(&mut state.waiting, self.batch_size())
        };
        self.send_placement(next, Chained::Yes, Start::OnRuntime);
    }

    /// Signs, sends and applies one placement of `orders`; when `chained`,
    /// the next waiting orders follow once it has left.
    fn send_placement(self: &Arc<Self>, orders: Vec<Ready>, chained: Chained, start: Start) {
        let (ids, requests): (Vec<ClientOrderId>, Vec<OrderRequest>) = orders.into_iter().unzip();
        let inner = Arc::clone(self);
        let task = async move {
            let operation = plugin_api::operation(Operation::PlaceOrders(RVec::from(requests)));
            let tracker = Arc::clone(&inner.tracker);
            let left = AtomicBool::new(false);
            let next = || {
                if matches!(chained, Chained::Yes) && !left.swap(true, Ordering::SeqCst) {
                    inner.next_placement();
                }
            };
            // The journal has them already; their events are published
            // during the first wait (the signer, or capacity to send), where
            // that work delays neither the reply just sent nor the request
            // (the tracker publishes an order's first anyway if anything
            // happens to it before).
            let (delivery, expires) = inner
                .deliver(
                    &operation,
                    || ids.iter().for_each(|id| tracker.announce_created(*id)),
                    || {
                        let now = now_ms();
                        for id in &ids {
                            let _ = tracker.mark_submitted(*id, now);
                        }
                        next();
                    },
                )
                .await;
            next();
            inner.apply_place(&ids, delivery, expires);
        };
        match start {
            Start::Here => eager::spawn_eagerly(&self.runtime, task),
            Start::OnRuntime => drop(self.runtime.spawn(task)),
        }
    }
}

/// Whether the waiting orders follow a placement once it has left.
#[derive(Clone, Copy)]
enum Chained {
    /// Yes: it holds the way for them.
    Yes,
    /// No: it goes on its own (a venue without batches).
    No,
}

/// Where a placement starts.
#[derive(Clone, Copy)]
enum Start {
    /// On the caller's thread until its first wait (new orders: the
    /// command thread).
    Here,
    /// As a task of its own (from another placement's hook).
    OnRuntime,
}

/// Up to `count` of the oldest waiting orders.
fn take(waiting: &mut VecDeque<Ready>, count: usize) -> Vec<Ready> {
    let count = count.min(waiting.len());
    waiting.drain(..count).collect()
}
