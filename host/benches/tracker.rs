//! Tracker throughput: a full order life (track, submit, open, partial fill,
//! fill — five updates) over batches of 10,000 orders, with one listener
//! attached as in the host.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use connector_host::order::{
    ClientIdGenerator, ClientOrderId, ClientOrderTracker, NewOrder, OrderEvent, OrderListener,
    OrderState, OrderType, OrderUpdate, TimeInForce, TradeType, TradeUpdate,
};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;

const BATCH: usize = 10_000;
const UPDATES_PER_ORDER: u64 = 5;

struct Counter(AtomicU64);

impl OrderListener for Counter {
    fn on_event(&self, _event: &OrderEvent<'_>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn orders(generator: &ClientIdGenerator) -> Vec<NewOrder> {
    (0..BATCH)
        .map(|_| NewOrder {
            exits: None,
            parent: None,
            trigger_reference: None,
            client_order_id: generator.next(),
            exchange: "hl".into(),
            trading_pair: "BTC-USD".into(),
            order_type: OrderType::Limit,
            trade_type: TradeType::Buy,
            position_action: None,
            time_in_force: TimeInForce::Gtc,
            price: Decimal::new(650001, 1),
            amount: Decimal::new(2, 0),
            creation_timestamp_ms: 1,
            trigger_price: None,
        })
        .collect()
}

fn fill(id: ClientOrderId, trade_id: &str) -> TradeUpdate {
    TradeUpdate {
        trade_id: trade_id.into(),
        client_order_id: id,
        exchange_order_id: None,
        fill_price: Decimal::new(650001, 1),
        fill_amount: Decimal::ONE,
        fee: Decimal::new(1, 2),
        fee_asset: "USDC".into(),
        timestamp_ms: 3,
    }
}

fn order_life(c: &mut Criterion) {
    let generator = ClientIdGenerator::with_salt("bench", 1);
    let mut group = c.benchmark_group("tracker");
    group.throughput(Throughput::Elements(BATCH as u64 * UPDATES_PER_ORDER));
    group.bench_function("order_life_5_updates_x10k", |b| {
        b.iter_batched(
            || {
                let tracker = ClientOrderTracker::new();
                tracker.add_listener(Arc::new(Counter(AtomicU64::new(0))));
                let batch = orders(&generator);
                let fills: Vec<(TradeUpdate, TradeUpdate)> = batch
                    .iter()
                    .map(|o| (fill(o.client_order_id, "a"), fill(o.client_order_id, "b")))
                    .collect();
                (tracker, batch, fills)
            },
            |(tracker, batch, fills)| {
                for (order, (first, second)) in batch.into_iter().zip(&fills) {
                    let id = tracker.start_tracking(order).unwrap();
                    tracker.mark_submitted(id, 2).unwrap();
                    tracker
                        .process_order_update(&OrderUpdate {
                            client_order_id: id,
                            exchange_order_id: Some("1".into()),
                            new_state: OrderState::Open,
                            timestamp_ms: 2,
                            reason: None,
                        })
                        .unwrap();
                    tracker.process_trade_update(first).unwrap();
                    tracker.process_trade_update(second).unwrap();
                }
                tracker
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, order_life);
criterion_main!(benches);
