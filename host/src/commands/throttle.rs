//! A bound on each client's command rate: a token bucket per connection
//! (ZeroMQ's routing id), so that one client flooding the socket is
//! answered `rate_limited` cheaply while the others are served.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Buckets idle this long are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60);

/// Each client's command budget.
#[derive(Debug)]
pub struct Throttle {
    per_second: f64,
    buckets: HashMap<Vec<u8>, Bucket>,
    last_sweep: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Throttle {
    /// At most `per_second` commands a second from each client, in bursts
    /// of as many; 0 is no bound.
    pub fn new(per_second: u32) -> Throttle {
        Throttle {
            per_second: f64::from(per_second),
            buckets: HashMap::new(),
            last_sweep: Instant::now(),
        }
    }

    /// Whether the client `routing_id` may send a command at `now`.
    pub fn admit(&mut self, routing_id: &[u8], now: Instant) -> bool {
        if self.per_second <= 0.0 {
            return true;
        }
        if now.duration_since(self.last_sweep) > FORGET_AFTER {
            self.buckets
                .retain(|_, bucket| now.duration_since(bucket.at) < FORGET_AFTER);
            self.last_sweep = now;
        }
        let capacity = self.per_second;
        let bucket = self.buckets.entry(routing_id.to_vec()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refill).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// The bound, commands a second.
    pub fn per_second(&self) -> f64 {
        self.per_second
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_beyond_the_budget_is_refused_and_time_refills_it() {
        let mut throttle = Throttle::new(10);
        let start = Instant::now();
        let admitted = (0..25).filter(|_| throttle.admit(b"a", start)).count();
        assert_eq!(admitted, 10);
        assert!(
            throttle.admit(b"b", start),
            "another client has its own budget"
        );
        assert!(!throttle.admit(b"a", start + Duration::from_millis(50)));
        assert!(throttle.admit(b"a", start + Duration::from_millis(100)));
    }

    #[test]
    fn zero_is_no_bound() {
        let mut throttle = Throttle::new(0);
        let now = Instant::now();
        assert!((0..100_000).all(|_| throttle.admit(b"a", now)));
    }

    #[test]
    fn idle_clients_are_forgotten() {
        let mut throttle = Throttle::new(1);
        let start = Instant::now();
        for client in 0..100u32 {
            throttle.admit(&client.to_be_bytes(), start);
        }
        throttle.admit(b"late", start + FORGET_AFTER * 2);
        assert_eq!(throttle.buckets.len(), 1);
    }
}
