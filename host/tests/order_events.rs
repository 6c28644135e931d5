//! A tracker's changes reach a ZeroMQ subscriber in the seed schema, one
//! message per transition, with a gap-free sequence.

use std::sync::Arc;

use connector_host::order::{
    ClientIdGenerator, ClientOrderTracker, NewOrder, OrderState, OrderType, OrderUpdate,
    TimeInForce, TradeType, TradeUpdate,
};
use connector_host::publisher::{OrderEventPublisher, Publisher};
use rust_decimal::Decimal;
use serde_json::Value;

fn subscriber_ready(publisher: &Publisher, endpoint: &str) -> zmq::Socket {
    let context = zmq::Context::new();
    let socket = context.socket(zmq::SUB).unwrap();
    socket.connect(endpoint).unwrap();
    socket.set_subscribe(b"").unwrap();
    socket.set_rcvtimeo(50).unwrap();
    let family = publisher.family("host");
    let joined = (0..200).any(|i| {
        publisher.publish(&family, "host.hello".into(), "hello", i, &i);
        socket.recv_multipart(0).is_ok()
    });
    assert!(joined, "subscriber never joined");
    socket.set_rcvtimeo(2_000).unwrap();
    // Orders first, then no more hellos (the subscriber filters what is
    // already in flight): the other way round, the publisher could see the
    // unsubscription alone and drop the first order events.
    socket.set_subscribe(b"orders.").unwrap();
    socket.set_unsubscribe(b"").unwrap();
    socket
}

#[test]
fn a_subscriber_sees_every_transition_in_the_seed_schema() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("ipc://{}/events.sock", dir.path().display());
    let (publisher, thread) = Publisher::start(&endpoint, 1024).unwrap();
    let subscriber = subscriber_ready(&publisher, &endpoint);

    let tracker = ClientOrderTracker::new();
    tracker.add_listener(Arc::new(OrderEventPublisher::new(
        publisher.clone(),
        "hl-local",
    )));
    let id = ClientIdGenerator::with_salt("events", 1).next();
    tracker
        .start_tracking(NewOrder {
            exits: None,
            parent: None,
            trigger_reference: None,
            client_order_id: id,
            exchange: "hl-local".into(),
            trading_pair: "BTC-USD".into(),
            order_type: OrderType::Limit,
            trade_type: TradeType::Buy,
            position_action: None,
            time_in_force: TimeInForce::Gtc,
            price: "65000.5".parse().unwrap(),
            amount: "0.3".parse().unwrap(),
            creation_timestamp_ms: 1_700_000_000_000,
            trigger_price: None,
        })
        .unwrap();
    tracker.mark_submitted(id, 1_700_000_000_001).unwrap();
    tracker
        .process_order_update(&OrderUpdate {
            client_order_id: id,
            exchange_order_id: Some("123".into()),
            new_state: OrderState::Open,
            timestamp_ms: 1_700_000_000_002,
            reason: None,
        })
        .unwrap();
    for (trade_id, amount) in [("t1", "0.1"), ("t2", "0.2")] {
        tracker
            .process_trade_update(&TradeUpdate {
                trade_id: trade_id.into(),
                client_order_id: id,
                exchange_order_id: Some("123".into()),
                fill_price: "65000.5".parse().unwrap(),
                fill_amount: amount.parse().unwrap(),
                fee: Decimal::new(1, 2),
                fee_asset: "USDC".into(),
                timestamp_ms: 1_700_000_000_003,
            })
            .unwrap();
    }

    let mut messages = Vec::new();
    for _ in 0..5 {
        let parts = subscriber.recv_multipart(0).expect("an order event");
        let body: Value = serde_json::from_slice(&parts[1]).unwrap();
        messages.push((String::from_utf8(parts[0].clone()).unwrap(), body));
    }
    let topics: Vec<&str> = messages.iter().map(|(topic, _)| topic.as_str()).collect();
    assert_eq!(
        topics,
        [
            "orders.hl-local.created",
            "orders.hl-local.update",
            "orders.hl-local.update",
            "orders.hl-local.partial_fill",
            "orders.hl-local.filled",
        ]
    );
    let seqs: Vec<u64> = messages
        .iter()
        .map(|(_, b)| b["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    let (_, filled) = &messages[4];
    assert_eq!(filled["event_type"], "filled");
    assert!(filled["timestamp"].as_u64().unwrap() > 1_700_000_000_000_000_000);
    let data = &filled["data"];
    assert_eq!(data["client_order_id"], id.to_string());
    assert_eq!(data["exchange_order_id"], "123");
    assert_eq!(data["trading_pair"], "BTC-USD");
    assert_eq!(data["order_type"], "LIMIT");
    assert_eq!(data["trade_type"], "BUY");
    assert_eq!(data["order_state"], "FILLED");
    assert_eq!(messages[3].1["data"]["order_state"], "PARTIALLY_FILLED");
    assert!(data["price"].is_number() && data["amount"].is_number());
    assert_eq!(data["filled_amount"].to_string(), "0.3");
    assert_eq!(data["average_executed_price"].to_string(), "65000.5");
    assert_eq!(data["fee_paid"].to_string(), "0.02");
    assert_eq!(data["fee_asset"], "USDC");
    assert_eq!(data["creation_timestamp"], 1_700_000_000_000_000_000u64);
    assert_eq!(data["trade"]["trade_id"], "t2");
    drop(tracker);
    drop(publisher);
    thread.join();
}
