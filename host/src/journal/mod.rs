//! The journal: every change of every order, durably, off the hot path.
//!
//! Each record is the order's whole state after a change, one JSON object
//! per line. Replaying keeps the last record of each order, so the journal
//! needs no copy of the tracker's rules and a record written twice is
//! harmless. A writer thread appends what the tracker's listener queues
//! and syncs to disk each time the queue runs empty, at most every
//! [`SYNC_INTERVAL`] (group commit), so the order path never waits for the
//! disk. At start-up the file is read,
//! compacted to one record per order (orders closed longer ago than the
//! retention are dropped), and appended to from then on.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tracing::{error, warn};

use crate::order::{ClientOrderId, InFlightOrder, OrderEvent, OrderListener};

/// Orders in a final state are kept this long (ms) for queries after a
/// restart, then compacted away.
pub const RETENTION_MS: u64 = 24 * 3_600_000;

/// Syncs to disk at most this often: records that arrive sooner after a
/// sync wait (in memory, off the order path) for the next one. The most a
/// crash can lose is this much of the newest records — never an order
/// that was sent, since the exchange and the reconciliation at start-up
/// know it.
const SYNC_INTERVAL: Duration = Duration::from_millis(2);

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

/// The journal's listener: queue every change to the writer thread.
pub struct Journal {
    queue: Mutex<Option<Sender<InFlightOrder>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl Journal {
    /// Opens (or creates) the journal at `path`, returns what it held, and
    /// starts the writer. `now_ms` decides which closed orders are old
    /// enough to drop.
    pub fn open(path: &Path, now_ms: u64) -> Result<(Journal, Recovered), JournalError> {
        let io = |source| JournalError {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io)?;
        }
        let recovered = read(path).map_err(io)?;
        let kept: Vec<&InFlightOrder> = recovered
            .orders
            .iter()
            .filter(|order| {
                !order.state.is_terminal()
                    || now_ms.saturating_sub(order.last_update_timestamp_ms) < RETENTION_MS
            })
            .collect();
        compact(path, &kept).map_err(io)?;
        let file = OpenOptions::new().append(true).open(path).map_err(io)?;
        let (queue, receiver) = channel();
        let writer = std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || write_loop(file, &receiver))
            .map_err(io)?;
        let orders = kept.into_iter().cloned().collect();
        Ok((
            Journal {
                queue: Mutex::new(Some(queue)),
                writer: Mutex::new(Some(writer)),
            },
            Recovered {
                orders,
                unreadable_lines: recovered.unreadable_lines,
            },
        ))
    }

    /// Stops taking changes, writes and syncs what is queued, and waits for
    /// the writer.
    pub fn close(&self) {
        drop(self.queue.lock().unwrap_or_else(|e| e.into_inner()).take());
        if let Some(writer) = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take()
            && writer.join().is_err()
        {
            error!("the journal writer panicked");
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
            | OrderEvent::StateChanged { order, .. }
            | OrderEvent::Filled { order, .. } => *order,
        };
        let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        match queue.as_ref() {
            Some(queue) if queue.send(order.clone()).is_ok() => {}
            _ => error!(order = %order.client_order_id, "journal closed; change not recorded"),
        }
    }
}

/// Reads a journal without opening it for writing: every order in its
/// last recorded state (for audits and tools; the host itself uses
/// [`Journal::open`]). A missing file is an empty journal.
pub fn read(path: &Path) -> std::io::Result<Recovered> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Recovered::default());
        }
        Err(error) => return Err(error),
    };
    let mut last: HashMap<ClientOrderId, InFlightOrder> = HashMap::new();
    let mut order_of_first_sight: Vec<ClientOrderId> = Vec::new();
    let mut unreadable_lines = 0;
    for (number, line) in BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<InFlightOrder>(&line) {
            Ok(order) => {
                if !last.contains_key(&order.client_order_id) {
                    order_of_first_sight.push(order.client_order_id);
                }
                last.insert(order.client_order_id, order);
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

/// Rewrites the journal with one record per kept order, atomically.
fn compact(path: &Path, orders: &[&InFlightOrder]) -> std::io::Result<()> {
    let temporary = path.with_extension("compacting");
    let mut out = BufWriter::new(File::create(&temporary)?);
    for order in orders {
        serde_json::to_writer(&mut out, order)?;
        out.write_all(b"\n")?;
    }
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    fs::rename(&temporary, path)?;
    if let Some(parent) = path.parent() {
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

fn write_loop(file: File, queue: &Receiver<InFlightOrder>) {
    let mut out = BufWriter::new(file);
    let mut synced_at: Option<Instant> = None;
    while let Ok(first) = queue.recv() {
        write(&mut out, &first);
        // Under load, let records gather until the last sync is
        // SYNC_INTERVAL old: one sync then covers them all.
        if let Some(wait) = synced_at.and_then(|at| SYNC_INTERVAL.checked_sub(at.elapsed())) {
            std::thread::sleep(wait);
        }
        // Write everything queued, then sync once.
        while let Ok(order) = queue.try_recv() {
            write(&mut out, &order);
        }
        if let Err(error) = out.flush().and_then(|()| out.get_ref().sync_data()) {
            error!("journal sync failed: {error}");
        }
        synced_at = Some(Instant::now());
    }
}

fn write(out: &mut BufWriter<File>, order: &InFlightOrder) {
    if let Err(error) = serde_json::to_writer(&mut *out, order)
        .and_then(|()| out.write_all(b"\n").map_err(serde_json::Error::io))
    {
        error!(order = %order.client_order_id, "journal write failed: {error}");
    }
}

#[cfg(test)]
mod tests;
