//! Jobs from `begin` to `Done`: what is signed is what is sent, the
//! receive window ends at the host's deadline, and every kind of answer is
//! classified — never a rejection without Binance's word for it.

use abi_stable::std_types::{ROption, RVec};
use binance_core::{Lookup, Params};
use plugin_api::{
    Event, Exchange, ModifyRequest, Operation, OrderKind, OrderRef, OrderRequest, OutcomeKind,
    Output, RejectReason, Reply, RequestContext, Side, StreamKind, TimeInForce, TriggerReference,
    VenueOrderStatus,
};
use serde_json::{Value, json};

use super::support::{
    API_KEY, answer, btc, d, done, not_sent, plain, reply_events, session, stream,
};

const CLIENT_ID: &str = "0x0123456789abcdef0123456789abcdef";
/// What an HMAC-SHA256 key's signature looks like to the plugin: 32 bytes.
const HMAC: [u8; 32] = [0xab; 32];

fn context(now_ms: u64, valid_until_ms: Option<u64>) -> RequestContext {
    RequestContext {
        now_ms,
        nonce: 1,
        valid_until_ms: valid_until_ms.into(),
        prefer_socket: false,
    }
}

fn order(kind: OrderKind, tif: TimeInForce) -> OrderRequest {
    OrderRequest {
        client_id: CLIENT_ID.into(),
        market: btc(),
        side: Side::BUY,
        kind,
        time_in_force: tif,
        price: d("65000.10"),
        size: d("0.010"),
        reduce_only: false,
        trigger_price: ROption::RNone,
        trigger_reference: TriggerReference::MARK,
        max_slippage: ROption::RNone,
    }
}

fn place(kind: OrderKind, tif: TimeInForce) -> Operation {
    Operation::PlaceOrders(RVec::from(vec![order(kind, tif)]))
}

/// The signer's fields of the one `Sign` among outputs.
fn sign_payload(outputs: &[Output]) -> Value {
    let Some(Output::Sign { request, .. }) = outputs.first() else {
        panic!("{outputs:?}")
    };
    assert_eq!(request.scheme, "binance-rest");
    serde_json::from_str(&request.payload).unwrap()
}

fn query(payload: &Value) -> Params {
    Params::from_pairs(
        payload["query"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| (pair[0].as_str().unwrap(), pair[1].as_str().unwrap())),
    )
}

/// Begins `operation` at 1000 with a deadline at 4000, signs it with
/// `ab cd`, and returns the signer's fields and the request's URL.
fn begin_and_sign(
    session: &mut binance_plugin::Binance,
    job: u64,
    operation: &Operation,
) -> (Value, String) {
    let signing = plain(
        session
            .begin(job, operation, &context(1_000, Some(4_000)))
            .unwrap(),
    );
    let payload = sign_payload(&signing);
    let sent = plain(session.on_signed(job, &HMAC, 1_001).unwrap());
    let Some(Output::Http { request, .. }) = sent.first() else {
        panic!("{sent:?}")
    };
    assert!(
        request
            .headers
            .iter()
            .any(|h| h.0 == "X-MBX-APIKEY" && h.1 == API_KEY)
    );
    assert!(request.costs.is_empty(), "paid with the signature");
    (payload, request.url.to_string())
}

/// The reply to the job's one call answered with `status` and `body`.
fn reply_to(operation: &Operation, status: u16, body: &str, headers: &[(&str, &str)]) -> Reply {
    let mut session = session();
    begin_and_sign(&mut session, 7, operation);
    done(&plain(
        session
            .on_answer(7, &answer(status, body, headers), 1_100)
            .unwrap(),
    ))
}

const NEW: &str = r#"{"orderId":22542179,"symbol":"BTCUSDT","status":"NEW","clientOrderId":"0123456789abcdef0123456789abcdef","price":"65000.1","avgPrice":"0.00","origQty":"0.010","executedQty":"0","cumQuote":"0","timeInForce":"GTX","type":"LIMIT","reduceOnly":false,"closePosition":false,"side":"BUY","positionSide":"BOTH","stopPrice":"0","workingType":"CONTRACT_PRICE","priceProtect":false,"origType":"LIMIT","priceMatch":"NONE","selfTradePreventionMode":"NONE","goodTillDate":0,"updateTime":1566818724722}"#;

#[test]
fn what_is_signed_is_what_is_sent_and_the_window_ends_at_the_deadline() {
    let mut session = session();
    let (payload, url) = begin_and_sign(
        &mut session,
        7,
        &place(OrderKind::LIMIT, TimeInForce::POST_ONLY),
    );
    assert_eq!(payload["api_key"], API_KEY);
    assert_eq!(payload["method"], "POST");
    assert_eq!(payload["path"], "/fapi/v1/order");
    let params = query(&payload);
    let text = binance_core::signing::rest_payload(&params, &Params::new());
    assert_eq!(
        text,
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.01&price=65000.1&newClientOrderId=0123456789abcdef0123456789abcdef&newOrderRespType=RESULT&recvWindow=3000&timestamp=1000"
    );
    assert_eq!(
        url,
        format!(
            "http://127.0.0.1:9/fapi/v1/order?{text}&signature={}",
            "ab".repeat(32)
        )
    );
    // A signature for a job not waiting for one is refused.
    assert!(session.on_signed(99, &HMAC, 1).is_err());
}

#[test]
fn a_refused_timestamp_has_the_clock_measured_again_and_later_stamps_follow_it() {
    let mut session = session();
    begin_and_sign(&mut session, 7, &place(OrderKind::LIMIT, TimeInForce::GTC));
    let refused = r#"{"code":-1021,"msg":"Timestamp for this request was 1000ms ahead of the server's time."}"#;
    session
        .on_answer(7, &answer(400, refused, &[]), 1_100)
        .unwrap();
    assert_eq!(session.next_wakeup(), Some(1_100), "measured at once");
    let job = match &plain(session.on_timer(1_100).unwrap())[..] {
        [Output::Http { job, request }] if request.url.ends_with("/fapi/v1/time") => *job,
        other => panic!("{other:?}"),
    };
    // Binance is 2 s behind: sent at 1 100, answered at 1 120.
    let time = answer(200, r#"{"serverTime":0}"#, &[]);
    let late = session.on_answer(job, &time, 1_120).unwrap();
    assert!(late.is_empty());
    let signing = plain(
        session
            .begin(
                8,
                &place(OrderKind::LIMIT, TimeInForce::GTC),
                &context(5_000, None),
            )
            .unwrap(),
    );
    let params = query(&sign_payload(&signing));
    assert_eq!(params.param("timestamp"), Some("3890"), "5 000 − 1 110");
}

#[test]
fn order_kinds_become_binance_types() {
    for (operation, expected) in [
        (
            place(OrderKind::MARKET, TimeInForce::IOC),
            "type=MARKET&quantity=0.01&newClientOrderId",
        ),
        (
            place(OrderKind::LIMIT_MAKER, TimeInForce::GTC),
            "type=LIMIT&timeInForce=GTX&",
        ),
        (
            place(OrderKind::LIMIT, TimeInForce::IOC),
            "type=LIMIT&timeInForce=IOC&",
        ),
        (
            place(OrderKind::LIMIT, TimeInForce::FOK),
            "type=LIMIT&timeInForce=FOK&",
        ),
    ] {
        let mut session = session();
        let (payload, _) = begin_and_sign(&mut session, 1, &operation);
        let text = query(&payload).encode();
        assert!(text.contains(expected), "{text}");
    }
    let mut reduce = order(OrderKind::LIMIT, TimeInForce::GTC);
    reduce.reduce_only = true;
    let mut session = session();
    let (payload, _) = begin_and_sign(
        &mut session,
        1,
        &Operation::PlaceOrders(RVec::from(vec![reduce])),
    );
    assert!(query(&payload).encode().contains("&reduceOnly=true&"));
}

/// A conditional order with its trigger, as the Algo service takes it.
fn conditional(kind: OrderKind, reference: TriggerReference) -> OrderRequest {
    OrderRequest {
        trigger_price: ROption::RSome(d("64000")),
        trigger_reference: reference,
        ..order(kind, TimeInForce::GTC)
    }
}

/// The algo service's answer to a placement.
const ALGO_NEW: &str = r#"{"algoId":77,"clientAlgoId":"0123456789abcdef0123456789abcdef","algoType":"CONDITIONAL","orderType":"STOP","symbol":"BTCUSDT","side":"BUY","quantity":"0.01","algoStatus":"NEW","triggerPrice":"64000","price":"65000.1","workingType":"CONTRACT_PRICE","updateTime":5,"actualOrderId":""}"#;

#[test]
fn conditional_orders_live_in_the_algo_service_until_triggered() {
    let mut session = session();
    // A stop-limit on the last price, with a limit order beside it: the
    // algo order alone, the limit order alone, in the operation's order.
    let place = Operation::PlaceOrders(RVec::from(vec![
        conditional(OrderKind::STOP_LIMIT, TriggerReference::LAST),
        order(OrderKind::LIMIT, TimeInForce::GTC),
    ]));
    let (payloads, reply) = run(&mut session, &place, &[(200, ALGO_NEW), (200, NEW)]);
    assert_eq!(
        (payloads[0]["method"].clone(), payloads[0]["path"].clone()),
        (json!("POST"), json!("/fapi/v1/algoOrder"))
    );
    assert!(
        query(&payloads[0]).encode().starts_with(
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=BUY&type=STOP&quantity=0.01&timeInForce=GTC&price=65000.1&triggerPrice=64000&workingType=CONTRACT_PRICE&clientAlgoId=0123456789abcdef0123456789abcdef&"
        ),
        "{}",
        query(&payloads[0]).encode()
    );
    assert_eq!(payloads[1]["path"], "/fapi/v1/order");
    let ids: Vec<_> = reply
        .items
        .iter()
        .map(|item| (item.kind, item.exchange_order_id.clone().into_option()))
        .collect();
    assert_eq!(ids[0], (OutcomeKind::ACCEPTED, Some("77".into())));
    // A market type on the mark takes no price.
    let (payload, _) = begin_and_sign(
        &mut session,
        2,
        &Operation::PlaceOrders(RVec::from(vec![conditional(
            OrderKind::TAKE_PROFIT_MARKET,
            TriggerReference::MARK,
        )])),
    );
    let text = query(&payload).encode();
    assert!(
        text.contains(
            "type=TAKE_PROFIT_MARKET&quantity=0.01&triggerPrice=64000&workingType=MARK_PRICE&"
        ),
        "{text}"
    );

    // Untriggered, it is cancelled and asked for in the algo service;
    // triggered, cancelled as the order it became.
    let untriggered = OrderRef {
        kind: OrderKind::STOP_LIMIT,
        ..target(Some("77"))
    };
    let (payload, _) = begin_and_sign(
        &mut session,
        3,
        &Operation::CancelOrders(RVec::from(vec![untriggered.clone()])),
    );
    assert_eq!(
        (payload["method"].clone(), payload["path"].clone()),
        (json!("DELETE"), json!("/fapi/v1/algoOrder"))
    );
    assert!(query(&payload).encode().starts_with("algoId=77&"));
    let (_, cancelled) = run(
        &mut session,
        &Operation::CancelOrders(RVec::from(vec![untriggered.clone()])),
        &[(
            200,
            r#"{"algoId":77,"clientAlgoId":"x","code":"200","msg":"success"}"#,
        )],
    );
    assert_eq!(cancelled.items[0].kind, OutcomeKind::ACCEPTED);
    let triggered = OrderRef {
        triggered: true,
        ..untriggered.clone()
    };
    let (payload, _) = begin_and_sign(
        &mut session,
        4,
        &Operation::CancelOrders(RVec::from(vec![triggered])),
    );
    assert_eq!(payload["path"], "/fapi/v1/order");
    let (payloads, status) = run(
        &mut session,
        &Operation::FetchOrder(untriggered.clone()),
        &[(
            200,
            &ALGO_NEW
                .replace(r#""algoStatus":"NEW""#, r#""algoStatus":"TRIGGERED""#)
                .replace(r#""actualOrderId":"""#, r#""actualOrderId":"901""#),
        )],
    );
    assert_eq!(payloads[0]["path"], "/fapi/v1/algoOrder");
    let Event::Order(update) = &reply_events(&status)[0] else {
        panic!("{status:?}")
    };
    assert_eq!(
        (
            update.status,
            update.exchange_order_id.as_str(),
            update.client_id.clone().into_option()
        ),
        (VenueOrderStatus::TRIGGERED, "901", Some(CLIENT_ID.into()))
    );
    let modify = Operation::ModifyOrders(RVec::from(vec![ModifyRequest {
        target: untriggered,
        order: conditional(OrderKind::STOP_LIMIT, TriggerReference::MARK),
    }]));
    let error = session.begin(9, &modify, &context(1, None)).unwrap_err();
    assert_eq!(error.kind, plugin_api::PluginErrorKind::UNSUPPORTED);
}

#[test]
fn placements_are_classified_by_binances_answer() {
    let operation = place(OrderKind::LIMIT, TimeInForce::GTC);
    let accepted = reply_to(
        &operation,
        200,
        NEW,
        &[
            ("x-mbx-used-weight-1m", "3"),
            ("X-MBX-ORDER-COUNT-10S", "1"),
            ("X-MBX-ORDER-COUNT-1M", "4"),
        ],
    );
    assert_eq!(accepted.outcome.kind, OutcomeKind::ACCEPTED);
    assert_eq!(accepted.items.len(), 1);
    assert_eq!(
        accepted.items[0]
            .exchange_order_id
            .as_ref()
            .into_option()
            .map(|s| s.as_str()),
        Some("22542179")
    );
    let limits: Vec<(String, u64)> = reply_events(&accepted)
        .iter()
        .filter_map(|event| match event {
            Event::RateLimit(state) => Some((state.bucket.to_string(), state.remaining)),
            _ => None,
        })
        .collect();
    assert_eq!(
        limits,
        [
            ("request_weight".into(), 2_397),
            ("orders_10s".into(), 299),
            ("orders_1m".into(), 1_196)
        ]
    );

    let filled = NEW
        .replace(r#""status":"NEW""#, r#""status":"FILLED""#)
        .replace(r#""executedQty":"0""#, r#""executedQty":"0.010""#)
        .replace(r#""avgPrice":"0.00""#, r#""avgPrice":"64999.9""#);
    let reply = reply_to(&operation, 200, &filled, &[]);
    assert_eq!(
        reply.items[0].filled_size.as_ref().into_option(),
        Some(&d("0.01"))
    );
    assert_eq!(
        reply.items[0].average_price.as_ref().into_option(),
        Some(&d("64999.9"))
    );

    let expired = NEW.replace(r#""status":"NEW""#, r#""status":"EXPIRED""#);
    let reply = reply_to(
        &place(OrderKind::LIMIT, TimeInForce::IOC),
        200,
        &expired,
        &[],
    );
    assert_eq!(
        (reply.outcome.kind, reply.outcome.reason),
        (OutcomeKind::REJECTED, RejectReason::NO_LIQUIDITY)
    );
    let reply = reply_to(
        &place(OrderKind::LIMIT, TimeInForce::POST_ONLY),
        200,
        &expired,
        &[],
    );
    assert_eq!(reply.outcome.reason, RejectReason::POST_ONLY_WOULD_CROSS);

    for (status, body, kind, reason) in [
        (
            400,
            r#"{"code":-5022,"msg":"Due to the order could not be executed as maker, the Post Only order will be rejected."}"#,
            OutcomeKind::REJECTED,
            RejectReason::POST_ONLY_WOULD_CROSS,
        ),
        (
            400,
            r#"{"code":-2019,"msg":"Margin is insufficient."}"#,
            OutcomeKind::REJECTED,
            RejectReason::INSUFFICIENT_MARGIN,
        ),
        (
            400,
            r#"{"code":-4164,"msg":"Order's notional must be no smaller than 100 (unless you choose reduce only)."}"#,
            OutcomeKind::REJECTED,
            RejectReason::MIN_NOTIONAL,
        ),
        (
            400,
            r#"{"code":-4116,"msg":"ClientOrderId is duplicated."}"#,
            OutcomeKind::REJECTED,
            RejectReason::DUPLICATE_CLIENT_ID,
        ),
        (
            400,
            r#"{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}"#,
            OutcomeKind::NOT_PROCESSED,
            RejectReason::OTHER,
        ),
        (
            408,
            r#"{"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}"#,
            OutcomeKind::UNKNOWN,
            RejectReason::OTHER,
        ),
        (
            503,
            r#"{"timestamp":1,"path":"/fapi/v1/order","msg":"Unknown error, please check your request or try again later."}"#,
            OutcomeKind::UNKNOWN,
            RejectReason::OTHER,
        ),
        (
            502,
            "Bad Gateway",
            OutcomeKind::UNKNOWN,
            RejectReason::OTHER,
        ),
    ] {
        let reply = reply_to(&operation, status, body, &[]);
        assert_eq!(
            (reply.outcome.kind, reply.outcome.reason),
            (kind, reason),
            "{status} {body}"
        );
        assert_eq!(reply.items[0].kind, kind);
    }
    let limited = reply_to(
        &operation,
        429,
        r#"{"code":-1003,"msg":"Too many requests."}"#,
        &[("Retry-After", "7")],
    );
    assert_eq!(limited.outcome.kind, OutcomeKind::NOT_PROCESSED);
    assert_eq!(limited.outcome.retry_after_ms.into_option(), Some(7_000));
}

fn target(exchange_order_id: Option<&str>) -> OrderRef {
    OrderRef {
        client_id: CLIENT_ID.into(),
        exchange_order_id: exchange_order_id.map(Into::into).into(),
        market: btc(),
        kind: OrderKind::LIMIT,
        triggered: false,
    }
}

#[test]
fn cancels_and_modifies_name_the_order_and_report_it() {
    let cancel = Operation::CancelOrders(RVec::from(vec![target(None)]));
    let mut session = session();
    let (payload, _) = begin_and_sign(&mut session, 1, &cancel);
    assert_eq!(payload["method"], "DELETE");
    assert!(
        query(&payload)
            .encode()
            .starts_with("symbol=BTCUSDT&origClientOrderId=0123456789abcdef0123456789abcdef&")
    );
    let gone = reply_to(
        &cancel,
        400,
        r#"{"code":-2011,"msg":"Unknown order sent."}"#,
        &[],
    );
    assert_eq!(gone.outcome.kind, OutcomeKind::NOT_FOUND);

    let modify = Operation::ModifyOrders(RVec::from(vec![ModifyRequest {
        target: target(Some("22542179")),
        order: OrderRequest {
            price: d("64000"),
            size: d("0.02"),
            ..order(OrderKind::LIMIT, TimeInForce::GTC)
        },
    }]));
    let mut session = super::support::session();
    let (payload, _) = begin_and_sign(&mut session, 1, &modify);
    assert_eq!(payload["method"], "PUT");
    assert!(
        query(&payload)
            .encode()
            .starts_with("symbol=BTCUSDT&orderId=22542179&side=BUY&quantity=0.02&price=64000&")
    );
    let amended = NEW
        .replace(r#""price":"65000.1""#, r#""price":"64000""#)
        .replace(r#""origQty":"0.010""#, r#""origQty":"0.020""#);
    let reply = reply_to(&modify, 200, &amended, &[]);
    assert_eq!(reply.outcome.kind, OutcomeKind::ACCEPTED);
    let events = reply_events(&reply);
    assert!(
        matches!(&events[0], Event::Order(o) if o.price == d("64000") && o.size == d("0.02") && o.exchange_order_id == "22542179")
    );
}

/// Runs a job through every call, answering each with the next answer.
fn run(
    session: &mut binance_plugin::Binance,
    operation: &Operation,
    answers: &[(u16, &str)],
) -> (Vec<Value>, Reply) {
    let mut payloads = Vec::new();
    let mut outputs = plain(session.begin(3, operation, &context(1_000, None)).unwrap());
    for (status, body) in answers {
        match outputs.first() {
            Some(Output::Sign { .. }) => {
                payloads.push(sign_payload(&outputs));
                session.on_signed(3, &HMAC, 1_000).unwrap();
            }
            Some(Output::Http { request, .. }) => {
                payloads.push(Value::String(request.url.to_string()))
            }
            other => panic!("{other:?}"),
        }
        outputs = plain(
            session
                .on_answer(3, &answer(*status, body, &[]), 1_000)
                .unwrap(),
        );
    }
    (payloads, done(&outputs))
}

#[test]
fn the_account_is_two_reads_and_one_reply() {
    let mut session = session();
    let balance = r#"[{"accountAlias":"SgsR","asset":"USDT","balance":"122607.35137903","crossWalletBalance":"23.72469206","crossUnPnl":"0.00000000","availableBalance":"23.72469206","maxWithdrawAmount":"23.72469206","marginAvailable":true,"updateTime":1617939110373}]"#;
    let positions = r#"[{"entryPrice":"0.00000","marginType":"isolated","isAutoAddMargin":"false","isolatedMargin":"0.00000000","leverage":"10","liquidationPrice":"0","markPrice":"6679.50671178","maxNotionalValue":"20000000","positionAmt":"0.000","symbol":"BTCUSDT","unRealizedProfit":"0.00000000","positionSide":"BOTH","updateTime":0},
      {"entryPrice":"3000.5","marginType":"cross","leverage":"20","liquidationPrice":"1500.1","markPrice":"3010","positionAmt":"-1.500","symbol":"ETHUSDT","unRealizedProfit":"-14.25","positionSide":"BOTH","updateTime":0}]"#;
    let (payloads, reply) = run(
        &mut session,
        &Operation::FetchAccount,
        &[(200, balance), (200, positions)],
    );
    assert_eq!(payloads[0]["path"], "/fapi/v2/balance");
    assert_eq!(payloads[1]["path"], "/fapi/v2/positionRisk");
    assert!(
        query(&payloads[0])
            .encode()
            .contains("recvWindow=5000&timestamp=1000"),
        "reads use the configured window"
    );
    let events = reply_events(&reply);
    assert!(
        matches!(&events[0], Event::Balance(b) if b.total == d("122607.35137903") && b.available == d("23.72469206"))
    );
    let Event::Positions(positions) = &events[1] else {
        panic!("{events:?}")
    };
    assert!(positions.complete);
    assert_eq!(positions.positions.len(), 1, "flat positions are left out");
    assert_eq!(
        (positions.positions[0].size, positions.positions[0].leverage),
        (d("-1.5"), 20)
    );

    // A read that fails ends the job with its outcome.
    let (_, failed) = run(
        &mut session,
        &Operation::FetchAccount,
        &[(503, "Service Unavailable.")],
    );
    assert_eq!(failed.outcome.kind, OutcomeKind::NOT_PROCESSED);
}

#[test]
fn the_dead_mans_switch_and_fills_go_per_traded_market() {
    let mut session = session();
    session
        .subscribe(
            &[
                stream(StreamKind::BOOK, "BTCUSDT"),
                stream(StreamKind::TRADES, "ETHUSDT"),
            ],
            true,
            0,
        )
        .unwrap();
    let arm = Operation::ArmDeadManSwitch(ROption::RSome(61_000));
    let (payloads, reply) = run(
        &mut session,
        &arm,
        &[
            (200, r#"{"symbol":"BTCUSDT","countdownTime":"60000"}"#),
            (200, r#"{"symbol":"ETHUSDT","countdownTime":"60000"}"#),
        ],
    );
    assert_eq!(reply.outcome.kind, OutcomeKind::ACCEPTED);
    let texts: Vec<String> = payloads.iter().map(|p| query(p).encode()).collect();
    assert!(
        texts[0].starts_with("symbol=BTCUSDT&countdownTime=60000&"),
        "{texts:?}"
    );
    assert!(
        texts[1].starts_with("symbol=ETHUSDT&countdownTime=60000&"),
        "{texts:?}"
    );
    let (payloads, _) = run(
        &mut session,
        &Operation::ArmDeadManSwitch(ROption::RNone),
        &[(200, "{}"), (200, "{}")],
    );
    assert!(
        query(&payloads[0]).encode().contains("countdownTime=0&"),
        "disarmed"
    );

    let trades = r#"[{"buyer":false,"commission":"-0.07819010","commissionAsset":"USDT","id":698759,"maker":false,"orderId":25851813,"price":"7819.01","qty":"0.002","quoteQty":"15.63802","realizedPnl":"-0.91539999","side":"SELL","positionSide":"SHORT","symbol":"BTCUSDT","time":1569514978020}]"#;
    let fills = Operation::FetchFills { since_ms: 500 };
    let (payloads, reply) = run(&mut session, &fills, &[(200, trades), (200, "[]")]);
    assert!(
        query(&payloads[0])
            .encode()
            .starts_with("symbol=BTCUSDT&startTime=500&limit=1000&")
    );
    let events = reply_events(&reply);
    assert_eq!(events.len(), 1);
    assert!(
        matches!(&events[0], Event::Fill(f) if f.trade_id == "BTCUSDT-698759" && f.snapshot && f.exchange_order_id == "25851813" && f.side == Side::SELL)
    );
}

#[test]
fn markets_come_from_exchange_info() {
    let info = r#"{"timezone":"UTC","serverTime":1565246363776,"rateLimits":[],"exchangeFilters":[],"symbols":[
      {"symbol":"BTCUSDT","pair":"BTCUSDT","contractType":"PERPETUAL","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","marginAsset":"USDT","pricePrecision":2,"quantityPrecision":3,
       "filters":[{"filterType":"PRICE_FILTER","maxPrice":"4529764","minPrice":"556.80","tickSize":"0.10"},{"filterType":"LOT_SIZE","maxQty":"1000","minQty":"0.001","stepSize":"0.001"},{"filterType":"MARKET_LOT_SIZE","maxQty":"120","minQty":"0.001","stepSize":"0.001"},{"filterType":"MAX_NUM_ORDERS","limit":200},{"filterType":"MIN_NOTIONAL","notional":"100"},{"filterType":"PERCENT_PRICE","multiplierUp":"1.0500","multiplierDown":"0.9500","multiplierDecimal":"4"}]},
      {"symbol":"BTCUSDT_260327","pair":"BTCUSDT","contractType":"CURRENT_QUARTER","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","filters":[]},
      {"symbol":"OLDUSDT","pair":"OLDUSDT","contractType":"PERPETUAL","status":"SETTLING","baseAsset":"OLD","quoteAsset":"USDT","filters":[]}]}"#;
    let mut session = session();
    let (payloads, reply) = run(
        &mut session,
        &Operation::FetchMarkets { cursor: "".into() },
        &[(200, info)],
    );
    assert_eq!(
        payloads[0], "http://127.0.0.1:9/fapi/v1/exchangeInfo",
        "public: not signed"
    );
    let events = reply_events(&reply);
    let Event::Markets(markets) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(markets.len(), 1, "trading perpetuals only");
    let market = &markets[0];
    assert_eq!(
        (market.symbol.as_str(), market.venue_symbol.as_str()),
        ("BTC-USDT", "BTCUSDT")
    );
    assert_eq!(market.rule.price.tick, d("0.1"));
    assert_eq!(market.rule.size_step, d("0.001"));
    assert_eq!(market.rule.min_notional, d("100"));
    assert!(market.rule.reduce_only_exempt_from_min_notional);
}

#[test]
fn a_request_that_never_left_ends_its_job() {
    let mut session = session();
    session
        .begin(5, &Operation::FetchOpenOrders, &context(1, None))
        .unwrap();
    session.on_signed(5, &HMAC, 1).unwrap();
    assert!(session.on_answer(5, &not_sent(), 2).unwrap().is_empty());
    assert!(session.on_signed(5, &HMAC, 3).is_err(), "forgotten");
    let open = format!("[{NEW}]");
    let (_, reply) = run(
        &mut session,
        &Operation::FetchOpenOrders,
        &[(200, &open), (200, "[]")],
    );
    assert!(
        matches!(&reply_events(&reply)[0], Event::Order(o) if o.snapshot && o.remaining == d("0.01"))
    );
    let query = Operation::FetchOrder(target(None));
    let (_, missing) = run(
        &mut session,
        &query,
        &[(400, r#"{"code":-2013,"msg":"Order does not exist."}"#)],
    );
    assert_eq!(missing.outcome.kind, OutcomeKind::NOT_FOUND);
}

#[test]
fn leverage_sets_the_margin_type_then_the_leverage() {
    let mut session = session();
    let set = Operation::SetLeverage {
        market: btc(),
        leverage: 7,
        cross: false,
    };
    let (payloads, reply) = run(
        &mut session,
        &set,
        &[
            (200, r#"{"code":200,"msg":"success"}"#),
            (
                200,
                r#"{"leverage":7,"maxNotionalValue":"1000000","symbol":"BTCUSDT"}"#,
            ),
        ],
    );
    assert_eq!(payloads[0]["path"], "/fapi/v1/marginType");
    assert!(
        query(&payloads[0])
            .encode()
            .contains("symbol=BTCUSDT&marginType=ISOLATED")
    );
    assert_eq!(payloads[1]["path"], "/fapi/v1/leverage");
    assert!(
        query(&payloads[1])
            .encode()
            .contains("symbol=BTCUSDT&leverage=7")
    );
    assert_eq!(reply.outcome.kind, OutcomeKind::ACCEPTED);

    // The margin type it has already is no failure; another refusal is.
    let (_, unchanged) = run(
        &mut session,
        &set,
        &[
            (
                400,
                r#"{"code":-4046,"msg":"No need to change margin type."}"#,
            ),
            (200, r#"{"leverage":7}"#),
        ],
    );
    assert_eq!(unchanged.outcome.kind, OutcomeKind::ACCEPTED);
    let (payloads, refused) = run(
        &mut session,
        &set,
        &[(
            400,
            r#"{"code":-4048,"msg":"Margin type cannot be changed if there exists position."}"#,
        )],
    );
    assert_eq!(
        payloads.len(),
        1,
        "the leverage is not sent after a refusal"
    );
    assert_eq!(refused.outcome.kind, OutcomeKind::REJECTED, "{refused:?}");
}

#[test]
fn several_orders_go_as_batch_orders_of_five_each_answered_on_its_own() {
    let mut session = session();
    let orders: Vec<OrderRequest> = (0..7)
        .map(|i| OrderRequest {
            client_id: format!("0x0123456789abcdef0123456789abcd{i:02x}").into(),
            ..order(OrderKind::LIMIT, TimeInForce::GTC)
        })
        .collect();
    let placed = |id: u64, client: usize| {
        format!(
            r#"{{"orderId":{id},"clientOrderId":"0x0123456789abcdef0123456789abcd{client:02x}","symbol":"BTCUSDT","status":"NEW","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"65000.1","origQty":"0.010","executedQty":"0","avgPrice":"0.00","reduceOnly":false,"updateTime":1}}"#
        )
    };
    let first = format!(
        "[{},{},{{\"code\":-2019,\"msg\":\"Margin is insufficient.\"}},{},{}]",
        placed(1, 0),
        placed(2, 1),
        placed(4, 3),
        placed(5, 4)
    );
    let second = format!("[{},{}]", placed(6, 5), placed(7, 6));
    let (payloads, reply) = run(
        &mut session,
        &Operation::PlaceOrders(RVec::from(orders)),
        &[(200, &first), (200, &second)],
    );
    assert_eq!(payloads.len(), 2, "seven orders, two requests");
    assert_eq!(payloads[0]["path"], "/fapi/v1/batchOrders");
    let batch = |payload: &Value| -> Vec<Value> {
        let params = query(payload);
        serde_json::from_str(params.param("batchOrders").expect("batchOrders")).unwrap()
    };
    assert_eq!(batch(&payloads[0]).len(), 5);
    assert_eq!(batch(&payloads[1]).len(), 2);
    assert_eq!(batch(&payloads[0])[0]["quantity"], "0.01");
    assert_eq!(
        batch(&payloads[0])[0]["newClientOrderId"],
        "0123456789abcdef0123456789abcd00"
    );
    let kinds: Vec<OutcomeKind> = reply.items.iter().map(|item| item.kind).collect();
    assert_eq!(kinds.len(), 7);
    assert_eq!(kinds[2], OutcomeKind::REJECTED, "{:?}", reply.items[2]);
    assert!(
        kinds
            .iter()
            .enumerate()
            .all(|(i, kind)| i == 2 || *kind == OutcomeKind::ACCEPTED)
    );
    assert_eq!(
        reply.items[6]
            .exchange_order_id
            .as_ref()
            .map(|id| id.as_str()),
        ROption::RSome("7")
    );

    // A batch refused whole is each of its orders' outcome.
    let two = Operation::PlaceOrders(RVec::from(vec![
        order(OrderKind::LIMIT, TimeInForce::GTC),
        order(OrderKind::LIMIT, TimeInForce::GTC),
    ]));
    let (_, refused) = run(
        &mut session,
        &two,
        &[(
            400,
            r#"{"code":-1130,"msg":"Data sent for parameter 'batchOrders' is not valid."}"#,
        )],
    );
    assert_eq!(refused.items.len(), 2);
    assert!(
        refused
            .items
            .iter()
            .all(|item| item.kind == OutcomeKind::REJECTED),
        "{refused:?}"
    );
}

#[test]
fn several_modifies_go_as_batch_orders_each_answered_on_its_own() {
    let mut session = session();
    let modifies: Vec<ModifyRequest> = (0..3u64)
        .map(|i| ModifyRequest {
            target: target(Some(&(i + 1).to_string())),
            order: order(OrderKind::LIMIT, TimeInForce::GTC),
        })
        .collect();
    let amended = |id: u64| {
        format!(
            r#"{{"orderId":{id},"clientOrderId":"0123456789abcdef0123456789abcdef","symbol":"BTCUSDT","status":"NEW","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"65000.1","origQty":"0.010","executedQty":"0","avgPrice":"0.00","reduceOnly":false,"updateTime":1}}"#
        )
    };
    let answer = format!(
        "[{},{{\"code\":-2013,\"msg\":\"Order does not exist.\"}},{}]",
        amended(1),
        amended(3)
    );
    let (payloads, reply) = run(
        &mut session,
        &Operation::ModifyOrders(RVec::from(modifies.clone())),
        &[(200, &answer)],
    );
    assert_eq!(
        (
            payloads.len(),
            payloads[0]["method"].clone(),
            payloads[0]["path"].clone()
        ),
        (1, json!("PUT"), json!("/fapi/v1/batchOrders"))
    );
    let params = query(&payloads[0]);
    let batch: Vec<Value> =
        serde_json::from_str(params.param("batchOrders").expect("batchOrders")).unwrap();
    assert_eq!(
        (
            batch.len(),
            batch[1]["orderId"].clone(),
            batch[1]["price"].clone()
        ),
        (3, json!("2"), json!("65000.1"))
    );
    let kinds: Vec<OutcomeKind> = reply.items.iter().map(|item| item.kind).collect();
    assert_eq!(
        kinds,
        [
            OutcomeKind::ACCEPTED,
            OutcomeKind::NOT_FOUND,
            OutcomeKind::ACCEPTED
        ]
    );
    assert_eq!(
        reply_events(&reply).len(),
        2,
        "the amended orders as they stand"
    );

    // Refused whole: each modify's outcome.
    let (_, refused) = run(
        &mut session,
        &Operation::ModifyOrders(RVec::from(modifies)),
        &[(
            400,
            r#"{"code":-1130,"msg":"Data sent for parameter 'batchOrders' is not valid."}"#,
        )],
    );
    assert_eq!(refused.items.len(), 3, "{refused:?}");
}
