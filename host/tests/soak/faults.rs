//! The soak's fault draws: each switches every fault off, then on one or
//! two of the emulator's faults with random strength (or none, for calm).

use hl_emulator::FaultSettings;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The next fault settings and a short name for the report.
pub fn draw(rng: &mut ChaCha8Rng) -> (FaultSettings, String) {
    let mut settings = FaultSettings {
        reset: true,
        ..FaultSettings::default()
    };
    let mut names = Vec::new();
    let count = rng.random_range(0..=2);
    for _ in 0..count {
        names.push(one(rng, &mut settings));
    }
    if names.is_empty() {
        names.push("calm");
    }
    (settings, names.join("+"))
}

fn one(rng: &mut ChaCha8Rng, settings: &mut FaultSettings) -> &'static str {
    match rng.random_range(0..11) {
        0 => {
            settings.ws_drop_probability = Some(rng.random_range(0.005..0.05));
            "ws_drop"
        }
        1 => {
            // Longer than the host's stream timeout (2 s) half the time.
            settings.ws_silence_secs = Some(rng.random_range(1..=4));
            "ws_silence"
        }
        2 => {
            settings.ws_delay_ms = Some(rng.random_range(20..400));
            "ws_delay"
        }
        3 => {
            settings.ws_duplicate_probability = Some(rng.random_range(0.05..0.3));
            "ws_duplicate"
        }
        4 => {
            settings.ws_reorder_probability = Some(rng.random_range(0.05..0.3));
            "ws_reorder"
        }
        5 => {
            settings.ws_malformed_probability = Some(rng.random_range(0.01..0.1));
            "ws_malformed"
        }
        6 => {
            settings.http_429_probability = Some(rng.random_range(0.05..0.3));
            "http_429"
        }
        7 => {
            settings.http_5xx_probability = Some(rng.random_range(0.05..0.3));
            settings.http_5xx_after_apply = Some(rng.random_bool(0.5));
            "http_5xx"
        }
        8 => {
            settings.exchange_hang_probability = Some(rng.random_range(0.05..0.3));
            "unanswered"
        }
        9 => {
            settings.exchange_late_probability = Some(rng.random_range(0.05..0.3));
            settings.exchange_late_ms = Some(rng.random_range(300..3_000));
            "late_answer"
        }
        _ => {
            settings.post_only_secs = Some(rng.random_range(1..=3));
            "post_only"
        }
    }
}
