//! Book throughput: single-level deltas on a 20-level book (the steady
//! state, no allocation), Hyperliquid-style full snapshots of 20 levels
//! a side as the plugin delivers them, and the published book's JSON
//! (`publisher::encode::book`) beside a bare `Display` of its numbers.

use abi_stable::std_types::RVec;
use std::io::Write;

use connector_host::book::{BookLevel, OrderBook};
use connector_host::publisher::encode;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use plugin_api::{BookUpdate, Dec, Level};
use rust_decimal::Decimal;

const LEVELS: i64 = 20;

fn level(price: i64, size: i64) -> BookLevel {
    BookLevel {
        price: Decimal::new(price, 1),
        size: Decimal::new(size, 3),
        orders: 1,
    }
}

fn book() -> OrderBook {
    let mut book = OrderBook::new();
    book.apply_snapshot(
        (0..LEVELS).map(|i| level(650_000 - i, 100 + i)),
        (0..LEVELS).map(|i| level(650_001 + i, 100 + i)),
        1,
        1,
    );
    book
}

fn deltas(c: &mut Criterion) {
    let mut group = c.benchmark_group("book");
    group.throughput(Throughput::Elements(1));
    group.bench_function("delta_one_level_update", |b| {
        let mut book = book();
        let mut seq = 1u64;
        b.iter(|| {
            seq += 1;
            let i = (seq % LEVELS as u64) as i64;
            book.apply_delta([level(650_000 - i, (seq % 500) as i64 + 1)], [], seq, seq)
                .unwrap();
        });
    });
    group.finish();
}

fn snapshots(c: &mut Criterion) {
    let side = |start: i64, step: i64| -> RVec<Level> {
        (0..LEVELS)
            .map(|i| Level {
                price: Dec::new(start + step * i, 1),
                size: Dec::new(100 + i, 3),
                orders: 2,
            })
            .collect()
    };
    let mut update = BookUpdate {
        market: "BTC".into(),
        is_snapshot: true,
        bids: side(650_000, -1),
        asks: side(650_001, 1),
        seq: 0,
        time_ms: 1,
    };
    let mut group = c.benchmark_group("book");
    group.throughput(Throughput::Elements(2 * LEVELS as u64));
    group.bench_function("snapshot_20x2_levels", |b| {
        let mut book = OrderBook::new();
        b.iter(|| {
            update.time_ms += 1;
            book.apply(&update).unwrap();
        });
    });
    group.finish();
}

/// The published book's JSON, 20 levels a side: 84 decimals and the
/// framing, beside the same decimals written with `Display` (baseline:
/// what writing them the obvious way costs, without the framing).
fn encoding(c: &mut Criterion) {
    let book = book();
    let (bids, asks) = book.depth(LEVELS as usize);
    let mut group = c.benchmark_group("book");
    group.throughput(Throughput::Elements(1));
    group.bench_function("encode_20x2_display_of_its_decimals_baseline", |b| {
        let mut out = Vec::with_capacity(4096);
        b.iter(|| {
            out.clear();
            for level in bids.iter().chain(asks) {
                let _ = write!(
                    out,
                    "{},{},",
                    level.price.normalize(),
                    level.size.normalize()
                );
            }
            std::hint::black_box(&out);
        });
    });
    group.bench_function("encode_20x2_published_book", |b| {
        let mut out = Vec::with_capacity(4096);
        b.iter(|| {
            out.clear();
            encode::book(&mut out, "hl", "BTC-USD", &book, LEVELS as usize);
            std::hint::black_box(&out);
        });
    });
    group.finish();
}

criterion_group!(benches, deltas, snapshots, encoding);
criterion_main!(benches);
