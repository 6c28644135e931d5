//! Strict action parsing (the signer's gate) and msgpack encoding rules.

use hyperliquid_core::{
    Action, ActionParseError, ActionType, Address, BuilderFee, CancelAction, CancelWire, Grouping,
    Network, OrderAction, OrderBuildError, OrderKind, OrderRequest, ScheduleCancelAction,
    SigningContext, Tif, UpdateIsolatedMarginAction, WireError, l1_hashes,
};
use rust_decimal::Decimal;

fn msgpack_hex(action: &Action) -> String {
    let context = SigningContext::new(Network::Mainnet, 1);
    hex::encode(l1_hashes(action, &context).expect("hashes").msgpack())
}

fn limit(asset: u32, price: &str) -> OrderRequest {
    OrderRequest {
        asset,
        is_buy: true,
        price: price.parse().expect("price"),
        size: Decimal::ONE,
        reduce_only: false,
        kind: OrderKind::Limit(Tif::Gtc),
        cloid: None,
    }
}

/// Expected-error predicate of one parsing case.
type ErrorCheck = fn(&ActionParseError) -> bool;

#[test]
fn refuses_unknown_and_malformed_actions() {
    let cases: [(&str, ErrorCheck); 14] = [
        ("{", |e| matches!(e, ActionParseError::Json(_))),
        ("[]", |e| matches!(e, ActionParseError::NotAnObject)),
        (r#"{"cancels":[]}"#, |e| {
            matches!(e, ActionParseError::MissingType)
        }),
        (r#"{"type":5}"#, |e| {
            matches!(e, ActionParseError::MissingType)
        }),
        (
            r#"{"type":"withdraw3","amount":"1"}"#,
            |e| matches!(e, ActionParseError::UnknownType(t) if t == "withdraw3"),
        ),
        (r#"{"type":"cancel"}"#, |e| {
            matches!(
                e,
                ActionParseError::InvalidFields {
                    action: ActionType::Cancel,
                    ..
                }
            )
        }),
        (
            r#"{"type":"cancel","cancels":[{"a":1,"o":2,"f":true}]}"#,
            |e| matches!(e, ActionParseError::InvalidFields { .. }),
        ),
        (r#"{"type":"cancel","cancels":[{"a":1.0,"o":2}]}"#, |e| {
            matches!(e, ActionParseError::InvalidFields { .. })
        }),
        (r#"{"type":"noop","x":1}"#, |e| {
            matches!(
                e,
                ActionParseError::InvalidFields {
                    action: ActionType::Noop,
                    ..
                }
            )
        }),
        (
            r#"{"type":"order","orders":[{"a":0,"b":true,"p":"-1","s":"1","r":false,"t":{"limit":{"tif":"Gtc"}}}],"grouping":"na"}"#,
            |e| {
                matches!(
                    e,
                    ActionParseError::InvalidFields {
                        action: ActionType::Order,
                        ..
                    }
                )
            },
        ),
        (
            r#"{"type":"order","orders":[{"a":0,"b":true,"p":"1e5","s":"1","r":false,"t":{"limit":{"tif":"Gtc"}}}],"grouping":"na"}"#,
            |e| matches!(e, ActionParseError::InvalidFields { .. }),
        ),
        (
            r#"{"type":"order","orders":[{"a":0,"b":true,"p":"1","s":"1","r":false,"t":{"limit":{"tif":"Fok"}}}],"grouping":"na"}"#,
            |e| matches!(e, ActionParseError::InvalidFields { .. }),
        ),
        (
            r#"{"type":"order","orders":[],"grouping":"na","builder":{"b":"0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed","f":1}}"#,
            |e| matches!(e, ActionParseError::InvalidFields { .. }),
        ),
        (
            r#"{"type":"updateLeverage","asset":0,"isCross":true}"#,
            |e| matches!(e, ActionParseError::InvalidFields { .. }),
        ),
    ];
    for (json, check) in cases {
        let err = Action::from_json(json).expect_err(json);
        assert!(check(&err), "{json}: {err:?}");
    }
    // The typed error also surfaces through serde's Deserialize.
    let err = serde_json::from_str::<Action>(r#"{"type":"spotSend"}"#).expect_err("unknown");
    assert!(err.to_string().contains("spotSend"));
}

#[test]
fn wire_text_is_kept_exactly_as_signed() {
    let json = r#"{"type":"order","orders":[{"a":1,"b":true,"p":"2000.0","s":"3.5","r":false,"t":{"limit":{"tif":"Ioc"}}}],"grouping":"na"}"#;
    let action = Action::from_json(json).expect("parse");
    assert_eq!(serde_json::to_string(&action).expect("json"), json);
    let Action::Order(order) = &action else {
        panic!("not an order")
    };
    assert!(!order.orders[0].price.is_canonical());
}

#[test]
fn optional_fields_are_omitted_and_null_reads_as_absent() {
    let action = Action::from_json(r#"{"time":null,"type":"scheduleCancel"}"#).expect("parse");
    assert_eq!(
        action,
        Action::ScheduleCancel(ScheduleCancelAction { time: None })
    );
    assert_eq!(
        msgpack_hex(&action),
        "81a474797065ae7363686564756c6543616e63656c"
    );
    let noop = Action::from_json(r#"{"type":"noop"}"#).expect("noop");
    assert_eq!(
        serde_json::to_string(&noop).expect("json"),
        r#"{"type":"noop"}"#
    );
}

#[test]
fn builder_is_lower_case_and_last() {
    let builder: Address = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        .parse()
        .expect("address");
    let action = Action::Order(
        OrderAction::from_requests(
            &[limit(0, "100")],
            Grouping::Na,
            Some(BuilderFee {
                builder,
                fee_tenths_bp: 10,
            }),
        )
        .expect("order"),
    );
    let json = serde_json::to_string(&action).expect("json");
    assert!(
        json.ends_with(r#""grouping":"na","builder":{"b":"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed","f":10}}"#),
        "{json}"
    );
    assert_eq!(Action::from_json(&json).expect("parse"), action);
}

#[test]
fn integer_widths_follow_msgpack_rules() {
    let cancel = |oid| {
        Action::Cancel(CancelAction {
            cancels: vec![CancelWire { asset: 0, oid }],
        })
    };
    assert!(msgpack_hex(&cancel(4_294_967_295)).ends_with("a16fceffffffff"));
    assert!(msgpack_hex(&cancel(4_294_967_296)).ends_with("a16fcf0000000100000000"));
    let margin = Action::UpdateIsolatedMargin(UpdateIsolatedMarginAction {
        asset: 1,
        is_buy: true,
        ntli: -2_500_000,
    });
    assert!(msgpack_hex(&margin).ends_with("a46e746c69d2ffd9da60"));
    let time = Action::ScheduleCancel(ScheduleCancelAction {
        time: Some(1_700_000_030_019),
    });
    assert!(msgpack_hex(&time).ends_with("a474696d65cf0000018bcfe5dd43"));
}

#[test]
fn sixteen_orders_switch_to_array16() {
    let orders: Vec<OrderRequest> = (0..16).map(|asset| limit(asset, "1")).collect();
    let action =
        Action::Order(OrderAction::from_requests(&orders, Grouping::Na, None).expect("order"));
    assert!(msgpack_hex(&action).starts_with("83a474797065a56f72646572a66f7264657273dc0010"));
}

#[test]
fn order_builder_errors_name_the_field() {
    let mut order = limit(0, "1");
    order.size = "-1".parse().expect("size");
    assert!(matches!(
        order.to_wire(),
        Err(OrderBuildError::Size(WireError::Negative { .. }))
    ));
    let order = limit(0, "0.000000001");
    assert!(matches!(
        order.to_wire(),
        Err(OrderBuildError::Price(WireError::TooManyDecimals { .. }))
    ));
    assert!(matches!(
        OrderAction::from_requests(&[], Grouping::Na, None),
        Err(OrderBuildError::EmptyBatch)
    ));
}
