//! Client-side rate limits: token buckets from the plugin's manifest,
//! kept in step with the venue's own count where it tells it (a budget
//! that grows with traded volume, say, which only the venue knows). Requests wait for capacity rather than fail; how long and for
//! which bucket they waited is returned so that throttling can be
//! published.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use abi_stable::std_types::{RString, Tuple2};
use plugin_api::{Operation, PluginErrorKind, RateLimitBucket, RateLimitState};
use tokio::sync::{Notify, watch};
use tracing::{debug, warn};

use super::query::{Querier, QueryError};

/// How often the venue's count is fetched while nothing waits.
pub const VENUE_SYNC: Duration = Duration::from_secs(60);

/// The soonest the venue's count is fetched again after a request started
/// waiting (the answer may show more capacity, e.g. earned by volume).
const STARVED_SYNC: Duration = Duration::from_millis(200);

/// Below this share of its capacity a venue-counted bucket is warned about.
const LOW_SHARE: f64 = 0.1;

/// The longest a bucket's count goes unreported while the venue keeps
/// telling it (some venues do on every answer).
const REPORT_EVERY: Duration = Duration::from_secs(1);

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

/// The name a wait for the venue's own pause is published under.
pub const VENUE_PAUSE: &str = "venue_retry_after";

/// The buckets of one exchange connection.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: HashMap<String, Mutex<Bucket>>,
    /// No request leaves before this: the venue asked for a pause (a ban,
    /// or a refusal's `Retry-After`).
    paused_until: Mutex<Option<Instant>>,
    /// Told whenever a request has to wait.
    starved: Notify,
    /// Tells waiting requests that the venue's count was just applied.
    synced: Notify,
}

/// How long a request waited for capacity, and for which bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waited {
    /// Time spent waiting; zero when the costs were paid at once.
    pub duration: Duration,
    /// The last bucket that made it wait.
    pub bucket: Option<String>,
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
            paused_until: Mutex::new(None),
            starved: Notify::new(),
            synced: Notify::new(),
        }
    }

    /// Holds every request of the exchange until `until`, when the venue
    /// asked for a pause: sending more meanwhile is refused again, and on
    /// some venues lengthens a ban. A shorter pause never shortens a longer
    /// one.
    pub fn pause_until(&self, until: Instant) {
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    /// How long the venue's pause still lasts.
    fn pause_left(&self, now: Instant) -> Option<Duration> {
        let paused = *self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        paused
            .map(|until| until.saturating_duration_since(now))
            .filter(|left| !left.is_zero())
    }

    /// Gives the buckets named in `buckets` a new capacity and window (a
    /// configuration reload); what is left in each is kept, up to the new
    /// capacity. Buckets not named keep theirs.
    pub fn reconfigure(&self, buckets: &[RateLimitBucket]) {
        for new in buckets {
            if let Some(bucket) = self.buckets.get(new.id.as_str()) {
                let mut bucket = bucket.lock().unwrap_or_else(PoisonError::into_inner);
                bucket.refill(Instant::now());
                bucket.capacity = f64::from(new.capacity);
                bucket.per_ms = bucket.capacity / new.window_ms.max(1) as f64;
                bucket.tokens = bucket.tokens.min(bucket.capacity);
            }
        }
        self.synced.notify_waiters();
    }

    /// Sets a bucket to what the venue says is left of it (and raises its
    /// capacity to the venue's). Unknown buckets are ignored.
    pub fn sync(&self, state: &RateLimitState, now: Instant) {
        let Some(bucket) = self.buckets.get(state.bucket.as_str()) else {
            return;
        };
        let mut bucket = bucket.lock().unwrap_or_else(PoisonError::into_inner);
        bucket.capacity = bucket.capacity.max(state.capacity as f64);
        bucket.tokens = (state.remaining as f64).min(bucket.capacity);
        bucket.refilled = now;
        drop(bucket);
        self.synced.notify_waiters();
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

    /// Waits until the venue's pause is over and every cost (bucket,
    /// weight) can be paid, then pays them. While it waits, the venue's
    /// count is asked for (see
    /// [`keep_synced`]), and the wait ends early if that shows capacity.
    pub async fn acquire(&self, costs: &[Tuple2<RString, u32>]) -> Waited {
        let start = Instant::now();
        let mut waited_for = None;
        while let Some(left) = self.pause_left(Instant::now()) {
            waited_for = Some(VENUE_PAUSE.to_owned());
            tokio::time::sleep(left).await;
        }
        for Tuple2(bucket, weight) in costs {
            while let Err(wait) = self.try_take(bucket, *weight, Instant::now()) {
                waited_for = Some(bucket.to_string());
                let synced = self.synced.notified();
                tokio::pin!(synced);
                synced.as_mut().enable();
                self.starved.notify_one();
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = synced => {}
                }
            }
        }
        Waited {
            // Paying without waiting is no wait: a job whose first call
            // paid at once must not be begun again (see `Session::pay`).
            duration: if waited_for.is_some() {
                start.elapsed()
            } else {
                Duration::ZERO
            },
            bucket: waited_for,
        }
    }
}

/// Keeps `limiter` in step with the venue's count of the account's rate
/// limits: at once, every [`VENUE_SYNC`], and soon after a request starts
/// waiting. Ends at shutdown, or at once if the plugin has no such query.
pub async fn keep_synced(
    limiter: Arc<RateLimiter>,
    querier: Querier,
    exchange: String,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        // The querier's executor applies the answer to `limiter`.
        match querier.events(Operation::FetchRateLimits).await {
            Ok(_) => {}
            Err(QueryError::Plugin(error)) if error.kind == PluginErrorKind::UNSUPPORTED => {
                debug!(%exchange, "the venue does not report its rate limits: {error}");
                return;
            }
            Err(error) => warn!(%exchange, "rate-limit sync failed: {error}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(VENUE_SYNC) => {}
            _ = limiter.starved.notified() => tokio::time::sleep(STARVED_SYNC).await,
            _ = shutdown.changed() => return,
        }
    }
}

/// Logs a venue's count: a warning when nearly spent.
/// Which of the venue's counts are worth reporting: a bucket's first, then
/// one a second, and at once when it falls below a tenth of its capacity
/// or climbs back.
#[derive(Debug, Default)]
pub struct VenueCounts(Mutex<HashMap<String, (Instant, bool)>>);

impl VenueCounts {
    /// Whether `state`, told at `now`, is to be reported.
    pub fn worth_reporting(&self, state: &RateLimitState, now: Instant) -> bool {
        let low = is_low(state);
        let mut reported = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match reported.get(state.bucket.as_str()) {
            Some((at, was_low))
                if *was_low == low && now.saturating_duration_since(*at) < REPORT_EVERY =>
            {
                false
            }
            _ => {
                reported.insert(state.bucket.to_string(), (now, low));
                true
            }
        }
    }
}

fn is_low(state: &RateLimitState) -> bool {
    (state.remaining as f64) < state.capacity as f64 * LOW_SHARE
}

/// Logs the venue's count of a bucket; a warning when it is nearly spent.
pub fn log_venue_count(exchange: &str, state: &RateLimitState) {
    debug!(
        %exchange,
        bucket = %state.bucket,
        remaining = state.remaining,
        capacity = state.capacity,
        "rate limit as the venue counts it"
    );
    if is_low(state) {
        warn!(
            "{exchange}: rate limit {} nearly spent ({} of {} left); requests will wait",
            state.bucket, state.remaining, state.capacity
        );
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

    #[tokio::test]
    async fn a_venue_pause_holds_every_request_until_it_ends() {
        let limiter = limiter(100, 1_000);
        let start = Instant::now();
        limiter.pause_until(start + Duration::from_millis(300));
        // A shorter pause asked for later does not shorten it.
        limiter.pause_until(start + Duration::from_millis(50));
        let waited = limiter.acquire(&[Tuple2("ip".into(), 1)]).await;
        assert!(Instant::now() >= start + Duration::from_millis(300));
        assert_eq!(waited.bucket.as_deref(), Some(VENUE_PAUSE));
        // Over, it holds nothing, and paying at once is no wait at all.
        let waited = limiter.acquire(&[Tuple2("ip".into(), 1)]).await;
        assert_eq!(waited.bucket, None);
        assert_eq!(waited.duration, Duration::ZERO);
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

    #[test]
    fn the_venues_count_replaces_the_local_one() {
        let limiter = RateLimiter::new(&[RateLimitBucket {
            id: "address".into(),
            capacity: 10_000,
            window_ms: 100_000_000,
        }]);
        let now = Instant::now();
        let state = |remaining, capacity| RateLimitState {
            bucket: "address".into(),
            remaining,
            capacity,
        };
        limiter.sync(&state(3, 10_000), now);
        assert!(limiter.try_take("address", 3, now).is_ok());
        let wait = limiter.try_take("address", 1, now).unwrap_err();
        assert_eq!(wait.as_secs(), 10, "one per 10 s once spent");
        // Volume earned more than the manifest's capacity.
        limiter.sync(&state(15_000, 25_000), now);
        assert!(limiter.try_take("address", 15_000, now).is_ok());
        assert!(limiter.try_take("address", 1, now).is_err());
        limiter.sync(&state(1, 1), now);
        assert!(limiter.try_take("other", 1, now).is_ok());
    }

    #[tokio::test]
    async fn a_waiting_request_goes_as_soon_as_the_venue_shows_capacity() {
        let limiter = Arc::new(RateLimiter::new(&[RateLimitBucket {
            id: "address".into(),
            capacity: 2,
            window_ms: 20_000,
        }]));
        limiter.acquire(&[Tuple2("address".into(), 2)]).await;
        let waiting = tokio::spawn({
            let limiter = Arc::clone(&limiter);
            async move { limiter.acquire(&[Tuple2("address".into(), 1)]).await }
        });
        // The request asks for a sync, as the syncing task would hear.
        limiter.starved.notified().await;
        limiter.sync(
            &RateLimitState {
                bucket: "address".into(),
                remaining: 5,
                capacity: 7,
            },
            Instant::now(),
        );
        // Without the sync it would wait 10 s for the refill.
        let waited = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("released by the sync")
            .unwrap();
        assert_eq!(waited.bucket.as_deref(), Some("address"));
    }

    #[test]
    fn a_count_told_on_every_answer_is_reported_once_a_second_and_at_once_when_low() {
        let counts = VenueCounts::default();
        let state = |bucket: &str, remaining| RateLimitState {
            bucket: bucket.into(),
            remaining,
            capacity: 100,
        };
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        assert!(counts.worth_reporting(&state("create", 90), at(0)));
        assert!(!counts.worth_reporting(&state("create", 80), at(10)));
        assert!(
            counts.worth_reporting(&state("query", 80), at(10)),
            "per bucket"
        );
        assert!(
            counts.worth_reporting(&state("create", 5), at(20)),
            "nearly spent"
        );
        assert!(!counts.worth_reporting(&state("create", 4), at(30)));
        assert!(
            counts.worth_reporting(&state("create", 50), at(40)),
            "recovered"
        );
        assert!(
            counts.worth_reporting(&state("create", 50), at(1_040)),
            "a second on"
        );
    }

    #[test]
    fn a_reload_changes_capacity_and_rate_but_keeps_what_is_left() {
        let limiter = limiter(10, 1_000);
        let now = Instant::now();
        limiter.try_take("ip", 8, now).unwrap();
        limiter.reconfigure(&[RateLimitBucket {
            id: "ip".into(),
            capacity: 1_000,
            window_ms: 1_000,
        }]);
        // 2 were left; the new rate refills one per ms.
        assert!(limiter.try_take("ip", 3, now).is_err());
        let later = Instant::now() + Duration::from_millis(100);
        assert!(limiter.try_take("ip", 100, later).is_ok());
    }

    #[tokio::test]
    async fn acquire_waits_instead_of_failing() {
        let limiter = limiter(2, 100);
        let free = limiter.acquire(&[Tuple2("ip".into(), 2)]).await;
        assert_eq!(free.bucket, None);
        let waited = limiter.acquire(&[Tuple2("ip".into(), 1)]).await;
        assert_eq!(waited.bucket.as_deref(), Some("ip"));
        assert!(waited.duration >= Duration::from_millis(40), "{waited:?}");
    }
}
