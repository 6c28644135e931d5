//! Events out: a ZeroMQ PUB socket on its own thread, fed by a bounded
//! queue.
//!
//! Publishing never blocks the caller: when the queue is full the event is
//! dropped and counted. Every event carries a sequence number per topic
//! family (`orders.<exchange>`, `market.<exchange>`, …) taken when it is
//! queued, so a subscriber sees any drop — ours or ZeroMQ's — as a gap.
//! The body schemas are in `docs/events.md`.

pub mod encode;
mod json;
pub mod market;
mod orders;
mod status;
mod topics;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{
    Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError, sync_channel,
};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;
use tracing::{error, warn};

pub use json::JsonDecimal;
pub use orders::{OrderEventPublisher, order_json};
pub use status::StatusPublisher;
pub use topics::{OrderEventKind, order_event_kind};

/// Room reserved for one event body; a book of 20 levels a side fits.
const BODY_CAPACITY: usize = 2048;

/// How often an idle publishing thread checks whether it should stop.
const CLOSE_CHECK: Duration = Duration::from_millis(20);

/// How long the publishing thread polls an empty queue before it sleeps,
/// unless configured otherwise (`zmq.publisher_spin_us`).
pub const DEFAULT_SPIN: Duration = Duration::from_micros(50);

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
    /// What went wrong.
    pub source: crate::endpoint::BindError,
}

/// Counters of a running publisher.
#[derive(Debug, Default)]
pub struct PublisherStats {
    /// Events handed to the socket.
    pub sent: AtomicU64,
    /// Events dropped because the queue was full.
    pub dropped: AtomicU64,
}

/// A sequence counter for one topic family. Its lock is held from taking
/// a number to queueing the event, so that the family's events leave in
/// the order of their numbers whichever threads publish them.
#[derive(Debug, Clone)]
pub struct Family {
    name: Arc<str>,
    next: Arc<Mutex<u64>>,
}

impl Family {
    /// The family's name, e.g. `orders.hl-local`.
    pub fn name(&self) -> &str {
        &self.name
    }
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
    /// Binds a PUB socket at `endpoint` and starts its thread, which polls
    /// an empty queue for [`DEFAULT_SPIN`] before it sleeps.
    pub fn start(
        endpoint: &str,
        capacity: usize,
    ) -> Result<(Publisher, PublisherThread), PublisherError> {
        Publisher::start_spinning(endpoint, capacity, DEFAULT_SPIN)
    }

    /// Binds a PUB socket at `endpoint` and starts its thread, which, while
    /// events come in bursts (one within `spin` of the last), polls an
    /// empty queue for `spin` before it sleeps. While the thread polls, a
    /// publisher hands it events without a system call to wake it (about
    /// 1.5 µs on a virtual machine); zero makes it sleep at once.
    pub fn start_spinning(
        endpoint: &str,
        capacity: usize,
        spin: Duration,
    ) -> Result<(Publisher, PublisherThread), PublisherError> {
        let error = |source: zmq::Error| PublisherError {
            endpoint: endpoint.to_owned(),
            source: source.into(),
        };
        let context = zmq::Context::new();
        let socket = context.socket(zmq::PUB).map_err(error)?;
        // Never block and never grow without bound inside ZeroMQ either.
        socket
            .set_sndhwm(capacity.try_into().unwrap_or(i32::MAX))
            .map_err(error)?;
        socket.set_linger(1_000).map_err(error)?;
        crate::endpoint::bind(&socket, endpoint).map_err(|source| PublisherError {
            endpoint: endpoint.to_owned(),
            source,
        })?;
        let (queue, receiver) = sync_channel(capacity.max(1));
        let stats = Arc::new(PublisherStats::default());
        let thread_stats = Arc::clone(&stats);
        let closing = Arc::new(AtomicBool::new(false));
        let thread_closing = Arc::clone(&closing);
        let handle = crate::core_thread::spawn("zmq-publisher", move || {
            run(socket, receiver, spin, &thread_stats, &thread_closing);
            Ok(())
        })
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
                next: Arc::new(Mutex::new(1)),
            })
            .clone()
    }

    /// Queues one event whose `data` is serialized by serde. Returns false
    /// (and counts it) when the queue was full and the event was dropped.
    pub fn publish<T: Serialize>(
        &self,
        family: &Family,
        topic: String,
        event_type: &str,
        timestamp_ns: u64,
        data: &T,
    ) -> bool {
        self.publish_with(family, topic, event_type, timestamp_ns, |out| {
            serde_json::to_writer(out, data)
        })
    }

    /// Queues one event whose `data` JSON is written by `write_data`, and
    /// wraps it in the body every event has: the seed's `event_type`,
    /// `timestamp` (ns) and `data`, then the family sequence number `seq`
    /// (last, so that it is taken after the costly part). Returns false
    /// (and counts it) when the queue was full and the event was dropped.
    pub fn publish_with(
        &self,
        family: &Family,
        topic: String,
        event_type: &str,
        timestamp_ns: u64,
        write_data: impl FnOnce(&mut Vec<u8>) -> Result<(), serde_json::Error>,
    ) -> bool {
        let mut body = Vec::with_capacity(BODY_CAPACITY);
        body.extend_from_slice(b"{\"event_type\":");
        encode::string(&mut body, event_type);
        body.extend_from_slice(b",\"timestamp\":");
        encode::unsigned(&mut body, timestamp_ns);
        body.extend_from_slice(b",\"data\":");
        if let Err(error) = write_data(&mut body) {
            error!(%topic, "event not serializable: {error}");
            return false;
        }
        let mut next = family.next.lock().unwrap_or_else(PoisonError::into_inner);
        body.extend_from_slice(b",\"seq\":");
        encode::unsigned(&mut body, *next);
        body.push(b'}');
        *next += 1;
        match self.queue.try_send(Message { topic, body }) {
            Ok(()) => true,
            Err(TrySendError::Full(message)) => {
                drop(next);
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

/// The next queued message: polled for `spin`, then waited for. `None`
/// when the thread should stop.
fn next_message(
    queue: &Receiver<Message>,
    spin: Duration,
    closing: &AtomicBool,
) -> Option<Message> {
    let polling_since = Instant::now();
    loop {
        match queue.try_recv() {
            Ok(message) => return Some(message),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) if polling_since.elapsed() < spin => {
                std::hint::spin_loop();
            }
            Err(TryRecvError::Empty) => break,
        }
    }
    loop {
        match queue.recv_timeout(CLOSE_CHECK) {
            Ok(message) => return Some(message),
            Err(RecvTimeoutError::Timeout) if closing.load(Ordering::SeqCst) => return None,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    }
}

/// The thread: sends each message in turn. It polls for the next one only
/// while messages come in bursts (the last came within `spin` of the one
/// before): a poll pays off when the next message is near, and under a
/// steady trickle it would only keep a core busy.
fn run(
    socket: zmq::Socket,
    queue: Receiver<Message>,
    spin: Duration,
    stats: &PublisherStats,
    closing: &AtomicBool,
) {
    let mut previous: Option<Instant> = None;
    let mut poll_for = Duration::ZERO;
    while let Some(message) = next_message(&queue, poll_for, closing) {
        let now = Instant::now();
        let in_burst = previous.is_some_and(|at| now.duration_since(at) < spin);
        poll_for = if in_burst { spin } else { Duration::ZERO };
        previous = Some(now);
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
