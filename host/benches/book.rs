//! Book throughput: single-level deltas on a 20-level book (the steady
//! state, no allocation), and Hyperliquid-style full snapshots of 20 levels
//! a side as the plugin delivers them.

use abi_stable::std_types::RVec;
use connector_host::book::{BookLevel, OrderBook};
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

criterion_group!(benches, deltas, snapshots);
criterion_main!(benches);
