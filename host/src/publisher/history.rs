//! The event history: every event of the `orders.<exchange>` and
//! `account.<exchange>` families, as published, kept so that a subscriber
//! that started late, missed events or saw the host restart can have them
//! again (the `replay` command).
//!
//! An event is known by its **position**: the host's run (a number kept in
//! the state folder, one more at every start) and its `seq` in its family.
//! The publishing thread writes each event it sends, after sending it, to
//! `<state_dir>/events/<family>/<run>.log` (`seq topic body` per line,
//! 0600), and hands what it buffered to the file system at most
//! [`FLUSH_EVERY`] after writing it — one `write` per log and period
//! however many events, so that keeping them costs little per order; the
//! order path never waits for it. Logs of runs older than [`RETENTION`]
//! are deleted at start.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tracing::{error, warn};

use crate::private_files;

/// The families whose events are kept: orders and balances and positions
/// are money; books and status are state, asked for afresh.
const RECORDED: [&str; 2] = ["orders.", "account."];

/// How long a run's events are kept.
pub const RETENTION: Duration = Duration::from_secs(24 * 3_600);

/// The longest a sent event stays in the writer's buffer; also the
/// shortest time between two flushes. Flushing at every pause of the queue
/// instead cost about 60 µs of CPU per order at 1,000 orders/s
/// (`docs/benchmarks.md`, "Sustained load").
const FLUSH_EVERY: Duration = Duration::from_millis(5);

/// Whether the events of `family` are kept.
pub fn is_recorded(family: &str) -> bool {
    RECORDED.iter().any(|prefix| family.starts_with(prefix))
}

/// Where one event stands in its family's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Position {
    /// The host's run that published it.
    pub run: u64,
    /// Its `seq` in that run.
    pub seq: u64,
}

/// The folder of the history in `state_dir`.
fn events_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("events")
}

/// Takes this run's number: one more than the last start's, kept in
/// `<state_dir>/run`.
pub fn next_run(state_dir: &Path) -> io::Result<u64> {
    private_files::create_folder(state_dir)?;
    let path = state_dir.join("run");
    let last = match std::fs::read_to_string(&path) {
        Ok(text) => text.trim().parse::<u64>().map_err(|error| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not a run number ({error})", path.display()),
            )
        })?,
        Err(error) if error.kind() == io::ErrorKind::NotFound => 0,
        Err(error) => return Err(error),
    };
    let run = last + 1;
    private_files::replace_atomically(&path, |out| writeln!(out, "{run}"))?;
    Ok(run)
}

/// Writes the kept families' events; owned by the publishing thread.
pub struct Recorder {
    dir: PathBuf,
    run: u64,
    files: HashMap<Arc<str>, BufWriter<File>>,
    last_flush: Instant,
    /// Something was written since the last flush.
    dirty: bool,
}

impl Recorder {
    /// A recorder for run `run` under `state_dir`; logs older than
    /// [`RETENTION`] are deleted.
    pub fn open(state_dir: &Path, run: u64) -> io::Result<Recorder> {
        let dir = events_dir(state_dir);
        private_files::create_folder(&dir)?;
        prune(&dir);
        Ok(Recorder {
            dir,
            run,
            files: HashMap::new(),
            last_flush: Instant::now(),
            dirty: false,
        })
    }

    /// Keeps one sent event of `family`.
    pub fn record(&mut self, family: &Arc<str>, seq: u64, topic: &str, body: &[u8]) {
        if !self.files.contains_key(family) {
            let folder = self.dir.join(&**family);
            let opened = private_files::create_folder(&folder).and_then(|()| {
                private_files::create_file(&folder.join(format!("{}.log", self.run)))
            });
            match opened {
                Ok(file) => {
                    self.files.insert(Arc::clone(family), BufWriter::new(file));
                }
                Err(error) => {
                    error!(%family, "events of this family cannot be kept for replay: {error}");
                    return;
                }
            }
        }
        let Some(out) = self.files.get_mut(family) else {
            return;
        };
        let written = write!(out, "{seq} {topic} ")
            .and_then(|()| out.write_all(body))
            .and_then(|()| out.write_all(b"\n"));
        if let Err(error) = written {
            error!(%family, seq, "an event could not be kept for replay: {error}");
        }
        self.dirty = true;
        self.flush_if_due();
    }

    /// How long until what is buffered must be flushed; `None` when
    /// nothing is.
    pub fn flush_due_in(&self) -> Option<Duration> {
        self.dirty
            .then(|| FLUSH_EVERY.saturating_sub(self.last_flush.elapsed()))
    }

    /// Flushes when what is buffered has waited [`FLUSH_EVERY`].
    pub fn flush_if_due(&mut self) {
        if self.flush_due_in() == Some(Duration::ZERO) {
            self.flush();
        }
    }

    /// Hands what is buffered to the file system (it survives the process
    /// from then on).
    pub fn flush(&mut self) {
        if !self.dirty {
            return;
        }
        for (family, out) in &mut self.files {
            if let Err(error) = out.flush() {
                error!(%family, "kept events could not be written: {error}");
            }
        }
        self.dirty = false;
        self.last_flush = Instant::now();
    }
}

/// Deletes logs not written to for longer than [`RETENTION`].
fn prune(dir: &Path) {
    let Ok(families) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for family in families.flatten() {
        let Ok(logs) = std::fs::read_dir(family.path()) else {
            continue;
        };
        for log in logs.flatten() {
            let old = log
                .metadata()
                .and_then(|metadata| metadata.modified())
                .ok()
                .and_then(|modified| now.duration_since(modified).ok())
                .is_some_and(|age| age > RETENTION);
            if old && let Err(error) = std::fs::remove_file(log.path()) {
                warn!(file = %log.path().display(), "an old event log cannot be deleted: {error}");
            }
        }
    }
}

/// One kept event.
#[derive(Debug, Serialize)]
pub struct Kept {
    /// Its topic.
    pub topic: String,
    /// Its body, exactly as published.
    pub body: Box<RawValue>,
}

/// A page of a family's history.
#[derive(Debug, Serialize)]
pub struct Replayed {
    /// The events after the position asked for, oldest first.
    pub events: Vec<Kept>,
    /// Where the next page starts (the last event's position), or the
    /// position asked for when there was nothing after it.
    pub next: Option<Position>,
    /// True when no kept event follows this page.
    pub complete: bool,
    /// True when events after the position asked for are no longer kept
    /// (older than the retention, or the state folder was changed): what
    /// is missing must be learnt from a snapshot.
    pub missing: bool,
}

/// Why a family's history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// Not a family whose events are kept.
    #[error("`{0}` is not a kept family (orders.<exchange> or account.<exchange>)")]
    NotKept(String),
    /// The logs could not be read.
    #[error("the event history cannot be read: {0}")]
    Io(#[from] io::Error),
}

/// Up to `limit` events of `family` after `after` (from the oldest kept
/// when `None`).
pub fn replay(
    state_dir: &Path,
    family: &str,
    after: Option<Position>,
    limit: usize,
) -> Result<Replayed, ReplayError> {
    if !is_recorded(family) || family.contains(['/', '\\']) || family.contains("..") {
        return Err(ReplayError::NotKept(family.to_owned()));
    }
    let folder = events_dir(state_dir).join(family);
    let mut runs: Vec<(u64, PathBuf)> = match std::fs::read_dir(&folder) {
        Ok(entries) => entries
            .flatten()
            .filter_map(|entry| {
                let path = entry.path();
                let run = path.file_stem()?.to_str()?.parse().ok()?;
                (path.extension()? == "log").then_some((run, path))
            })
            .collect(),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(error.into()),
    };
    runs.sort();
    // Whether the log of the run asked about is still here: only then can
    // its last event be known.
    let run_asked_kept = after.is_some_and(|after| runs.iter().any(|(run, _)| *run == after.run));
    let mut page = Replayed {
        events: Vec::new(),
        next: after,
        complete: true,
        // A run whose log is gone (older than the retention), or that this
        // state folder never had (it was replaced, or the position is
        // another host's): what followed the position cannot be known.
        missing: after.is_some() && !run_asked_kept,
    };
    let mut expected = after.map(|p| Position {
        run: p.run,
        seq: p.seq + 1,
    });
    for (run, path) in runs {
        if after.is_some_and(|after| run < after.run) {
            continue;
        }
        let mut file = File::open(&path)?;
        if let Some(after) = after.filter(|after| after.run == run) {
            let start = first_line_after(&mut file, after.seq)?;
            file.seek(SeekFrom::Start(start))?;
        }
        for line in BufReader::new(file).lines() {
            let line = line?;
            let Some((seq, topic, body)) = parse_line(&line) else {
                // A torn last line after a crash.
                continue;
            };
            let position = Position { run, seq };
            if after.is_some_and(|after| position <= after) {
                continue;
            }
            if page.events.len() == limit {
                page.complete = false;
                return Ok(page);
            }
            // The first event after the position asked for must be the
            // next one in the same run, or the first of a later run.
            if let Some(wanted) = expected.take() {
                let first_of_later_run = position.run > wanted.run && position.seq == 1;
                page.missing |= position != wanted && !first_of_later_run;
            }
            page.events.push(Kept {
                topic: topic.to_owned(),
                body,
            });
            page.next = Some(position);
        }
    }
    Ok(page)
}

/// The offset of the first line of a run's log whose seq is above `seq`
/// (the file's length when there is none), by bisection: lines are in seq
/// order, so a page deep in a long log costs a few reads, not a scan.
fn first_line_after(file: &mut File, seq: u64) -> io::Result<u64> {
    let length = file.metadata()?.len();
    let (mut low, mut high) = (0, length);
    while low < high {
        let middle = low + (high - low) / 2;
        match line_from(file, middle)? {
            Some((_, found)) if found > seq => high = middle,
            Some(_) => low = middle + 1,
            None => high = middle,
        }
    }
    Ok(line_from(file, low)?.map_or(length, |(start, _)| start))
}

/// The start and seq of the first whole line that starts at or after
/// `offset`; `None` past the last one (or at a torn one).
fn line_from(file: &mut File, offset: u64) -> io::Result<Option<(u64, u64)>> {
    let mut reader = BufReader::new(&mut *file);
    let mut start = offset;
    if offset > 0 {
        // The line `offset - 1` is in ends at its newline.
        reader.seek(SeekFrom::Start(offset - 1))?;
        let mut rest = Vec::new();
        start += reader.read_until(b'\n', &mut rest)? as u64 - 1;
    } else {
        reader.seek(SeekFrom::Start(0))?;
    }
    let mut prefix = Vec::new();
    reader.read_until(b' ', &mut prefix)?;
    let seq = std::str::from_utf8(&prefix)
        .ok()
        .and_then(|text| text.strip_suffix(' '))
        .and_then(|text| text.parse().ok());
    Ok(seq.map(|seq| (start, seq)))
}

/// `seq topic body`.
fn parse_line(line: &str) -> Option<(u64, &str, Box<RawValue>)> {
    let (seq, rest) = line.split_once(' ')?;
    let (topic, body) = rest.split_once(' ')?;
    let body = RawValue::from_string(body.to_owned()).ok()?;
    Some((seq.parse().ok()?, topic, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keep(recorder: &mut Recorder, family: &Arc<str>, seq: u64) {
        let body = format!("{{\"seq\":{seq}}}");
        recorder.record(family, seq, &format!("{family}.update"), body.as_bytes());
    }

    fn seqs(page: &Replayed) -> Vec<String> {
        page.events
            .iter()
            .map(|e| e.body.get().to_owned())
            .collect()
    }

    #[test]
    fn runs_are_numbered_across_starts() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(next_run(dir.path()).unwrap(), 1);
        assert_eq!(next_run(dir.path()).unwrap(), 2);
        std::fs::write(dir.path().join("run"), "garbage").unwrap();
        assert!(next_run(dir.path()).is_err());
    }

    #[test]
    fn a_replay_pages_through_runs_and_says_when_events_are_gone() {
        let dir = tempfile::tempdir().unwrap();
        let orders: Arc<str> = "orders.hl".into();
        let mut first = Recorder::open(dir.path(), 1).unwrap();
        for seq in 1..=3 {
            keep(&mut first, &orders, seq);
        }
        first.flush();
        let mut second = Recorder::open(dir.path(), 2).unwrap();
        for seq in 1..=2 {
            keep(&mut second, &orders, seq);
        }
        second.flush();

        let all = replay(dir.path(), "orders.hl", None, 100).unwrap();
        assert_eq!(all.events.len(), 5);
        assert!(all.complete && !all.missing);
        assert_eq!(all.next, Some(Position { run: 2, seq: 2 }));

        let after = Some(Position { run: 1, seq: 2 });
        let page = replay(dir.path(), "orders.hl", after, 2).unwrap();
        assert_eq!(seqs(&page), ["{\"seq\":3}", "{\"seq\":1}"]);
        assert!(!page.complete && !page.missing);
        let rest = replay(dir.path(), "orders.hl", page.next, 2).unwrap();
        assert_eq!(seqs(&rest), ["{\"seq\":2}"]);
        assert!(rest.complete);
        let nothing = replay(dir.path(), "orders.hl", rest.next, 2).unwrap();
        assert!(nothing.events.is_empty() && nothing.complete);
        assert_eq!(nothing.next, rest.next);

        // Deep in a long run, a page starts exactly after the position.
        let mut third = Recorder::open(dir.path(), 3).unwrap();
        for seq in 1..=1_000 {
            keep(&mut third, &orders, seq);
        }
        third.flush();
        for after in [0, 1, 499, 998, 999] {
            let page = replay(
                dir.path(),
                "orders.hl",
                Some(Position { run: 3, seq: after }),
                1,
            )
            .unwrap();
            assert_eq!(
                seqs(&page),
                [format!("{{\"seq\":{}}}", after + 1)],
                "after {after}"
            );
        }
        let end = replay(
            dir.path(),
            "orders.hl",
            Some(Position { run: 3, seq: 1_000 }),
            1,
        )
        .unwrap();
        assert!(end.events.is_empty() && end.complete);

        // Run 1 deleted (retention): a subscriber at 1/1 has lost 1/2..1/3.
        std::fs::remove_file(dir.path().join("events/orders.hl/1.log")).unwrap();
        let gone = replay(
            dir.path(),
            "orders.hl",
            Some(Position { run: 1, seq: 1 }),
            9,
        )
        .unwrap();
        assert!(gone.missing, "{gone:?}");
        // A run this folder never had (it was replaced): said so, even
        // with nothing kept after it.
        let unknown = replay(
            dir.path(),
            "orders.hl",
            Some(Position { run: 9, seq: 1 }),
            9,
        )
        .unwrap();
        assert!(unknown.missing && unknown.events.is_empty(), "{unknown:?}");
        assert!(matches!(
            replay(dir.path(), "market.hl", None, 1),
            Err(ReplayError::NotKept(_))
        ));
        assert!(matches!(
            replay(dir.path(), "orders.hl/../../x", None, 1),
            Err(ReplayError::NotKept(_))
        ));
    }
}
