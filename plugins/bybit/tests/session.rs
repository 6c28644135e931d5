//! The Bybit session at its boundary, with no emulator and no runtime:
//! frames, signatures and answers in; what to open, send, sign and report
//! out.

use abi_stable::std_types::{ROption, RVec};
use bybit_plugin::Bybit;
use plugin_api::{
    Dec, Event, Exchange, Market, MarketKind, Operation, OrderKind, OrderRequest, Output,
    Output_NE, PriceRule, RequestContext, Side, Stream, StreamKind, TimeInForce, TradingRule,
};
use serde_json::{Value, json};

fn session() -> Bybit {
    Bybit::new(r#"{"api_url": "http://127.0.0.1:9", "api_key": "my-key"}"#).expect("settings")
}

fn stream(kind: StreamKind, market: &str) -> Stream {
    Stream {
        kind,
        market: market.into(),
    }
}

fn outputs(list: Vec<Output_NE>) -> Vec<Output> {
    list.into_iter()
        .map(|output| output.into_enum().expect("a known output"))
        .collect()
}

fn sent(outputs: &[Output]) -> Vec<Value> {
    outputs
        .iter()
        .filter_map(|output| match output {
            Output::Send { text, .. } => serde_json::from_str(text.as_str()).ok(),
            _ => None,
        })
        .collect()
}

fn events(outputs: &[Output]) -> Vec<Event> {
    outputs
        .iter()
        .filter_map(|output| match output {
            Output::Event(event) => event.as_enum().ok().cloned(),
            _ => None,
        })
        .collect()
}

fn book_frame(kind: &str, u: u64, bids: Value) -> String {
    json!({"topic": "orderbook.50.BTCUSDT", "type": kind, "ts": 1672304484978u64,
        "data": {"s": "BTCUSDT", "b": bids, "a": [["16611.00", "0.029"]], "u": u, "seq": 7961638724u64},
        "cts": 1672304484976u64})
    .to_string()
}

#[test]
fn a_book_is_reset_by_any_snapshot_and_resubscribed_once_per_gap() {
    let mut bybit = session();
    let opened = outputs(
        bybit
            .subscribe(&[stream(StreamKind::BOOK, "BTCUSDT")], true, 0)
            .unwrap(),
    );
    assert!(
        matches!(&opened[0], Output::Open(spec) if spec.url.as_str() == "ws://127.0.0.1:9/v5/public/linear")
    );
    let up = outputs(bybit.on_connection("public", true, "", 0).unwrap());
    assert_eq!(
        sent(&up),
        vec![json!({"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]})]
    );

    let snapshot = outputs(
        bybit
            .on_frame(
                "public",
                &book_frame("snapshot", 18521288, json!([["16493.50", "0.006"]])),
                0,
            )
            .unwrap(),
    );
    assert!(
        matches!(&events(&snapshot)[0], Event::Book(book) if book.is_snapshot && book.seq == 18521288)
    );
    let delta = outputs(
        bybit
            .on_frame(
                "public",
                &book_frame("delta", 18521289, json!([["16493.50", "0"]])),
                0,
            )
            .unwrap(),
    );
    assert!(
        matches!(&events(&delta)[0], Event::Book(book) if !book.is_snapshot && book.bids[0].size == Dec::ZERO)
    );

    // A skipped id: stale, and one resubscription.
    let gap = outputs(
        bybit
            .on_frame("public", &book_frame("delta", 18521291, json!([])), 0)
            .unwrap(),
    );
    assert!(matches!(&events(&gap)[0], Event::BookStale { .. }));
    assert_eq!(
        sent(&gap),
        vec![
            json!({"op": "unsubscribe", "args": ["orderbook.50.BTCUSDT"]}),
            json!({"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]}),
        ]
    );
    let later = outputs(
        bybit
            .on_frame("public", &book_frame("delta", 18521292, json!([])), 0)
            .unwrap(),
    );
    assert!(
        later.is_empty(),
        "nothing until the new snapshot: {later:?}"
    );

    // After a venue restart the snapshot says u=1: it replaces the book.
    let reset = outputs(
        bybit
            .on_frame(
                "public",
                &book_frame("snapshot", 1, json!([["16490", "1"]])),
                0,
            )
            .unwrap(),
    );
    assert!(matches!(&events(&reset)[0], Event::Book(book) if book.is_snapshot && book.seq == 1));
    let next = outputs(
        bybit
            .on_frame("public", &book_frame("delta", 2, json!([])), 0)
            .unwrap(),
    );
    assert!(matches!(&events(&next)[0], Event::Book(book) if book.seq == 2));

    assert!(bybit.on_frame("public", "{not json", 0).is_err());
}

#[test]
fn the_private_socket_subscribes_only_after_its_auth_succeeds() {
    let mut bybit = session();
    let opened = outputs(
        bybit
            .subscribe(&[stream(StreamKind::ORDERS, "")], true, 0)
            .unwrap(),
    );
    assert!(
        matches!(&opened[0], Output::Open(spec) if spec.url.as_str() == "ws://127.0.0.1:9/v5/private")
    );
    let up = outputs(bybit.on_connection("private", true, "", 1_000).unwrap());
    let Output::Sign { job, request, .. } = &up[0] else {
        panic!("{up:?}")
    };
    assert_eq!(request.scheme.as_str(), "bybit-ws-auth");
    let fields: Value = serde_json::from_str(request.payload.as_str()).unwrap();
    assert_eq!(fields, json!({"api_key": "my-key", "expires": 11_000}));

    let signed = outputs(bybit.on_signed(*job, &[0xab, 0x01], 1_001).unwrap());
    assert_eq!(
        sent(&signed),
        vec![json!({"op": "auth", "args": ["my-key", 11_000, "ab01"]})]
    );
    let refused = outputs(
        bybit
            .on_frame(
                "private",
                r#"{"success":false,"ret_msg":"Invalid sign","op":"auth"}"#,
                1_002,
            )
            .unwrap(),
    );
    assert!(matches!(
        &events(&refused)[0],
        Event::Notice { fatal: true, .. }
    ));

    let again = outputs(bybit.on_connection("private", true, "", 2_000).unwrap());
    let Output::Sign { job, .. } = &again[0] else {
        panic!()
    };
    bybit.on_signed(*job, &[1], 2_001).unwrap();
    let ok = outputs(
        bybit
            .on_frame(
                "private",
                r#"{"success":true,"ret_msg":"","op":"auth","conn_id":"c"}"#,
                2_002,
            )
            .unwrap(),
    );
    assert_eq!(
        sent(&ok),
        vec![json!({"op": "subscribe", "args": ["order", "execution", "position", "wallet"]})]
    );

    let order = json!({"topic": "order", "creationTime": 1, "data": [{"orderId": "1", "orderLinkId": "0x01",
        "symbol": "BTCUSDT", "side": "Buy", "price": "100", "qty": "1", "orderStatus": "New",
        "cumExecQty": "0", "leavesQty": "1", "rejectReason": "EC_NoError", "updatedTime": "5"}]});
    let update = outputs(
        bybit
            .on_frame("private", &order.to_string(), 2_003)
            .unwrap(),
    );
    assert!(
        matches!(&events(&update)[0], Event::Order(order) if order.exchange_order_id.as_str() == "1")
    );
}

fn btc() -> Market {
    Market {
        symbol: "BTC-USDT".into(),
        venue_symbol: "BTCUSDT".into(),
        venue_id: 0,
        kind: MarketKind::PERPETUAL,
        base: "BTC".into(),
        quote: "USDT".into(),
        rule: TradingRule {
            price: PriceRule {
                tick: Dec::new(1, 1),
                max_significant_figures: 0,
                max_decimals: ROption::RNone,
                integers_always_valid: false,
                min_price: Dec::ZERO,
                max_price: Dec::ZERO,
            },
            size_step: Dec::new(1, 3),
            min_size: Dec::new(1, 3),
            max_size: Dec::ZERO,
            min_notional: Dec::new(5, 0),
            reduce_only_exempt_from_min_notional: false,
        },
        max_leverage: 100,
    }
}

fn place(kind: OrderKind) -> Operation {
    Operation::PlaceOrders(RVec::from(vec![OrderRequest {
        trigger_reference: plugin_api::TriggerReference::MARK,
        client_id: "0x0000000100000000000000000000002a".into(),
        market: btc(),
        side: Side::BUY,
        kind,
        time_in_force: TimeInForce::GTC,
        price: Dec::new(600_000, 1),
        size: Dec::new(10, 3),
        reduce_only: false,
        trigger_price: ROption::RNone,
        max_slippage: ROption::RSome(Dec::new(1, 2)),
    }]))
}

fn context(now_ms: u64) -> RequestContext {
    RequestContext {
        now_ms,
        nonce: now_ms,
        valid_until_ms: ROption::RSome(now_ms + 3_000),
        prefer_socket: false,
    }
}

#[test]
fn every_attempt_is_stamped_and_signed_anew() {
    let mut bybit = session();
    let first = outputs(
        bybit
            .begin(1, &place(OrderKind::LIMIT), &context(1_000))
            .unwrap(),
    );
    let retry = outputs(
        bybit
            .begin(2, &place(OrderKind::LIMIT), &context(5_000))
            .unwrap(),
    );
    let fields = |outputs: &[Output]| -> Value {
        let Output::Sign { request, .. } = &outputs[0] else {
            panic!("{outputs:?}")
        };
        serde_json::from_str(request.payload.as_str()).unwrap()
    };
    assert_eq!(
        (
            fields(&first)["timestamp"].clone(),
            fields(&first)["recv_window"].clone()
        ),
        (json!(1_000), json!(3_000))
    );
    assert_eq!(fields(&retry)["timestamp"], json!(5_000));
    let body: Value = serde_json::from_str(fields(&first)["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
        "qty": "0.010", "price": "60000.0", "timeInForce": "GTC", "orderLinkId": "0x0000000100000000000000000000002a"})
    );

    let signed = outputs(bybit.on_signed(2, &[0xff], 5_001).unwrap());
    let Output::Http { request, .. } = &signed[0] else {
        panic!()
    };
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|h| h.0.as_str() == name)
            .map(|h| h.1.to_string())
    };
    assert_eq!(header("X-BAPI-TIMESTAMP").as_deref(), Some("5000"));
    assert_eq!(header("X-BAPI-SIGN").as_deref(), Some("ff"));
    assert_eq!(request.url.as_str(), "http://127.0.0.1:9/v5/order/create");

    // A market order is an IOC limit at the protective price, on the tick.
    let market = outputs(
        bybit
            .begin(3, &place(OrderKind::MARKET), &context(6_000))
            .unwrap(),
    );
    let body: Value = serde_json::from_str(fields(&market)["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        (body["price"].clone(), body["timeInForce"].clone()),
        (json!("60600"), json!("IOC"))
    );
}

#[test]
fn leverage_sets_the_accounts_margin_mode_then_the_markets_leverage() {
    use plugin_api::{Answer, OutcomeKind, Response};
    let mut bybit = session();
    let set = Operation::SetLeverage {
        market: btc(),
        leverage: 4,
        cross: false,
    };
    let answer = |body: Value| {
        Answer::answered(Response {
            status: 200,
            body: body.to_string().into(),
            headers: RVec::new(),
        })
    };
    let sign_body = |outputs: &[Output]| -> (String, Value) {
        let Output::Sign { request, .. } = &outputs[0] else {
            panic!("{outputs:?}")
        };
        let fields: Value = serde_json::from_str(request.payload.as_str()).unwrap();
        let body = serde_json::from_str(fields["body"].as_str().unwrap()).unwrap();
        (fields["path"].as_str().unwrap_or_default().to_owned(), body)
    };
    let first = outputs(bybit.begin(9, &set, &context(1_000)).unwrap());
    let (_, body) = sign_body(&first);
    assert_eq!(body, json!({"setMarginMode": "ISOLATED_MARGIN"}));
    let sent = outputs(bybit.on_signed(9, &[0xff], 1_001).unwrap());
    let Output::Http { request, .. } = &sent[0] else {
        panic!("{sent:?}")
    };
    assert!(
        request
            .url
            .as_str()
            .ends_with("/v5/account/set-margin-mode")
    );
    let ok = json!({"retCode": 0, "retMsg": "OK", "result": {"reasons": []}, "time": 1});
    let second = outputs(bybit.on_answer(9, &answer(ok), 1_002).unwrap());
    let (_, body) = sign_body(&second);
    assert_eq!(
        body,
        json!({"category": "linear", "symbol": "BTCUSDT", "buyLeverage": "4", "sellLeverage": "4"})
    );
    outputs(bybit.on_signed(9, &[0xff], 1_003).unwrap());
    // Unchanged leverage is no failure.
    let unchanged =
        json!({"retCode": 110043, "retMsg": "leverage not modified", "result": {}, "time": 2});
    let done = outputs(bybit.on_answer(9, &answer(unchanged), 1_004).unwrap());
    let Some(Output::Done { reply, .. }) = done.iter().find(|o| matches!(o, Output::Done { .. }))
    else {
        panic!("{done:?}")
    };
    assert_eq!(reply.outcome.kind, OutcomeKind::ACCEPTED);
}
