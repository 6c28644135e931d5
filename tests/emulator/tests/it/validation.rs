//! Validation errors with the exchange's texts; cancel, modify and order
//! status; leverage; spot balances.

use std::collections::BTreeMap;

use hyperliquid_core::{
    Action, BatchModifyAction, CancelAction, CancelByCloidAction, CancelByCloidWire, CancelWire,
    Cloid, Modify, OrderRef, Tif, UpdateIsolatedMarginAction, UpdateLeverageAction,
};
use rust_decimal::Decimal;
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_errors_use_the_exchange_texts() {
    let (rich, poor) = (Trader::new("rich"), Trader::new("poor"));
    let env = Env::quiet(&[&rich]).await;
    env.emulator
        .fund(poor.address(), Decimal::from(100), &BTreeMap::new())
        .expect("fund");
    let mut reduce_only = limit(BTC, false, "100000", "0.001", Tif::Gtc);
    reduce_only.reduce_only = true;
    let answer = env
        .act(
            &rich,
            orders(vec![
                limit(BTC, true, "100000.5", "0.001", Tif::Gtc),
                limit(BTC, true, "100000", "0.000001", Tif::Gtc),
                limit(BTC, true, "100000", "0.00001", Tif::Gtc),
                reduce_only,
                limit(ETH, true, "3500.25", "0.01", Tif::Gtc),
                limit(BTC, true, "99000", "0", Tif::Gtc),
                limit(BTC, true, "99000", "0.001", Tif::Gtc),
            ]),
        )
        .await;
    let results = statuses(&answer);
    let errors: Vec<_> = results.iter().map(|s| s["error"].clone()).collect();
    assert_eq!(errors[0], "Price must be divisible by tick size. asset=0");
    assert_eq!(errors[1], "Order has invalid size. asset=0");
    assert_eq!(errors[2], "Order must have minimum value of $10. asset=0");
    assert_eq!(
        errors[3],
        "Reduce only order would increase position. asset=0"
    );
    assert_eq!(errors[4], "Price must be divisible by tick size. asset=1");
    assert_eq!(errors[5], "Order has zero size. asset=0");
    resting_oid(&results[6]);

    let margin = env
        .act(
            &poor,
            orders(vec![limit(BTC, true, "100000", "1", Tif::Gtc)]),
        )
        .await;
    assert_eq!(
        statuses(&margin)[0]["error"],
        "Insufficient margin to place order. asset=0"
    );
    let spot = env
        .act(
            &poor,
            orders(vec![
                limit(PURR, true, "0.2", "100", Tif::Gtc),
                limit(PURR, true, "0.2", "10", Tif::Gtc),
            ]),
        )
        .await;
    let spot = statuses(&spot);
    assert_eq!(spot[0]["error"], "Insufficient spot balance asset=10000");
    assert_eq!(
        spot[1]["error"],
        "Order must have minimum value of 10 USDC. asset=10000"
    );
    let unknown = env
        .act(&rich, orders(vec![limit(77, true, "1", "1", Tif::Gtc)]))
        .await;
    assert_eq!(statuses(&unknown)[0]["error"], "Asset 77 does not exist.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_modify_and_order_status() {
    let alice = Trader::new("alice-cancel");
    let env = Env::quiet(&[&alice]).await;
    let cloid = |n: u128| Cloid::from_u128(n).to_string();
    let placed = env
        .act(
            &alice,
            orders(vec![
                with_cloid(limit(BTC, true, "90000", "0.001", Tif::Gtc), 1),
                with_cloid(limit(BTC, true, "90001", "0.001", Tif::Gtc), 2),
            ]),
        )
        .await;
    let placed = statuses(&placed);
    let (first, second) = (resting_oid(&placed[0]), resting_oid(&placed[1]));
    assert_eq!(placed[0]["resting"]["cloid"], cloid(1));

    for target in [json!(first), json!(cloid(1))] {
        let status = env
            .info(json!({ "type": "orderStatus", "user": alice.user(), "oid": target }))
            .await;
        assert_eq!(status["status"], "order");
        assert_eq!(status["order"]["status"], "open");
        assert_eq!(status["order"]["order"]["oid"].as_u64(), Some(first));
        assert_eq!(status["order"]["order"]["cloid"], cloid(1));
    }
    let unknown = env
        .info(json!({ "type": "orderStatus", "user": alice.user(), "oid": 42 }))
        .await;
    assert_eq!(unknown, json!({ "status": "unknownOid" }));

    let cancel = |oid| {
        Action::Cancel(CancelAction {
            cancels: vec![CancelWire { asset: BTC, oid }],
        })
    };
    assert_eq!(
        statuses(&env.act(&alice, cancel(first)).await),
        vec![json!("success")]
    );
    assert_eq!(
        statuses(&env.act(&alice, cancel(first)).await)[0]["error"],
        "Order was never placed, already canceled, or filled. asset=0"
    );
    let status = env
        .info(json!({ "type": "orderStatus", "user": alice.user(), "oid": first }))
        .await;
    assert_eq!(status["order"]["status"], "canceled");

    // Modify by cloid: the order is replaced under a new oid, same cloid.
    let modify = Action::BatchModify(BatchModifyAction {
        modifies: vec![Modify {
            oid: OrderRef::Cloid(Cloid::from_u128(2)),
            order: with_cloid(limit(BTC, true, "90500", "0.002", Tif::Gtc), 2),
        }],
    });
    let modified = statuses(&env.act(&alice, modify).await);
    let replaced = resting_oid(&modified[0]);
    assert_ne!(replaced, second);
    let open = env
        .info(json!({ "type": "openOrders", "user": alice.user() }))
        .await;
    assert_eq!(open.as_array().map(Vec::len), Some(1));
    assert_eq!(
        (open[0]["limitPx"].clone(), open[0]["sz"].clone()),
        (json!("90500"), json!("0.002"))
    );
    let single = Action::Modify(Modify {
        oid: OrderRef::Oid(replaced),
        order: with_cloid(limit(BTC, true, "90600", "0.002", Tif::Gtc), 2),
    });
    assert_eq!(
        env.act(&alice, single).await,
        json!({ "status": "ok", "response": { "type": "default" } })
    );
    let missing = Action::Modify(Modify {
        oid: OrderRef::Oid(replaced),
        order: limit(BTC, true, "90600", "0.002", Tif::Gtc),
    });
    assert_eq!(env.act(&alice, missing).await["status"], "err");

    let by_cloid = Action::CancelByCloid(CancelByCloidAction {
        cancels: vec![CancelByCloidWire {
            asset: BTC,
            cloid: Cloid::from_u128(2),
        }],
    });
    assert_eq!(
        statuses(&env.act(&alice, by_cloid.clone()).await),
        vec![json!("success")]
    );
    assert!(statuses(&env.act(&alice, by_cloid).await)[0]["error"].is_string());
    assert_eq!(
        env.info(json!({ "type": "frontendOpenOrders", "user": alice.user() }))
            .await,
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leverage_and_isolated_margin() {
    let (alice, maker) = (Trader::new("lev-alice"), Trader::new("lev-maker"));
    let env = Env::quiet(&[&alice, &maker]).await;
    let leverage = |value, is_cross| {
        Action::UpdateLeverage(UpdateLeverageAction {
            asset: BTC,
            is_cross,
            leverage: value,
        })
    };
    assert_eq!(env.act(&alice, leverage(50, true)).await["status"], "err");
    assert_eq!(env.act(&alice, leverage(10, true)).await["status"], "ok");
    env.act(
        &maker,
        orders(vec![limit(BTC, false, "100000", "0.01", Tif::Gtc)]),
    )
    .await;
    env.act(
        &alice,
        orders(vec![limit(BTC, true, "100000", "0.01", Tif::Ioc)]),
    )
    .await;
    let state = env
        .info(json!({ "type": "clearinghouseState", "user": alice.user() }))
        .await;
    let position = &state["assetPositions"][0]["position"];
    assert_eq!(
        position["leverage"],
        json!({ "type": "cross", "value": 10 })
    );
    assert_eq!(position["marginUsed"], "100");
    assert_eq!(state["marginSummary"]["totalMarginUsed"], "100");
    assert_eq!(
        env.act(&alice, leverage(10, false)).await["response"],
        "Cannot switch leverage type with open position."
    );
    let margin = Action::UpdateIsolatedMargin(UpdateIsolatedMarginAction {
        asset: BTC,
        is_buy: true,
        ntli: 1_000_000,
    });
    assert_eq!(env.act(&alice, margin).await["status"], "err");
    let limits = env
        .info(json!({ "type": "userRateLimit", "user": alice.user() }))
        .await;
    assert_eq!(limits["cumVlm"], "1000");
    assert_eq!(limits["nRequestsCap"], 11_000);
    assert!(limits["nRequestsUsed"].as_u64().is_some_and(|n| n >= 4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spot_trading_moves_balances() {
    let (buyer, seller) = (Trader::new("spot-buyer"), Trader::new("spot-seller"));
    let env = Env::quiet(&[]).await;
    let spot =
        |token: &str, amount: i64| BTreeMap::from([(token.to_owned(), Decimal::from(amount))]);
    env.emulator
        .fund(buyer.address(), Decimal::ZERO, &spot("USDC", 1000))
        .expect("fund");
    env.emulator
        .fund(seller.address(), Decimal::ZERO, &spot("PURR", 1000))
        .expect("fund");
    env.act(
        &seller,
        orders(vec![limit(PURR, false, "0.2", "100", Tif::Gtc)]),
    )
    .await;
    let held = env
        .info(json!({ "type": "spotClearinghouseState", "user": seller.user() }))
        .await;
    assert_eq!(held["balances"][0]["hold"], "100", "{held}");
    let answer = env
        .act(
            &buyer,
            orders(vec![limit(PURR, true, "0.2", "100", Tif::Ioc)]),
        )
        .await;
    assert_eq!(statuses(&answer)[0]["filled"]["totalSz"], "100");
    let balances = env
        .info(json!({ "type": "spotClearinghouseState", "user": buyer.user() }))
        .await;
    let total = |coin: &str| {
        balances["balances"]
            .as_array()
            .and_then(|b| b.iter().find(|b| b["coin"] == coin))
            .map(|b| b["total"].clone())
    };
    assert_eq!(total("USDC"), Some(json!("980")));
    assert_eq!(total("PURR"), Some(json!("99.955")));
    let fill = &env
        .info(json!({ "type": "userFills", "user": buyer.user() }))
        .await[0];
    assert_eq!(
        (
            fill["coin"].clone(),
            fill["dir"].clone(),
            fill["feeToken"].clone()
        ),
        (json!("PURR/USDC"), json!("Buy"), json!("PURR"))
    );
}
