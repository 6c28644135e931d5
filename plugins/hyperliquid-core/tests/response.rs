//! `/exchange` answer classification: every known shape, malformed input, and the
//! rule that anything unexpected is "outcome unknown", never "rejected".

use hyperliquid_core::{
    Ack, CancelStatus, Cloid, ExchangeOutcome, ExpectedResponse, OrderStatus, RejectReason,
    UnknownReason, classify_response,
};
use rust_decimal::Decimal;
use serde_json::json;

fn ok(expected: ExpectedResponse, body: &str) -> ExchangeOutcome {
    classify_response(expected, 200, None, body.as_bytes())
}

fn order_ack(statuses: &str) -> String {
    format!(r#"{{"status":"ok","response":{{"type":"order","data":{{"statuses":{statuses}}}}}}}"#)
}

fn cancel_ack(statuses: &str) -> String {
    format!(r#"{{"status":"ok","response":{{"type":"cancel","data":{{"statuses":{statuses}}}}}}}"#)
}

fn is_unknown(outcome: &ExchangeOutcome) -> bool {
    matches!(outcome, ExchangeOutcome::Unknown { .. })
}

#[test]
fn every_order_status_shape_is_kept_per_order() {
    let body = order_ack(
        r#"[
        {"resting":{"oid":77738308}},
        {"resting":{"oid":77738309,"cloid":"0x0000000000000000000000000000abcd"}},
        {"filled":{"totalSz":"0.02","avgPx":"1891.4","oid":77747314}},
        {"filled":{"totalSz":"0.01","avgPx":"2080.2","oid":5,"cloid":"0x0000000000000000000000000000002a"}},
        {"error":"Order must have minimum value of $10. asset=5"},
        "waitingForFill",
        "waitingForTrigger"
    ]"#,
    );
    let outcome = ok(ExpectedResponse::Orders(7), &body);
    let ExchangeOutcome::Accepted(Ack::Orders(statuses)) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(
        statuses,
        vec![
            OrderStatus::Resting {
                oid: 77_738_308,
                cloid: None
            },
            OrderStatus::Resting {
                oid: 77_738_309,
                cloid: Some(Cloid::from_u128(0xabcd))
            },
            OrderStatus::Filled {
                total_sz: Decimal::new(2, 2),
                avg_px: Decimal::new(18_914, 1),
                oid: 77_747_314,
                cloid: None
            },
            OrderStatus::Filled {
                total_sz: Decimal::new(1, 2),
                avg_px: Decimal::new(20_802, 1),
                oid: 5,
                cloid: Some(Cloid::from_u128(42))
            },
            OrderStatus::Rejected {
                reason: RejectReason::MinNotional,
                message: "Order must have minimum value of $10. asset=5".to_owned()
            },
            OrderStatus::WaitingForFill,
            OrderStatus::WaitingForTrigger,
        ]
    );
}

#[test]
fn unseen_per_order_shapes_are_unknown_for_that_order_only() {
    let body = order_ack(
        r#"[{"resting":{"oid":1}}, {"parked":{"oid":2}}, "waitingForGodot",
            {"resting":{"oid":"3"}}, {"filled":{"totalSz":"x","avgPx":"1","oid":4}},
            {"resting":{"oid":5},"error":"both"}, {"resting":{"oid":6,"cloid":"0x12"}}]"#,
    );
    let ExchangeOutcome::Accepted(Ack::Orders(statuses)) = ok(ExpectedResponse::Orders(7), &body)
    else {
        panic!("not accepted");
    };
    assert_eq!(
        statuses[0],
        OrderStatus::Resting {
            oid: 1,
            cloid: None
        }
    );
    for status in &statuses[1..] {
        assert!(matches!(status, OrderStatus::Unknown { .. }), "{status:?}");
    }
}

#[test]
fn cancel_statuses() {
    let body = cancel_ack(
        r#"["success", {"error":"Order was never placed, already canceled, or filled. asset=5"}, 42]"#,
    );
    let ExchangeOutcome::Accepted(Ack::Cancels(statuses)) = ok(ExpectedResponse::Cancels(3), &body)
    else {
        panic!("not accepted");
    };
    assert_eq!(statuses[0], CancelStatus::Success);
    assert!(matches!(
        statuses[1],
        CancelStatus::Rejected {
            reason: RejectReason::OrderNotFound,
            ..
        }
    ));
    assert_eq!(statuses[2], CancelStatus::Unknown { raw: json!(42) });
}

#[test]
fn default_response() {
    assert_eq!(
        ok(
            ExpectedResponse::Default,
            r#"{"status":"ok","response":{"type":"default"}}"#
        ),
        ExchangeOutcome::Accepted(Ack::Default)
    );
}

#[test]
fn whole_request_errors_are_rejections_with_reason() {
    let cases = [
        (
            "User or API Wallet 0x0123456789abcdef0123456789abcdef01234567 does not exist.",
            RejectReason::UnknownSigner,
        ),
        ("Invalid nonce: duplicate nonce", RejectReason::Nonce),
        (
            "Insufficient margin to place order.",
            RejectReason::InsufficientMargin,
        ),
        ("Something new", RejectReason::Other),
    ];
    for (message, reason) in cases {
        let body = json!({"status":"err","response":message}).to_string();
        assert_eq!(
            ok(ExpectedResponse::Orders(1), &body),
            ExchangeOutcome::Rejected {
                reason,
                message: message.to_owned()
            }
        );
    }
}

#[test]
fn error_texts_map_to_reasons() {
    let cases = [
        (
            "Price must be divisible by tick size. asset=0",
            RejectReason::PriceTick,
        ),
        (
            "Order must have minimum value of 10 USDC.",
            RejectReason::MinNotional,
        ),
        (
            "Post only order would have immediately matched, bbo was 1.0@2.0. asset=3",
            RejectReason::PostOnlyWouldCross,
        ),
        (
            "Order could not immediately match against any resting orders. asset=1",
            RejectReason::IocNoMatch,
        ),
        (
            "Reduce only order would increase position. asset=1",
            RejectReason::ReduceOnly,
        ),
        (
            "Invalid TP/SL price. asset=1",
            RejectReason::BadTriggerPrice,
        ),
        (
            "No liquidity available for market order.",
            RejectReason::NoLiquidity,
        ),
        (
            "Order would increase open interest while open interest is capped",
            RejectReason::OpenInterest,
        ),
        (
            "Order price too far from oracle",
            RejectReason::OracleDeviation,
        ),
        (
            "Order would cause position to exceed margin tier limit at current leverage",
            RejectReason::MaxPosition,
        ),
        (
            "(Spot-only) Order has insufficient spot balance to trade",
            RejectReason::InsufficientSpotBalance,
        ),
        (
            "Attempted to modify to invalid new order",
            RejectReason::Other,
        ),
    ];
    for (message, reason) in cases {
        assert_eq!(RejectReason::from_message(message), reason, "{message}");
    }
}

#[test]
fn single_error_for_a_batch_rejects_the_whole_batch() {
    let body = order_ack(r#"[{"error":"Price must be divisible by tick size."}]"#);
    assert_eq!(
        ok(ExpectedResponse::Orders(3), &body),
        ExchangeOutcome::Rejected {
            reason: RejectReason::PriceTick,
            message: "Price must be divisible by tick size.".to_owned()
        }
    );
}

#[test]
fn status_count_mismatches_are_unknown() {
    let cases = [
        (ExpectedResponse::Orders(2), order_ack("[]")),
        (
            ExpectedResponse::Orders(2),
            order_ack(r#"[{"resting":{"oid":1}}]"#),
        ),
        (
            ExpectedResponse::Orders(1),
            order_ack(r#"[{"resting":{"oid":1}},{"resting":{"oid":2}}]"#),
        ),
        (ExpectedResponse::Cancels(2), cancel_ack(r#"["success"]"#)),
    ];
    for (expected, body) in cases {
        let outcome = ok(expected, &body);
        assert!(
            matches!(
                outcome,
                ExchangeOutcome::Unknown {
                    reason: UnknownReason::StatusCountMismatch { .. }
                }
            ),
            "{body}: {outcome:?}"
        );
    }
    // Zero sent, zero answered is fine.
    assert_eq!(
        ok(ExpectedResponse::Orders(0), &order_ack("[]")),
        ExchangeOutcome::Accepted(Ack::Orders(vec![]))
    );
}

#[test]
fn malformed_or_unseen_bodies_are_unknown_never_rejected() {
    let bodies = [
        "",
        "not json",
        "{\"status\":\"ok\"",
        "[]",
        "null",
        r#"{"status":"ok"}"#,
        r#"{"status":"ok","response":"done"}"#,
        r#"{"status":"ok","response":{"type":"twapOrder","data":{}}}"#,
        r#"{"status":"ok","response":{"type":"order"}}"#,
        r#"{"status":"ok","response":{"type":"order","data":{"statuses":{}}}}"#,
        r#"{"status":"ok","response":{"type":7}}"#,
        r#"{"status":"err","response":{"code":1}}"#,
        r#"{"status":"pending","response":"?"}"#,
        r#"{"status":1,"response":"x"}"#,
    ];
    for body in bodies {
        assert!(
            is_unknown(&ok(ExpectedResponse::Orders(1), body)),
            "{body:?}"
        );
    }
}

#[test]
fn response_of_the_wrong_kind_is_unknown() {
    let outcome = ok(
        ExpectedResponse::Orders(1),
        r#"{"status":"ok","response":{"type":"default"}}"#,
    );
    assert!(matches!(
        outcome,
        ExchangeOutcome::Unknown {
            reason: UnknownReason::ResponseTypeMismatch { .. }
        }
    ));
    assert!(is_unknown(&ok(
        ExpectedResponse::Default,
        &cancel_ack(r#"["success"]"#)
    )));
}

#[test]
fn http_statuses() {
    let outcome = |status, retry_after| {
        classify_response(ExpectedResponse::Default, status, retry_after, b"nope")
    };
    assert_eq!(
        outcome(429, Some("2")),
        ExchangeOutcome::NotProcessed {
            retry_after_secs: Some(2)
        }
    );
    assert_eq!(
        outcome(429, Some("Wed, 21 Oct 2015 07:28:00 GMT")),
        ExchangeOutcome::NotProcessed {
            retry_after_secs: None
        }
    );
    assert_eq!(
        outcome(408, None),
        ExchangeOutcome::NotProcessed {
            retry_after_secs: None
        }
    );
    let rejected = classify_response(
        ExpectedResponse::Default,
        422,
        None,
        b"Failed to deserialize the JSON body into the target type",
    );
    assert_eq!(
        rejected,
        ExchangeOutcome::Rejected {
            reason: RejectReason::BadRequest,
            message: "Failed to deserialize the JSON body into the target type".to_owned()
        }
    );
    assert!(matches!(
        outcome(400, None),
        ExchangeOutcome::Rejected {
            reason: RejectReason::BadRequest,
            ..
        }
    ));
    for status in [500, 502, 503, 504] {
        assert_eq!(
            outcome(status, None),
            ExchangeOutcome::Unknown {
                reason: UnknownReason::ServerError { status }
            }
        );
    }
    for status in [100, 201, 204, 302] {
        assert_eq!(
            outcome(status, None),
            ExchangeOutcome::Unknown {
                reason: UnknownReason::UnexpectedHttpStatus { status }
            }
        );
    }
}
