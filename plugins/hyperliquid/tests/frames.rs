//! Socket frames → events, including shapes recorded from the live API and
//! malformed input.

use hyperliquid_plugin::Hyperliquid;
use plugin_api::{Dec, Event, Exchange, Output, PluginErrorKind, Side, VenueOrderStatus};

fn plugin() -> Hyperliquid {
    Hyperliquid::new(
        r#"{"network":"mainnet","account":"0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE"}"#,
    )
    .unwrap()
}

fn events(frame: &str) -> Vec<Event> {
    plugin()
        .on_frame("market", frame, 1_700_000_000_000)
        .unwrap()
        .into_iter()
        .map(|output| match output.into_enum() {
            Ok(Output::Event(event)) => event.into_enum().unwrap(),
            other => panic!("not an event: {other:?}"),
        })
        .collect()
}

/// The single event a frame must give.
fn one(mut events: Vec<Event>) -> Event {
    assert_eq!(events.len(), 1, "{events:?}");
    events.remove(0)
}

fn d(text: &str) -> Dec {
    Dec::parse(text).unwrap()
}

#[test]
fn l2_book_is_a_full_snapshot() {
    let frame = r#"{"channel":"l2Book","data":{"coin":"BTC","time":1700000000123,"levels":[[{"px":"65000.5","sz":"1.2","n":3},{"px":"65000","sz":"0.5","n":1}],[{"px":"65001","sz":"2","n":2}]]}}"#;
    let Event::Book(book) = one(events(frame)) else {
        panic!("unexpected event")
    };
    assert!(book.is_snapshot);
    assert_eq!(book.market.as_str(), "BTC");
    assert_eq!(book.time_ms, 1_700_000_000_123);
    assert_eq!(book.bids.len(), 2);
    assert_eq!(book.bids[0].price, d("65000.5"));
    assert_eq!(book.bids[0].orders, 3);
    assert_eq!(book.asks[0].size, d("2"));
}

#[test]
fn trades_bbo_and_asset_context() {
    let trades = events(
        r#"{"channel":"trades","data":[{"coin":"ETH","side":"A","px":"3000.1","sz":"0.25","time":1,"hash":"0xab","tid":77,"users":["0x1","0x2"]}]}"#,
    );
    let Event::Trade(trade) = one(trades) else {
        panic!("unexpected event")
    };
    assert_eq!(trade.taker_side, Side::SELL);
    assert_eq!(trade.trade_id.as_str(), "77");

    let bbo = events(
        r#"{"channel":"bbo","data":{"coin":"ETH","time":5,"bbo":[null,{"px":"3001","sz":"4","n":1}]}}"#,
    );
    let Event::Bbo(bbo) = one(bbo) else {
        panic!("unexpected event")
    };
    assert!(bbo.bid.is_none());
    assert_eq!(bbo.ask.unwrap().price, d("3001"));

    let ctx = events(
        r#"{"channel":"activeAssetCtx","data":{"coin":"BTC","ctx":{"funding":"0.0000125","openInterest":"100.5","prevDayPx":"1","dayNtlVlm":"1","premium":"0","oraclePx":"65000","markPx":"65001","midPx":"65000.5","impactPxs":["1","2"],"dayBaseVlm":"1"}}}"#,
    );
    let Event::Funding(funding) = one(ctx) else {
        panic!("unexpected event")
    };
    assert_eq!(funding.rate, d("0.0000125"));
    assert_eq!(funding.next_funding_ms, 1_700_002_800_000);
}

#[test]
fn order_updates_with_trailing_zeros_and_growing_status_words() {
    let frame = r#"{"channel":"orderUpdates","data":[
        {"order":{"coin":"BTC","side":"B","limitPx":"1500.0","sz":"0.5","oid":9,"timestamp":10,"origSz":"1.0","cloid":"0x00000000000000000000000000000001"},"status":"open","statusTimestamp":11},
        {"order":{"coin":"BTC","side":"A","limitPx":"1600","sz":"1","oid":10,"timestamp":10,"origSz":"1"},"status":"minTradeNtlRejected","statusTimestamp":12},
        {"order":{"coin":"BTC","side":"A","limitPx":"1600","sz":"1","oid":11,"timestamp":10,"origSz":"1"},"status":"someFutureCanceled","statusTimestamp":12}
    ]}"#;
    let events = events(frame);
    let statuses: Vec<_> = events
        .iter()
        .map(|event| match event {
            Event::Order(order) => order.status,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        statuses,
        [
            VenueOrderStatus::PARTIALLY_FILLED,
            VenueOrderStatus::REJECTED,
            VenueOrderStatus::CANCELLED
        ]
    );
    let Event::Order(first) = &events[0] else {
        panic!()
    };
    assert_eq!(first.price, d("1500"));
    assert_eq!(
        first.client_id.as_ref().unwrap().as_str(),
        "0x00000000000000000000000000000001"
    );
    let Event::Order(rejected) = &events[1] else {
        panic!()
    };
    assert_eq!(
        rejected.reason.as_str(),
        "order value is below the exchange's minimum (minTradeNtlRejected)"
    );
}

#[test]
fn fills_from_user_fills_and_user_events() {
    let fill = r#"{"coin":"BTC","px":"65000","sz":"0.1","side":"B","time":20,"startPosition":"0","dir":"Open Long","closedPnl":"0","hash":"0x00","oid":9,"crossed":false,"fee":"-0.65","feeToken":"USDC","tid":555,"cloid":"0x00000000000000000000000000000001"}"#;
    let snapshot = events(&format!(
        r#"{{"channel":"userFills","data":{{"user":"0xabc","isSnapshot":true,"fills":[{fill}]}}}}"#
    ));
    let Event::Fill(first) = one(snapshot) else {
        panic!("unexpected event")
    };
    assert!(first.snapshot);
    assert!(first.is_maker);
    assert_eq!(first.fee, d("-0.65"));
    assert_eq!(first.trade_id.as_str(), "555");

    let live = events(&format!(
        r#"{{"channel":"user","data":{{"fills":[{fill}]}}}}"#
    ));
    let Event::Fill(second) = one(live) else {
        panic!("unexpected event")
    };
    assert!(!second.snapshot);

    let cancels = events(r#"{"channel":"user","data":{"nonUserCancel":[{"coin":"BTC","oid":9}]}}"#);
    let Event::Order(cancel) = one(cancels) else {
        panic!("unexpected event")
    };
    assert_eq!(cancel.status, VenueOrderStatus::CANCELLED);
    assert_eq!(cancel.exchange_order_id.as_str(), "9");
}

#[test]
fn control_frames() {
    assert!(events("Websocket connection established.").is_empty());
    assert!(matches!(events(r#"{"channel":"pong"}"#)[..], [Event::Pong]));
    assert!(matches!(
        &events(r#"{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"}}}"#)[..],
        [Event::Subscribed(text)] if text.contains("l2Book")
    ));
    assert!(matches!(
        &events(r#"{"channel":"error","data":"Already subscribed"}"#)[..],
        [Event::Notice { fatal: false, text }] if text.contains("Already subscribed")
    ));
    // An answer to a post that is not under way (given up on) is dropped.
    assert!(events(r#"{"channel":"post","data":{"id":42,"response":{"type":"action","payload":{"status":"ok","response":{"type":"default"}}}}}"#).is_empty());
    assert!(events(r#"{"channel":"allMids","data":{"mids":{}}}"#).is_empty());
}

#[test]
fn malformed_frames_are_errors_not_panics() {
    for frame in [
        "{",
        r#"{"data":1}"#,
        r#"{"channel":"l2Book"}"#,
        r#"{"channel":"l2Book","data":{"coin":"BTC","time":1,"levels":[[{"px":"1e5","sz":"1","n":1}],[]]}}"#,
        r#"{"channel":"l2Book","data":{"coin":"BTC","time":1,"levels":[[]]}}"#,
        r#"{"channel":"trades","data":[{"coin":"ETH","side":"X","px":"1","sz":"1","time":1,"tid":1}]}"#,
        r#"{"channel":"trades","data":{"not":"a list"}}"#,
        r#"{"channel":"orderUpdates","data":[{"order":{},"status":"open","statusTimestamp":1}]}"#,
        r#"{"channel":"userFills","data":{"fills":[{"coin":"BTC","px":"NaN"}]}}"#,
        r#"{"channel":"bbo","data":{"coin":"ETH","time":5,"bbo":[{"px":"99999999999999999999","sz":"1","n":1},null]}}"#,
    ] {
        let error = plugin().on_frame("market", frame, 0).unwrap_err();
        assert_eq!(
            error.kind,
            PluginErrorKind::MALFORMED_INPUT,
            "{frame}: {error}"
        );
    }
}
