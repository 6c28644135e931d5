//! What the command socket did, counted: published on
//! `host.status.commands` every 10 s instead of an event per refusal.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

/// Counters of the command socket, shared with the status publisher.
#[derive(Debug, Default)]
pub struct CommandStats {
    received: AtomicU64,
    refused: Mutex<BTreeMap<String, u64>>,
    connections_refused: AtomicU64,
    connections_open: AtomicU64,
}

/// The counters at one moment, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandCounters {
    /// Commands received since start.
    pub received: u64,
    /// Commands answered with an error since start, by error code
    /// (`internal` counts commands a bug stopped).
    pub refused: BTreeMap<String, u64>,
    /// Connections open now.
    pub connections_open: u64,
    /// Connections refused over the cap since start.
    pub connections_refused: u64,
}

impl CommandStats {
    /// One command received.
    pub fn received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
    }

    /// One command answered with error `code`.
    pub fn refused(&self, code: &str) {
        let mut refused = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
        match refused.get_mut(code) {
            Some(count) => *count += 1,
            None => {
                refused.insert(code.to_owned(), 1);
            }
        }
    }

    /// One connection refused over the cap; returns the count before.
    pub fn connection_refused(&self) -> u64 {
        self.connections_refused.fetch_add(1, Ordering::Relaxed)
    }

    /// How many connections are open now.
    pub fn set_connections_open(&self, open: usize) {
        self.connections_open
            .store(u64::try_from(open).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> CommandCounters {
        CommandCounters {
            received: self.received.load(Ordering::Relaxed),
            refused: self
                .refused
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            connections_open: self.connections_open.load(Ordering::Relaxed),
            connections_refused: self.connections_refused.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_counted_by_code() {
        let stats = CommandStats::default();
        stats.received();
        stats.received();
        stats.refused("risk_limit");
        stats.refused("risk_limit");
        stats.refused("bad_request");
        let counters = stats.snapshot();
        assert_eq!(counters.received, 2);
        assert_eq!(counters.refused["risk_limit"], 2);
        assert_eq!(counters.refused["bad_request"], 1);
    }
}
