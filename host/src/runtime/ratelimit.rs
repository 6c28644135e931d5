//! Client-side rate limits: token buckets from the plugin's manifest.
//! Requests wait for capacity rather than fail; how long they waited is
//! returned so that throttling can be published.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use abi_stable::std_types::{RString, Tuple2};
use plugin_api::RateLimitBucket;

#[derive(Debug)]
struct Bucket {
    capacity: f64,
    per_ms: f64,
    tokens: f64,
    refilled: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64() * 1000.0;
        self.tokens = (self.tokens + elapsed * self.per_ms).min(self.capacity);
        self.refilled = now;
    }
}

/// The buckets of one exchange connection.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: HashMap<String, Mutex<Bucket>>,
}

impl RateLimiter {
    /// Buckets as the manifest declares them, full at start.
    pub fn new(buckets: &[RateLimitBucket]) -> RateLimiter {
        let now = Instant::now();
        RateLimiter {
            buckets: buckets
                .iter()
                .map(|bucket| {
                    let capacity = f64::from(bucket.capacity);
                    (
                        bucket.id.to_string(),
                        Mutex::new(Bucket {
                            capacity,
                            per_ms: capacity / bucket.window_ms.max(1) as f64,
                            tokens: capacity,
                            refilled: now,
                        }),
                    )
                })
                .collect(),
        }
    }

    /// Takes `weight` from `bucket` if it is there now; otherwise says how
    /// long until it will be. Unknown buckets are not limited.
    pub fn try_take(&self, bucket: &str, weight: u32, now: Instant) -> Result<(), Duration> {
        let Some(bucket) = self.buckets.get(bucket) else {
            return Ok(());
        };
        let mut bucket = bucket.lock().unwrap_or_else(PoisonError::into_inner);
        bucket.refill(now);
        // A request heavier than the whole bucket waits for a full bucket.
        let weight = f64::from(weight).min(bucket.capacity);
        if bucket.tokens >= weight {
            bucket.tokens -= weight;
            Ok(())
        } else {
            let missing = weight - bucket.tokens;
            Err(Duration::from_secs_f64(missing / bucket.per_ms / 1000.0))
        }
    }

    /// Waits until every cost (bucket, weight) can be paid, then pays them.
    /// Returns the time spent waiting.
    pub async fn acquire(&self, costs: &[Tuple2<RString, u32>]) -> Duration {
        let start = Instant::now();
        for Tuple2(bucket, weight) in costs {
            while let Err(wait) = self.try_take(bucket, *weight, Instant::now()) {
                tokio::time::sleep(wait).await;
            }
        }
        start.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(capacity: u32, window_ms: u64) -> RateLimiter {
        RateLimiter::new(&[RateLimitBucket {
            id: "ip".into(),
            capacity,
            window_ms,
        }])
    }

    #[test]
    fn a_bucket_empties_and_refills_over_its_window() {
        let limiter = limiter(1200, 60_000);
        let start = Instant::now();
        for _ in 0..1200 {
            limiter.try_take("ip", 1, start).unwrap();
        }
        let wait = limiter.try_take("ip", 1, start).unwrap_err();
        assert!((wait.as_secs_f64() - 0.05).abs() < 0.001, "{wait:?}");
        assert!(
            limiter
                .try_take("ip", 1, start + Duration::from_millis(50))
                .is_ok()
        );
        assert!(
            limiter
                .try_take("ip", 20, start + Duration::from_millis(60))
                .is_err()
        );
        assert!(
            limiter
                .try_take("ip", 20, start + Duration::from_secs(60))
                .is_ok()
        );
    }

    #[test]
    fn unknown_buckets_are_free_and_heavy_requests_still_pass() {
        let limiter = limiter(10, 1_000);
        assert!(limiter.try_take("other", 1_000_000, Instant::now()).is_ok());
        let start = Instant::now();
        assert!(
            limiter.try_take("ip", 50, start).is_ok(),
            "capped at a full bucket"
        );
        assert!(limiter.try_take("ip", 1, start).is_err());
    }

    #[tokio::test]
    async fn acquire_waits_instead_of_failing() {
        let limiter = limiter(2, 100);
        assert!(limiter.acquire(&[Tuple2("ip".into(), 2)]).await < Duration::from_millis(5));
        let waited = limiter.acquire(&[Tuple2("ip".into(), 1)]).await;
        assert!(waited >= Duration::from_millis(40), "{waited:?}");
    }
}
