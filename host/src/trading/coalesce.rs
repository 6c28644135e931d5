//! Opportunistic coalescing of placements and modifies: while one request
//! of an exchange's placements (or modifies) is being signed and sent, new
//! ones wait, and go out together — one signed batch of at most the
//! venue's `max_batch` — as soon as that one has left. An idle exchange
//! sends each at once (no added delay); a busy one signs and sends once for
//! many. Venues without batches (`max_batch` 1), and orders sent over the
//! venue's trading socket (`order_transport = "websocket"`, where batches
//! would go over REST on some venues), go one by one as they come.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use abi_stable::std_types::RVec;
use plugin_api::{ModifyRequest, Operation, OrderRequest, Reply};
use tokio::sync::oneshot;

use super::{Inner, eager};
use crate::order::ClientOrderId;
use crate::runtime::Delivery;
use crate::runtime::clock::now_ms;

/// An order tracked and ready to send.
pub(super) type Ready = (ClientOrderId, OrderRequest);

/// A way out one batch holds at a time, and what waits for it.
pub(super) struct Gate<T> {
    state: Mutex<GateState<T>>,
}

struct GateState<T> {
    /// A batch is being signed or sent.
    busy: bool,
    /// What came meanwhile, oldest first.
    waiting: VecDeque<T>,
}

impl<T> Default for Gate<T> {
    fn default() -> Self {
        Gate {
            state: Mutex::new(GateState {
                busy: false,
                waiting: VecDeque::new(),
            }),
        }
    }
}

impl<T> Gate<T> {
    fn state(&self) -> std::sync::MutexGuard<'_, GateState<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `items`; when the way was free, takes it and returns the
    /// first batch (at most `batch`) to send now.
    fn enter(&self, items: impl IntoIterator<Item = T>, batch: usize) -> Option<Vec<T>> {
        let mut state = self.state();
        state.waiting.extend(items);
        if state.busy {
            return None;
        }
        state.busy = true;
        Some(take(&mut state.waiting, batch))
    }

    /// Once a batch has left (or failed to): the next one, or `None` when
    /// nothing waits, which frees the way.
    fn next(&self, batch: usize) -> Option<Vec<T>> {
        let mut state = self.state();
        if state.waiting.is_empty() {
            state.busy = false;
            return None;
        }
        Some(take(&mut state.waiting, batch))
    }
}

/// Placements that wait for the one on its way out.
pub(super) type Placements = Gate<Ready>;

/// Modifies that wait for the one on its way out.
pub(super) type Modifies = Gate<QueuedModify>;

/// A modify waiting to go out, and where its answer goes.
pub(super) struct QueuedModify {
    request: ModifyRequest,
    answer: oneshot::Sender<(Delivery, u64)>,
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
                self.send_placement(vec![order], Shape::Alone, Start::Here);
            }
            return;
        }
        if let Some(first) = self.placements.enter(orders, batch) {
            self.send_placement(first, Shape::Chained, Start::Here);
        }
    }

    /// Sends an entry with the exits the venue holds with it (the entry
    /// first): one request of its own.
    pub(super) fn place_with_exits(self: &Arc<Self>, group: Vec<Ready>) {
        self.send_placement(group, Shape::WithExits, Start::Here);
    }

    /// The next batch of waiting orders, sent once the placement before it
    /// has left (or failed to); nothing waiting frees the way.
    fn next_placement(self: &Arc<Self>) {
        if let Some(next) = self.placements.next(self.batch_size()) {
            self.send_placement(next, Shape::Chained, Start::OnRuntime);
        }
    }

    /// Signs, sends and applies one placement of `orders`, as `shape` says.
    fn send_placement(self: &Arc<Self>, orders: Vec<Ready>, shape: Shape, start: Start) {
        let (ids, requests): (Vec<ClientOrderId>, Vec<OrderRequest>) = orders.into_iter().unzip();
        let inner = Arc::clone(self);
        let task = async move {
            let requests = RVec::from(requests);
            let operation = plugin_api::operation(match shape {
                Shape::WithExits => Operation::PlaceWithExits(requests),
                Shape::Alone | Shape::Chained => Operation::PlaceOrders(requests),
            });
            let tracker = Arc::clone(&inner.tracker);
            let left = AtomicBool::new(false);
            let next = || {
                if matches!(shape, Shape::Chained) && !left.swap(true, Ordering::SeqCst) {
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

    /// Sends one modify — at once when no modify of the exchange is on its
    /// way out, else with the next batch of them — and returns what became
    /// of it, with the time its request expires. A trigger order's modify
    /// goes alone: a venue may refuse it outright (one that keeps trigger
    /// orders in a service of their own),
    /// which must not take other modifies down with it.
    pub(super) async fn deliver_modify(
        self: &Arc<Self>,
        request: ModifyRequest,
    ) -> (Delivery, u64) {
        let batch = self.batch_size();
        if batch == 1 || self.prefer_socket || request.target.kind.is_trigger() {
            let operation =
                plugin_api::operation(Operation::ModifyOrders(RVec::from(vec![request])));
            return self.deliver(&operation, || {}, || {}).await;
        }
        let (answer, answered) = oneshot::channel();
        if let Some(first) = self
            .modify_batches
            .enter([QueuedModify { request, answer }], batch)
        {
            // This task leads: it sends the first batch itself.
            Arc::clone(self).send_modifies(first).await;
        }
        answered.await.unwrap_or_else(|_| {
            (
                Delivery::NotSent("its batch ended without an answer".into()),
                now_ms(),
            )
        })
    }

    /// Signs and sends one batch of modifies, hands each its part of the
    /// answer, and lets the next batch follow (as a task of its own) once
    /// it has left. (Boxed: the next batch's task is this same future.)
    fn send_modifies(
        self: Arc<Self>,
        batch: Vec<QueuedModify>,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move {
            let (requests, answers): (Vec<ModifyRequest>, Vec<_>) = batch
                .into_iter()
                .map(|queued| (queued.request, queued.answer))
                .unzip();
            let operation = plugin_api::operation(Operation::ModifyOrders(RVec::from(requests)));
            let left = AtomicBool::new(false);
            let next = || {
                if !left.swap(true, Ordering::SeqCst)
                    && let Some(next) = self.modify_batches.next(self.batch_size())
                {
                    drop(self.runtime.spawn(Arc::clone(&self).send_modifies(next)));
                }
            };
            let (delivery, expires) = self.deliver(&operation, || {}, &next).await;
            next();
            let count = answers.len();
            for (index, answer) in answers.into_iter().enumerate() {
                let _ = answer.send((item_delivery(&delivery, index, count), expires));
            }
        })
    }
}

/// What one placement is.
#[derive(Clone, Copy)]
enum Shape {
    /// Orders on their own (a venue without batches, or over its socket).
    Alone,
    /// A batch that holds the way: the waiting orders follow once it has
    /// left.
    Chained,
    /// An entry with the exits the venue holds with it.
    WithExits,
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

/// What became of element `index` of a batch of `count`: its own item of
/// the answer when the answer has one per element, else the answer's
/// outcome; how the batch failed otherwise.
fn item_delivery(delivery: &Delivery, index: usize, count: usize) -> Delivery {
    match delivery {
        Delivery::Answered(reply) => {
            let outcome = match reply.items.get(index) {
                Some(item) if reply.items.len() == count => item.clone(),
                _ => reply.outcome.clone(),
            };
            Delivery::Answered(Box::new(Reply {
                outcome: outcome.clone(),
                items: RVec::from(vec![outcome]),
                events: RVec::new(),
                next: abi_stable::std_types::ROption::RNone,
            }))
        }
        failed => failed.clone(),
    }
}

/// Up to `count` of the oldest waiting items.
fn take<T>(waiting: &mut VecDeque<T>, count: usize) -> Vec<T> {
    let count = count.min(waiting.len());
    waiting.drain(..count).collect()
}
