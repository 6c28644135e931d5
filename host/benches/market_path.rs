//! An l2Book frame through the whole market path — the plugin `.so`'s
//! parser across the ABI, the book, the JSON of the published message, the
//! publisher's queue — beside a bare `serde_json::Value` parse of the same
//! frame, measured in the same run.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use connector_host::publisher::{DEFAULT_SPIN, Publisher};
use connector_host::runtime::{ConnectionSink, MarketData, MarketSink};
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use plugin_api::{BookSync, Event, LoadedPlugin, Market, Operation, OutcomeKind, Response};

/// A 20-level-a-side l2Book frame as Hyperliquid sends it.
fn frame(time: u64) -> String {
    let side = |start: f64, step: f64| -> String {
        (0..20)
            .map(|i| {
                format!(
                    r#"{{"px":"{:.1}","sz":"{:.5}","n":{}}}"#,
                    start + step * f64::from(i),
                    0.1 + f64::from(i) * 0.013,
                    1 + i % 4
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        r#"{{"channel":"l2Book","data":{{"coin":"BTC","time":{time},"levels":[[{}],[{}]]}}}}"#,
        side(100_000.0, -1.0),
        side(100_001.0, 1.0)
    )
}

fn market(plugin: &plugin_api::PluginInstance) -> Market {
    // The market as the plugin describes it, from a recorded `meta` answer.
    let reply = plugin
        .parse_reply(
            &plugin_api::operation(Operation::FetchMarkets { cursor: "".into() }),
            &Response {
                status: 200,
                body: r#"{"universe":[{"name":"BTC","szDecimals":5,"maxLeverage":40}]}"#.into(),
                headers: Default::default(),
            },
        )
        .expect("meta");
    assert_eq!(reply.outcome.kind, OutcomeKind::ACCEPTED);
    match reply.events[0].as_enum() {
        Ok(Event::Markets(markets)) => markets[0].clone(),
        other => panic!("{other:?}"),
    }
}

fn market_path(c: &mut Criterion) {
    let loaded = LoadedPlugin::load(&common::cdylib("hyperliquid-plugin")).expect("plugin");
    let plugin = loaded
        .instantiate(
            r#"{"network":"mainnet","account":"0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE"}"#,
        )
        .expect("instance");
    let dir = tempfile::tempdir().expect("temp dir");
    // The publisher thread as configured by default (polling an empty
    // queue for a while before it sleeps), and one that sleeps at once, so
    // that every event pays the system call that wakes it.
    let sinks: Vec<(&str, MarketSink, _)> =
        [("", DEFAULT_SPIN), ("_publisher_sleeping", Duration::ZERO)]
            .into_iter()
            .map(|(name, spin)| {
                let (publisher, thread) = Publisher::start_spinning(
                    &format!("ipc://{}/events{name}.sock", dir.path().display()),
                    1 << 20,
                    spin,
                )
                .expect("publisher");
                let data = MarketData::new(
                    "hl",
                    BookSync::FULL_SNAPSHOTS,
                    &[market(&plugin)],
                    publisher,
                    None,
                );
                (name, MarketSink(data), thread)
            })
            .collect();
    let frames: Vec<String> = (0..1024).map(|i| frame(1_700_000_000_000 + i)).collect();
    // One frame whose 13-digit time is rewritten in place for each
    // iteration, so that every snapshot is newer than the last.
    let mut template = frame(1_700_000_000_000);
    let time_at = template.find("1700000000000").expect("time in the frame");

    let mut group = c.benchmark_group("market_path");
    group.throughput(Throughput::Elements(1));
    group.bench_function("bare_json_parse_of_the_frame", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % frames.len();
            black_box(serde_json::from_str::<serde_json::Value>(&frames[i]).expect("json"))
        })
    });
    let mut time = 1_700_000_000_000u64;
    group.bench_function("plugin_parse_only", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % frames.len();
            black_box(plugin.parse_frame("market", &frames[i], 0).expect("parse"))
        })
    });
    for (name, sink, _thread) in &sinks {
        group.bench_function(format!("l2book_frame_to_published_book{name}"), |b| {
            b.iter(|| {
                time += 1;
                template.replace_range(time_at..time_at + 13, &time.to_string());
                let events = plugin
                    .parse_frame("market", &template, time)
                    .expect("parse");
                sink.on_events("market", events);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, market_path);
criterion_main!(benches);
