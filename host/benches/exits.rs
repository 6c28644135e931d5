//! How long a filled entry's position waits for its exits, with the
//! exchange holding them (Hyperliquid `normalTpsl`) and with the host
//! holding them (`attached_exits = "host"`), beside the bare cost of the
//! fill itself in the same run.
//!
//! Two hosts run side by side, each with its own emulator (quiet: only the
//! bench trades) and `connector-host` process, and take turns: a limit buy
//! with a take-profit and a stop-loss rests, then a counterparty's IOC sell
//! fills it. Timed from sending that sell to the moment both exits are open
//! on the exchange's book, as the emulator's ground truth shows them
//! (polled every 50 µs); the bare rows are the sell's own round trip and
//! one look at the ground truth.
//! `EXITS_ROUNDS` (default 40) rounds per holder.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/measure.rs"]
mod measure;

use std::time::{Duration, Instant};

use common::host_process::HostFiles;
use common::orders::{Counterparty, eventually, key, quiet_with_counterparty};
use hl_emulator::EmulatorHandle;
use hyperliquid_core::Tif;
use measure::report;
use serde_json::json;

/// One host, its exchange and the counterparty that fills its entries.
struct Side {
    name: &'static str,
    seed: String,
    emulator: EmulatorHandle,
    counterparty: Counterparty,
    files: HostFiles,
    gaps: Vec<Duration>,
    fills: Vec<Duration>,
    polls: Vec<Duration>,
    /// From the fill to the arrival of the host's request placing the
    /// exits (none when the exchange holds them).
    requests: Vec<Duration>,
}

impl Side {
    async fn start(name: &'static str, holder: &str) -> (Side, common::orders::KillOnDrop) {
        let seed = format!("exits bench {holder}");
        let (emulator, counterparty) =
            quiet_with_counterparty(&seed, &format!("{seed} counterparty")).await;
        let files = HostFiles::new(
            &seed,
            &emulator.base_url(),
            &format!("attached_exits = \"{holder}\"\n"),
        );
        let host = files.start().await;
        let side = Side {
            name,
            seed,
            emulator,
            counterparty,
            files,
            gaps: Vec::new(),
            fills: Vec::new(),
            polls: Vec::new(),
            requests: Vec::new(),
        };
        (side, host)
    }

    /// Open orders of the host's account on the exchange (the time the
    /// look took is kept).
    fn open_on_exchange(&mut self) -> usize {
        let start = Instant::now();
        let open = self
            .emulator
            .account_state(key(&self.seed).address())
            .and_then(|state| state["openOrders"].as_array().map(Vec::len))
            .unwrap_or(0);
        self.polls.push(start.elapsed());
        open
    }

    /// One entry placed, rested, filled; the time until its exits are open.
    async fn round(&mut self, round: usize) {
        let entry = self.files.limit_buy_with_exits("95000", "120000", "90000");
        eventually("the entry resting", Duration::from_secs(10), || {
            self.files
                .command(json!({"cmd": "get_order", "client_order_id": entry}))
                .is_some_and(|reply| reply["result"]["order_state"] == "OPEN")
        })
        .await;
        // Every earlier entry left two exits open; this one rests too.
        let exits_before = 2 * round;
        let mut arrivals = self.emulator.exchange_arrivals();
        let start = Instant::now();
        self.counterparty
            .order(0, false, "95000", "0.001", Tif::Ioc)
            .await;
        self.fills.push(start.elapsed());
        let deadline = start + Duration::from_secs(10);
        while self.open_on_exchange() < exits_before + 2 {
            assert!(
                Instant::now() < deadline,
                "{}: exits never placed",
                self.name
            );
            // The timer of the async runtime counts whole milliseconds;
            // this future runs on the main thread, not a worker.
            std::thread::sleep(Duration::from_micros(50));
        }
        self.gaps.push(start.elapsed());
        // The first action to arrive is the filling sell; a second, the
        // host's placement of the exits (timed from the sell's arrival:
        // the fill follows it within microseconds).
        let mut seen = Vec::new();
        while let Ok(at) = arrivals.try_recv() {
            seen.push(at.saturating_duration_since(start));
        }
        match seen.as_slice() {
            [_sell] => {}
            [sell, exits] => self.requests.push(exits.saturating_sub(*sell)),
            other => panic!("{}: {} actions arrived", self.name, other.len()),
        }
    }
}

fn main() {
    let rounds: usize = std::env::var("EXITS_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(40);
    common::block_on(async {
        let (mut exchange, _exchange_host) = Side::start("exchange", "exchange").await;
        let (mut host, _host_host) = Side::start("host", "host").await;
        for round in 0..rounds {
            exchange.round(round).await;
            host.round(round).await;
        }
        println!("| fill → both exits open on the exchange ({rounds} rounds each) | p50 | p99 |");
        println!("|---|---|---|");
        for side in [&exchange, &host] {
            report(&format!("held by the {}", side.name), side.gaps.clone());
        }
        let bare: Vec<Duration> = exchange.fills.iter().chain(&host.fills).copied().collect();
        assert!(
            exchange.requests.is_empty(),
            "the exchange-held exits took a request"
        );
        report(
            "held by the host: the sell arrives → the request placing the exits arrives",
            host.requests.clone(),
        );
        report("bare: the filling IOC's own round trip", bare);
        let polls: Vec<Duration> = exchange.polls.iter().chain(&host.polls).copied().collect();
        report("bare: one look at the exchange's ground truth", polls);
        for side in [exchange, host] {
            side.emulator.shutdown().await;
        }
    });
}
