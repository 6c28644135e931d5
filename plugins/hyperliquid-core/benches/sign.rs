//! Encode + hash one order action, and encode + hash + sign it.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hyperliquid_core::{
    Action, Grouping, Network, OrderAction, OrderKind, OrderRequest, PrivateKey, SigningContext,
    Tif, l1_hashes, sign_digest,
};
use rust_decimal::Decimal;

fn order_request() -> OrderRequest {
    OrderRequest {
        asset: 0,
        is_buy: true,
        price: Decimal::new(65_432, 0),
        size: Decimal::new(1, 3),
        reduce_only: false,
        kind: OrderKind::Limit(Tif::Gtc),
        cloid: None,
    }
}

fn build_action(order: &OrderRequest) -> Action {
    Action::Order(
        OrderAction::from_requests(std::slice::from_ref(order), Grouping::Na, None)
            .expect("valid order"),
    )
}

fn bench(c: &mut Criterion) {
    let order = order_request();
    let context = SigningContext::new(Network::Mainnet, 1_700_000_000_001);
    let key =
        PrivateKey::from_hex("0x00e5fb7b0f747acef23ab43fcff0c82511dd041b249c8a5efa84c59beee988b2")
            .expect("valid key");

    c.bench_function("encode_hash_order", |b| {
        b.iter(|| {
            let action = build_action(black_box(&order));
            l1_hashes(&action, black_box(&context))
                .expect("hashable")
                .digest
        })
    });
    c.bench_function("encode_hash_sign_order", |b| {
        b.iter(|| {
            let action = build_action(black_box(&order));
            let digest = l1_hashes(&action, black_box(&context))
                .expect("hashable")
                .digest;
            sign_digest(&key, &digest)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
