//! A venue's clock as seen from the host's machine, for plugins whose venue
//! refuses a signed request stamped too far from its own clock (Binance:
//! 1 s ahead; Bybit likewise). The offset is the venue's time (read by the
//! plugin from its time endpoint's answer) less the middle of the request's
//! way there and back. It is measured when the session starts, every
//! [`RESYNC_MS`], and at once when the plugin says a stamp was refused
//! ([`resync_soon`](VenueClock::resync_soon)). A round trip over
//! [`MAX_ROUND_TRIP_MS`], or an offset of more than a day, is not a
//! measurement.

use crate::{Answer, AnswerKind, Output, Output_NE, Request, Response, SESSION_JOB};

/// How often the offset is measured again, ms.
pub const RESYNC_MS: u64 = 10 * 60 * 1000;

/// After a measurement that failed, try again this much later, ms.
pub const RETRY_MS: u64 = 5_000;

/// A measurement whose way there and back took longer says little, ms.
pub const MAX_ROUND_TRIP_MS: u64 = 5_000;

/// The largest offset believed, ms.
const MAX_OFFSET_MS: u64 = 24 * 60 * 60 * 1000;

/// The venue's clock: its offset from this machine's and when to measure
/// it. Its requests are session jobs with the plugin's `job_bit` set.
#[derive(Debug)]
pub struct VenueClock {
    /// The venue's time minus this machine's, ms.
    offset_ms: i64,
    /// When the next measurement is due (0 at start: at once).
    due_ms: Option<u64>,
    /// The measurement under way: its job and when it was sent.
    pending: Option<(u64, u64)>,
    job_bit: u64,
    next_job: u64,
}

impl VenueClock {
    /// A clock not measured yet (due at once); its jobs carry `job_bit`
    /// besides [`SESSION_JOB`], a bit no other job of the plugin's has.
    pub fn new(job_bit: u64) -> VenueClock {
        VenueClock {
            offset_ms: 0,
            due_ms: Some(0),
            pending: None,
            job_bit,
            next_job: 0,
        }
    }

    /// The venue's time when this machine's is `now_ms`.
    pub fn venue_time(&self, now_ms: u64) -> u64 {
        now_ms.saturating_add_signed(self.offset_ms)
    }

    /// Whether `job` is this clock's.
    pub fn owns(&self, job: u64) -> bool {
        self.pending.is_some_and(|(id, _)| id == job)
    }

    /// A stamp was refused: measure again at the next timer (unless a
    /// measurement is under way).
    pub fn resync_soon(&mut self, now_ms: u64) {
        if self.pending.is_none() {
            self.due_ms = Some(now_ms);
        }
    }

    /// Sends `request` (the venue's time endpoint) when a measurement is
    /// due.
    pub fn on_timer(&mut self, now_ms: u64, request: impl FnOnce() -> Request) -> Vec<Output_NE> {
        if self.pending.is_some() || self.due_ms.is_none_or(|due| due > now_ms) {
            return Vec::new();
        }
        self.due_ms = None;
        self.next_job += 1;
        let job = SESSION_JOB | self.job_bit | self.next_job;
        self.pending = Some((job, now_ms));
        vec![Output_NE::new(Output::Http {
            job,
            request: request(),
        })]
    }

    /// The answer to a measurement, the venue's time (ms) read from it by
    /// `read`; the next measurement is scheduled either way.
    pub fn on_answer(
        &mut self,
        answer: &Answer,
        now_ms: u64,
        read: impl FnOnce(&Response) -> Option<u64>,
    ) {
        let Some((_, sent_ms)) = self.pending.take() else {
            return;
        };
        let venue_ms = match (answer.kind, answer.response.as_ref().into_option()) {
            (AnswerKind::ANSWERED, Some(response)) if response.status == 200 => read(response),
            _ => None,
        };
        let round_trip = now_ms.saturating_sub(sent_ms);
        let middle = sent_ms.saturating_add(round_trip / 2);
        let offset = venue_ms
            .filter(|_| round_trip <= MAX_ROUND_TRIP_MS)
            .and_then(|venue_ms| offset(venue_ms, middle));
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

/// The venue's time less this machine's, unless more than a day apart (an
/// answer that says so is not the venue's clock).
fn offset(venue_ms: u64, local_ms: u64) -> Option<i64> {
    let offset = i64::try_from(venue_ms).ok()? - i64::try_from(local_ms).ok()?;
    (offset.unsigned_abs() <= MAX_OFFSET_MS).then_some(offset)
}

#[cfg(test)]
mod tests {
    use abi_stable::std_types::{RString, RVec};

    use super::*;

    const BIT: u64 = 1 << 42;

    fn request() -> Request {
        Request {
            method: "GET".into(),
            url: "http://127.0.0.1:9/time".into(),
            headers: RVec::new(),
            body: RString::new(),
            costs: RVec::new(),
        }
    }

    fn time(ms: u64) -> Answer {
        Answer::answered(Response {
            status: 200,
            headers: RVec::new(),
            body: RString::from(ms.to_string()),
        })
    }

    fn read(response: &Response) -> Option<u64> {
        response.body.parse().ok()
    }

    fn job_of(outputs: &[Output_NE]) -> u64 {
        match outputs[0].as_enum() {
            Ok(Output::Http { job, .. }) => *job,
            _ => panic!("not a request"),
        }
    }

    #[test]
    fn the_offset_is_the_venue_time_less_the_middle_of_the_round_trip() {
        let mut clock = VenueClock::new(BIT);
        assert_eq!(clock.next_wakeup(), Some(0));
        let job = job_of(&clock.on_timer(1_000, request));
        assert!(clock.owns(job) && job & (SESSION_JOB | BIT) == SESSION_JOB | BIT);
        assert!(clock.on_timer(1_001, request).is_empty(), "one at a time");
        // Sent at 1 000, answered at 1 040: the venue said 4 020 at 1 020.
        clock.on_answer(&time(4_020), 1_040, read);
        assert_eq!(clock.venue_time(0), 3_000);
        assert_eq!(clock.next_wakeup(), Some(1_040 + RESYNC_MS));

        // A clock ahead of the venue's: the offset is negative.
        clock.resync_soon(2_000);
        let job = job_of(&clock.on_timer(2_000, request));
        assert!(clock.owns(job));
        clock.on_answer(&time(500), 2_000, read);
        assert_eq!(clock.venue_time(2_000), 500);
        assert_eq!(clock.venue_time(1_000), 0, "never before the epoch");
    }

    #[test]
    fn a_failed_slow_or_absurd_measurement_keeps_the_offset_and_retries() {
        let mut clock = VenueClock::new(BIT);
        clock.on_timer(0, request);
        clock.on_answer(&time(10_000), 1_000, read);
        assert_eq!(clock.venue_time(0), 9_500);
        clock.resync_soon(2_000);
        clock.on_timer(2_000, request);
        clock.on_answer(&time(99_999), 2_000 + MAX_ROUND_TRIP_MS + 1, read);
        assert_eq!(clock.venue_time(0), 9_500, "too slow to trust");
        assert_eq!(
            clock.next_wakeup(),
            Some(2_000 + MAX_ROUND_TRIP_MS + 1 + RETRY_MS)
        );
        let now = 20_000;
        clock.on_timer(now, request);
        clock.on_answer(
            &Answer::failed(AnswerKind::UNKNOWN, "timeout"),
            now + 10,
            read,
        );
        assert_eq!(clock.venue_time(0), 9_500);
        assert_eq!(clock.next_wakeup(), Some(now + 10 + RETRY_MS));
        for absurd in [u64::MAX, 1 << 63, 20_000 + 2 * MAX_OFFSET_MS] {
            clock.resync_soon(20_000);
            clock.on_timer(20_000, request);
            clock.on_answer(&time(absurd), 20_000, read);
            assert_eq!(clock.venue_time(0), 9_500, "{absurd}");
        }
    }
}
