//! Two measurements of the events path, printed as a table:
//!
//! 1. publish → a subscriber's receipt, through the host's publisher (queue
//!    and publishing thread), beside a bare ZeroMQ PUB → SUB hop of the same
//!    message on the same transport, in the same run;
//! 2. resident memory of 200 books of 20 levels a side, kept and published.

#[path = "support/measure.rs"]
mod measure;

use std::sync::Arc;
use std::time::{Duration, Instant};

use measure::percentile;

use abi_stable::std_types::{ROption, RVec};
use connector_host::book::{MarketData, MarketSink};
use connector_host::publisher::Publisher;
use connector_host::runtime::ConnectionSink;
use plugin_api::{
    BookUpdate, Dec, Event, Event_NE, Level, Market, MarketKind, PriceRule, TradingRule,
};

const SAMPLES: usize = 10_000;

fn subscriber(context: &zmq::Context, endpoint: &str) -> zmq::Socket {
    let socket = context.socket(zmq::SUB).expect("sub");
    socket.connect(endpoint).expect("connect");
    socket.set_subscribe(b"").expect("subscribe");
    socket
}

fn report(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    let p50 = percentile(&samples, 0.5);
    println!(
        "{name:<44} p50 {:>8.1} µs   p99 {:>8.1} µs",
        p50.as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6
    );
    p50
}

/// The body the host publishes for an order event, roughly.
const BODY: &str = r#"{"client_order_id":"0x0000000000000000000000000000002a","order_state":"OPEN","price":65000.5,"amount":0.01}"#;

fn bare_hop(endpoint: &str) -> Duration {
    let context = zmq::Context::new();
    let publisher = context.socket(zmq::PUB).expect("pub");
    publisher.bind(endpoint).expect("bind");
    let sub = subscriber(&context, endpoint);
    std::thread::sleep(Duration::from_millis(200));
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let start = Instant::now();
        publisher
            .send_multipart(["orders.hl.update".as_bytes(), BODY.as_bytes()], 0)
            .expect("send");
        sub.recv_multipart(0).expect("recv");
        samples.push(start.elapsed());
    }
    report("bare PUB -> SUB hop", samples)
}

fn host_hop(endpoint: &str) -> Duration {
    let (publisher, _thread) = Publisher::start(endpoint, 65_536).expect("publisher");
    let context = zmq::Context::new();
    let sub = subscriber(&context, endpoint);
    std::thread::sleep(Duration::from_millis(200));
    let family = publisher.family("orders.hl");
    let body: serde_json::Value = serde_json::from_str(BODY).expect("json");
    let mut samples = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let start = Instant::now();
        publisher.publish(
            &family,
            "orders.hl.update".into(),
            "update",
            i as u64,
            &body,
        );
        sub.recv_multipart(0).expect("recv");
        samples.push(start.elapsed());
    }
    report("host publish -> SUB (queue, thread, envelope)", samples)
}

fn resident_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4
}

fn memory_of_200_books(endpoint: &str) {
    let before = resident_kib();
    let (publisher, _thread) = Publisher::start(endpoint, 65_536).expect("publisher");
    let markets: Vec<Market> = (0..200)
        .map(|i| Market {
            symbol: format!("COIN{i}-USD").into(),
            venue_symbol: format!("COIN{i}").into(),
            venue_id: i,
            kind: MarketKind::PERPETUAL,
            base: format!("COIN{i}").into(),
            quote: "USD".into(),
            rule: TradingRule {
                price: PriceRule {
                    tick: Dec::ZERO,
                    max_significant_figures: 5,
                    max_decimals: ROption::RSome(2),
                    integers_always_valid: true,
                    min_price: Dec::ZERO,
                    max_price: Dec::ZERO,
                },
                size_step: Dec::new(1, 3),
                min_size: Dec::new(1, 3),
                max_size: Dec::ZERO,
                min_notional: Dec::new(10, 0),
                reduce_only_exempt_from_min_notional: false,
            },
            max_leverage: 20,
        })
        .collect();
    let data = MarketData::new("hl", &markets, publisher);
    let sink = MarketSink(Arc::clone(&data));
    let side = |start: i64, step: i64| -> RVec<Level> {
        (0..20)
            .map(|i| Level {
                price: Dec::new(start + step * i, 2),
                size: Dec::new(1_000 + i, 3),
                orders: 3,
            })
            .collect()
    };
    for round in 0..10 {
        let events: RVec<Event_NE> = markets
            .iter()
            .map(|m| {
                Event_NE::new(Event::Book(BookUpdate {
                    market: m.venue_symbol.clone(),
                    is_snapshot: true,
                    bids: side(1_000_000, -1),
                    asks: side(1_000_001, 1),
                    seq: 0,
                    time_ms: round + 1,
                }))
            })
            .collect();
        sink.on_events("market", events);
    }
    std::thread::sleep(Duration::from_millis(300));
    let after = resident_kib();
    println!(
        "200 books x 20 levels a side, kept and published: resident {:.1} MiB (+{:.1} MiB for the books, publisher and queue)",
        after as f64 / 1024.0,
        after.saturating_sub(before) as f64 / 1024.0
    );
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ipc = |name: &str| format!("ipc://{}/{name}.sock", dir.path().display());
    println!("events path, {SAMPLES} messages each, one subscriber in this process\n");
    for (transport, bare_endpoint, host_endpoint) in [
        ("ipc", ipc("bare"), ipc("host")),
        (
            "tcp",
            "tcp://127.0.0.1:47801".to_owned(),
            "tcp://127.0.0.1:47802".to_owned(),
        ),
    ] {
        println!("transport {transport}");
        let bare = bare_hop(&bare_endpoint);
        let host = host_hop(&host_endpoint);
        println!(
            "ratio host / bare at p50: {:.2}\n",
            host.as_secs_f64() / bare.as_secs_f64()
        );
    }
    memory_of_200_books(&ipc("memory"));
}
