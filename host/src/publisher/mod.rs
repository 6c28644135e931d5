//! Events out: a ZeroMQ PUB socket on its own thread, fed by a bounded
//! queue.
//!
//! Publishing never blocks the caller: when the queue is full an event is
//! dropped and counted — except an order or account event, which waits
//! beside the queue until it has room ([`history`]: those are kept for
//! replay and must never be lost). Every event carries the host's run and
//! a sequence number per topic family (`orders.<exchange>`,
//! `market.<exchange>`, …) taken when it is queued, so a subscriber sees
//! any drop — ours or ZeroMQ's — as a gap. The body schemas are in
//! `docs/events.md`.

mod board;
pub mod encode;
pub mod history;
mod json;
pub mod market;
mod orders;
mod status;
mod topics;

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{
    Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError, sync_channel,
};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;
use tracing::{error, info, warn};

use crate::auth::{Curve, zap::ZapHandler};
use crate::connection_cap::{self, Change, ConnectionCap};

pub use board::{ExchangeBoard, StatusBoard};
pub use json::JsonDecimal;
pub use orders::{OrderEventPublisher, fill_json, order_json};
pub use status::StatusPublisher;
pub use topics::{OrderEventKind, order_event_kind};

/// Room reserved for one event body; a book of 20 levels a side fits.
const BODY_CAPACITY: usize = 2048;

/// Subscribers connected at once unless configured otherwise
/// (`zmq.max_event_connections`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// How often the subscribers' connections are looked at while events flow
/// (an idle thread looks every time it wakes).
const CONNECTIONS_CHECK: Duration = Duration::from_millis(10);

/// How long binding a new event socket may be retried after the old one
/// closed.
const REBIND_WITHIN: Duration = Duration::from_secs(2);
/// The pause between two tries.
const REBIND_PAUSE: Duration = Duration::from_millis(10);

/// How often an idle publishing thread checks whether it should stop.
const CLOSE_CHECK: Duration = Duration::from_millis(20);

/// How long the publishing thread polls an empty queue before it sleeps,
/// unless configured otherwise (`zmq.publisher_spin_us`).
pub const DEFAULT_SPIN: Duration = Duration::from_micros(50);

/// One message on the wire: `[topic, body]`, and, for a kept family, the
/// family and seq the history files it under.
struct Message {
    topic: String,
    body: Vec<u8>,
    kept: Option<(Arc<str>, u64)>,
}

/// Kept events that found the queue full, oldest first. While any wait
/// here, every kept event joins them (so that a family's events still
/// leave in seq order); the publishing thread sends them once its queue
/// is empty.
#[derive(Default)]
struct Overflow {
    waiting: Mutex<VecDeque<Message>>,
    any: AtomicBool,
}

impl Overflow {
    fn push(&self, message: Message) {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        waiting.push_back(message);
        self.any.store(true, Ordering::Release);
    }

    fn take(&self) -> VecDeque<Message> {
        if !self.any.load(Ordering::Acquire) {
            return VecDeque::new();
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        self.any.store(false, Ordering::Release);
        std::mem::take(&mut *waiting)
    }
}

/// Why the publisher could not start.
#[derive(Debug, thiserror::Error)]
pub enum PublisherError {
    /// The socket could not be bound.
    #[error("cannot publish on {endpoint}: {source}")]
    Bind {
        /// The endpoint.
        endpoint: String,
        /// What went wrong.
        source: crate::endpoint::BindError,
    },
    /// The event history could not be opened.
    #[error("cannot keep events for replay in {folder}: {source}")]
    History {
        /// The state folder.
        folder: std::path::PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// Counters of a running publisher.
#[derive(Debug, Default)]
pub struct PublisherStats {
    /// Events handed to the socket.
    pub sent: AtomicU64,
    /// Events dropped because the queue was full.
    pub dropped: AtomicU64,
    /// Subscribers' connections shut down over the cap.
    pub connections_refused: AtomicU64,
}

/// A sequence counter for one topic family. Its lock is held from taking
/// a number to queueing the event, so that the family's events leave in
/// the order of their numbers whichever threads publish them.
#[derive(Debug, Clone)]
pub struct Family {
    name: Arc<str>,
    next: Arc<Mutex<u64>>,
    kept: bool,
}

impl Family {
    /// The family's name, e.g. `orders.hl-local`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The seq of the family's last event (0 before the first).
    pub fn last_seq(&self) -> u64 {
        *self.next.lock().unwrap_or_else(PoisonError::into_inner) - 1
    }
}

/// A cheap-to-clone handle to publish events.
#[derive(Clone)]
pub struct Publisher {
    queue: SyncSender<Message>,
    stats: Arc<PublisherStats>,
    families: Arc<Mutex<HashMap<String, Family>>>,
    overflow: Arc<Overflow>,
    run: u64,
    board: Arc<StatusBoard>,
    /// Asks the publishing thread to disconnect every subscriber.
    rejoin: Arc<AtomicBool>,
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
        Publisher::start_keeping(
            endpoint,
            capacity,
            spin,
            None,
            None,
            DEFAULT_MAX_CONNECTIONS,
        )
    }

    /// As [`Publisher::start_spinning`], and keeps the order and account
    /// events in `state_dir` for replay ([`history`]) as this host's next
    /// run, when `state_dir` is given (run 0, nothing kept, otherwise);
    /// with `curve`, to its clients only.
    pub fn start_keeping(
        endpoint: &str,
        capacity: usize,
        spin: Duration,
        state_dir: Option<&Path>,
        curve: Option<&Curve>,
        max_connections: usize,
    ) -> Result<(Publisher, PublisherThread), PublisherError> {
        let (run, recorder) = match state_dir {
            Some(state_dir) => {
                let history_error = |source| PublisherError::History {
                    folder: state_dir.to_owned(),
                    source,
                };
                let run = history::next_run(state_dir).map_err(history_error)?;
                let recorder = history::Recorder::open(state_dir, run).map_err(history_error)?;
                (run, Some(recorder))
            }
            None => (0, None),
        };
        let error = |source: zmq::Error| PublisherError::Bind {
            endpoint: endpoint.to_owned(),
            source: source.into(),
        };
        let context = zmq::Context::new();
        let zap = curve
            .map(|curve| curve.start_zap(&context))
            .transpose()
            .map_err(error)?;
        let mut spec = SocketSpec {
            context,
            curve: curve.cloned(),
            capacity,
            endpoint: endpoint.to_owned(),
            max_connections,
        };
        let socket = spec.socket().map_err(error)?;
        crate::endpoint::bind(&socket, endpoint).map_err(|source| PublisherError::Bind {
            endpoint: endpoint.to_owned(),
            source,
        })?;
        // Bound again where it was (a wildcard port resolved) whenever the
        // subscribers are dropped: they reconnect there.
        if let Ok(bound) = socket.get_last_endpoint().map_err(error)? {
            spec.endpoint = bound;
        }
        let connections = spec.watch(&socket).map_err(error)?;
        let (queue, receiver) = sync_channel(capacity.max(1));
        let stats = Arc::new(PublisherStats::default());
        let overflow = Arc::new(Overflow::default());
        let closing = Arc::new(AtomicBool::new(false));
        let rejoin = Arc::new(AtomicBool::new(false));
        let sender = Sender {
            socket,
            connections,
            spec,
            rejoin: Arc::clone(&rejoin),
            _zap: zap,
            recorder,
            stats: Arc::clone(&stats),
            overflow: Arc::clone(&overflow),
        };
        let thread_closing = Arc::clone(&closing);
        let handle = crate::core_thread::spawn("zmq-publisher", move || {
            send_until_closed(sender, receiver, spin, &thread_closing);
            Ok(())
        })
        .map_err(|e| error(zmq::Error::from_raw(e.raw_os_error().unwrap_or(0))))?;
        Ok((
            Publisher {
                queue,
                stats,
                families: Arc::new(Mutex::new(HashMap::new())),
                overflow,
                run,
                board: Arc::default(),
                rejoin,
            },
            PublisherThread { handle, closing },
        ))
    }

    /// The counters.
    pub fn stats(&self) -> &PublisherStats {
        &self.stats
    }

    /// The latest status of each exchange's connections and dead man's
    /// switch, as published.
    pub fn status_board(&self) -> &StatusBoard {
        &self.board
    }

    /// Disconnects every subscriber, soon, by replacing the socket: each
    /// reconnects on its own (ZeroMQ retries) through the handshake, where
    /// the client keys in force decide — so a key removed from the list
    /// stops hearing events. Subscribers see the events they missed
    /// meanwhile as a gap in `seq`, and replay it.
    pub fn drop_subscribers(&self) {
        self.rejoin.store(true, Ordering::SeqCst);
    }

    /// This host's run number (0 when nothing is kept).
    pub fn run(&self) -> u64 {
        self.run
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
                kept: history::is_recorded(name),
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
    /// wraps it in the body every event has: `event_type`, `timestamp`
    /// (ns), `data`, `run`, then the family sequence number `seq` (last, so
    /// that it is taken after the costly part). Returns false (and counts
    /// it) when the queue was full and the event was dropped (never an
    /// event of a kept family: it waits beside the queue).
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
        body.extend_from_slice(b",\"run\":");
        encode::unsigned(&mut body, self.run);
        let mut next = family.next.lock().unwrap_or_else(PoisonError::into_inner);
        body.extend_from_slice(b",\"seq\":");
        encode::unsigned(&mut body, *next);
        body.push(b'}');
        let kept = family.kept.then(|| (Arc::clone(&family.name), *next));
        *next += 1;
        let message = Message { topic, body, kept };
        if message.kept.is_some() && self.overflow.any.load(Ordering::Acquire) {
            self.overflow.push(message);
            return true;
        }
        match self.queue.try_send(message) {
            Ok(()) => true,
            Err(TrySendError::Full(message)) if message.kept.is_some() => {
                self.overflow.push(message);
                true
            }
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

/// The publishing thread's end: the socket, the history, and the kept
/// events that found the queue full.
struct Sender {
    socket: zmq::Socket,
    /// Its subscribers' connections, capped.
    connections: Connections,
    /// How the socket is made anew.
    spec: SocketSpec,
    /// Set to have every subscriber disconnected.
    rejoin: Arc<AtomicBool>,
    /// Judges the handshakes; lives as long as the socket.
    _zap: Option<ZapHandler>,
    recorder: Option<history::Recorder>,
    stats: Arc<PublisherStats>,
    overflow: Arc<Overflow>,
}

impl Sender {
    /// Sends one message, then keeps it if its family is kept.
    fn send(&mut self, message: &Message) {
        self.rejoin_if_asked();
        if self.connections.checked.elapsed() >= CONNECTIONS_CHECK {
            self.watch_connections();
        }
        match self
            .socket
            .send_multipart([message.topic.as_bytes(), &message.body], 0)
        {
            Ok(()) => {
                self.stats.sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => error!(topic = %message.topic, "publish failed: {error}"),
        }
        if let (Some(recorder), Some((family, seq))) = (&mut self.recorder, &message.kept) {
            recorder.record(family, *seq, &message.topic, &message.body);
        }
    }

    /// With the queue empty: sends the kept events that waited beside it,
    /// and flushes the history when it is due.
    fn idle(&mut self) {
        self.rejoin_if_asked();
        self.watch_connections();
        for message in self.overflow.take() {
            self.send(&message);
        }
        if let Some(recorder) = &mut self.recorder {
            recorder.flush_if_due();
        }
    }

    /// Replaces the socket when asked ([`Publisher::drop_subscribers`]):
    /// closing it closes every subscriber's connection (an unbind would
    /// not); the new one is bound where the old one was, which may take a
    /// moment to be free again.
    fn rejoin_if_asked(&mut self) {
        // A plain load on every message; the swap only once asked.
        if !self.rejoin.load(Ordering::Relaxed) || !self.rejoin.swap(false, Ordering::SeqCst) {
            return;
        }
        let endpoint = self.spec.endpoint.clone();
        let fresh = match self.spec.socket() {
            Ok(fresh) => fresh,
            Err(error) => {
                error!(%endpoint, "cannot make a new event socket, subscribers stay: {error}");
                return;
            }
        };
        let old = std::mem::replace(&mut self.socket, fresh);
        let _ = old.set_linger(0);
        drop(old);
        let deadline = Instant::now() + REBIND_WITHIN;
        loop {
            match crate::endpoint::bind(&self.socket, &endpoint) {
                Ok(()) => {
                    match self.spec.watch(&self.socket) {
                        Ok(connections) => self.connections = connections,
                        Err(error) => error!(%endpoint, "subscribers are not capped: {error}"),
                    }
                    info!(%endpoint, "every subscriber disconnected, to handshake again");
                    return;
                }
                Err(_) if Instant::now() < deadline => std::thread::sleep(REBIND_PAUSE),
                Err(error) => {
                    error!(
                        %endpoint,
                        "cannot bind the event socket again ({error}): no subscriber can \
                         connect until the host is restarted"
                    );
                    return;
                }
            }
        }
    }

    /// Applies the monitor's events to the connection cap: a subscriber
    /// over it is shut down as it comes.
    fn watch_connections(&mut self) {
        let refused = &self.stats.connections_refused;
        let Connections {
            monitor,
            cap,
            checked,
        } = &mut self.connections;
        connection_cap::apply_events(monitor, cap, |change, cap| {
            if change == Change::Refused {
                let before = refused.fetch_add(1, Ordering::Relaxed);
                connection_cap::warn_refused("event", "max_event_connections", before, cap.max());
            }
        });
        *checked = Instant::now();
    }

    /// How long the thread may sleep: until the history's flush is due,
    /// at most [`CLOSE_CHECK`].
    fn sleep_for(&self) -> Duration {
        self.recorder
            .as_ref()
            .and_then(history::Recorder::flush_due_in)
            .map_or(CLOSE_CHECK, |due| {
                due.clamp(Duration::from_micros(100), CLOSE_CHECK)
            })
    }

    /// At the end: every kept event out, the history flushed.
    fn finish(&mut self) {
        self.idle();
        if let Some(recorder) = &mut self.recorder {
            recorder.flush();
        }
    }
}

/// The subscribers' connections: the socket's monitor and the cap.
struct Connections {
    monitor: zmq::Socket,
    cap: ConnectionCap,
    /// When the monitor was last read.
    checked: Instant,
}

/// How the event socket is made: at start, and again whenever the
/// subscribers are dropped.
struct SocketSpec {
    /// The context, whose ZAP handler judges the handshakes.
    context: zmq::Context,
    /// CURVE, when configured.
    curve: Option<Curve>,
    /// The send high-water mark.
    capacity: usize,
    /// Where it binds (once bound, with a wildcard port resolved).
    endpoint: String,
    /// Subscribers connected at once; more are shut down as they come.
    max_connections: usize,
}

impl SocketSpec {
    /// A PUB socket, secured and configured, not yet bound.
    fn socket(&self) -> Result<zmq::Socket, zmq::Error> {
        let socket = self.context.socket(zmq::PUB)?;
        if let Some(curve) = &self.curve {
            curve.secure_server(&socket, "events")?;
        }
        // Never block and never grow without bound inside ZeroMQ either.
        socket.set_sndhwm(self.capacity.try_into().unwrap_or(i32::MAX))?;
        socket.set_linger(1_000)?;
        socket.set_handshake_ivl(connection_cap::HANDSHAKE_MS)?;
        Ok(socket)
    }

    /// Starts watching the connections of `socket`, once bound.
    fn watch(&self, socket: &zmq::Socket) -> Result<Connections, zmq::Error> {
        Ok(Connections {
            monitor: connection_cap::monitor(&self.context, socket)?,
            cap: ConnectionCap::new(self.max_connections, &self.endpoint),
            checked: Instant::now(),
        })
    }
}

/// The next queued message: polled for `spin`, then waited for (the
/// sender's idle work done first). `None` when the thread should stop.
fn next_message(
    queue: &Receiver<Message>,
    spin: Duration,
    closing: &AtomicBool,
    sender: &mut Sender,
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
    sender.idle();
    loop {
        match queue.recv_timeout(sender.sleep_for()) {
            Ok(message) => return Some(message),
            Err(RecvTimeoutError::Timeout) if closing.load(Ordering::SeqCst) => return None,
            Err(RecvTimeoutError::Timeout) => sender.idle(),
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    }
}

/// The thread: sends each message in turn. It polls for the next one only
/// while messages come in bursts (the last came within `spin` of the one
/// before): a poll pays off when the next message is near, and under a
/// steady trickle it would only keep a core busy.
fn send_until_closed(
    mut sender: Sender,
    queue: Receiver<Message>,
    spin: Duration,
    closing: &AtomicBool,
) {
    let mut previous: Option<Instant> = None;
    let mut poll_for = Duration::ZERO;
    while let Some(message) = next_message(&queue, poll_for, closing, &mut sender) {
        let now = Instant::now();
        let in_burst = previous.is_some_and(|at| now.duration_since(at) < spin);
        poll_for = if in_burst { spin } else { Duration::ZERO };
        previous = Some(now);
        sender.send(&message);
    }
    sender.finish();
    // Give subscribers a moment to receive the last messages before the
    // socket closes (linger covers the rest).
    std::thread::sleep(Duration::from_millis(10));
}

#[cfg(test)]
mod tests;
