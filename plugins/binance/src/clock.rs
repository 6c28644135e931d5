//! Binance's clock as seen from here. Binance refuses a signed request whose
//! `timestamp` is 1 s or more ahead of its own clock, or older than the
//! receive window, so a machine whose clock is off must stamp with Binance's
//! time. The offset is `serverTime` of `GET /fapi/v1/time` minus the middle
//! of the request's way there and back; it is measured when the session
//! starts, every [`RESYNC_MS`], and at once after an answer saying a
//! timestamp was outside the window (`-1021`).

use binance_core::endpoints::TIME;
use plugin_api::{Answer, AnswerKind, Output, Output_NE, SESSION_JOB};
use serde::Deserialize;

use crate::config::Config;
use crate::rest::{Auth, Call};

/// This module's jobs have this bit set besides `SESSION_JOB`.
const CLOCK_JOB: u64 = 1 << 42;

/// How often the offset is measured again, ms.
pub const RESYNC_MS: u64 = 10 * 60 * 1000;

/// After a measurement that failed, try again this much later, ms.
const RETRY_MS: u64 = 5_000;

/// The largest offset believed, ms.
const MAX_OFFSET_MS: u64 = 24 * 60 * 60 * 1000;

/// A measurement whose way there and back took longer says little: it is
/// not used, ms.
const MAX_ROUND_TRIP_MS: u64 = 5_000;

/// Binance's clock: its offset from this machine's and when to measure it.
pub struct ServerClock {
    /// Binance's time minus this machine's, ms.
    offset_ms: i64,
    /// When the next measurement is due (`Some(0)` at start: at once).
    due_ms: Option<u64>,
    /// The measurement under way: its job and when it was sent.
    pending: Option<(u64, u64)>,
    next_job: u64,
}

impl Default for ServerClock {
    fn default() -> ServerClock {
        ServerClock {
            offset_ms: 0,
            due_ms: Some(0),
            pending: None,
            next_job: 0,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServerTime {
    server_time: u64,
}

impl ServerClock {
    /// Binance's time when this machine's is `now_ms`.
    pub fn venue_time(&self, now_ms: u64) -> u64 {
        now_ms.saturating_add_signed(self.offset_ms)
    }

    /// Whether `job` is this module's.
    pub fn owns(&self, job: u64) -> bool {
        self.pending.is_some_and(|(id, _)| id == job)
    }

    /// A timestamp was refused: measure again as soon as the timer runs
    /// (unless a measurement is under way).
    pub fn resync_soon(&mut self, now_ms: u64) {
        if self.pending.is_none() {
            self.due_ms = Some(now_ms);
        }
    }

    /// Sends a measurement when one is due.
    pub fn on_timer(&mut self, config: &Config, now_ms: u64) -> Vec<Output_NE> {
        if self.pending.is_some() || self.due_ms.is_none_or(|due| due > now_ms) {
            return Vec::new();
        }
        self.due_ms = None;
        self.next_job += 1;
        let job = SESSION_JOB | CLOCK_JOB | self.next_job;
        self.pending = Some((job, now_ms));
        let request = Call::new("GET", TIME, 1, Auth::Public).request(config);
        vec![Output_NE::new(Output::Http { job, request })]
    }

    /// The answer to a measurement; the next is scheduled either way.
    pub fn on_answer(&mut self, answer: &Answer, now_ms: u64) {
        let Some((_, sent_ms)) = self.pending.take() else {
            return;
        };
        let measured = match (answer.kind, answer.response.as_ref().into_option()) {
            (AnswerKind::ANSWERED, Some(response)) if response.status == 200 => {
                serde_json::from_str::<ServerTime>(&response.body).ok()
            }
            _ => None,
        };
        let round_trip = now_ms.saturating_sub(sent_ms);
        let middle = sent_ms.saturating_add(round_trip / 2);
        let offset = measured
            .filter(|_| round_trip <= MAX_ROUND_TRIP_MS)
            .and_then(|time| offset(time.server_time, middle));
        match offset {
            Some(offset) => {
                self.offset_ms = offset;
                self.due_ms = Some(now_ms.saturating_add(RESYNC_MS));
            }
            None => self.due_ms = Some(now_ms.saturating_add(RETRY_MS)),
        }
    }

    /// When a measurement is due.
    pub fn next_wakeup(&self) -> Option<u64> {
        self.due_ms
    }
}

/// Binance's time less this machine's, unless more than a day apart (an
/// answer that says so is not Binance's clock).
fn offset(server_ms: u64, local_ms: u64) -> Option<i64> {
    let offset = i64::try_from(server_ms).ok()? - i64::try_from(local_ms).ok()?;
    (offset.unsigned_abs() <= MAX_OFFSET_MS).then_some(offset)
}

#[cfg(test)]
mod tests {
    use abi_stable::std_types::{RString, RVec};
    use plugin_api::Response;

    use super::*;

    fn config() -> Config {
        Config::parse(r#"{"api_key":"k","api_url":"http://127.0.0.1:9"}"#).unwrap()
    }

    fn time(server_time: u64) -> Answer {
        Answer::answered(Response {
            status: 200,
            headers: RVec::new(),
            body: RString::from(format!(r#"{{"serverTime":{server_time}}}"#)),
        })
    }

    fn job_of(outputs: &[Output_NE]) -> u64 {
        match outputs[0].as_enum() {
            Ok(Output::Http { job, request }) => {
                assert!(request.url.ends_with("/fapi/v1/time"), "{}", request.url);
                *job
            }
            _ => panic!("not a request"),
        }
    }

    #[test]
    fn the_offset_is_the_server_time_less_the_middle_of_the_round_trip() {
        let mut clock = ServerClock::default();
        assert_eq!(clock.next_wakeup(), Some(0));
        let job = job_of(&clock.on_timer(&config(), 1_000));
        assert!(clock.owns(job));
        assert!(clock.on_timer(&config(), 1_001).is_empty(), "one at a time");
        // Sent at 1 000, answered at 1 040: the server said 4 020 at 1 020.
        clock.on_answer(&time(4_020), 1_040);
        assert_eq!(clock.venue_time(0), 3_000);
        assert_eq!(clock.venue_time(2_000), 5_000);
        assert_eq!(clock.next_wakeup(), Some(1_040 + RESYNC_MS));

        // A clock ahead of Binance's: the offset is negative.
        clock.resync_soon(2_000);
        let job = job_of(&clock.on_timer(&config(), 2_000));
        assert!(clock.owns(job));
        clock.on_answer(&time(500), 2_000);
        assert_eq!(clock.venue_time(2_000), 500);
        assert_eq!(clock.venue_time(1_000), 0, "never before the epoch");
    }

    #[test]
    fn a_failed_or_slow_measurement_keeps_the_offset_and_retries() {
        let mut clock = ServerClock::default();
        clock.on_timer(&config(), 0);
        clock.on_answer(&time(10_000), 1_000);
        assert_eq!(clock.venue_time(0), 9_500);
        clock.resync_soon(2_000);
        clock.on_timer(&config(), 2_000);
        clock.on_answer(&time(99_999), 2_000 + MAX_ROUND_TRIP_MS + 1);
        assert_eq!(clock.venue_time(0), 9_500, "too slow to trust");
        assert_eq!(
            clock.next_wakeup(),
            Some(2_000 + MAX_ROUND_TRIP_MS + 1 + RETRY_MS)
        );
        let now = 20_000;
        clock.on_timer(&config(), now);
        clock.on_answer(&Answer::failed(AnswerKind::UNKNOWN, "timeout"), now + 10);
        assert_eq!(clock.venue_time(0), 9_500);
        assert_eq!(clock.next_wakeup(), Some(now + 10 + RETRY_MS));
        // An absurd server time is no measurement.
        for absurd in [u64::MAX, 1 << 63, 20_000 + 2 * MAX_OFFSET_MS] {
            clock.resync_soon(20_000);
            clock.on_timer(&config(), 20_000);
            clock.on_answer(&time(absurd), 20_000);
            assert_eq!(clock.venue_time(0), 9_500, "{absurd}");
        }
    }
}
