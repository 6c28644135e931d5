//! A latency histogram with fixed buckets, observed with atomics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, µs: 50 µs to 10 s, about three a decade.
pub const BOUNDS_US: [u64; 16] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 10_000_000,
];

/// Counts per bucket (and above the last), with their sum.
#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; BOUNDS_US.len() + 1],
    sum_us: AtomicU64,
}

impl Histogram {
    /// Counts one duration.
    pub fn observe(&self, duration: Duration) {
        let us = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_US.partition_point(|bound| *bound < us);
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// The cumulative count at each bound, then the total, and the sum in
    /// µs: what Prometheus's `_bucket`, `_count` and `_sum` say.
    pub fn read(&self) -> (Vec<u64>, u64, u64) {
        let mut cumulative = Vec::with_capacity(BOUNDS_US.len());
        let mut total = 0;
        for count in &self.counts[..BOUNDS_US.len()] {
            total += count.load(Ordering::Relaxed);
            cumulative.push(total);
        }
        total += self.counts[BOUNDS_US.len()].load(Ordering::Relaxed);
        (cumulative, total, self.sum_us.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_duration_lands_in_the_first_bucket_that_holds_it() {
        let histogram = Histogram::default();
        for us in [10, 50, 51, 20_000_000] {
            histogram.observe(Duration::from_micros(us));
        }
        let (cumulative, total, sum) = histogram.read();
        assert_eq!(cumulative[0], 2, "10 and 50 µs are ≤ 50 µs");
        assert_eq!(cumulative[1], 3);
        assert_eq!(cumulative[BOUNDS_US.len() - 1], 3);
        assert_eq!(total, 4);
        assert_eq!(sum, 20_000_111);
    }
}
