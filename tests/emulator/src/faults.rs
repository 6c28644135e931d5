//! Faults on demand: dropped, silent, delayed, duplicated, reordered and
//! malformed WebSocket traffic; 429 and 5xx answers; actions applied but
//! answered late or never; a post-only window.
//!
//! Every random decision comes from one ChaCha stream seeded from the
//! emulator's seed, so a given seed and request sequence gives the same faults.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// Fault switches, as the admin endpoint (`POST /admin/faults`), the config
/// file (`[faults]`) and the command line (`--ws-drop-probability 0.1`, …)
/// take them.
///
/// An update changes only the fields it names; `reset` first switches every
/// fault off. Probabilities are in `[0, 1]` and apply per message (WebSocket)
/// or per request (HTTP); `*_next` counters fault the next N requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct FaultSettings {
    /// Switch every fault off before applying the other fields (admin only).
    #[arg(skip)]
    #[serde(default)]
    pub reset: bool,
    /// Drop every open WebSocket connection now, without a close frame (admin only).
    #[arg(skip)]
    #[serde(default)]
    pub ws_drop_now: bool,
    /// Probability that a connection is dropped instead of sending a message.
    #[arg(long)]
    pub ws_drop_probability: Option<f64>,
    /// Go silent for this many seconds from now: sockets stay open but nothing
    /// is sent (not even pongs); 0 ends a silence.
    #[arg(long)]
    pub ws_silence_secs: Option<u64>,
    /// Delay every outgoing WebSocket message by this many milliseconds.
    #[arg(long)]
    pub ws_delay_ms: Option<u64>,
    /// Probability that a message is sent twice.
    #[arg(long)]
    pub ws_duplicate_probability: Option<f64>,
    /// Probability that a message is held back and sent after the next one.
    #[arg(long)]
    pub ws_reorder_probability: Option<f64>,
    /// Probability that a message is replaced by a truncated, unparsable frame.
    #[arg(long)]
    pub ws_malformed_probability: Option<f64>,
    /// Probability that an HTTP request is answered 429.
    #[arg(long = "http-429-probability")]
    pub http_429_probability: Option<f64>,
    /// Answer the next N HTTP requests 429.
    #[arg(long = "http-429-next")]
    pub http_429_next: Option<u32>,
    /// Probability that an HTTP request is answered 5xx (500, 502, 503 or 504).
    #[arg(long = "http-5xx-probability")]
    pub http_5xx_probability: Option<f64>,
    /// Answer the next N HTTP requests 5xx.
    #[arg(long = "http-5xx-next")]
    pub http_5xx_next: Option<u32>,
    /// Answer the next N `/exchange` requests 5xx (`/info` is not affected),
    /// before applying their action unless `http_5xx_after_apply`.
    #[arg(long)]
    pub exchange_5xx_next: Option<u32>,
    /// When an `/exchange` request draws a 5xx, apply its action first (the
    /// outcome is then unknown to the client); default: the action is not applied.
    #[arg(long = "http-5xx-after-apply")]
    pub http_5xx_after_apply: Option<bool>,
    /// Probability that an action is applied but never answered (the request
    /// is held open until the client gives up).
    #[arg(long)]
    pub exchange_hang_probability: Option<f64>,
    /// Apply the next N actions but never answer them.
    #[arg(long)]
    pub exchange_hang_next: Option<u32>,
    /// Probability that an action is applied and answered late.
    #[arg(long)]
    pub exchange_late_probability: Option<f64>,
    /// Apply the next N actions and answer them late.
    #[arg(long)]
    pub exchange_late_next: Option<u32>,
    /// How late a late answer is, in milliseconds (default 5000).
    #[arg(long)]
    pub exchange_late_ms: Option<u64>,
    /// The venue's clock runs this many ms ahead of this machine's
    /// (negative: behind): request timestamps are checked, and times
    /// reported, by it (Bybit and Binance front ends).
    #[arg(long, allow_hyphen_values = true)]
    pub clock_offset_ms: Option<i64>,
    /// For this many seconds from now only post-only (Alo) orders are
    /// accepted; others get "Only post-only orders allowed immediately after
    /// network upgrade". 0 ends the window.
    #[arg(long)]
    pub post_only_secs: Option<u64>,
}

impl FaultSettings {
    /// Overwrites the fields `update` names (`reset` and `ws_drop_now` are
    /// actions, not settings, and are not copied).
    pub fn merge(&mut self, update: &FaultSettings) {
        macro_rules! merge {
            ($($field:ident),*) => {$(
                if update.$field.is_some() {
                    self.$field = update.$field;
                }
            )*};
        }
        merge!(
            ws_drop_probability,
            ws_silence_secs,
            ws_delay_ms,
            ws_duplicate_probability,
            ws_reorder_probability,
            ws_malformed_probability,
            http_429_probability,
            http_429_next,
            http_5xx_probability,
            http_5xx_next,
            exchange_5xx_next,
            http_5xx_after_apply,
            exchange_hang_probability,
            exchange_hang_next,
            exchange_late_probability,
            exchange_late_next,
            exchange_late_ms,
            post_only_secs,
            clock_offset_ms
        );
    }

    /// Checks that probabilities are within `[0, 1]`.
    pub fn validate(&self) -> Result<(), String> {
        let probabilities = [
            ("ws_drop_probability", self.ws_drop_probability),
            ("ws_duplicate_probability", self.ws_duplicate_probability),
            ("ws_reorder_probability", self.ws_reorder_probability),
            ("ws_malformed_probability", self.ws_malformed_probability),
            ("http_429_probability", self.http_429_probability),
            ("http_5xx_probability", self.http_5xx_probability),
            ("exchange_hang_probability", self.exchange_hang_probability),
            ("exchange_late_probability", self.exchange_late_probability),
        ];
        match probabilities
            .iter()
            .find(|(_, p)| p.is_some_and(|p| !(0.0..=1.0).contains(&p)))
        {
            Some((name, _)) => Err(format!("faults: {name} must be within [0, 1]")),
            None => Ok(()),
        }
    }
}

/// What to do with an HTTP request before handling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpFault {
    /// Answer 429 Too Many Requests; nothing is applied.
    TooManyRequests,
    /// Answer this 5xx status; `after_apply` says whether an action is applied first.
    ServerError {
        /// 500, 502, 503 or 504.
        status: u16,
        /// Apply the action before answering.
        after_apply: bool,
    },
}

/// How an applied action is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Answer at once.
    Now,
    /// Never answer.
    Never,
    /// Answer after this long.
    Late(Duration),
}

/// What happens to one outgoing WebSocket message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsFate {
    /// Cut the connection instead of sending.
    Drop,
    /// Send nothing (silence window).
    Swallow,
    /// Send, possibly altered.
    Send {
        /// Send it twice.
        duplicate: bool,
        /// Hold it back and send it after the next message.
        reorder: bool,
        /// Replace it with a truncated frame.
        malformed: bool,
    },
}

/// Default lateness of a late answer.
const DEFAULT_LATE_MS: u64 = 5_000;
/// Stream id mixed into the seed so fault draws never share the market's stream.
const FAULT_STREAM: u64 = 0x6661_756c_7473;

#[derive(Debug)]
struct FaultState {
    rng: ChaCha8Rng,
    settings: FaultSettings,
    silence_until: Option<Instant>,
    post_only_until: Option<Instant>,
}

/// Live fault state shared by every connection.
#[derive(Debug)]
pub struct Faults {
    state: Mutex<FaultState>,
    drops: watch::Sender<u64>,
}

/// A receiver that changes whenever every WebSocket must be dropped.
pub type DropSignal = watch::Receiver<u64>;

impl Faults {
    /// Fault state seeded from the emulator seed, with `initial` applied.
    pub fn new(seed: u64, initial: &FaultSettings) -> Self {
        let faults = Self {
            state: Mutex::new(FaultState {
                rng: ChaCha8Rng::seed_from_u64(seed ^ FAULT_STREAM),
                settings: FaultSettings::default(),
                silence_until: None,
                post_only_until: None,
            }),
            drops: watch::Sender::new(0),
        };
        faults.apply(initial);
        faults
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies an update (see [`FaultSettings`]).
    pub fn apply(&self, update: &FaultSettings) {
        let now = Instant::now();
        let mut state = self.lock();
        if update.reset {
            state.settings = FaultSettings::default();
            state.silence_until = None;
            state.post_only_until = None;
        }
        state.settings.merge(update);
        if let Some(secs) = update.ws_silence_secs {
            state.silence_until = (secs > 0).then(|| now + Duration::from_secs(secs));
        }
        if let Some(secs) = update.post_only_secs {
            state.post_only_until = (secs > 0).then(|| now + Duration::from_secs(secs));
        }
        drop(state);
        if update.ws_drop_now {
            self.drops.send_modify(|generation| *generation += 1);
        }
    }

    /// The settings in force, with the seconds left in the silence and
    /// post-only windows.
    pub fn snapshot(&self) -> serde_json::Value {
        let now = Instant::now();
        let state = self.lock();
        let left = |until: Option<Instant>| {
            until.map_or(0, |until| {
                until.saturating_duration_since(now).as_millis() as u64
            })
        };
        serde_json::json!({
            "settings": state.settings,
            "wsSilenceMsLeft": left(state.silence_until),
            "postOnlyMsLeft": left(state.post_only_until),
        })
    }

    /// A receiver that changes when every WebSocket must be dropped.
    pub fn drop_signal(&self) -> DropSignal {
        self.drops.subscribe()
    }

    /// Draws the fate of one HTTP request.
    pub fn http_request(&self) -> Option<HttpFault> {
        let mut state = self.lock();
        let state = &mut *state;
        let after_apply = state.settings.http_5xx_after_apply.unwrap_or(false);
        let server_error = |rng: &mut ChaCha8Rng| HttpFault::ServerError {
            status: [500, 502, 503, 504][rng.random_range(0..4)],
            after_apply,
        };
        if take_one(&mut state.settings.http_429_next) {
            return Some(HttpFault::TooManyRequests);
        }
        if take_one(&mut state.settings.http_5xx_next) {
            return Some(server_error(&mut state.rng));
        }
        if draw(&mut state.rng, state.settings.http_429_probability) {
            return Some(HttpFault::TooManyRequests);
        }
        if draw(&mut state.rng, state.settings.http_5xx_probability) {
            return Some(server_error(&mut state.rng));
        }
        None
    }

    /// Draws the fate of one `/exchange` request: its own faults first, then
    /// those of every HTTP request.
    pub fn exchange_request(&self) -> Option<HttpFault> {
        {
            let mut state = self.lock();
            let state = &mut *state;
            if take_one(&mut state.settings.exchange_5xx_next) {
                return Some(HttpFault::ServerError {
                    status: 503,
                    after_apply: state.settings.http_5xx_after_apply.unwrap_or(false),
                });
            }
        }
        self.http_request()
    }

    /// Draws how an applied action is answered.
    pub fn action_delivery(&self) -> Delivery {
        let mut state = self.lock();
        let state = &mut *state;
        let late =
            Duration::from_millis(state.settings.exchange_late_ms.unwrap_or(DEFAULT_LATE_MS));
        if take_one(&mut state.settings.exchange_hang_next) {
            return Delivery::Never;
        }
        if take_one(&mut state.settings.exchange_late_next) {
            return Delivery::Late(late);
        }
        if draw(&mut state.rng, state.settings.exchange_hang_probability) {
            return Delivery::Never;
        }
        if draw(&mut state.rng, state.settings.exchange_late_probability) {
            return Delivery::Late(late);
        }
        Delivery::Now
    }

    /// Draws the fate of one outgoing WebSocket message.
    pub fn ws_message(&self) -> WsFate {
        let mut state = self.lock();
        let state = &mut *state;
        if state
            .silence_until
            .is_some_and(|until| Instant::now() < until)
        {
            return WsFate::Swallow;
        }
        if draw(&mut state.rng, state.settings.ws_drop_probability) {
            return WsFate::Drop;
        }
        WsFate::Send {
            duplicate: draw(&mut state.rng, state.settings.ws_duplicate_probability),
            reorder: draw(&mut state.rng, state.settings.ws_reorder_probability),
            malformed: draw(&mut state.rng, state.settings.ws_malformed_probability),
        }
    }

    /// The venue's time now, ms (this machine's, moved by
    /// `clock_offset_ms`).
    pub fn now_ms(&self) -> u64 {
        let offset = self.lock().settings.clock_offset_ms.unwrap_or(0);
        crate::clock::now_ms().saturating_add_signed(offset)
    }

    /// Delay applied to every outgoing WebSocket message.
    pub fn ws_delay(&self) -> Option<Duration> {
        self.lock()
            .settings
            .ws_delay_ms
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis)
    }

    /// Whether only post-only orders are accepted right now.
    pub fn post_only_window(&self) -> bool {
        self.lock()
            .post_only_until
            .is_some_and(|until| Instant::now() < until)
    }
}

/// Decrements a `*_next` counter, saying whether it was positive.
fn take_one(counter: &mut Option<u32>) -> bool {
    match counter {
        Some(n) if *n > 0 => {
            *n -= 1;
            true
        }
        _ => false,
    }
}

/// One Bernoulli draw; a missing or zero probability draws nothing from the
/// stream, so switching one fault on does not shift the others.
fn draw(rng: &mut ChaCha8Rng, probability: Option<f64>) -> bool {
    match probability {
        Some(p) if p > 0.0 => rng.random_bool(p.min(1.0)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_then_probabilities_are_deterministic() {
        let settings = FaultSettings {
            http_429_next: Some(2),
            http_5xx_probability: Some(0.5),
            ..FaultSettings::default()
        };
        let run = || {
            let faults = Faults::new(7, &settings);
            (0..20).map(|_| faults.http_request()).collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        assert_eq!(first[0], Some(HttpFault::TooManyRequests));
        assert_eq!(first[1], Some(HttpFault::TooManyRequests));
        assert!(first[2..].iter().any(Option::is_none));
        assert!(first[2..].iter().any(Option::is_some));
    }

    #[test]
    fn reset_and_windows() {
        let faults = Faults::new(1, &FaultSettings::default());
        faults.apply(&FaultSettings {
            post_only_secs: Some(60),
            ws_silence_secs: Some(60),
            ..FaultSettings::default()
        });
        assert!(faults.post_only_window());
        assert_eq!(faults.ws_message(), WsFate::Swallow);
        faults.apply(&FaultSettings {
            reset: true,
            ..FaultSettings::default()
        });
        assert!(!faults.post_only_window());
        assert!(matches!(faults.ws_message(), WsFate::Send { .. }));
        assert!(
            FaultSettings {
                ws_drop_probability: Some(1.5),
                ..FaultSettings::default()
            }
            .validate()
            .is_err()
        );
    }
}
