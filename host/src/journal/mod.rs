//! The journal: every change of every order, durably, off the hot path.
//!
//! Each record is the order's whole state after a change, one JSON object
//! per line. Replaying keeps the last record of each order, so the journal
//! needs no copy of the tracker's rules and a record written twice is
//! harmless. The thread that makes a change appends its record to the
//! file itself — one `write` into the page cache, no other thread woken —
//! so once the tracker has told its listeners, the change survives the
//! process being killed. A syncing thread makes the file durable against
//! a machine crash too: it syncs whatever was written since its last sync
//! every sync interval ([`DEFAULT_SYNC_INTERVAL`], `host.journal_sync_ms`;
//! group commit), and sleeps while nothing is written, so the order path
//! never waits for the disk. At start-up the
//! file is read, compacted to one record per order (orders closed longer
//! ago than the retention are dropped), and appended to from then on;
//! once as much again was appended (at least [`COMPACT_AFTER_BYTES`]), the
//! syncing thread compacts it the same way while the host runs, holding the
//! writers back only to move what was appended meanwhile (its syncs wait
//! for the compaction).

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing::{error, warn};

use crate::order::{ClientOrderId, InFlightOrder, OrderEvent, OrderListener};
use crate::private_files;

/// Orders in a final state are kept this long (ms) for queries after a
/// restart, then compacted away.
pub const RETENTION_MS: u64 = 24 * 3_600_000;

/// Syncs to disk at most this often unless configured otherwise: records
/// written sooner after a sync (already in the page cache, safe from a
/// process crash) wait for the next one. The most a machine crash can lose
/// is this much of the newest records — never an order that was sent,
/// since the exchange and the reconciliation at start-up know it. Each
/// sync costs the host tens of µs of CPU on a virtual machine (its wake-up
/// and the `fdatasync`), so this bounds that cost to a hundred a second.
pub const DEFAULT_SYNC_INTERVAL: Duration = Duration::from_millis(10);

/// While the host runs, the journal is compacted (to one record per order,
/// as at start-up) once this much was appended since its last compaction,
/// and at least as much as it held then, so that it does not grow for as
/// long as the host runs and `history` reads little more than the orders.
pub const COMPACT_AFTER_BYTES: u64 = 64 << 20;

/// After this long without a record the syncing thread sleeps until the
/// next one is written (and syncs that one at once).
const QUIET_BEFORE_SLEEP: Duration = Duration::from_secs(1);

/// How a journal syncs and compacts.
#[derive(Debug, Clone, Copy)]
pub struct JournalOptions {
    /// Syncs at most this often ([`DEFAULT_SYNC_INTERVAL`]).
    pub sync_interval: Duration,
    /// Compacts while it runs once this many bytes were appended (and at
    /// least as many as it held then; [`COMPACT_AFTER_BYTES`]).
    pub compact_after: u64,
}

impl Default for JournalOptions {
    fn default() -> Self {
        JournalOptions {
            sync_interval: DEFAULT_SYNC_INTERVAL,
            compact_after: COMPACT_AFTER_BYTES,
        }
    }
}

/// Why the journal could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("journal {path}: {source}")]
pub struct JournalError {
    /// The file.
    pub path: PathBuf,
    /// The I/O error.
    pub source: std::io::Error,
}

/// What was found in the journal at start-up.
#[derive(Debug, Default)]
pub struct Recovered {
    /// The orders, in their last recorded state.
    pub orders: Vec<InFlightOrder>,
    /// Lines that could not be read (a torn last line after a crash is
    /// expected; anything else is reported).
    pub unreadable_lines: usize,
}

/// The journal's listener: append every change to the file.
pub struct Journal {
    path: PathBuf,
    shared: Arc<Shared>,
    syncer: Mutex<Option<JoinHandle<()>>>,
}

/// What the appending threads and the syncing thread share.
struct Shared {
    /// The file appended to; `None` once the journal is closed.
    file: Mutex<Option<File>>,
    /// Something was written since the last sync began.
    unsynced: AtomicBool,
    /// The syncing thread sleeps until a writer wakes it.
    asleep: AtomicBool,
    /// The syncing thread should sync one last time and stop.
    closing: AtomicBool,
    /// The file's path.
    path: PathBuf,
    /// Bytes appended since the last compaction.
    appended: AtomicU64,
    /// The file's size after the last compaction.
    compacted: AtomicU64,
    /// How it syncs and compacts.
    options: JournalOptions,
}

impl Journal {
    /// Opens (or creates) the journal at `path` with the default options,
    /// returns what it held, and starts the syncing thread. `now_ms`
    /// decides which closed orders are old enough to drop.
    pub fn open(path: &Path, now_ms: u64) -> Result<(Journal, Recovered), JournalError> {
        Journal::open_with(path, now_ms, JournalOptions::default())
    }

    /// [`Journal::open`] with `options`.
    pub fn open_with(
        path: &Path,
        now_ms: u64,
        options: JournalOptions,
    ) -> Result<(Journal, Recovered), JournalError> {
        let io = |source| JournalError {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent() {
            private_files::create_folder(parent).map_err(io)?;
        }
        let recovered = read(path).map_err(io)?;
        let kept = retained(&recovered.orders, now_ms);
        compact(path, &kept).map_err(io)?;
        let file = OpenOptions::new().append(true).open(path).map_err(io)?;
        let to_sync = file.try_clone().map_err(io)?;
        let compacted = file.metadata().map_err(io)?.len();
        let shared = Arc::new(Shared {
            file: Mutex::new(Some(file)),
            unsynced: AtomicBool::new(false),
            asleep: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            path: path.to_owned(),
            appended: AtomicU64::new(0),
            compacted: AtomicU64::new(compacted),
            options,
        });
        let syncing = Arc::clone(&shared);
        let syncer = crate::core_thread::spawn("journal-sync", move || {
            sync_loop(to_sync, &syncing);
            Ok(())
        })
        .map_err(io)?;
        let orders = kept.into_iter().cloned().collect();
        Ok((
            Journal {
                path: path.to_owned(),
                shared,
                syncer: Mutex::new(Some(syncer)),
            },
            Recovered {
                orders,
                unreadable_lines: recovered.unreadable_lines,
            },
        ))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops taking changes, syncs what was written, and waits for the
    /// syncing thread.
    pub fn close(&self) {
        drop(
            self.shared
                .file
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        self.shared.closing.store(true, Ordering::SeqCst);
        if let Some(syncer) = self
            .syncer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            syncer.thread().unpark();
            if syncer.join().is_err() {
                error!("the journal's syncing thread panicked");
            }
        }
    }

    /// Appends one record and makes sure a sync will follow.
    fn append(&self, order: &InFlightOrder) {
        let mut line = Vec::with_capacity(512);
        let written = serde_json::to_writer(&mut line, order)
            .map_err(std::io::Error::from)
            .and_then(|()| {
                line.push(b'\n');
                match self
                    .shared
                    .file
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .as_mut()
                {
                    Some(file) => file.write_all(&line),
                    None => Err(std::io::Error::other("the journal is closed")),
                }
            });
        if let Err(error) = written {
            error!(order = %order.spec.client_order_id, "journal write failed, change not recorded: {error}");
            return;
        }
        self.shared
            .appended
            .fetch_add(line.len() as u64, Ordering::Relaxed);
        self.shared.unsynced.store(true, Ordering::SeqCst);
        if self.shared.asleep.swap(false, Ordering::SeqCst)
            && let Some(syncer) = self
                .syncer
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
        {
            syncer.thread().unpark();
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.close();
    }
}

impl OrderListener for Journal {
    fn on_event(&self, event: &OrderEvent<'_>) {
        let order = match event {
            OrderEvent::Created(order)
            | OrderEvent::OutcomeUnknown(order)
            | OrderEvent::Amended(order)
            | OrderEvent::Triggered(order)
            | OrderEvent::StateChanged { order, .. }
            | OrderEvent::Filled { order, .. } => *order,
        };
        self.append(order);
    }

    fn hears_quiet_orders(&self) -> bool {
        true
    }
}

/// Reads a journal without opening it for writing: every order in its
/// last recorded state (for audits and tools; the host itself uses
/// [`Journal::open`]). A missing file is an empty journal.
pub fn read(path: &Path) -> std::io::Result<Recovered> {
    match File::open(path) {
        Ok(file) => read_from(BufReader::new(file)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Recovered::default()),
        Err(error) => Err(error),
    }
}

/// The orders of the journal at `path` whose last record `wanted` accepts,
/// in that state, in the order first seen — reading the file twice (where
/// each order's last record is, then those records) so that only the
/// orders wanted are ever held. A missing file is an empty journal.
fn last_orders(
    path: &Path,
    wanted: impl Fn(&InFlightOrder) -> bool,
) -> std::io::Result<Vec<InFlightOrder>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let spans = last_records(BufReader::new(&file), wanted, Parents::Ignored)?;
    let mut orders = Vec::with_capacity(spans.len());
    read_spans(&file, &spans, |record| {
        orders.extend(serde_json::from_slice::<InFlightOrder>(record).ok());
        Ok(())
    })?;
    Ok(orders)
}

/// Every order of a journal's records in its last recorded state, in the
/// order first seen.
fn read_from(records: impl BufRead) -> std::io::Result<Recovered> {
    let mut last: HashMap<ClientOrderId, InFlightOrder> = HashMap::new();
    let mut order_of_first_sight: Vec<ClientOrderId> = Vec::new();
    let mut unreadable_lines = 0;
    for (number, line) in records.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<InFlightOrder>(&line) {
            Ok(order) => {
                if !last.contains_key(&order.spec.client_order_id) {
                    order_of_first_sight.push(order.spec.client_order_id);
                }
                last.insert(order.spec.client_order_id, order);
            }
            Err(error) => {
                unreadable_lines += 1;
                warn!(
                    line = number + 1,
                    "unreadable journal line skipped: {error}"
                );
            }
        }
    }
    let orders = order_of_first_sight
        .into_iter()
        .filter_map(|id| last.remove(&id))
        .collect();
    Ok(Recovered {
        orders,
        unreadable_lines,
    })
}

/// Whether a compaction keeps an order by itself: every live one, and the
/// closed ones changed within [`RETENTION_MS`] of `now_ms`. It keeps the
/// orders [`of_live`] ones too.
fn kept(order: &InFlightOrder, now_ms: u64) -> bool {
    !order.state.is_terminal()
        || now_ms.saturating_sub(order.last_update_timestamp_ms) < RETENTION_MS
}

/// Whether an order of `parent` is kept whatever its age: its parent is
/// among the `live` orders (an entry's exits, closed while the entry still
/// works: they say its exits were placed).
fn of_live(parent: Option<ClientOrderId>, live: &HashSet<ClientOrderId>) -> bool {
    parent.is_some_and(|parent| live.contains(&parent))
}

/// The orders a compaction keeps.
fn retained(orders: &[InFlightOrder], now_ms: u64) -> Vec<&InFlightOrder> {
    let live: HashSet<ClientOrderId> = orders
        .iter()
        .filter(|order| !order.state.is_terminal())
        .map(|order| order.spec.client_order_id)
        .collect();
    orders
        .iter()
        .filter(|order| kept(order, now_ms) || of_live(order.spec.parent, &live))
        .collect()
}

/// Whether [`last_records`] also takes the orders whose parent is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parents {
    /// Only the orders `wanted` accepts.
    Ignored,
    /// Those, and the orders of a parent whose last record is live.
    KeepChildrenOfLive,
}

/// Where the last record of each order lies in `records` (its offset and
/// length, newline included), in the order the orders were first seen,
/// for the orders whose last record `wanted` accepts. Each record is read
/// and dropped: the scan holds a few words per order, never the orders
/// themselves (a day of orders at a thousand a second is gigabytes of
/// them). Unreadable lines are skipped, as [`read`] skips them.
fn last_records(
    mut records: impl BufRead,
    wanted: impl Fn(&InFlightOrder) -> bool,
    parents: Parents,
) -> std::io::Result<Vec<(u64, usize)>> {
    struct Last {
        first_seen: usize,
        offset: u64,
        length: usize,
        wanted: bool,
        live: bool,
        parent: Option<ClientOrderId>,
    }
    let mut last: HashMap<ClientOrderId, Last> = HashMap::new();
    let (mut offset, mut line) = (0u64, Vec::new());
    loop {
        line.clear();
        let length = records.read_until(b'\n', &mut line)?;
        if length == 0 {
            break;
        }
        if let Ok(order) = serde_json::from_slice::<InFlightOrder>(&line) {
            let record = Last {
                first_seen: last.len(),
                offset,
                length,
                wanted: wanted(&order),
                live: !order.state.is_terminal(),
                parent: order.spec.parent,
            };
            last.entry(order.spec.client_order_id)
                .and_modify(|seen| {
                    seen.offset = record.offset;
                    seen.length = record.length;
                    seen.wanted = record.wanted;
                    seen.live = record.live;
                })
                .or_insert(record);
        }
        offset += length as u64;
    }
    let live: HashSet<ClientOrderId> = match parents {
        Parents::Ignored => HashSet::new(),
        Parents::KeepChildrenOfLive => last
            .iter()
            .filter(|(_, record)| record.live)
            .map(|(id, _)| *id)
            .collect(),
    };
    let mut found: Vec<Last> = last
        .into_values()
        .filter(|record| record.wanted || of_live(record.parent, &live))
        .collect();
    found.sort_unstable_by_key(|record| record.first_seen);
    Ok(found
        .into_iter()
        .map(|record| (record.offset, record.length))
        .collect())
}

/// Hands each record of `file` at `spans` (from [`last_records`]) to
/// `each`, in turn.
fn read_spans(
    file: &File,
    spans: &[(u64, usize)],
    mut each: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;

    let mut record = Vec::new();
    for &(offset, length) in spans {
        record.resize(length, 0);
        file.read_exact_at(&mut record, offset)?;
        each(&record)?;
    }
    Ok(())
}

/// Compacts the journal while it is appended to: the records up to the
/// current end are rewritten (each kept order's last one) beside it
/// without the lock; then, with the lock, what was appended meanwhile
/// follows them and the new file takes the old one's place. Returns the
/// new file's handle for the syncing thread.
fn compact_live(shared: &Shared, now_ms: u64) -> std::io::Result<File> {
    let closed = || std::io::Error::other("the journal is closed");
    let lock = || shared.file.lock().unwrap_or_else(PoisonError::into_inner);
    let length = match lock().as_ref() {
        Some(file) => file.metadata()?.len(),
        None => return Err(closed()),
    };
    let path = &shared.path;
    let source = File::open(path)?;
    let spans = last_records(
        BufReader::new((&source).take(length)),
        |order| kept(order, now_ms),
        Parents::KeepChildrenOfLive,
    )?;
    let temporary = private_files::temporary_of(path);
    let mut out = std::io::BufWriter::new(private_files::create_file(&temporary)?);
    read_spans(&source, &spans, |record| {
        out.write_all(record)?;
        if record.last() != Some(&b'\n') {
            out.write_all(b"\n")?;
        }
        Ok(())
    })?;
    out.flush()?;
    out.get_ref().sync_data()?;
    let mut guard = lock();
    if guard.is_none() {
        drop(guard);
        let _ = std::fs::remove_file(&temporary);
        return Err(closed());
    }
    let mut tail = File::open(path)?;
    tail.seek(SeekFrom::Start(length))?;
    std::io::copy(&mut tail, &mut out)?;
    let written = out.into_inner().map_err(|error| error.into_error())?;
    written.sync_data()?;
    private_files::rename_synced(&temporary, path)?;
    let appender = OpenOptions::new().append(true).open(path)?;
    let syncing = appender.try_clone()?;
    shared
        .compacted
        .store(appender.metadata()?.len(), Ordering::Relaxed);
    shared.appended.store(0, Ordering::Relaxed);
    *guard = Some(appender);
    Ok(syncing)
}

/// Rewrites the journal with one record per kept order, atomically.
fn compact(path: &Path, orders: &[&InFlightOrder]) -> std::io::Result<()> {
    private_files::replace_atomically(path, |out| {
        for order in orders {
            serde_json::to_writer(&mut *out, order)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// The syncing thread: every sync interval, syncs what was written since
/// the last sync; asleep after a quiet spell until a writer wakes it.
fn sync_loop(mut file: File, shared: &Shared) {
    let sync = |file: &File| {
        let started = std::time::Instant::now();
        if let Err(error) = file.sync_data() {
            error!("journal sync failed: {error}");
        }
        crate::metrics::registry()
            .journal_sync_latency
            .observe(started.elapsed());
    };
    let interval = shared.options.sync_interval;
    let intervals_before_sleep = QUIET_BEFORE_SLEEP.as_nanos() / interval.as_nanos().max(1);
    let mut quiet_intervals: u128 = 0;
    loop {
        if shared.closing.load(Ordering::SeqCst) {
            sync(&file);
            return;
        }
        if shared.unsynced.swap(false, Ordering::SeqCst) {
            sync(&file);
            quiet_intervals = 0;
            let appended = shared.appended.load(Ordering::Relaxed);
            if appended
                >= shared
                    .options
                    .compact_after
                    .max(shared.compacted.load(Ordering::Relaxed))
            {
                match compact_live(shared, crate::runtime::clock::now_ms()) {
                    Ok(compacted) => file = compacted,
                    Err(error) => {
                        shared.appended.store(0, Ordering::Relaxed);
                        error!("journal compaction failed, the journal goes on as it was: {error}");
                    }
                }
            }
        } else {
            quiet_intervals += 1;
        }
        if quiet_intervals < intervals_before_sleep {
            std::thread::park_timeout(interval);
            continue;
        }
        // A writer that stores `unsynced` before reading `asleep` either
        // sees this thread asleep and wakes it, or is seen here.
        shared.asleep.store(true, Ordering::SeqCst);
        if !shared.unsynced.load(Ordering::SeqCst) && !shared.closing.load(Ordering::SeqCst) {
            std::thread::park();
        }
        shared.asleep.store(false, Ordering::SeqCst);
        quiet_intervals = 0;
    }
}

pub mod query;

#[cfg(test)]
mod tests;
