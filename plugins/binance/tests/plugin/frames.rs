//! Stream frames in the shapes Binance documents, to events.

use plugin_api::{Event, Exchange, Side, StreamKind, VenueOrderStatus};

use super::support::{d, events, plain, session, stream};

/// A session with the account stream on `user-1`.
fn with_user_stream() -> binance_plugin::Binance {
    let mut session = session();
    let outputs = plain(
        session
            .subscribe(&[stream(StreamKind::ORDERS, "")], true, 0)
            .unwrap(),
    );
    let plugin_api::Output::Http { job, .. } = &outputs[0] else {
        panic!("{outputs:?}");
    };
    session
        .on_answer(
            *job,
            &super::support::answer(200, r#"{"listenKey":"k1"}"#, &[]),
            0,
        )
        .unwrap();
    session
}

/// `ORDER_TRADE_UPDATE` of a partial fill (Binance's documented fields).
const TRADE: &str = r#"{"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{
 "s":"BTCUSDT","c":"0123456789abcdef0123456789abcdef","S":"SELL","o":"LIMIT","f":"GTC",
 "q":"0.002","p":"7000.1","ap":"7000.1","sp":"0","x":"TRADE","X":"PARTIALLY_FILLED","i":8886774,
 "l":"0.001","z":"0.001","L":"7000.1","N":"USDT","n":"0.0028","T":1568879465650,"t":1245,
 "b":"0","a":"9.91","m":true,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH",
 "cp":false,"rp":"0","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0}}"#;

#[test]
fn a_trade_update_is_the_order_and_one_fill_with_a_trade_id_unique_across_symbols() {
    let mut session = with_user_stream();
    let events = events(&plain(session.on_frame("user-1", TRADE, 1).unwrap()));
    assert_eq!(events.len(), 2, "{events:?}");
    let Event::Order(order) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(
        order.client_id.as_ref().into_option().map(|id| id.as_str()),
        Some("0x0123456789abcdef0123456789abcdef")
    );
    assert_eq!(order.exchange_order_id, "8886774");
    assert_eq!(order.status, VenueOrderStatus::PARTIALLY_FILLED);
    assert_eq!((order.size, order.remaining), (d("0.002"), d("0.001")));
    assert_eq!(order.side, Side::SELL);
    let Event::Fill(fill) = &events[1] else {
        panic!("{events:?}")
    };
    assert_eq!(fill.trade_id, "BTCUSDT-1245");
    assert_eq!((fill.price, fill.size), (d("7000.1"), d("0.001")));
    assert_eq!((fill.fee, fill.fee_asset.as_str()), (d("0.0028"), "USDT"));
    assert!(fill.is_maker && !fill.snapshot);

    // The same trade number on another symbol is another fill.
    let eth = TRADE.replace("BTCUSDT", "ETHUSDT");
    let events = super::support::events(&plain(session.on_frame("user-1", &eth, 2).unwrap()));
    let Event::Fill(other) = &events[1] else {
        panic!("{events:?}")
    };
    assert_ne!(other.trade_id, fill.trade_id);
}

#[test]
fn venue_made_orders_carry_no_host_client_id_and_statuses_map() {
    let mut session = with_user_stream();
    let liquidation = TRADE
        .replace(
            "0123456789abcdef0123456789abcdef",
            "autoclose-1568879465650",
        )
        .replace(
            r#""x":"TRADE","X":"PARTIALLY_FILLED""#,
            r#""x":"NEW","X":"NEW""#,
        );
    let events = events(&plain(session.on_frame("user-1", &liquidation, 1).unwrap()));
    assert_eq!(events.len(), 1, "no fill without a trade");
    let Event::Order(order) = &events[0] else {
        panic!()
    };
    assert!(order.client_id.is_none());
    assert_eq!(order.status, VenueOrderStatus::OPEN);
    for (status, expected) in [
        ("CANCELED", VenueOrderStatus::CANCELLED),
        ("EXPIRED", VenueOrderStatus::EXPIRED),
        ("EXPIRED_IN_MATCH", VenueOrderStatus::CANCELLED),
        ("FILLED", VenueOrderStatus::FILLED),
    ] {
        let frame = TRADE.replace(
            r#""x":"TRADE","X":"PARTIALLY_FILLED""#,
            &format!(r#""x":"CANCELED","X":"{status}""#),
        );
        let events = super::support::events(&plain(session.on_frame("user-1", &frame, 1).unwrap()));
        assert!(
            matches!(&events[0], Event::Order(o) if o.status == expected),
            "{status}: {events:?}"
        );
    }
    let unknown = TRADE.replace("PARTIALLY_FILLED", "SOMETHING");
    assert!(session.on_frame("user-1", &unknown, 1).is_err());
}

/// `ALGO_UPDATE` of a stop waiting for its trigger (Binance's documented
/// fields).
const ALGO: &str = r#"{"e":"ALGO_UPDATE","T":1750515742297,"E":1750515742303,"o":{
 "caid":"0123456789abcdef0123456789abcdef","aid":2148719,"at":"CONDITIONAL","o":"STOP",
 "s":"BTCUSDT","S":"SELL","ps":"BOTH","f":"GTC","q":"0.01","X":"NEW","ai":"","ap":"0.00000",
 "aq":"0.00000","act":"0","tp":"750","p":"740","V":"EXPIRE_MAKER","wt":"MARK_PRICE",
 "pm":"NONE","cp":false,"pP":false,"R":true,"tt":0,"gtd":0,"rm":""}}"#;

#[test]
fn an_algo_update_is_the_conditional_order_by_its_algo_id_then_the_order_it_became() {
    let mut session = with_user_stream();
    let status = |frame: &str, session: &mut binance_plugin::Binance| {
        let events = events(&plain(session.on_frame("user-1", frame, 1).unwrap()));
        let Event::Order(order) = &events[0] else {
            panic!("{events:?}")
        };
        (
            order.status,
            order.exchange_order_id.to_string(),
            order.remaining,
        )
    };
    assert_eq!(
        status(ALGO, &mut session),
        (VenueOrderStatus::UNTRIGGERED, "2148719".into(), d("0.01"))
    );
    let triggered = ALGO.replace(r#""X":"NEW","ai":"""#, r#""X":"TRIGGERED","ai":"8886774""#);
    assert_eq!(
        status(&triggered, &mut session),
        (VenueOrderStatus::TRIGGERED, "8886774".into(), d("0.01"))
    );
    // Finished: filled when its order filled all of it, else cancelled.
    let finished = triggered.replace(r#""X":"TRIGGERED""#, r#""X":"FINISHED""#);
    assert_eq!(
        status(
            &finished.replace(r#""aq":"0.00000""#, r#""aq":"0.01""#),
            &mut session
        )
        .0,
        VenueOrderStatus::FILLED
    );
    assert_eq!(
        status(
            &finished.replace(r#""aq":"0.00000""#, r#""aq":"0.004""#),
            &mut session
        ),
        (VenueOrderStatus::CANCELLED, "8886774".into(), d("0.006"))
    );
    for (word, expected) in [
        ("CANCELED", VenueOrderStatus::CANCELLED),
        ("EXPIRED", VenueOrderStatus::EXPIRED),
        ("REJECTED", VenueOrderStatus::REJECTED),
        ("TRIGGERING", VenueOrderStatus::TRIGGERED),
    ] {
        let frame = ALGO.replace(r#""X":"NEW""#, &format!(r#""X":"{word}""#));
        assert_eq!(status(&frame, &mut session).0, expected, "{word}");
    }
    assert!(
        session
            .on_frame("user-1", &ALGO.replace(r#""X":"NEW""#, r#""X":"LOST""#), 1)
            .is_err()
    );
}

#[test]
fn an_account_update_is_balances_and_the_positions_that_changed() {
    let mut session = with_user_stream();
    let frame = r#"{"e":"ACCOUNT_UPDATE","E":1564745798939,"T":1564745798938,"a":{"m":"ORDER",
      "B":[{"a":"USDT","wb":"122624.12345678","cw":"100.12345678","bc":"50.12345678"},
           {"a":"BUSD","wb":"1.00000000","cw":"0.00000000","bc":"-49.12345678"}],
      "P":[{"s":"BTCUSDT","pa":"-0.001","ep":"7000.0","bep":"7000.1","cr":"200","up":"-0.1","mt":"crossed","iw":"0.00000000","ps":"BOTH"}]}}"#;
    let events = events(&plain(session.on_frame("user-1", frame, 1).unwrap()));
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(
        matches!(&events[0], Event::Balance(b) if b.asset == "USDT" && b.total == d("122624.12345678") && b.available == d("100.12345678"))
    );
    let Event::Positions(positions) = &events[2] else {
        panic!("{events:?}")
    };
    assert!(!positions.complete, "only what changed");
    assert_eq!(positions.positions[0].size, d("-0.001"));
    assert_eq!(positions.positions[0].entry_price, d("7000.0"));
    // An older key's connection is no longer listened to.
    assert!(session.on_frame("user-0", frame, 1).unwrap().is_empty());
}

#[test]
fn public_market_data_becomes_bbo_trades_and_funding() {
    let mut session = session();
    let outputs = plain(
        session
            .subscribe(
                &[
                    stream(StreamKind::BBO, "BTCUSDT"),
                    stream(StreamKind::TRADES, "BTCUSDT"),
                    stream(StreamKind::FUNDING, "BTCUSDT"),
                ],
                true,
                0,
            )
            .unwrap(),
    );
    let urls: Vec<String> = outputs
        .iter()
        .filter_map(|output| match output {
            plugin_api::Output::Open(spec) => Some(spec.url.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        urls,
        ["ws://127.0.0.1:9/market/ws", "ws://127.0.0.1:9/public/ws"],
        "book data on /public, the rest on /market"
    );
    let up = plain(session.on_connection("market", true, "", 1).unwrap());
    let plugin_api::Output::Send { text, .. } = &up[0] else {
        panic!("{up:?}")
    };
    let subscription: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(subscription["method"], "SUBSCRIBE");
    assert_eq!(
        subscription["params"],
        serde_json::json!(["btcusdt@aggTrade", "btcusdt@markPrice@1s"])
    );

    let ticker = r#"{"e":"bookTicker","u":400900217,"E":1568014460893,"T":1568014460891,"s":"BTCUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}"#;
    let trade = r#"{"e":"aggTrade","E":123456789,"s":"BTCUSDT","a":5933014,"p":"0.001","q":"100","f":100,"l":105,"T":123456785,"m":true}"#;
    let mark = r#"{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","i":"11784.62659091","P":"11784.25641265","r":"0.00038167","T":1562306400000}"#;
    let combined = format!(r#"{{"stream":"btcusdt@aggTrade","data":{trade}}}"#);
    let mut seen = Vec::new();
    for frame in [ticker, trade, mark, &combined] {
        seen.extend(events(&plain(
            session.on_frame("market", frame, 2).unwrap(),
        )));
    }
    assert!(
        matches!(&seen[0], Event::Bbo(b) if b.bid.as_ref().into_option().map(|l| l.price) == Some(d("25.3519")) && b.time_ms == 1568014460891)
    );
    assert!(
        matches!(&seen[1], Event::Trade(t) if t.taker_side == Side::SELL && t.trade_id == "5933014" && t.size == d("100"))
    );
    assert!(
        matches!(&seen[2], Event::Funding(f) if f.rate == d("0.00038167") && f.next_funding_ms == 1562306400000 && f.oracle_price == d("11784.62659091"))
    );
    assert!(
        matches!(&seen[3], Event::Trade(_)),
        "combined frames unwrap"
    );

    let pong = events(&plain(
        session
            .on_frame("market", r#"{"result":["btcusdt@aggTrade"],"id":0}"#, 3)
            .unwrap(),
    ));
    assert_eq!(pong, [Event::Pong]);
    let refused = events(&plain(
        session
            .on_frame(
                "market",
                r#"{"error":{"code":2,"msg":"Invalid request"},"id":4}"#,
                3,
            )
            .unwrap(),
    ));
    assert!(matches!(&refused[0], Event::Notice { fatal: false, .. }));
    assert!(session.on_frame("market", "not json", 3).is_err());
    assert!(session.on_frame("market", r#"{"e":"kline"}"#, 3).is_err());
}
