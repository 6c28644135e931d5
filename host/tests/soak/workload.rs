//! One seeded soak run: the host as a process against an in-process
//! emulator, a random workload of commands and counterparty trades, random
//! faults and SIGKILLs, then the check against ground truth.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hl_emulator::{Emulator, FaultSettings};
use hyperliquid_core::Tif;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::common::host_process::HostFiles;
use crate::common::orders::{Counterparty, EventLog, KillOnDrop, key, quiet};
use crate::faults;
use crate::truth::{self, Commands};

/// What a run did and what it found.
#[derive(Default)]
pub struct Report {
    seed: u64,
    seconds: u64,
    steps: u64,
    accepted: u64,
    refused: u64,
    unanswered: u64,
    cancels: u64,
    modifies: u64,
    counterparty_orders: u64,
    faults: BTreeMap<String, u64>,
    kills: u64,
    exchange_orders: usize,
    exchange_fills: usize,
    fill_events: usize,
    repeated_fill_events: usize,
    settle: Duration,
    /// Every disagreement with the exchange's ground truth.
    pub violations: Vec<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "soak seed {} ({} s, {} steps):",
            self.seed, self.seconds, self.steps
        )?;
        writeln!(
            f,
            "  commands: {} orders accepted, {} refused, {} unanswered; {} cancels, {} modifies",
            self.accepted, self.refused, self.unanswered, self.cancels, self.modifies
        )?;
        writeln!(
            f,
            "  counterparty orders: {}; host killed {} times",
            self.counterparty_orders, self.kills
        )?;
        writeln!(f, "  fault windows: {:?}", self.faults)?;
        writeln!(
            f,
            "  exchange: {} orders, {} fills; published fill events {} ({} repeated after a restart)",
            self.exchange_orders, self.exchange_fills, self.fill_events, self.repeated_fill_events
        )?;
        write!(
            f,
            "  agreed with the ground truth {:.1} s after the workload stopped; violations: {}",
            self.settle.as_secs_f64(),
            self.violations.len()
        )?;
        for violation in &self.violations {
            write!(f, "\n    {violation}")?;
        }
        Ok(())
    }
}

/// The last book the host published for BTC-USD.
struct BookWatch {
    last: Arc<Mutex<Option<Value>>>,
    stop: Arc<AtomicBool>,
}

impl BookWatch {
    fn start(endpoint: &str) -> BookWatch {
        let last = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let socket = zmq::Context::new().socket(zmq::SUB).expect("sub");
        socket.connect(endpoint).expect("connect");
        socket
            .set_subscribe(b"market.hl.book.BTC-USD")
            .expect("subscribe");
        socket.set_rcvtimeo(50).expect("timeout");
        let (sink, stopped) = (Arc::clone(&last), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                if let Ok(parts) = socket.recv_multipart(0)
                    && let Some(Ok(body)) = parts.get(1).map(|b| serde_json::from_slice::<Value>(b))
                {
                    *sink.lock().expect("book") = Some(body["data"].clone());
                }
            }
        });
        BookWatch { last, stop }
    }

    fn last(&self) -> Option<Value> {
        self.last.lock().expect("book").clone()
    }
}

impl Drop for BookWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A random host order: mostly limits around the reference price 100 000
/// (some crossing the counterparty's quotes), some post-only, a few market.
fn host_order(rng: &mut ChaCha8Rng) -> Value {
    let buy = rng.random_bool(0.5);
    let offset: i64 = if buy {
        rng.random_range(-300..=120)
    } else {
        rng.random_range(-120..=300)
    };
    let amount = format!("0.00{}", rng.random_range(1..=4));
    let mut order = json!({
        "cmd": if buy { "buy" } else { "sell" },
        "trading_pair": "BTC-USD",
        "amount": amount,
    });
    match rng.random_range(0..100) {
        0..80 => {
            order["order_type"] = json!("LIMIT");
            order["price"] = json!((100_000 + offset).to_string());
            if rng.random_bool(0.15) {
                order["time_in_force"] = json!("IOC");
            }
        }
        80..95 => {
            order["order_type"] = json!("LIMIT_MAKER");
            order["price"] = json!((100_000 + offset).to_string());
        }
        _ => order["order_type"] = json!("MARKET"),
    }
    order
}

/// A counterparty order: a resting quote away from the reference price, or
/// an IOC sweeping into the host's quotes. Prices are multiples of 10 (five
/// significant figures at 100 000).
async fn counterparty_order(rng: &mut ChaCha8Rng, counterparty: &Counterparty) {
    let buy = rng.random_bool(0.5);
    let size = format!("0.00{}", rng.random_range(1..=6));
    let (price, tif) = if rng.random_bool(0.6) {
        let away = rng.random_range(5..=40) * 10;
        (if buy { 100_000 - away } else { 100_000 + away }, Tif::Gtc)
    } else {
        (if buy { 100_400 } else { 99_600 }, Tif::Ioc)
    };
    // An answer lost to an injected fault is part of the soak.
    let _ = counterparty
        .try_order(0, buy, &price.to_string(), &size, tif)
        .await;
}

/// Modifies of one order sent back to back: one most of the time, a burst
/// of two to four (new prices and sizes) sometimes, now and then followed
/// at once by its cancel.
fn modify_burst(rng: &mut ChaCha8Rng, id: &str, report: &mut Report) -> Vec<Value> {
    let count = if rng.random_bool(0.3) {
        rng.random_range(2..=4)
    } else {
        1
    };
    let mut commands: Vec<Value> = (0..count)
        .map(|_| {
            report.modifies += 1;
            let mut modify = json!({"cmd": "modify", "client_order_id": id});
            if rng.random_bool(0.7) {
                let price = 100_000 + rng.random_range(-300..=300);
                modify["price"] = json!(price.to_string());
            }
            if modify.get("price").is_none() || rng.random_bool(0.3) {
                modify["amount"] = json!(format!("0.00{}", rng.random_range(1..=4)));
            }
            modify
        })
        .collect();
    if rng.random_bool(0.15) {
        report.cancels += 1;
        commands.push(json!({"cmd": "cancel", "client_order_id": id}));
    }
    commands
}

/// Picks one of the ids, if any.
fn any_of<'a>(rng: &mut ChaCha8Rng, ids: &'a [String]) -> Option<&'a String> {
    (!ids.is_empty()).then(|| &ids[rng.random_range(0..ids.len())])
}

/// Runs one soak of `duration` for `seed`.
pub async fn run(seed: u64, duration: Duration) -> Report {
    let host_label = format!("soak host {seed}");
    let account = key(&host_label).address();
    let mut config = quiet();
    config.seed = seed;
    config.fund(account, Decimal::from(10_000_000));
    config.fund(
        key("soak counterparty").address(),
        Decimal::from(10_000_000),
    );
    let emulator = Emulator::start(config).await.expect("emulator");
    let counterparty = Counterparty::new("soak counterparty", emulator.base_url());
    // A refill every 5 s (default 30 s) so that a short soak settles soon
    // after its last fault.
    let files = HostFiles::new(
        &host_label,
        &emulator.base_url(),
        "reconcile_interval_ms = 5000",
    );
    let mut host: Option<KillOnDrop> = Some(files.start().await);
    let log = EventLog::start(&files.events);
    let book = BookWatch::start(&files.events);
    let mut commands = Commands::new(&files.commands);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut report = Report {
        seed,
        seconds: duration.as_secs(),
        ..Report::default()
    };
    let mut accepted: Vec<String> = Vec::new();
    let mut down_until: Option<Instant> = None;

    let started = Instant::now();
    while started.elapsed() < duration {
        report.steps += 1;
        if down_until.is_some_and(|until| Instant::now() >= until) {
            host = Some(files.start().await);
            down_until = None;
        }
        let up = host.is_some();
        let batch = match rng.random_range(0..1000) {
            0..400 => vec![host_order(&mut rng)],
            400..550 => any_of(&mut rng, &accepted)
                .map(|id| {
                    report.cancels += 1;
                    json!({"cmd": "cancel", "client_order_id": id})
                })
                .into_iter()
                .collect(),
            550..650 => match any_of(&mut rng, &accepted).cloned() {
                Some(id) => modify_burst(&mut rng, &id, &mut report),
                None => Vec::new(),
            },
            650..970 => {
                report.counterparty_orders += 1;
                counterparty_order(&mut rng, &counterparty).await;
                Vec::new()
            }
            970..995 => {
                let (settings, name) = faults::draw(&mut rng);
                emulator.set_faults(&settings).expect("fault settings");
                *report.faults.entry(name).or_default() += 1;
                Vec::new()
            }
            _ => {
                if let Some(mut process) = host.take() {
                    process.0.kill().expect("SIGKILL");
                    process.0.wait().expect("reaped");
                    report.kills += 1;
                    down_until =
                        Some(Instant::now() + Duration::from_millis(rng.random_range(0..1_500)));
                }
                Vec::new()
            }
        };
        for command in batch.into_iter().filter(|_| up) {
            let is_order = matches!(command["cmd"].as_str(), Some("buy" | "sell"));
            match commands.ask(&command) {
                Some(reply) if reply["ok"] == true && is_order => {
                    report.accepted += 1;
                    accepted.push(
                        reply["result"]["client_order_id"]
                            .as_str()
                            .expect("an id")
                            .to_owned(),
                    );
                }
                Some(reply) if reply["ok"] != true => report.refused += 1,
                Some(_) => {}
                None => report.unanswered += 1,
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(2..30))).await;
    }

    // Calm: no more faults, the host up, then agreement within a minute.
    emulator
        .set_faults(&FaultSettings {
            reset: true,
            ..FaultSettings::default()
        })
        .expect("reset faults");
    if host.is_none() {
        host = Some(files.start().await);
    }
    let stopped = Instant::now();
    loop {
        let truth = emulator.account_state(account).expect("the host's account");
        let journal = truth::journal(&files.dir.path().join("state").join("hl.journal"));
        let mut violations = truth::order_violations(&mut commands, &journal, &truth, &accepted);
        let books = emulator.state();
        violations.extend(truth::book_violation(
            book.last().as_ref(),
            &books["books"][0]["book"],
        ));
        report.violations = violations;
        report.exchange_orders = truth["orders"].as_array().map_or(0, Vec::len);
        report.exchange_fills = truth["fills"].as_array().map_or(0, Vec::len);
        if report.violations.is_empty() || stopped.elapsed() > Duration::from_secs(60) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    report.settle = stopped.elapsed();
    count_fill_events(&log, &mut report);
    drop(host);
    emulator.shutdown().await;
    report
}

/// Fill events the subscriber saw, and how many repeated a trade already
/// published for the same order.
fn count_fill_events(log: &EventLog, report: &mut Report) {
    let mut seen = HashSet::new();
    for (topic, body) in log.all() {
        let trade = &body["data"]["trade"];
        if !(topic.ends_with(".partial_fill") || topic.ends_with(".filled")) || trade.is_null() {
            continue;
        }
        report.fill_events += 1;
        let key = (
            body["data"]["client_order_id"].to_string(),
            trade["trade_id"].to_string(),
        );
        if !seen.insert(key) {
            report.repeated_fill_events += 1;
        }
    }
}
