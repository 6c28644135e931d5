//! One seeded soak run: the host as a process trading three in-process
//! emulators (Hyperliquid, Bybit, Binance), a random workload of commands
//! and counterparty trades on each, random faults on each and SIGKILLs of
//! the host, then the check of every venue against its ground truth.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::common::host_process::HostFiles;
use crate::common::orders::{EventLog, KillOnDrop};
use crate::truth::{self, Checked, Commands};
use crate::venues::{self, REFERENCE, SoakVenue};

/// What a run did and what it found.
#[derive(Default)]
pub struct Report {
    seed: u64,
    seconds: u64,
    steps: u64,
    accepted: u64,
    /// Of them, with a take-profit and a stop-loss.
    with_exits: u64,
    /// Live exits the host holds, checked against their entries' fills at
    /// the end.
    exits_checked: usize,
    refused: u64,
    unanswered: u64,
    cancels: u64,
    modifies: u64,
    counterparty_orders: u64,
    faults: BTreeMap<String, u64>,
    kills: u64,
    /// Per venue: its name, the host's transport, its orders and fills.
    exchange: Vec<(&'static str, &'static str, usize, usize)>,
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
            "  commands: {} orders accepted ({} with exits; {} live exits held by the host checked at the end), {} refused, {} unanswered; {} cancels, {} modifies",
            self.accepted,
            self.with_exits,
            self.exits_checked,
            self.refused,
            self.unanswered,
            self.cancels,
            self.modifies
        )?;
        writeln!(
            f,
            "  counterparty orders: {}; host killed {} times",
            self.counterparty_orders, self.kills
        )?;
        writeln!(f, "  fault windows: {:?}", self.faults)?;
        for (name, transport, orders, fills) in &self.exchange {
            writeln!(
                f,
                "  exchange {name} (orders over {transport}): {orders} orders, {fills} fills"
            )?;
        }
        writeln!(
            f,
            "  published fill events {} ({} repeated after a restart)",
            self.fill_events, self.repeated_fill_events
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

/// The last book the host published for one exchange's market.
struct BookWatch {
    last: Arc<Mutex<Option<Value>>>,
    stop: Arc<AtomicBool>,
}

impl BookWatch {
    fn start(endpoint: &str, exchange: &str) -> BookWatch {
        let last = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let socket = zmq::Context::new().socket(zmq::SUB).expect("sub");
        socket.connect(endpoint).expect("connect");
        socket
            .set_subscribe(format!("market.{exchange}.book.").as_bytes())
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

/// A random host order on `venue`: mostly limits around the reference
/// price (some crossing the other side's quotes), some post-only, a few
/// market; one limit in ten with a take-profit and a stop-loss a few
/// hundred away (drawn from `exits`, so that a seed's other decisions stay
/// as they were).
fn host_order(rng: &mut ChaCha8Rng, exits: &mut ChaCha8Rng, venue: &SoakVenue) -> Value {
    let buy = rng.random_bool(0.5);
    let offset: i64 = if buy {
        rng.random_range(-300..=120)
    } else {
        rng.random_range(-120..=300)
    };
    let mut order = json!({
        "cmd": if buy { "buy" } else { "sell" },
        "exchange": venue.name,
        "trading_pair": venue.pair,
        "amount": amount(rng, venue),
    });
    match rng.random_range(0..100) {
        0..80 => {
            order["order_type"] = json!("LIMIT");
            order["price"] = json!((REFERENCE + offset).to_string());
            if rng.random_bool(0.15) {
                order["time_in_force"] = json!("IOC");
            }
            if exits.random_bool(0.1) {
                let (up, down) = (exits.random_range(100..400), exits.random_range(100..400));
                let (take, stop) = match buy {
                    true => (REFERENCE + offset + up, REFERENCE + offset - down),
                    false => (REFERENCE + offset - down, REFERENCE + offset + up),
                };
                order["take_profit"] = json!({"trigger_price": take.to_string()});
                order["stop_loss"] = json!({"trigger_price": stop.to_string()});
            }
        }
        80..95 => {
            order["order_type"] = json!("LIMIT_MAKER");
            order["price"] = json!((REFERENCE + offset).to_string());
        }
        _ => order["order_type"] = json!("MARKET"),
    }
    order
}

/// A random order size on `venue`.
fn amount(rng: &mut ChaCha8Rng, venue: &SoakVenue) -> String {
    let (least, most) = venue.lots;
    format!("0.00{}", rng.random_range(least..=most))
}

/// Modifies of one order sent back to back: one most of the time, a burst
/// of two to four (new prices and sizes) sometimes, now and then followed
/// at once by its cancel.
fn modify_burst(
    rng: &mut ChaCha8Rng,
    venue: &SoakVenue,
    id: &str,
    report: &mut Report,
) -> Vec<Value> {
    let count = if rng.random_bool(0.3) {
        rng.random_range(2..=4)
    } else {
        1
    };
    let mut commands: Vec<Value> = (0..count)
        .map(|_| {
            report.modifies += 1;
            let mut modify =
                json!({"cmd": "modify", "exchange": venue.name, "client_order_id": id});
            if rng.random_bool(0.7) {
                let price = REFERENCE + rng.random_range(-300..=300);
                modify["price"] = json!(price.to_string());
            }
            if modify.get("price").is_none() || rng.random_bool(0.3) {
                modify["amount"] = json!(amount(rng, venue));
            }
            modify
        })
        .collect();
    if rng.random_bool(0.15) {
        report.cancels += 1;
        commands.push(json!({"cmd": "cancel", "exchange": venue.name, "client_order_id": id}));
    }
    commands
}

/// Picks one of the ids, if any.
fn any_of<'a>(rng: &mut ChaCha8Rng, ids: &'a [String]) -> Option<&'a String> {
    (!ids.is_empty()).then(|| &ids[rng.random_range(0..ids.len())])
}

/// How many times the end check compares a venue's book with the host's
/// before it calls them different, and how long it waits between looks.
const BOOK_LOOKS: u32 = 10;
const BETWEEN_LOOKS: Duration = Duration::from_millis(50);

/// One look at the end: every order, exit and book of every venue against
/// the host's; the violations found, and how many live exits were checked.
fn end_check(
    files: &HostFiles,
    venues: &[SoakVenue],
    accepted: &[Vec<String>],
    books: &[BookWatch],
    commands: &mut Commands,
) -> (Vec<String>, usize) {
    let mut violations = Vec::new();
    let mut exits_checked = 0;
    for ((venue, accepted), book) in venues.iter().zip(accepted).zip(books) {
        let journal = files
            .dir
            .path()
            .join("state")
            .join(format!("{}.journal", venue.name));
        let on_exchange = venue.orders();
        let checked = Checked {
            exchange: venue.name,
            journal: &truth::journal(&journal),
            accepted,
            on_exchange: &on_exchange,
            strictness: venue.strictness(),
        };
        violations.extend(truth::order_violations(commands, &checked));
        let (checked, wrong) = truth::exit_violations(commands, venue.name);
        exits_checked += checked;
        violations.extend(wrong);
        violations.extend(
            venue
                .client_ids_placed_twice()
                .into_iter()
                .map(|(id, orders)| {
                    let orders: Vec<String> = orders.iter().map(Value::to_string).collect();
                    format!(
                        "{} {id}: more than one order on the exchange under this client id: {}",
                        venue.name,
                        orders.join(" / ")
                    )
                }),
        );
        violations.extend(book_disagreement(venue, book));
    }
    (violations, exits_checked)
}

/// The host's book against the venue's. The venue's synthetic maker gives
/// each of its levels a new size every block (100 ms), so one look can find
/// the venue a block ahead of what has reached the host; a book in sync
/// matches within a few looks, a wrong one in none. Sleeps between looks.
fn book_disagreement(venue: &SoakVenue, watch: &BookWatch) -> Option<String> {
    let mut found = None;
    for look in 0..BOOK_LOOKS {
        if look > 0 {
            std::thread::sleep(BETWEEN_LOOKS);
        }
        // One look that agrees is enough.
        found = Some(truth::book_violation(
            venue.name,
            watch.last().as_ref(),
            &venue.book(),
        )?);
    }
    found.map(|violation| {
        format!(
            "{violation} (in each of {BOOK_LOOKS} looks {} ms apart)",
            BETWEEN_LOOKS.as_millis()
        )
    })
}

/// Runs one soak of `duration` for `seed`.
pub async fn run(seed: u64, duration: Duration) -> Report {
    let host_label = format!("soak host {seed}");
    let (files, venues) = venues::start(seed, &host_label).await;
    let mut host: Option<KillOnDrop> = Some(files.start().await);
    let log = EventLog::start(&files.events);
    let books: Vec<BookWatch> = venues
        .iter()
        .map(|venue| BookWatch::start(&files.events, venue.name))
        .collect();
    let mut commands = Commands::new(&files.commands);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut exits = ChaCha8Rng::seed_from_u64(seed ^ 0x0065_7869_7473);
    let mut report = Report {
        seed,
        seconds: duration.as_secs(),
        ..Report::default()
    };
    let mut accepted: Vec<Vec<String>> = vec![Vec::new(); venues.len()];
    let mut down_until: Option<Instant> = None;

    let started = Instant::now();
    while started.elapsed() < duration {
        report.steps += 1;
        if down_until.is_some_and(|until| Instant::now() >= until) {
            host = Some(files.start().await);
            down_until = None;
        }
        let up = host.is_some();
        let index = rng.random_range(0..venues.len());
        let venue = &venues[index];
        let batch = match rng.random_range(0..1000) {
            0..400 => vec![host_order(&mut rng, &mut exits, venue)],
            400..550 => any_of(&mut rng, &accepted[index])
                .map(|id| {
                    report.cancels += 1;
                    json!({"cmd": "cancel", "exchange": venue.name, "client_order_id": id})
                })
                .into_iter()
                .collect(),
            550..650 => match any_of(&mut rng, &accepted[index]).cloned() {
                Some(id) => modify_burst(&mut rng, venue, &id, &mut report),
                None => Vec::new(),
            },
            650..970 => {
                report.counterparty_orders += 1;
                venue.counterparty_order(&mut rng).await;
                Vec::new()
            }
            970..995 => {
                let name = venue.draw_faults(&mut rng).await;
                *report
                    .faults
                    .entry(format!("{} {name}", venue.name))
                    .or_default() += 1;
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
                    report.with_exits += u64::from(command.get("take_profit").is_some());
                    accepted[index].push(
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
    for venue in &venues {
        venue.calm().await;
    }
    if host.is_none() {
        host = Some(files.start().await);
    }
    let stopped = Instant::now();
    loop {
        // The checks block (the host's command socket, the venues' state):
        // off the runtime's workers, which serve the venues meanwhile.
        let (violations, exits_checked) = tokio::task::block_in_place(|| {
            end_check(&files, &venues, &accepted, &books, &mut commands)
        });
        report.violations = violations;
        report.exits_checked = exits_checked;
        if report.violations.is_empty() || stopped.elapsed() > Duration::from_secs(60) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    report.settle = stopped.elapsed();
    report.exchange = venues
        .iter()
        .map(|venue| {
            let (orders, fills) = (venue.orders().len(), venue.fills());
            (venue.name, venue.transport, orders, fills)
        })
        .collect();
    count_fill_events(&log, &mut report);
    drop(host);
    for venue in venues {
        venue.emulator.shutdown().await;
    }
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
