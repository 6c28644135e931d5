//! Every topic the host publishes, checked against the JSON Schema that
//! `docs/events.md` gives for it: real messages, produced by the real
//! publishing code and received over ZeroMQ.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use abi_stable::std_types::{ROption, RVec};
use connector_host::account::Account;
use connector_host::book::{MarketData, MarketSink};
use connector_host::order::{
    ClientIdGenerator, ClientOrderTracker, Exit, Exits, FailureCause, NewOrder, OrderState,
    OrderType, OrderUpdate, TimeInForce, TradeType, TradeUpdate, UnknownOutcome,
};
use connector_host::plugins::PluginSet;
use connector_host::publisher::{OrderEventPublisher, Publisher, StatusPublisher};
use connector_host::runtime::ConnectionSink;
use plugin_api::{
    Balance, Bbo, BookUpdate, Dec, Event, Event_NE, Funding, Level, Market, MarketKind, Position,
    Positions, PriceRule, Side, Trade, TradingRule,
};
use serde_json::Value;

const EVENTS_DOC: &str = include_str!("../../docs/events.md");

/// (topic pattern as a regex, schema) for every topic heading with a schema.
fn documented_schemas() -> Vec<(regex_lite::Regex, Value, String)> {
    let mut schemas = Vec::new();
    let mut heading: Option<String> = None;
    let mut lines = EVENTS_DOC.lines();
    while let Some(line) = lines.next() {
        if let Some(topic) = line.strip_prefix("### `").and_then(|t| t.strip_suffix('`')) {
            heading = Some(topic.to_owned());
        } else if line.trim() == "```json" {
            let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            let topic = heading
                .take()
                .expect("a schema block under a topic heading");
            let schema: Value = serde_json::from_str(&block.join("\n"))
                .unwrap_or_else(|e| panic!("schema of {topic} is not JSON: {e}"));
            let pattern = regex_lite::escape(&topic)
                .replace(r"<exchange>", "[^.]+")
                .replace(r"<symbol>", "[^.]+")
                .replace(r"\*", "[a-z_]+");
            schemas.push((
                regex_lite::Regex::new(&format!("^{pattern}$")).unwrap(),
                schema,
                topic,
            ));
        }
    }
    assert!(schemas.len() >= 10, "docs/events.md lost its schemas");
    schemas
}

fn market() -> Market {
    Market {
        symbol: "BTC-USD".into(),
        venue_symbol: "BTC".into(),
        venue_id: 0,
        kind: MarketKind::PERPETUAL,
        base: "BTC".into(),
        quote: "USD".into(),
        rule: TradingRule {
            price: PriceRule {
                tick: Dec::ZERO,
                max_significant_figures: 5,
                max_decimals: ROption::RSome(1),
                integers_always_valid: true,
                min_price: Dec::ZERO,
                max_price: Dec::ZERO,
            },
            size_step: Dec::new(1, 5),
            min_size: Dec::new(1, 5),
            max_size: Dec::ZERO,
            min_notional: Dec::new(10, 0),
            reduce_only_exempt_from_min_notional: false,
        },
        max_leverage: 40,
    }
}

fn level(price: &str, size: &str) -> Level {
    Level {
        price: Dec::parse(price).unwrap(),
        size: Dec::parse(size).unwrap(),
        orders: 2,
    }
}

fn new_order(id: connector_host::order::ClientOrderId) -> NewOrder {
    NewOrder {
        exits: None,
        parent: None,
        trigger_reference: None,
        client_order_id: id,
        exchange: "hl-local".into(),
        trading_pair: "BTC-USD".into(),
        order_type: OrderType::LimitMaker,
        trade_type: TradeType::Sell,
        position_action: None,
        time_in_force: TimeInForce::Gtc,
        price: "65001".parse().unwrap(),
        amount: "0.01".parse().unwrap(),
        creation_timestamp_ms: 1,
        trigger_price: None,
    }
}

/// Publishes at least one message of every documented topic.
fn produce_every_topic(publisher: &Publisher) {
    let status = StatusPublisher::new(publisher.clone());
    status.config_loaded(Path::new("configs/local.toml"), "host `t`, 1 exchange");
    let mut plugins = PluginSet::default();
    plugins.load_file(Path::new("/nonexistent/plugin.so"));
    status.plugins(&plugins);
    status.counters();
    status.throttled("hl-local", "address", 12);
    let commands = connector_host::commands::CommandStats::default();
    commands.received();
    commands.refused("risk_limit");
    status.commands(&commands);
    status.internal_error("commands", "buy", "attempt to divide by zero");
    status.signer("up", Some(4242), None);
    status.signer("exited", None, Some("it exited (signal: 9 (SIGKILL))"));
    status.kill_switch("hl-local", true, Some("drill"));
    status.kill_switch("hl-local", false, None);
    status.dead_man_switch("hl-local", "armed", Some(1_700_000_005_000), 0, None);
    status.dead_man_switch("hl-local", "failed", None, 3, Some("too early"));
    status.rate_limit(
        "hl-local",
        &plugin_api::RateLimitState {
            bucket: "address".into(),
            remaining: 9_000,
            capacity: 10_000,
        },
    );

    let data = MarketData::new("hl-local", &[market()], publisher.clone());
    let sink = MarketSink(Arc::clone(&data));
    sink.on_up("market");
    let events = vec![
        Event::Book(BookUpdate {
            market: "BTC".into(),
            is_snapshot: true,
            bids: RVec::from(vec![level("65000", "1.5"), level("64999", "0.1")]),
            asks: RVec::from(vec![level("65001", "0.2")]),
            seq: 0,
            time_ms: 1_700_000_000_000,
        }),
        Event::Trade(Trade {
            market: "BTC".into(),
            price: Dec::parse("65000.5").unwrap(),
            size: Dec::parse("0.01").unwrap(),
            taker_side: Side::BUY,
            trade_id: "77".into(),
            time_ms: 1_700_000_000_001,
        }),
        Event::Bbo(Bbo {
            market: "BTC".into(),
            bid: ROption::RSome(level("65000", "1.5")),
            ask: ROption::RNone,
            time_ms: 1_700_000_000_002,
        }),
        Event::Funding(Funding {
            market: "BTC".into(),
            rate: Dec::parse("0.0000125").unwrap(),
            mark_price: Dec::parse("65000").unwrap(),
            oracle_price: Dec::parse("64990").unwrap(),
            next_funding_ms: 1_700_003_600_000,
            open_interest: Dec::parse("12.5").unwrap(),
            time_ms: 1_700_000_000_003,
        }),
    ];
    sink.on_events("market", events.into_iter().map(Event_NE::new).collect());
    sink.on_down("market", "silent for 45s");

    let account = Account::new(
        "hl-local",
        [("BTC".to_owned(), "BTC-USD".to_owned())]
            .into_iter()
            .collect(),
        publisher.clone(),
    );
    account.apply(&Event::Balance(Balance {
        asset: "USDC".into(),
        total: Dec::parse("10000.5").unwrap(),
        available: Dec::parse("9000").unwrap(),
        time_ms: 1,
    }));
    let position = Position {
        market: "BTC".into(),
        size: Dec::parse("-0.25").unwrap(),
        entry_price: Dec::parse("65000").unwrap(),
        unrealized_pnl: Dec::parse("-12.5").unwrap(),
        leverage: 10,
        liquidation_price: ROption::RSome(Dec::parse("90000").unwrap()),
    };
    for positions in [vec![position], vec![]] {
        account.apply(&Event::Positions(Positions {
            positions: RVec::from(positions),
            complete: true,
            time_ms: 2,
        }));
    }
    assert_eq!(account.position("BTC-USD"), rust_decimal::Decimal::ZERO);

    let tracker = ClientOrderTracker::new();
    tracker.add_listener(Arc::new(OrderEventPublisher::new(
        publisher.clone(),
        "hl-local",
    )));
    let generator = ClientIdGenerator::with_salt("schemas", 3);
    let (a, b, c) = (generator.next(), generator.next(), generator.next());
    for id in [a, b, c] {
        tracker.start_tracking(new_order(id)).unwrap();
        tracker.mark_submitted(id, 2).unwrap();
    }
    tracker
        .mark_outcome_unknown(
            a,
            UnknownOutcome {
                reason: "timeout".into(),
                since_ms: 3,
                resolve_after_ms: 4,
            },
        )
        .unwrap();
    tracker
        .fail(a, FailureCause::NotFoundAfterDeadline, 5)
        .unwrap();
    let update = |id, state| OrderUpdate {
        client_order_id: id,
        exchange_order_id: Some("9".into()),
        new_state: state,
        timestamp_ms: 6,
        reason: None,
    };
    tracker
        .process_order_update(&update(b, OrderState::Open))
        .unwrap();
    tracker
        .process_order_update(&update(b, OrderState::Cancelled))
        .unwrap();
    for (trade, amount) in [("t1", "0.004"), ("t2", "0.006")] {
        tracker
            .process_trade_update(&TradeUpdate {
                trade_id: trade.into(),
                client_order_id: c,
                exchange_order_id: Some("10".into()),
                fill_price: "65001".parse().unwrap(),
                fill_amount: amount.parse().unwrap(),
                fee: "-0.001".parse().unwrap(),
                fee_asset: "USDC".into(),
                timestamp_ms: 7,
            })
            .unwrap();
    }
    // A stop: waiting for its trigger, then triggered.
    let stop = generator.next();
    tracker
        .start_tracking(NewOrder {
            order_type: OrderType::StopMarket,
            trigger_price: Some("64000".parse().unwrap()),
            ..new_order(stop)
        })
        .unwrap();
    tracker.mark_submitted(stop, 8).unwrap();
    tracker.mark_triggered(stop, 9).unwrap();
    // An entry whose exits the exchange holds, and one of them.
    let (entry, exit) = (generator.next(), generator.next());
    let exit_of = |trigger: &str| Exit {
        trigger_price: trigger.parse().unwrap(),
        price: None,
        trigger_reference: None,
    };
    tracker
        .start_tracking(NewOrder {
            order_type: OrderType::Limit,
            exits: Some(Exits {
                take_profit: Some(exit_of("60000")),
                stop_loss: Some(exit_of("70000")),
                held_by_exchange: true,
            }),
            ..new_order(entry)
        })
        .unwrap();
    tracker
        .start_tracking(NewOrder {
            order_type: OrderType::TakeProfitMarket,
            trade_type: TradeType::Buy,
            trigger_price: Some("60000".parse().unwrap()),
            parent: Some(entry),
            ..new_order(exit)
        })
        .unwrap();
}

#[test]
fn every_published_message_matches_its_documented_schema() {
    let schemas = documented_schemas();
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("ipc://{}/events.sock", dir.path().display());
    let (publisher, thread) = Publisher::start(&endpoint, 4096).unwrap();
    let context = zmq::Context::new();
    let subscriber = context.socket(zmq::SUB).unwrap();
    subscriber.connect(&endpoint).unwrap();
    subscriber.set_subscribe(b"").unwrap();
    subscriber.set_rcvtimeo(50).unwrap();
    // Wait until the subscription is in place (PUB drops before that).
    let probe = publisher.family("probe");
    assert!((0..200).any(|i| {
        publisher.publish(&probe, "probe".into(), "probe", i, &i);
        subscriber.recv_multipart(0).is_ok()
    }));
    subscriber.set_rcvtimeo(500).unwrap();

    produce_every_topic(&publisher);

    let mut checked: HashMap<String, usize> = HashMap::new();
    while let Ok(parts) = subscriber.recv_multipart(0) {
        let topic = String::from_utf8(parts[0].clone()).unwrap();
        if topic == "probe" {
            continue;
        }
        let body: Value = serde_json::from_slice(&parts[1]).unwrap();
        for field in ["event_type", "timestamp", "seq", "data"] {
            assert!(body.get(field).is_some(), "{topic}: envelope lacks {field}");
        }
        let (_, schema, heading) = schemas
            .iter()
            .find(|(pattern, _, _)| pattern.is_match(&topic))
            .unwrap_or_else(|| panic!("topic {topic} is not documented in docs/events.md"));
        let validator = jsonschema::validator_for(schema).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&body["data"])
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{topic} breaks the schema of {heading}: {errors:?}\n{body}"
        );
        *checked.entry(heading.clone()).or_default() += 1;
    }
    let undocumented: Vec<&String> = schemas
        .iter()
        .map(|(_, _, heading)| heading)
        .filter(|heading| !checked.contains_key(*heading))
        .collect();
    assert!(
        undocumented.is_empty(),
        "no message checked for {undocumented:?}"
    );
    drop(publisher);
    thread.join();
}
