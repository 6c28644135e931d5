//! Events out: a ZeroMQ PUB socket on its own thread, fed by a bounded
//! queue.
//!
//! Publishing never blocks the caller: when the queue is full the event is
//! dropped and counted. Every event carries a sequence number per topic
//! family (`orders.<exchange>`, `market.<exchange>`, …) taken when it is
//! queued, so a subscriber sees any drop — ours or ZeroMQ's — as a gap.
//! The body schemas are in `docs/events.md`.

mod json;
pub mod market;
mod orders;
mod status;
mod topics;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;
use tracing::{error, warn};

pub use json::JsonDecimal;
pub use orders::{OrderEventPublisher, order_json};
pub use status::StatusPublisher;
pub use topics::{OrderEventKind, order_event_kind};

/// How often an idle publishing thread checks whether it should stop.
const CLOSE_CHECK: Duration = Duration::from_millis(20);

/// One message on the wire: `[topic, body]`.
struct Message {
    topic: String,
    body: Vec<u8>,
}

/// Why the publisher could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot publish on {endpoint}: {source}")]
pub struct PublisherError {
    /// The endpoint.
    pub endpoint: String,
    /// ZeroMQ's error.
    pub source: zmq::Error,
}

/// Counters of a running publisher.
#[derive(Debug, Default)]
pub struct PublisherStats {
    /// Events handed to the socket.
    pub sent: AtomicU64,
    /// Events dropped because the queue was full.
    pub dropped: AtomicU64,
}

/// A sequence counter for one topic family.
#[derive(Debug, Clone)]
pub struct Family {
    name: Arc<str>,
    next: Arc<AtomicU64>,
}

impl Family {
    /// The family's name, e.g. `orders.hl-local`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The body every event is wrapped in: the seed's `event_type`, `timestamp`
/// (ns) and `data`, plus the family sequence number.
#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    event_type: &'a str,
    timestamp: u64,
    seq: u64,
    data: &'a T,
}

/// A cheap-to-clone handle to publish events.
#[derive(Clone)]
pub struct Publisher {
    queue: SyncSender<Message>,
    stats: Arc<PublisherStats>,
    families: Arc<Mutex<HashMap<String, Family>>>,
}

/// Owns the publishing thread.
pub struct PublisherThread {
    handle: JoinHandle<()>,
    closing: Arc<AtomicBool>,
}

impl PublisherThread {
    /// Hands every event queued so far to the socket, then stops the thread
    /// (handles that are still alive publish into nothing afterwards).
    pub fn join(self) {
        self.closing.store(true, Ordering::SeqCst);
        if self.handle.join().is_err() {
            error!("the publisher thread panicked");
        }
    }
}

impl Publisher {
    /// Binds a PUB socket at `endpoint` and starts its thread.
    pub fn start(
        endpoint: &str,
        capacity: usize,
    ) -> Result<(Publisher, PublisherThread), PublisherError> {
        let error = |source| PublisherError {
            endpoint: endpoint.to_owned(),
            source,
        };
        let context = zmq::Context::new();
        let socket = context.socket(zmq::PUB).map_err(error)?;
        // Never block and never grow without bound inside ZeroMQ either.
        socket
            .set_sndhwm(capacity.try_into().unwrap_or(i32::MAX))
            .map_err(error)?;
        socket.set_linger(1_000).map_err(error)?;
        socket.bind(endpoint).map_err(error)?;
        let (queue, receiver) = sync_channel(capacity.max(1));
        let stats = Arc::new(PublisherStats::default());
        let thread_stats = Arc::clone(&stats);
        let closing = Arc::new(AtomicBool::new(false));
        let thread_closing = Arc::clone(&closing);
        let handle = std::thread::Builder::new()
            .name("zmq-publisher".into())
            .spawn(move || run(socket, receiver, &thread_stats, &thread_closing))
            .map_err(|e| error(zmq::Error::from_raw(e.raw_os_error().unwrap_or(0))))?;
        Ok((
            Publisher {
                queue,
                stats,
                families: Arc::new(Mutex::new(HashMap::new())),
            },
            PublisherThread { handle, closing },
        ))
    }

    /// The counters.
    pub fn stats(&self) -> &PublisherStats {
        &self.stats
    }

    /// The sequence counter of a topic family (created on first use).
    pub fn family(&self, name: &str) -> Family {
        self.families
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(name.to_owned())
            .or_insert_with(|| Family {
                name: name.into(),
                next: Arc::new(AtomicU64::new(1)),
            })
            .clone()
    }

    /// Queues one event. Returns false (and counts it) when the queue was
    /// full and the event was dropped.
    pub fn publish<T: Serialize>(
        &self,
        family: &Family,
        topic: String,
        event_type: &str,
        timestamp_ns: u64,
        data: &T,
    ) -> bool {
        let seq = family.next.fetch_add(1, Ordering::Relaxed);
        let envelope = Envelope {
            event_type,
            timestamp: timestamp_ns,
            seq,
            data,
        };
        let body = match serde_json::to_vec(&envelope) {
            Ok(body) => body,
            Err(error) => {
                error!(%topic, "event not serializable: {error}");
                return false;
            }
        };
        match self.queue.try_send(Message { topic, body }) {
            Ok(()) => true,
            Err(TrySendError::Full(message)) => {
                let dropped = self.stats.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if dropped.is_power_of_two() {
                    warn!(topic = %message.topic, dropped, "publisher queue full; events dropped");
                }
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }
}

fn run(
    socket: zmq::Socket,
    queue: Receiver<Message>,
    stats: &PublisherStats,
    closing: &AtomicBool,
) {
    loop {
        let message = match queue.recv_timeout(CLOSE_CHECK) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) if closing.load(Ordering::SeqCst) => break,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        match socket.send_multipart([message.topic.as_bytes(), &message.body], 0) {
            Ok(()) => {
                stats.sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => error!(topic = %message.topic, "publish failed: {error}"),
        }
    }
    // Give subscribers a moment to receive the last messages before the
    // socket closes (linger covers the rest).
    std::thread::sleep(Duration::from_millis(10));
}

#[cfg(test)]
mod tests;
