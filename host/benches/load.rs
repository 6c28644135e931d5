//! Sustained load: orders at a fixed rate (default 1,000/s for 60 s)
//! through the command socket of a `connector-host` process against the
//! emulator, open loop (each command leaves at its scheduled time whether
//! or not earlier replies came back). Prints, for `docs/benchmarks.md`:
//! the reply latency percentiles, whether every order was accounted for
//! (each accepted order filled on the exchange and reported `filled`
//! exactly once by the host), the CPU time and context switches per order
//! of each of the host's threads beside the bare cost of waking a thread
//! on this machine, and the host's resident memory over time.
//!
//! ```text
//! cargo bench -p connector-host --bench load                      # 1,000/s for 60 s
//! LOAD_SECONDS=600 cargo bench -p connector-host --bench load     # the 10-minute memory run
//! LOAD_VENUES=all cargo bench -p connector-host --bench load      # spread over three venues
//! ```
//!
//! With `LOAD_VENUES=all` one host trades Hyperliquid, Bybit and Binance
//! USDⓈ-M, each against its emulator: of every 40 orders one goes to
//! Binance (25/s at 1,000/s: under the 300 orders per 10 s Binance allows
//! an account, which its emulator enforces), then Bybit and Hyperliquid in
//! turn.
//!
//! The orders are IOC limits that cross the emulator's synthetic book
//! (buys and sells in turn, so the position stays flat), so each one ends
//! within a block; closed orders leave the host's memory after
//! `closed_order_retention_ms` (set to its minimum, two minutes, here).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/measure.rs"]
mod measure;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::host_process::{ApiVenues, HostFiles};
use common::orders::key;
use hl_emulator::{Config as EmulatorConfig, Emulator};
use measure::{bare_wake_up, cpu_time, memory_kib, percentile, thread_use, thread_use_since};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// `LOAD_RATE` orders per second for `LOAD_SECONDS`.
fn plan() -> (u64, u64) {
    let read = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(default)
    };
    (read("LOAD_RATE", 1_000), read("LOAD_SECONDS", 60))
}

/// The host's children (its signer).
fn children(pid: u32) -> Vec<String> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .map(|text| text.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

/// The emulator: synthetic liquidity that never moves on its own, and an
/// address budget that a million orders cannot spend.
fn emulator_config(account: hyperliquid_core::Address) -> EmulatorConfig {
    let mut config = EmulatorConfig::default();
    config.liquidity.taker_rate_per_sec = 0.0;
    config.liquidity.volatility_bps_per_sec = 0.0;
    config.limits.address_request_buffer = 100_000_000;
    config.fund(account, Decimal::from(100_000_000));
    config
}

/// Where one order goes: the exchange, its pair, the order's size.
#[derive(Clone, Copy)]
struct Target {
    exchange: &'static str,
    pair: &'static str,
    amount: &'static str,
}

const HYPERLIQUID: Target = Target {
    exchange: "hl",
    pair: "BTC-USD",
    amount: "0.001",
};
const BYBIT: Target = Target {
    exchange: "by",
    pair: "BTC-USDT",
    amount: "0.001",
};
/// Binance's minimum notional is 100 USDT.
const BINANCE: Target = Target {
    exchange: "bn",
    pair: "BTC-USDT",
    amount: "0.002",
};

/// The venue of order `i`: Hyperliquid only, or one in 40 to Binance and
/// the rest to Bybit and Hyperliquid in turn.
fn target(all: bool, i: usize) -> Target {
    match (all, i % 40) {
        (false, _) => HYPERLIQUID,
        (true, 0) => BINANCE,
        (true, slot) if slot % 2 == 1 => BYBIT,
        (true, _) => HYPERLIQUID,
    }
}

/// What the open-loop sender saw.
struct Sent {
    latencies: Vec<Duration>,
    accepted: Vec<String>,
    refused: Vec<Value>,
    /// How late the latest send left after its scheduled time.
    worst_send_lag: Duration,
    memory: Vec<(u64, u64)>,
}

/// Whether `socket` has a message, waiting for one at most `timeout`.
/// Sleeps on ZeroMQ's notification descriptor with `ppoll`, which takes a
/// timeout in ns where `zmq_poll` takes whole ms: the driver wakes when a
/// reply comes (so it is timestamped when it came) or when the next order
/// is due, and never spins a core away from the host.
fn wait_readable(socket: &zmq::Socket, timeout: Duration) -> bool {
    let readable = || socket.get_events().expect("events").contains(zmq::POLLIN);
    if readable() {
        return true;
    }
    let mut descriptor = libc::pollfd {
        fd: socket.get_fd().expect("fd"),
        events: libc::POLLIN,
        revents: 0,
    };
    let timeout = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: one valid pollfd and a valid timespec, both outliving the
    // call; no signal mask.
    unsafe { libc::ppoll(&mut descriptor, 1, &timeout, std::ptr::null()) };
    // The descriptor only says ZeroMQ has news: the socket's events say
    // whether a message is among them.
    readable()
}

/// Sends `rate` orders per second for `seconds` over a DEALER socket,
/// reading replies in between; samples the host's memory once a second.
fn drive(endpoint: &str, rate: u64, seconds: u64, all: bool, host_pid: u32) -> Sent {
    // Timers of this thread fire when asked, not up to 50 µs later (the
    // kernel's default slack), so that orders leave on schedule.
    // SAFETY: sets a property of the calling thread only.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong) };
    let context = zmq::Context::new();
    let socket = context.socket(zmq::DEALER).expect("dealer");
    socket.set_rcvhwm(0).expect("hwm");
    socket.set_sndhwm(0).expect("hwm");
    socket.connect(endpoint).expect("connect");
    let total = (rate * seconds) as usize;
    let interval = Duration::from_nanos(1_000_000_000 / rate);
    let mut sent_at: Vec<Option<Instant>> = vec![None; total];
    let mut sent = Sent {
        latencies: Vec::with_capacity(total),
        accepted: Vec::with_capacity(total),
        refused: Vec::new(),
        worst_send_lag: Duration::ZERO,
        memory: Vec::new(),
    };
    let mut sides: HashMap<&str, u64> = HashMap::new();
    let start = Instant::now();
    let mut next_sample = 0u64;
    let mut i = 0usize;
    while sent.latencies.len() < total {
        let elapsed = start.elapsed();
        if elapsed >= Duration::from_secs(next_sample) {
            sent.memory.push((next_sample, memory_kib(host_pid).0));
            next_sample += 1;
        }
        if i < total {
            let due = interval * i as u32;
            if elapsed >= due {
                sent.worst_send_lag = sent.worst_send_lag.max(elapsed - due);
                let venue = target(all, i);
                // Buys and sells in turn on each venue.
                let turn = sides.entry(venue.exchange).or_insert(0);
                let (side, price) = if turn.is_multiple_of(2) {
                    ("buy", "100500")
                } else {
                    ("sell", "99500")
                };
                *turn += 1;
                let command = json!({"id": i, "cmd": side, "exchange": venue.exchange,
                    "trading_pair": venue.pair, "order_type": "LIMIT", "time_in_force": "IOC",
                    "price": price, "amount": venue.amount});
                // A DEALER talking to a ROUTER: an empty delimiter, then the body.
                socket
                    .send_multipart([&b""[..], command.to_string().as_bytes()], 0)
                    .expect("send");
                sent_at[i] = Some(Instant::now());
                i += 1;
                continue;
            }
        }
        // Until the next send, or a reply if one comes sooner.
        let until_next = if i < total {
            (interval * i as u32).saturating_sub(start.elapsed())
        } else {
            Duration::from_millis(100)
        };
        if !wait_readable(&socket, until_next) {
            continue;
        }
        while let Ok(parts) = socket.recv_multipart(zmq::DONTWAIT) {
            let now = Instant::now();
            let reply: Value = serde_json::from_slice(parts.last().expect("body")).expect("json");
            let id = reply["id"].as_u64().expect("id") as usize;
            if let Some(at) = sent_at[id].take() {
                sent.latencies.push(now - at);
            }
            if reply["ok"] == true {
                let cloid = reply["result"]["client_order_id"].as_str().expect("cloid");
                sent.accepted.push(cloid.to_owned());
            } else {
                sent.refused.push(reply);
            }
        }
    }
    sent
}

/// Distinct orders the host reported `filled`, and how many reports
/// repeated one.
fn filled_reports(subscriber: &zmq::Socket) -> (HashSet<String>, usize) {
    let mut filled = HashSet::new();
    let mut repeated = 0;
    while let Ok(parts) = subscriber.recv_multipart(0) {
        let body: Value = serde_json::from_slice(&parts[1]).expect("json");
        let id = body["data"]["client_order_id"].as_str().unwrap_or_default();
        if !filled.insert(id.to_owned()) {
            repeated += 1;
        }
    }
    (filled, repeated)
}

async fn load() {
    let (rate, seconds) = plan();
    let all = std::env::var("LOAD_VENUES").is_ok_and(|venues| venues == "all");
    let seed = "load bench host";
    let account = key(seed).address();
    let emulator = Emulator::start(emulator_config(account))
        .await
        .expect("emulator");
    let files = HostFiles::new(
        seed,
        &emulator.base_url(),
        "closed_order_retention_ms = 120000\n\
         [exchanges.rate_limits.ip_weight]\ncapacity = 100000000\nwindow_ms = 1000\n\
         [exchanges.rate_limits.address]\ncapacity = 100000000\nwindow_ms = 1000\n\
         [exchanges.rate_limits.address_cancel]\ncapacity = 100000000\nwindow_ms = 1000\n",
    );
    let venues = match all {
        true => Some(ApiVenues::start(&files, Decimal::from(100_000_000)).await),
        false => None,
    };
    if let Some(venues) = &venues {
        add_venues(&files, venues);
    }
    let host = files.start().await;
    let pid = host.0.id();
    let context = zmq::Context::new();
    let subscriber = context.socket(zmq::SUB).expect("sub");
    subscriber.set_rcvhwm(0).expect("hwm");
    subscriber.connect(&files.events).expect("connect");
    for exchange in ["hl", "by", "bn"] {
        subscriber
            .set_subscribe(format!("orders.{exchange}.filled").as_bytes())
            .expect("subscribe");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // CPU used during the run: the host, its signer, and this process
    // (the emulator and the load driver).
    let processes: Vec<(String, String)> = [("host".to_owned(), pid.to_string())]
        .into_iter()
        .chain(
            children(pid)
                .into_iter()
                .map(|child| ("signer".to_owned(), child)),
        )
        .chain([("emulator + driver".to_owned(), "self".to_owned())])
        .collect();
    let cpu_before: Vec<Duration> = processes.iter().map(|(_, pid)| cpu_time(pid)).collect();
    let threads_before = thread_use(pid);
    let endpoint = files.commands.clone();
    let sent = tokio::task::spawn_blocking(move || drive(&endpoint, rate, seconds, all, pid))
        .await
        .expect("driver");
    let cpu: Vec<(String, Duration)> = processes
        .iter()
        .zip(cpu_before)
        .map(|((name, pid), before)| (name.clone(), cpu_time(pid).saturating_sub(before)))
        .collect();
    let threads = thread_use_since(pid, &threads_before);
    // The floor under every hand-over between threads, in the same run.
    let (wake_cpu, wake_switches) =
        tokio::task::spawn_blocking(|| bare_wake_up(2_000, Duration::from_millis(1)))
            .await
            .expect("wake-up baseline");

    // Every accepted order must end filled on the exchange and be reported
    // filled once by the host.
    let settle = Instant::now();
    subscriber.set_rcvtimeo(2_000).expect("timeout");
    let (mut filled, mut repeated) = (HashSet::new(), 0);
    loop {
        let (more, again) = filled_reports(&subscriber);
        filled.extend(more);
        repeated += again;
        let missing = sent
            .accepted
            .iter()
            .filter(|id| !filled.contains(*id))
            .count();
        if missing == 0 || settle.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    let filled_in = |orders: &Value| {
        orders
            .as_array()
            .into_iter()
            .flatten()
            .filter(|order| order["status"] == "filled")
            .count()
    };
    let truth = emulator.account_state(account).expect("account");
    let mut exchange_filled = filled_in(&truth["orders"]);
    for (_, venue) in venues.iter().flat_map(ApiVenues::named) {
        exchange_filled += filled_in(&venue.state()["accounts"][0]["orders"]);
    }
    let missing = sent
        .accepted
        .iter()
        .filter(|id| !filled.contains(*id))
        .count();

    let mut latencies = sent.latencies.clone();
    latencies.sort_unstable();
    let spread = if all { ", three venues" } else { "" };
    println!("\n| {rate} orders/s for {seconds} s{spread} | value |\n|---|---|");
    println!(
        "| commands sent / replies | {} / {} |",
        latencies.len(),
        latencies.len()
    );
    println!(
        "| accepted / refused | {} / {} |",
        sent.accepted.len(),
        sent.refused.len()
    );
    for (name, p) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99.9", 0.999)] {
        println!(
            "| reply latency {name} | {:.1} µs |",
            micros(percentile(&latencies, p))
        );
    }
    println!(
        "| reply latency max | {:.1} µs |",
        micros(*latencies.last().expect("a reply"))
    );
    println!(
        "| latest send after its schedule | {:.1} µs |",
        micros(sent.worst_send_lag)
    );
    println!(
        "| filled on the exchange / reported filled by the host / repeated reports / accepted but not reported | {exchange_filled} / {} / {repeated} / {missing} |",
        filled.len()
    );
    for (name, used) in &cpu {
        println!(
            "| CPU of the {name} | {:.1} s ({:.0} µs per order) |",
            used.as_secs_f64(),
            used.as_secs_f64() * 1e6 / latencies.len() as f64
        );
    }
    let per_order = latencies.len().max(1) as f64;
    println!("\n| host thread | CPU per order | context switches per order |\n|---|---|---|");
    for used in &threads {
        println!(
            "| {} | {:.0} µs | {:.2} |",
            used.name,
            used.cpu.as_secs_f64() * 1e6 / per_order,
            used.switches as f64 / per_order
        );
    }
    println!(
        "| bare: a sleeping thread woken every ms (baseline) | {:.1} µs per wake-up | {wake_switches:.2} |",
        micros(wake_cpu)
    );
    println!("\n| second | host resident memory |\n|---|---|");
    let step = (seconds / 10).max(1);
    for (second, kib) in sent.memory.iter().filter(|(s, _)| s.is_multiple_of(step)) {
        println!("| {second} | {:.1} MiB |", *kib as f64 / 1024.0);
    }
    for refused in sent.refused.iter().take(5) {
        println!("refused: {refused}");
    }
    drop(host);
    emulator.shutdown().await;
    if let Some(venues) = venues {
        venues.shutdown().await;
    }
}

/// Bybit's and Binance's emulators with the host's keys funded, their
/// plugins in the host's folder, their exchanges (`by`, `bn`) in its config
/// with the client-side buckets lifted, the keys in its signer's keyring.
fn add_venues(files: &HostFiles, venues: &ApiVenues) {
    venues.add_plugins(files);
    let lifted = |buckets: &[&str]| {
        let tables: Vec<String> = buckets
            .iter()
            .map(|bucket| {
                format!("[exchanges.rate_limits.{bucket}]\ncapacity = 100000000\nwindow_ms = 1000")
            })
            .collect();
        format!("closed_order_retention_ms = 120000\n{}", tables.join("\n"))
    };
    let config = std::fs::read_to_string(&files.config_file).expect("config");
    let exchanges = venues.exchanges(
        &lifted(&["ip", "create", "amend", "cancel", "query"]),
        &lifted(&["request_weight", "orders_10s", "orders_1m"]),
    );
    std::fs::write(&files.config_file, config + &exchanges).expect("config");
}

fn main() {
    // The emulators and the driver's bookkeeping on one worker: they share
    // the machine's two cores with the host, and two workers waking each
    // other would take more of them than the venues' side needs.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(load());
}
