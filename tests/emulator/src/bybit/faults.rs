//! Bybit's own faults, on top of the core's: an `orderbook` delta whose `u`
//! skips an update id, and a new snapshot with `u=1` (what Bybit sends after
//! a service restart). Draws come from a generator seeded with the
//! emulator's seed; `GET|POST /admin/bybit/faults` reads and changes them
//! while running (also command-line flags of the same names).

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::Bybit;

/// Settings of Bybit's faults (every field optional in updates).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct BybitFaults {
    /// Share (0–1) of book deltas whose `u` skips one update id.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_update_id_rate: Option<f64>,
    /// Share (0–1) of book updates sent instead as a `u=1` snapshot.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub book_reset_rate: Option<f64>,
}

impl BybitFaults {
    /// Checks rates are within 0–1.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("skip_update_id_rate", self.skip_update_id_rate),
            ("book_reset_rate", self.book_reset_rate),
        ] {
            if rate.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
                return Err(format!("{name} must be within 0 and 1"));
            }
        }
        Ok(())
    }
}

/// What happens to one book update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookFate {
    /// Sent as it is.
    Normal,
    /// A delta whose `u` skips one id.
    SkipId,
    /// A snapshot with `u=1`.
    Reset,
}

/// Live fault state.
#[derive(Debug)]
pub struct FaultState(Mutex<(BybitFaults, ChaCha8Rng)>);

impl FaultState {
    /// Fault state seeded with `seed`.
    pub fn new(seed: u64, settings: BybitFaults) -> Self {
        Self(Mutex::new((
            settings,
            ChaCha8Rng::seed_from_u64(seed ^ 0xb7b1_7000),
        )))
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, (BybitFaults, ChaCha8Rng)> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Settings in force.
    pub fn settings(&self) -> BybitFaults {
        self.inner().0.clone()
    }

    /// Applies the fields `update` sets.
    pub fn apply(&self, update: &BybitFaults) {
        let mut inner = self.inner();
        if update.skip_update_id_rate.is_some() {
            inner.0.skip_update_id_rate = update.skip_update_id_rate;
        }
        if update.book_reset_rate.is_some() {
            inner.0.book_reset_rate = update.book_reset_rate;
        }
    }

    /// The fate of the next book update.
    pub fn book_update(&self) -> BookFate {
        let mut inner = self.inner();
        let (reset, skip) = (
            inner.0.book_reset_rate.unwrap_or(0.0),
            inner.0.skip_update_id_rate.unwrap_or(0.0),
        );
        if reset > 0.0 && inner.1.random_bool(reset) {
            return BookFate::Reset;
        }
        if skip > 0.0 && inner.1.random_bool(skip) {
            return BookFate::SkipId;
        }
        BookFate::Normal
    }
}

/// `GET /admin/bybit/faults`.
pub async fn get_faults(State(bybit): State<Arc<Bybit>>) -> Response {
    Json(bybit.faults.settings()).into_response()
}

/// `POST /admin/bybit/faults`: a partial [`BybitFaults`].
pub async fn set_faults(State(bybit): State<Arc<Bybit>>, body: axum::body::Bytes) -> Response {
    let update = match serde_json::from_slice::<BybitFaults>(&body) {
        Ok(update) => update,
        Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    };
    if let Err(error) = update.validate() {
        return (StatusCode::BAD_REQUEST, error).into_response();
    }
    bybit.faults.apply(&update);
    Json(bybit.faults.settings()).into_response()
}
