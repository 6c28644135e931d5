//! Periodic upkeep of an exchange's orders:
//!
//! * closed orders leave memory some time after their last change (the
//!   journal keeps them), so a host that runs for weeks holds only recent
//!   orders and its memory stays flat under any order rate;
//! * a refill from the exchange at a fixed interval, because a stream can
//!   lose a message without dropping its connection, and nothing else
//!   would ever correct what the message carried.

use std::time::Duration;

use tokio::sync::watch;
use tracing::debug;

use super::Trading;
use crate::runtime::clock::now_ms;

/// Sweeps this many times per retention period.
const SWEEPS_PER_RETENTION: u64 = 10;

impl Trading {
    /// Until shutdown, drops from the tracker every order that has been in
    /// a final state for `retention_ms`.
    pub async fn forget_closed_orders(self, retention_ms: u64, shutdown: watch::Receiver<bool>) {
        let sweep = Duration::from_millis((retention_ms / SWEEPS_PER_RETENTION).max(1));
        every(sweep, shutdown, || {
            let forgotten = self
                .inner
                .tracker
                .forget_closed(now_ms().saturating_sub(retention_ms));
            if forgotten > 0 {
                debug!(exchange = %self.inner.exchange, forgotten, "closed orders dropped from memory");
            }
        })
        .await;
    }

    /// Until shutdown, reconciles with the exchange every `interval_ms`
    /// (open orders, the status of every live order it did not list, fills
    /// since the last one seen).
    pub async fn keep_reconciled(self, interval_ms: u64, shutdown: watch::Receiver<bool>) {
        every(Duration::from_millis(interval_ms), shutdown, || {
            self.inner.request_reconcile();
        })
        .await;
    }
}

/// Runs `task` every `period` until shutdown.
async fn every(period: Duration, mut shutdown: watch::Receiver<bool>, mut task: impl FnMut()) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => task(),
            _ = shutdown.changed() => return,
        }
    }
}
