//! Jobs through the plugin session, end to end against the official SDK's
//! vectors: `begin` must ask the signer for exactly the SDK's action, and
//! `on_signed` with the SDK's signature must give exactly the SDK's
//! `/exchange` body. Replies are classified without ever calling the unfamiliar
//! "rejected".

use abi_stable::std_types::{ROption, RString, RVec};
use hyperliquid_plugin::Hyperliquid;
use plugin_api::{
    Answer, Dec, Event, Exchange, Market, MarketKind, ModifyRequest, Operation, OrderKind,
    OrderRef, OrderRequest, OutcomeKind, Output, PluginError, PriceRule, RejectReason,
    RequestContext, Response, Side, Stream, StreamKind, TimeInForce, TradingRule,
};
use serde_json::Value;

const VECTORS: &str =
    include_str!("../../hyperliquid-core/tests/fixtures/hyperliquid_signing_public.json");

fn vector(name: &str) -> Value {
    let all: Value = serde_json::from_str(VECTORS).unwrap();
    all["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
        .clone()
}

fn plugin() -> Hyperliquid {
    Hyperliquid::new(
        r#"{"network":"mainnet","account":"0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE"}"#,
    )
    .unwrap()
}

/// The markets of the vectors' synthetic meta.
fn market(coin: &str) -> Market {
    let (asset, sz_decimals, kind) = match coin {
        "BTC" => (0, 5, MarketKind::PERPETUAL),
        "ETH" => (1, 4, MarketKind::PERPETUAL),
        "SOL" => (5, 2, MarketKind::PERPETUAL),
        "PURR/USDC" => (10000, 0, MarketKind::SPOT),
        other => panic!("no market {other}"),
    };
    Market {
        symbol: coin.into(),
        venue_symbol: coin.into(),
        venue_id: asset,
        kind,
        base: coin.into(),
        quote: "USD".into(),
        rule: TradingRule {
            price: PriceRule {
                tick: Dec::ZERO,
                max_significant_figures: 5,
                max_decimals: ROption::RNone,
                integers_always_valid: true,
                min_price: Dec::ZERO,
                max_price: Dec::ZERO,
            },
            size_step: Dec::new(1, sz_decimals),
            min_size: Dec::ZERO,
            max_size: Dec::ZERO,
            min_notional: Dec::ZERO,
            reduce_only_exempt_from_min_notional: false,
        },
        max_leverage: 0,
    }
}

fn dec(value: &Value) -> Dec {
    Dec::parse(&value.to_string()).unwrap()
}

fn order(input: &Value) -> OrderRequest {
    let order_type = &input["order_type"];
    let (kind, tif, trigger) = if let Some(limit) = order_type.get("limit") {
        let tif = match limit["tif"].as_str().unwrap() {
            "Gtc" => TimeInForce::GTC,
            "Ioc" => TimeInForce::IOC,
            _ => TimeInForce::POST_ONLY,
        };
        (OrderKind::LIMIT, tif, ROption::RNone)
    } else {
        let trigger = &order_type["trigger"];
        let kind = match (
            trigger["tpsl"].as_str().unwrap(),
            trigger["isMarket"].as_bool().unwrap(),
        ) {
            ("sl", true) => OrderKind::STOP_MARKET,
            ("sl", false) => OrderKind::STOP_LIMIT,
            ("tp", true) => OrderKind::TAKE_PROFIT_MARKET,
            _ => OrderKind::TAKE_PROFIT_LIMIT,
        };
        (
            kind,
            TimeInForce::GTC,
            ROption::RSome(dec(&trigger["triggerPx"])),
        )
    };
    OrderRequest {
        trigger_reference: plugin_api::TriggerReference::MARK,
        client_id: input["cloid"].as_str().unwrap_or("").into(),
        market: market(input["coin"].as_str().unwrap()),
        side: if input["is_buy"].as_bool().unwrap() {
            Side::BUY
        } else {
            Side::SELL
        },
        kind,
        time_in_force: tif,
        price: dec(&input["limit_px"]),
        size: dec(&input["sz"]),
        reduce_only: input["reduce_only"].as_bool().unwrap(),
        trigger_price: trigger,
        max_slippage: ROption::RNone,
    }
}

fn context(v: &Value) -> RequestContext {
    RequestContext {
        now_ms: v["nonce"].as_u64().unwrap(),
        nonce: v["nonce"].as_u64().unwrap(),
        valid_until_ms: v["expires_after"].as_u64().into(),
        prefer_socket: false,
    }
}

/// The one output of a call.
fn one(outputs: Result<Vec<plugin_api::Output_NE>, PluginError>) -> Output {
    let mut outputs = outputs.unwrap();
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    outputs.remove(0).into_enum().unwrap()
}

/// begin → the signer's payload carries the SDK's action, byte for byte in
/// key order; on_signed with the SDK's signature → the SDK's body.
fn check(name: &str, operation: Operation) {
    let v = vector(name);
    let mut plugin = plugin();
    let Output::Sign {
        job: 7,
        request: sign,
        ..
    } = one(plugin.begin(7, &operation, &context(&v)))
    else {
        panic!("{name}: not a signing request");
    };
    assert_eq!(sign.scheme.as_str(), "hyperliquid-l1");
    let payload: Value = serde_json::from_str(&sign.payload).unwrap();
    assert_eq!(
        serde_json::to_string(&payload["action"]).unwrap(),
        serde_json::to_string(&v["action"]).unwrap(),
        "{name}: action"
    );
    assert_eq!(payload["nonce"], v["nonce"]);
    assert_eq!(payload["expires_after"], v["expires_after"]);
    assert_eq!(payload["vault_address"], Value::Null);
    assert_eq!(payload["network"], "mainnet");

    let hex65 = v["signature_hex65"].as_str().unwrap();
    let signature = hex::decode(&hex65[2..]).unwrap();
    let Output::Http { job: 7, request } = one(plugin.on_signed(7, &signature, 0)) else {
        panic!("{name}: not an HTTP request");
    };
    assert_eq!(request.url.as_str(), "https://api.hyperliquid.xyz/exchange");
    let mut expected = v["exchange_request_body"].clone();
    expected["signature"] = v["signature_padded"].clone();
    assert_eq!(
        request.body.as_str(),
        serde_json::to_string(&expected).unwrap(),
        "{name}: body"
    );
}

fn orders_of(name: &str) -> Operation {
    let v = vector(name);
    Operation::PlaceOrders(
        v["inputs"]["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(order)
            .collect(),
    )
}

#[test]
fn orders_match_the_sdk() {
    for name in [
        "order_limit_gtc_btc_mainnet",
        "order_gtc_with_cloid",
        "order_trigger_sl_market",
        "order_gtc_expires_after",
        "order_spot_purr_alo",
        "order_batch_3_na",
        "order_reduce_only_gtc_eth",
    ] {
        check(name, orders_of(name));
    }
}

#[test]
fn an_entry_with_its_exits_is_the_sdks_normal_tpsl_order() {
    let Operation::PlaceOrders(orders) = orders_of("order_batch_normal_tpsl") else {
        unreachable!()
    };
    check(
        "order_batch_normal_tpsl",
        Operation::PlaceWithExits(orders.clone()),
    );
    // The venue refuses TP/SL that could open a position: the plugin sends
    // none, nor an exit on its entry's side, nor an entry alone.
    let mut opening = orders.clone();
    opening[1].reduce_only = false;
    let mut same_side = orders.clone();
    same_side[2].side = orders[0].side;
    for (bad, why) in [
        (opening, "reduce-only"),
        (same_side, "other side"),
        (RVec::from(vec![orders[0].clone()]), "one or two exits"),
    ] {
        let error = plugin()
            .begin(
                1,
                &Operation::PlaceWithExits(bad),
                &context(&vector("order_batch_normal_tpsl")),
            )
            .unwrap_err();
        assert!(error.message.contains(why), "{why}: {error}");
    }
}

#[test]
fn a_market_order_is_an_aggressive_ioc_at_the_sdk_price() {
    let v = vector("market_open_btc_buy");
    let input = &v["inputs"];
    let order = OrderRequest {
        trigger_reference: plugin_api::TriggerReference::MARK,
        client_id: RString::new(),
        market: market("BTC"),
        side: Side::BUY,
        kind: OrderKind::MARKET,
        time_in_force: TimeInForce::IOC,
        price: dec(&input["reference_px"]),
        size: dec(&input["sz"]),
        reduce_only: false,
        trigger_price: ROption::RNone,
        max_slippage: ROption::RSome(Dec::new(5, 2)),
    };
    check(
        "market_open_btc_buy",
        Operation::PlaceOrders(RVec::from(vec![order])),
    );
}

fn target(coin: &str, cloid: &str, oid: Option<&str>) -> OrderRef {
    OrderRef {
        kind: plugin_api::OrderKind::LIMIT,
        triggered: false,
        client_id: cloid.into(),
        exchange_order_id: oid.map(RString::from).into(),
        market: market(coin),
    }
}

#[test]
fn cancels_modifies_and_schedule_cancel_match_the_sdk() {
    check(
        "cancel_by_cloid",
        Operation::CancelOrders(RVec::from(vec![target(
            "ETH",
            "0x0000000000000000000000000000002a",
            None,
        )])),
    );
    check(
        "cancel_by_oid",
        Operation::CancelOrders(RVec::from(vec![target("BTC", "", Some("123456789"))])),
    );
    let v = vector("batch_modify_two");
    let modifies = v["inputs"]["modifies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let coin = m["order"]["coin"].as_str().unwrap();
            let target = match &m["oid"] {
                Value::String(cloid) => target(coin, cloid, None),
                oid => target(coin, "", Some(&oid.to_string())),
            };
            ModifyRequest {
                target,
                order: order(&m["order"]),
            }
        })
        .collect();
    check("batch_modify_two", Operation::ModifyOrders(modifies));
    check(
        "schedule_cancel_with_time",
        Operation::ArmDeadManSwitch(ROption::RSome(1_700_000_030_019)),
    );
    check(
        "schedule_cancel_unset",
        Operation::ArmDeadManSwitch(ROption::RNone),
    );
}

#[test]
fn invalid_numbers_are_refused_not_rounded() {
    let mut bad = order(&vector("order_limit_gtc_btc_mainnet")["inputs"]["orders"][0]);
    bad.price = Dec::parse("65432.5").unwrap(); // 6 significant figures
    let error = plugin()
        .begin(
            1,
            &Operation::PlaceOrders(RVec::from(vec![bad.clone()])),
            &context(&vector("order_limit_gtc_btc_mainnet")),
        )
        .unwrap_err();
    assert!(error.message.contains("price"), "{error}");
    bad.price = Dec::parse("65432").unwrap();
    bad.size = Dec::parse("0.0000001").unwrap(); // finer than szDecimals 5
    assert!(
        plugin()
            .begin(
                2,
                &Operation::PlaceOrders(RVec::from(vec![bad])),
                &context(&vector("order_limit_gtc_btc_mainnet"))
            )
            .is_err()
    );
}

#[test]
fn actions_are_posted_on_the_account_socket_while_it_is_up() {
    let v = vector("order_limit_gtc_btc_mainnet");
    let mut plugin = plugin();
    let mut context = context(&v);
    context.prefer_socket = true;
    let signature = hex::decode(&v["signature_hex65"].as_str().unwrap()[2..]).unwrap();
    let operation = orders_of("order_limit_gtc_btc_mainnet");

    // The socket is not open yet: HTTP.
    one(plugin.begin(1, &operation, &context));
    assert!(matches!(
        one(plugin.on_signed(1, &signature, 0)),
        Output::Http { job: 1, .. }
    ));

    let orders = [Stream {
        kind: StreamKind::ORDERS,
        market: "".into(),
    }];
    let Output::Open(spec) = one(plugin.subscribe(&orders, true, 0)) else {
        panic!("the account connection is not opened");
    };
    assert_eq!(spec.id.as_str(), "user");
    let Output::Send {
        connection,
        text,
        job,
        ..
    } = one(plugin.on_connection("user", true, "", 0))
    else {
        panic!("no subscription once up");
    };
    assert_eq!((connection.as_str(), job.into_option()), ("user", None));
    assert!(text.contains("orderUpdates"), "{text}");

    one(plugin.begin(9, &operation, &context));
    let Output::Send {
        connection,
        text,
        job,
        costs,
    } = one(plugin.on_signed(9, &signature, 0))
    else {
        panic!("not posted");
    };
    assert_eq!((connection.as_str(), job.into_option()), ("user", Some(9)));
    assert!(costs.is_empty(), "the `Sign` paid for the post");
    let frame: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(frame["method"], "post");
    assert_eq!(frame["id"], 9);
    assert_eq!(frame["request"]["type"], "action");
    assert_eq!(frame["request"]["payload"]["nonce"], v["nonce"]);

    // The answer comes back on the socket and finishes the job.
    let answer = r#"{"channel":"post","data":{"id":9,"response":{"type":"action","payload":{"status":"ok","response":{"type":"order","data":{"statuses":[{"resting":{"oid":77}}]}}}}}}"#;
    let Output::Done { job: 9, reply } = one(plugin.on_frame("user", answer, 0)) else {
        panic!("the post answer did not finish the job");
    };
    assert_eq!(
        reply.items[0]
            .exchange_order_id
            .as_ref()
            .into_option()
            .map(|s| s.as_str()),
        Some("77")
    );

    // An error payload is an HTTP-style error (520): the outcome is unknown.
    one(plugin.begin(12, &operation, &context));
    one(plugin.on_signed(12, &signature, 0));
    let answer = r#"{"channel":"post","data":{"id":12,"response":{"type":"error","payload":"too many pending post requests"}}}"#;
    let Output::Done { job: 12, reply } = one(plugin.on_frame("user", answer, 0)) else {
        panic!("the post error did not finish the job");
    };
    assert_eq!(reply.outcome.kind, OutcomeKind::UNKNOWN, "{reply:?}");
    assert!(reply.outcome.message.contains("520"), "{reply:?}");

    // A post in flight when the socket drops may or may not have landed.
    one(plugin.begin(10, &operation, &context));
    one(plugin.on_signed(10, &signature, 0));
    let Output::Done { job: 10, reply } = one(plugin.on_connection("user", false, "reset", 0))
    else {
        panic!("the lost post was not finished");
    };
    assert_eq!(reply.outcome.kind, OutcomeKind::UNKNOWN);

    // Queries always go over HTTP.
    let Output::Http { request, .. } = one(plugin.begin(11, &Operation::FetchOpenOrders, &context))
    else {
        panic!("a query is not an HTTP request");
    };
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["type"], "openOrders");
    assert_eq!(body["user"], "0x278dbc9d13eff5342acb01ba06a95f3d08e4d1fe");
}

fn reply(operation: &Operation, status: u16, body: &str) -> plugin_api::Reply {
    try_reply(operation, status, body).unwrap()
}

/// A job for `operation` answered with `status` and `body`.
fn try_reply(
    operation: &Operation,
    status: u16,
    body: &str,
) -> Result<plugin_api::Reply, PluginError> {
    let mut plugin = plugin();
    let context = context(&vector("order_limit_gtc_btc_mainnet"));
    plugin.begin(3, operation, &context)?;
    let response = Response {
        status,
        body: body.into(),
        headers: RVec::new(),
    };
    let mut outputs = plugin.on_answer(3, &Answer::answered(response), 0)?;
    match outputs.pop().as_ref().map(|output| output.as_enum()) {
        Some(Ok(Output::Done { job: 3, reply })) => Ok((**reply).clone()),
        other => panic!("the job did not finish: {other:?}"),
    }
}

#[test]
fn order_answers_are_classified_per_order() {
    let operation = orders_of("order_batch_3_na");
    let answer = reply(
        &operation,
        200,
        r#"{"status":"ok","response":{"type":"order","data":{"statuses":[{"resting":{"oid":11}},{"filled":{"totalSz":"0.02","avgPx":"1891.4","oid":12}},{"error":"Order must have minimum value of $10. asset=1"}]}}}"#,
    );
    assert_eq!(answer.outcome.kind, OutcomeKind::ACCEPTED);
    let kinds: Vec<_> = answer.items.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [
            OutcomeKind::ACCEPTED,
            OutcomeKind::ACCEPTED,
            OutcomeKind::REJECTED
        ]
    );
    assert_eq!(
        answer.items[0].exchange_order_id.as_ref().unwrap().as_str(),
        "11"
    );
    assert_eq!(
        answer.items[1].filled_size.unwrap(),
        Dec::parse("0.02").unwrap()
    );
    assert_eq!(answer.items[2].reason, RejectReason::MIN_NOTIONAL);

    let whole = reply(
        &operation,
        200,
        r#"{"status":"err","response":"User or API Wallet 0xabc does not exist."}"#,
    );
    assert_eq!(whole.outcome.kind, OutcomeKind::REJECTED);
    assert_eq!(whole.outcome.reason, RejectReason::AUTHENTICATION);

    for (status, body, kind) in [
        (429, "", OutcomeKind::NOT_PROCESSED),
        (502, "bad gateway", OutcomeKind::UNKNOWN),
        (
            200,
            r#"{"status":"ok","response":{"type":"order","data":{"statuses":[]}}}"#,
            OutcomeKind::UNKNOWN,
        ),
        (200, r#"{"surprise":true}"#, OutcomeKind::UNKNOWN),
        (200, "not json", OutcomeKind::UNKNOWN),
    ] {
        assert_eq!(
            reply(&operation, status, body).outcome.kind,
            kind,
            "{status} {body}"
        );
    }
}

#[test]
fn cancel_answers_say_not_found() {
    let operation = Operation::CancelOrders(RVec::from(vec![target(
        "ETH",
        "0x0000000000000000000000000000002a",
        None,
    )]));
    let answer = reply(
        &operation,
        200,
        r#"{"status":"ok","response":{"type":"cancel","data":{"statuses":[{"error":"Order was never placed, already canceled, or filled. asset=1"}]}}}"#,
    );
    assert_eq!(answer.items[0].kind, OutcomeKind::NOT_FOUND);
}

#[test]
fn info_answers_carry_events() {
    let unknown = reply(
        &Operation::FetchOrder(target("ETH", "0x0000000000000000000000000000002a", None)),
        200,
        r#"{"status":"unknownOid"}"#,
    );
    assert_eq!(unknown.outcome.kind, OutcomeKind::NOT_FOUND);

    let found = reply(
        &Operation::FetchOrder(target("ETH", "0x0000000000000000000000000000002a", None)),
        200,
        r#"{"status":"order","order":{"order":{"coin":"ETH","side":"B","limitPx":"3000","sz":"0","oid":5,"timestamp":1,"origSz":"1","cloid":"0x0000000000000000000000000000002a"},"status":"filled","statusTimestamp":2}}"#,
    );
    assert!(
        matches!(found.events[0].as_enum(), Ok(Event::Order(o)) if o.status == plugin_api::VenueOrderStatus::FILLED && o.snapshot)
    );

    let meta = reply(
        &Operation::FetchMarkets { cursor: "".into() },
        200,
        r#"{"universe":[{"name":"BTC","szDecimals":5,"maxLeverage":50},{"name":"ETH","szDecimals":4,"maxLeverage":50}]}"#,
    );
    let Ok(Event::Markets(markets)) = meta.events[0].as_enum() else {
        panic!()
    };
    assert_eq!(markets.len(), 2);
    assert_eq!(markets[1].symbol.as_str(), "ETH-USD");
    assert_eq!(markets[1].venue_id, 1);
    assert_eq!(markets[1].rule.size_step, Dec::new(1, 4));
    assert!(
        matches!(meta.next.as_ref().unwrap().as_enum(), Ok(Operation::FetchMarkets { cursor }) if cursor == "spot")
    );

    let account = reply(
        &Operation::FetchAccount,
        200,
        r#"{"marginSummary":{"accountValue":"1000.5","totalNtlPos":"0","totalRawUsd":"0","totalMarginUsed":"0"},"crossMarginSummary":{"accountValue":"1000.5","totalNtlPos":"0","totalRawUsd":"0","totalMarginUsed":"0"},"crossMaintenanceMarginUsed":"0","withdrawable":"900","assetPositions":[{"type":"oneWay","position":{"coin":"BTC","szi":"-0.1","leverage":{"type":"cross","value":10},"entryPx":"65000","positionValue":"6500","unrealizedPnl":"-3","returnOnEquity":"0","liquidationPx":null,"marginUsed":"650","maxLeverage":50,"cumFunding":{"allTime":"0","sinceOpen":"0","sinceChange":"0"}}}],"time":99}"#,
    );
    assert_eq!(account.events.len(), 2);
    let Ok(Event::Positions(positions)) = account.events[1].as_enum() else {
        panic!()
    };
    assert!(positions.complete);
    assert_eq!(positions.positions[0].size, Dec::parse("-0.1").unwrap());

    assert_eq!(
        reply(&Operation::FetchOpenOrders, 429, "").outcome.kind,
        OutcomeKind::NOT_PROCESSED
    );
    assert!(try_reply(&Operation::FetchOpenOrders, 200, "{").is_err());
}

/// The (bucket, units) a request costs: paid before signing for actions,
/// with the request for queries.
fn costs(operation: &Operation) -> Vec<(String, u32)> {
    let v = vector("order_limit_gtc_btc_mainnet");
    let costs = match one(plugin().begin(1, operation, &context(&v))) {
        Output::Sign { costs, .. } => costs,
        Output::Http { request, .. } => request.costs,
        other => panic!("neither signed nor sent: {other:?}"),
    };
    costs
        .iter()
        .map(|cost| (cost.0.to_string(), cost.1))
        .collect()
}

fn pairs(list: &[(&str, u32)]) -> Vec<(String, u32)> {
    list.iter().map(|(b, n)| (b.to_string(), *n)).collect()
}

#[test]
fn rate_limit_costs_follow_the_ip_and_address_rules() {
    // One order: IP weight 1, one action from both address budgets.
    assert_eq!(
        costs(&orders_of("order_limit_gtc_btc_mainnet")),
        pairs(&[("ip_weight", 1), ("address", 1), ("address_cancel", 1)])
    );
    // A batch of 79 orders: IP weight 1 + floor(79 / 40) = 2, 79 actions.
    let Operation::PlaceOrders(one) = orders_of("order_limit_gtc_btc_mainnet") else {
        panic!()
    };
    let batch = Operation::PlaceOrders(RVec::from(vec![one[0].clone(); 79]));
    assert_eq!(
        costs(&batch),
        pairs(&[("ip_weight", 2), ("address", 79), ("address_cancel", 79)])
    );
    // Cancels spend only from the larger cancel budget.
    let cancels = Operation::CancelOrders(RVec::from(vec![
        target(
            "BTC",
            "0x0000000000000000000000000000002a",
            None
        );
        3
    ]));
    assert_eq!(
        costs(&cancels),
        pairs(&[("ip_weight", 1), ("address_cancel", 3)])
    );
    assert_eq!(
        costs(&Operation::FetchRateLimits),
        pairs(&[("ip_weight", 20)])
    );
    // Every bucket a request names is in the manifest.
    let manifest = Hyperliquid::manifest();
    for bucket in ["ip_weight", "address", "address_cancel"] {
        assert!(
            manifest.rate_limits.iter().any(|b| b.id == bucket),
            "{bucket}"
        );
    }
}

#[test]
fn user_rate_limit_becomes_the_address_buckets() {
    let answer = reply(
        &Operation::FetchRateLimits,
        200,
        r#"{"cumVlm":"2854574.593578","nRequestsUsed":2890,"nRequestsCap":2864574}"#,
    );
    let states: Vec<_> = answer
        .events
        .iter()
        .map(|event| match event.as_enum() {
            Ok(Event::RateLimit(state)) => {
                (state.bucket.to_string(), state.remaining, state.capacity)
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        states,
        vec![
            ("address".to_string(), 2_861_684, 2_864_574),
            // min(cap + 100000, 2·cap)
            ("address_cancel".to_string(), 2_961_684, 2_964_574),
        ]
    );
    // Spent past the cap: nothing remains, never a negative.
    let spent = reply(
        &Operation::FetchRateLimits,
        200,
        r#"{"cumVlm":"0.0","nRequestsUsed":25000,"nRequestsCap":10000}"#,
    );
    assert!(matches!(spent.events[0].as_enum(), Ok(Event::RateLimit(s)) if s.remaining == 0));
    assert!(
        matches!(spent.events[1].as_enum(), Ok(Event::RateLimit(s)) if s.remaining == 0 && s.capacity == 20_000)
    );
}

#[test]
fn with_a_signer_setting_only_that_signers_signature_over_the_request_is_sent() {
    let v = vector("order_limit_gtc_btc_mainnet");
    let with_signer = |signer: &str| {
        Hyperliquid::new(&format!(
            r#"{{"network":"mainnet","account":"0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE","signer":"{signer}"}}"#
        ))
        .unwrap()
    };
    let signature = |name: &str| {
        let hex65 = vector(name)["signature_hex65"].as_str().unwrap().to_owned();
        hex::decode(&hex65[2..]).unwrap()
    };
    let operation = orders_of("order_limit_gtc_btc_mainnet");
    let signed_by = |plugin: &mut Hyperliquid, signature: &[u8]| {
        let Output::Sign { .. } = one(plugin.begin(7, &operation, &context(&v))) else {
            panic!("not a signing request");
        };
        plugin.on_signed(7, signature, 0)
    };
    let expected = v["signer_address"].as_str().unwrap();
    let mut plugin = with_signer(expected);
    let Output::Http { .. } = one(signed_by(
        &mut plugin,
        &signature("order_limit_gtc_btc_mainnet"),
    )) else {
        panic!("the signer's own signature is sent");
    };
    // The same key's signature over another request recovers to another
    // address: not what was asked for.
    let error = signed_by(&mut plugin, &signature("order_gtc_with_cloid")).unwrap_err();
    assert!(
        error.to_string().contains("not by the configured signer"),
        "{error}"
    );
    let mut other = with_signer("0x0000000000000000000000000000000000000001");
    let error = signed_by(&mut other, &signature("order_limit_gtc_btc_mainnet")).unwrap_err();
    assert!(
        error
            .to_string()
            .contains(&format!("the signature is by {expected}"))
            || error
                .to_string()
                .to_lowercase()
                .contains(&expected.to_lowercase()),
        "{error}"
    );
}
