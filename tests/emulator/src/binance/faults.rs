//! Binance's own faults, on top of the core's: an order placed but answered
//! `-1007` (HTTP 408, outcome unknown) or HTTP 503 "Unknown error, please
//! check your request or try again later." (the same), diff-depth events whose `pu` breaks,
//! listen keys that expire, and an IP ban (HTTP 418) after repeated 429s
//! when a request-weight limit is set. Draws come from a generator seeded
//! with the emulator's seed; the admin API changes settings while running:
//! `GET|POST /admin/binance/faults`, `GET /admin/binance/bans`,
//! `POST /admin/binance/expire-listen-keys`.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Binance;

/// Settings of Binance's faults (every field optional in updates).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct BinanceFaults {
    /// Share (0–1) of new orders that are placed but answered `-1007`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    pub unknown_outcome_rate: Option<f64>,
    /// Share (0–1) of new REST orders that are placed but answered HTTP 503
    /// "Unknown error, please check your request or try again later."
    /// (Binance: the execution status is unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    pub unknown_503_rate: Option<f64>,
    /// Share (0–1) of diff-depth events a session skips, breaking `pu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    pub pu_break_rate: Option<f64>,
    /// Listen-key lifetime in seconds (default 3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    pub listen_key_ttl_secs: Option<u64>,
    /// Request weight per minute before HTTP 429 (default unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    pub weight_limit_per_min: Option<u32>,
    /// 429 answers in one minute after which the IP is banned (418).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    pub ban_after_429s: Option<u32>,
    /// Length of a ban in seconds (default 120).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    pub ban_secs: Option<u64>,
}

impl BinanceFaults {
    /// Copies the fields `update` sets.
    pub fn merge(&mut self, update: &BinanceFaults) {
        macro_rules! take {
            ($($field:ident),*) => { $( if update.$field.is_some() { self.$field = update.$field; } )* };
        }
        take!(
            unknown_outcome_rate,
            unknown_503_rate,
            pu_break_rate,
            listen_key_ttl_secs,
            weight_limit_per_min,
            ban_after_429s,
            ban_secs
        );
    }

    /// Checks rates are within 0–1.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("unknown_outcome_rate", self.unknown_outcome_rate),
            ("unknown_503_rate", self.unknown_503_rate),
            ("pu_break_rate", self.pu_break_rate),
        ] {
            if rate.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
                return Err(format!("{name} must be within 0 and 1"));
            }
        }
        Ok(())
    }
}

/// What the weight limiter says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Served; the weight used this minute.
    Served(u32),
    /// Over the limit (429).
    Limited(u32),
    /// Banned (418) for this many more seconds.
    Banned(u64),
}

#[derive(Debug)]
struct Inner {
    settings: BinanceFaults,
    rng: ChaCha8Rng,
    minute: u64,
    weight: u32,
    limited: u32,
    banned_until: u64,
    /// Bans given, and requests that came while one lasted.
    bans: u64,
    while_banned: u64,
}

/// Live fault state.
#[derive(Debug)]
pub struct FaultState(Mutex<Inner>);

impl FaultState {
    /// Fault state seeded with `seed`.
    pub fn new(seed: u64, settings: BinanceFaults) -> Self {
        Self(Mutex::new(Inner {
            settings,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0xb1a5_ce00),
            minute: 0,
            weight: 0,
            limited: 0,
            banned_until: 0,
            bans: 0,
            while_banned: 0,
        }))
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Settings in force.
    pub fn settings(&self) -> BinanceFaults {
        self.inner().settings.clone()
    }

    /// Applies an update.
    pub fn apply(&self, update: &BinanceFaults) {
        self.inner().settings.merge(update);
    }

    fn draw(&self, rate: impl Fn(&BinanceFaults) -> Option<f64>) -> bool {
        let mut inner = self.inner();
        let rate = rate(&inner.settings).unwrap_or(0.0);
        rate > 0.0 && inner.rng.random_bool(rate.min(1.0))
    }

    /// Whether this new order is answered `-1007` (it is placed anyway).
    pub fn unknown_outcome(&self) -> bool {
        self.draw(|s| s.unknown_outcome_rate)
    }

    /// Whether this new REST order is answered 503 "Unknown error" (it is
    /// placed anyway).
    pub fn unknown_503(&self) -> bool {
        self.draw(|s| s.unknown_503_rate)
    }

    /// Whether a session skips this diff-depth event.
    pub fn pu_break(&self) -> bool {
        self.draw(|s| s.pu_break_rate)
    }

    /// The request-weight limit per minute (the venue's 2400 when unset).
    pub fn weight_limit(&self) -> u32 {
        self.inner()
            .settings
            .weight_limit_per_min
            .unwrap_or(super::limits::WEIGHT_PER_MINUTE)
    }

    /// Listen-key lifetime (ms).
    pub fn listen_key_ttl_ms(&self) -> u64 {
        self.inner().settings.listen_key_ttl_secs.unwrap_or(3_600) * 1_000
    }

    /// The request weight used in the minute of `now`.
    pub fn weight_used(&self, now: u64) -> u32 {
        let inner = self.inner();
        if inner.minute == now / 60_000 {
            inner.weight
        } else {
            0
        }
    }

    /// Counts a request of `weight` at `now`.
    pub fn admit(&self, weight: u32, now: u64) -> Admission {
        let mut inner = self.inner();
        if inner.banned_until > now {
            inner.while_banned += 1;
            return Admission::Banned((inner.banned_until - now).div_ceil(1_000));
        }
        let minute = now / 60_000;
        if inner.minute != minute {
            inner.minute = minute;
            inner.weight = 0;
            inner.limited = 0;
        }
        inner.weight = inner.weight.saturating_add(weight);
        let Some(limit) = inner.settings.weight_limit_per_min else {
            return Admission::Served(inner.weight);
        };
        if inner.weight <= limit {
            return Admission::Served(inner.weight);
        }
        inner.limited += 1;
        if inner
            .settings
            .ban_after_429s
            .is_some_and(|n| inner.limited > n)
        {
            let secs = inner.settings.ban_secs.unwrap_or(120);
            inner.banned_until = now + secs * 1_000;
            inner.bans += 1;
            return Admission::Banned(secs);
        }
        Admission::Limited(limit)
    }
}

/// `GET /admin/binance/bans`: the bans given so far, how many requests
/// came while one lasted (a client should send none), and how long the
/// current one still lasts.
pub async fn get_bans(State(binance): State<Arc<Binance>>) -> Response {
    let now = binance.shared.faults.now_ms();
    let inner = binance.faults.inner();
    Json(json!({
        "bans": inner.bans,
        "requests_while_banned": inner.while_banned,
        "banned_for_ms": inner.banned_until.saturating_sub(now),
    }))
    .into_response()
}

/// `GET /admin/binance/faults`.
pub async fn get_faults(State(binance): State<Arc<Binance>>) -> Response {
    Json(binance.faults.settings()).into_response()
}

/// `POST /admin/binance/faults`: a partial [`BinanceFaults`].
pub async fn set_faults(State(binance): State<Arc<Binance>>, body: axum::body::Bytes) -> Response {
    let update = match serde_json::from_slice::<BinanceFaults>(&body) {
        Ok(update) => update,
        Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    };
    if let Err(error) = update.validate() {
        return (StatusCode::BAD_REQUEST, error).into_response();
    }
    binance.faults.apply(&update);
    Json(binance.faults.settings()).into_response()
}

/// `POST /admin/binance/expire-listen-keys`: every listen key expires now.
pub async fn expire_listen_keys(State(binance): State<Arc<Binance>>) -> Response {
    let mut keys = binance.listen_keys();
    let count = keys.len();
    for key in keys.values_mut() {
        key.expires = 0;
    }
    Json(json!({ "expired": count })).into_response()
}
