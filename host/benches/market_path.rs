//! An l2Book frame through the whole market path — the plugin `.so`'s
//! parser across the ABI, the book, the JSON of the published message, the
//! publisher's queue — beside a bare `serde_json::Value` parse of the same
//! frame, measured in the same run.

#[path = "support/book_path.rs"]
mod book_path;
#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use book_path::{Frames, MarketPath, frame};
use connector_host::publisher::DEFAULT_SPIN;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn market_path(c: &mut Criterion) {
    let (_loaded, plugin) = book_path::plugin();
    let dir = tempfile::tempdir().expect("temp dir");
    // The publisher thread as configured by default (polling an empty
    // queue for a while before it sleeps), and one that sleeps at once, so
    // that every event pays the system call that wakes it.
    let sinks: Vec<_> = [("", DEFAULT_SPIN), ("_publisher_sleeping", Duration::ZERO)]
        .into_iter()
        .map(|(name, spin)| {
            let endpoint = format!("ipc://{}/events{name}.sock", dir.path().display());
            (name, MarketPath::new(&endpoint, spin))
        })
        .collect();
    let frames: Vec<String> = (0..1024).map(|i| frame(1_700_000_000_000 + i)).collect();

    let mut group = c.benchmark_group("market_path");
    group.throughput(Throughput::Elements(1));
    group.bench_function("bare_json_parse_of_the_frame", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % frames.len();
            black_box(serde_json::from_str::<serde_json::Value>(&frames[i]).expect("json"))
        })
    });
    group.bench_function("plugin_parse_only", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % frames.len();
            black_box(plugin.on_frame("market", &frames[i], 0).expect("parse"))
        })
    });
    for (name, path) in &sinks {
        let mut frames = Frames::default();
        group.bench_function(format!("l2book_frame_to_published_book{name}"), |b| {
            b.iter(|| frames.push(path))
        });
    }
    group.finish();
}

criterion_group!(benches, market_path);
criterion_main!(benches);
