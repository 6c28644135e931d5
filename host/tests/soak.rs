//! Fault soak: one host trading Hyperliquid, Bybit and Binance at once; a
//! seeded random workload of orders (some with a take-profit and a
//! stop-loss: held by Hyperliquid, by the host elsewhere), cancels and
//! modifies on each venue's emulator while each injects seeded random
//! faults (its core's, and its front end's own: book gaps, unknown
//! outcomes), with the host killed
//! (SIGKILL) and restarted at random moments; at the end the host must
//! agree with each venue's ground truth on every order, every filled
//! amount and fee, and the book.
//!
//! The default is CI-sized (four seeds, 20 s each). A long run:
//!
//! ```text
//! SOAK_SECONDS=1800 SOAK_SEEDS=7 ./host/run-tests.sh -p connector-host --test soak -- --nocapture
//! ```
//!
//! `TEST_HOST_LOG=info` shows the host process's log.
//!
//! Any violation fails the test with the seed that reproduces the run's
//! decisions (which workload step, which fault, when to kill); the timing
//! of a run on a loaded machine is not reproduced exactly.

mod common;
#[path = "soak/faults.rs"]
mod faults;
#[path = "soak/truth.rs"]
mod truth;
#[path = "soak/venues.rs"]
mod venues;
#[path = "soak/workload.rs"]
mod workload;

use std::time::Duration;

/// How big a soak is: from `SOAK_SEEDS` (comma-separated) and
/// `SOAK_SECONDS` (per seed).
fn plan() -> (Vec<u64>, Duration) {
    let seeds = std::env::var("SOAK_SEEDS")
        .map(|text| {
            text.split(',')
                .map(|seed| seed.trim().parse().expect("SOAK_SEEDS: numbers"))
                .collect()
        })
        // Seed 77 once ended with an order filled on the exchange that the
        // host called cancelled (two modifies racing), in a 600-s run.
        .unwrap_or_else(|_| vec![1, 2, 3, 77]);
    let seconds = std::env::var("SOAK_SECONDS")
        .map(|text| text.parse().expect("SOAK_SECONDS: a number"))
        .unwrap_or(20);
    (seeds, Duration::from_secs(seconds))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_faults_and_kills_leave_every_order_straight() {
    let (seeds, duration) = plan();
    let mut failures = Vec::new();
    for seed in seeds {
        let report = workload::run(seed, duration).await;
        println!("{report}");
        if !report.violations.is_empty() {
            failures.push(format!(
                "seed {seed}: {} violation(s) (listed above); reproduce: SOAK_SEEDS={seed} \
                 SOAK_SECONDS={} cargo test -p connector-host --test soak -- --nocapture",
                report.violations.len(),
                duration.as_secs()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
