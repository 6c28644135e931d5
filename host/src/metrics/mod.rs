//! Metrics for Prometheus: what the host's status events say (connections,
//! books, rate limits, kill switch, signer, throttling), latency histograms
//! of the command socket, the signer, exchange requests and journal syncs,
//! and — read when scraped — orders by state, commands and events. Served
//! on `/metrics` with `/healthz` beside it ([`server`]) when `[metrics]` is
//! configured.
//!
//! The registry is one per process: the parts that observe (the status
//! publisher, the signer client, the HTTP executor, the journal) need no
//! handle passed to them, and observing is a few atomic operations.

mod histogram;
mod render;
pub mod server;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};

pub use histogram::Histogram;
pub use render::render;

/// The process's registry.
pub fn registry() -> &'static Registry {
    static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::default);
    &REGISTRY
}

/// Something up or down — a connection (down), a book (stale) — and how
/// often it went down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpDown {
    /// Up now (connected, in sync).
    pub up: bool,
    /// Times it went down.
    pub downs: u64,
}

impl UpDown {
    fn set(&mut self, up: bool) {
        if self.up && !up {
            self.downs += 1;
        }
        self.up = up;
    }
}

/// Everything observed, by label.
#[derive(Default)]
pub struct Registry {
    connections: Mutex<BTreeMap<(String, String), UpDown>>,
    books: Mutex<BTreeMap<(String, String), UpDown>>,
    rate_limits: Mutex<BTreeMap<(String, String), (u64, u64)>>,
    throttled_ms: Mutex<BTreeMap<(String, String), u64>>,
    kill_switches: Mutex<BTreeMap<String, bool>>,
    /// 0 not started by this host, 1 up, 2 exited.
    signer: AtomicU8,
    /// Commands, from receipt to the reply sent.
    pub command_latency: Histogram,
    /// Signatures, from the request sent to the signature back.
    pub signer_latency: Histogram,
    /// Exchange HTTP requests, from sending to the whole answer read.
    pub request_latency: Histogram,
    /// Journal syncs to disk.
    pub journal_sync_latency: Histogram,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Registry {
    /// A connection went up or down.
    pub fn connection(&self, exchange: &str, connection: &str, up: bool) {
        lock(&self.connections)
            .entry((exchange.to_owned(), connection.to_owned()))
            .or_default()
            .set(up);
    }

    /// A book went in sync or stale.
    pub fn book(&self, exchange: &str, symbol: &str, synced: bool) {
        lock(&self.books)
            .entry((exchange.to_owned(), symbol.to_owned()))
            .or_default()
            .set(synced);
    }

    /// The venue's count of a rate-limit bucket.
    pub fn rate_limit(&self, exchange: &str, bucket: &str, remaining: u64, capacity: u64) {
        lock(&self.rate_limits).insert(
            (exchange.to_owned(), bucket.to_owned()),
            (remaining, capacity),
        );
    }

    /// A request waited for the host's own rate limiter.
    pub fn throttled(&self, exchange: &str, bucket: &str, waited_ms: u64) {
        *lock(&self.throttled_ms)
            .entry((exchange.to_owned(), bucket.to_owned()))
            .or_default() += waited_ms;
    }

    /// The kill switch of an exchange was engaged or released.
    pub fn kill_switch(&self, exchange: &str, engaged: bool) {
        lock(&self.kill_switches).insert(exchange.to_owned(), engaged);
    }

    /// The signer this host started is up, or exited.
    pub fn signer(&self, up: bool) {
        self.signer.store(if up { 1 } else { 2 }, Ordering::Relaxed);
    }

    /// Forgets what was observed of an exchange (removed by a reload).
    pub fn forget(&self, exchange: &str) {
        lock(&self.connections).retain(|(name, _), _| name != exchange);
        lock(&self.books).retain(|(name, _), _| name != exchange);
        lock(&self.rate_limits).retain(|(name, _), _| name != exchange);
        lock(&self.throttled_ms).retain(|(name, _), _| name != exchange);
        lock(&self.kill_switches).remove(exchange);
    }

    /// Each connection's state.
    pub fn connections(&self) -> BTreeMap<(String, String), UpDown> {
        lock(&self.connections).clone()
    }

    /// Each book's state (up: in sync).
    pub fn books(&self) -> BTreeMap<(String, String), UpDown> {
        lock(&self.books).clone()
    }

    /// The signer's state: `Some(true)` up, `Some(false)` exited, `None`
    /// when this host did not start one.
    pub fn signer_up(&self) -> Option<bool> {
        match self.signer.load(Ordering::Relaxed) {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        }
    }

    fn rate_limits(&self) -> BTreeMap<(String, String), (u64, u64)> {
        lock(&self.rate_limits).clone()
    }

    fn throttled_ms(&self) -> BTreeMap<(String, String), u64> {
        lock(&self.throttled_ms).clone()
    }

    fn kill_switches(&self) -> BTreeMap<String, bool> {
        lock(&self.kill_switches).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downs_and_stale_spells_are_counted_on_the_way_down_only() {
        let registry = Registry::default();
        registry.connection("hl", "user", true);
        registry.connection("hl", "user", false);
        registry.connection("hl", "user", false);
        registry.connection("hl", "user", true);
        assert_eq!(
            registry.connections()[&("hl".to_owned(), "user".to_owned())],
            UpDown { up: true, downs: 1 }
        );
        registry.book("hl", "BTC-USD", false);
        registry.book("hl", "BTC-USD", true);
        registry.book("hl", "BTC-USD", false);
        assert_eq!(
            registry.books()[&("hl".to_owned(), "BTC-USD".to_owned())],
            UpDown {
                up: false,
                downs: 1
            }
        );
        registry.forget("hl");
        assert!(registry.connections().is_empty() && registry.books().is_empty());
    }
}
