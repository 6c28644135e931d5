//! Matching: price-time priority, partial fills, Ioc remainders, Alo crossing,
//! triggers, self-trade prevention, fill fields and positions.

use hyperliquid_core::{Tif, Tpsl};
use serde_json::{Value, json};

use crate::support::*;

async fn fills(env: &Env, trader: &Trader) -> Vec<Value> {
    env.info(json!({ "type": "userFills", "user": trader.user() }))
        .await
        .as_array()
        .expect("fills")
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_time_priority_partial_fills_and_fill_fields() {
    let (a, b, c) = (
        Trader::new("maker-a"),
        Trader::new("maker-b"),
        Trader::new("taker-c"),
    );
    let env = Env::quiet(&[&a, &b, &c]).await;
    let a1 = resting_oid(
        &statuses(
            &env.act(
                &a,
                orders(vec![limit(BTC, false, "100100", "0.001", Tif::Gtc)]),
            )
            .await,
        )[0],
    );
    let b1 = resting_oid(
        &statuses(
            &env.act(
                &b,
                orders(vec![limit(BTC, false, "100000", "0.001", Tif::Gtc)]),
            )
            .await,
        )[0],
    );
    let a2 = resting_oid(
        &statuses(
            &env.act(
                &a,
                orders(vec![limit(BTC, false, "100000", "0.001", Tif::Gtc)]),
            )
            .await,
        )[0],
    );

    let answer = env
        .act(
            &c,
            orders(vec![limit(BTC, true, "100100", "0.0025", Tif::Ioc)]),
        )
        .await;
    let filled = &statuses(&answer)[0]["filled"];
    assert_eq!(filled["totalSz"], "0.0025", "{answer}");
    assert_eq!(filled["avgPx"], "100020");

    let mut taker_fills = fills(&env, &c).await;
    taker_fills.sort_by_key(|f| f["tid"].as_u64());
    let makers: Vec<u64> = taker_fills
        .iter()
        .map(|f| f["tid"].as_u64().unwrap())
        .collect();
    assert_eq!(makers.len(), 3);
    let b_fill = &fills(&env, &b).await[0];
    let a_fills = fills(&env, &a).await;
    // Time priority at 100000: b1 (placed first), then a2; then a1 at 100100.
    assert_eq!(b_fill["tid"].as_u64(), Some(makers[0]));
    assert_eq!(b_fill["oid"].as_u64(), Some(b1));
    let a_by_tid = |tid: u64| {
        a_fills
            .iter()
            .find(|f| f["tid"].as_u64() == Some(tid))
            .expect("a fill")
            .clone()
    };
    assert_eq!(a_by_tid(makers[1])["oid"].as_u64(), Some(a2));
    assert_eq!(a_by_tid(makers[2])["oid"].as_u64(), Some(a1));
    assert_eq!(a_by_tid(makers[2])["sz"], "0.0005");

    // Fill fields, maker and taker side.
    assert_eq!(b_fill["coin"], "BTC");
    assert_eq!(b_fill["px"], "100000");
    assert_eq!(b_fill["side"], "A");
    assert_eq!(b_fill["crossed"], false);
    assert_eq!(b_fill["fee"], "0.015");
    assert_eq!(b_fill["feeToken"], "USDC");
    assert_eq!(b_fill["dir"], "Open Short");
    assert_eq!(b_fill["startPosition"], "0");
    assert_eq!(b_fill["closedPnl"], "0");
    assert!(b_fill["hash"].as_str().is_some_and(|h| h.len() == 66));
    let first = &taker_fills[0];
    assert_eq!(
        (
            first["crossed"].clone(),
            first["side"].clone(),
            first["fee"].clone()
        ),
        (json!(true), json!("B"), json!("0.045"))
    );
    assert_eq!(first["dir"], "Open Long");
    assert_eq!(taker_fills[1]["startPosition"], "0.001");
    assert_eq!(first["hash"], b_fill["hash"]);

    // The partly filled maker keeps resting with its remainder.
    let open = env
        .info(json!({ "type": "openOrders", "user": a.user() }))
        .await;
    assert_eq!(open.as_array().unwrap().len(), 1, "{open}");
    assert_eq!(open[0]["oid"].as_u64(), Some(a1));
    assert_eq!(
        (open[0]["sz"].clone(), open[0]["origSz"].clone()),
        (json!("0.0005"), json!("0.001"))
    );
    let status = env
        .info(json!({ "type": "orderStatus", "user": b.user(), "oid": b1 }))
        .await;
    assert_eq!(status["order"]["status"], "filled");

    let state = env
        .info(json!({ "type": "clearinghouseState", "user": c.user() }))
        .await;
    let position = &state["assetPositions"][0]["position"];
    assert_eq!(
        (
            position["coin"].clone(),
            position["szi"].clone(),
            position["entryPx"].clone()
        ),
        (json!("BTC"), json!("0.0025"), json!("100020"))
    );
    assert_eq!(
        position["leverage"],
        json!({ "type": "cross", "value": 20 })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ioc_remainder_is_cancelled_and_gtc_remainder_rests() {
    let (a, c) = (Trader::new("ioc-maker"), Trader::new("ioc-taker"));
    let env = Env::quiet(&[&a, &c]).await;
    env.act(
        &a,
        orders(vec![limit(BTC, false, "100000", "0.001", Tif::Gtc)]),
    )
    .await;
    let answer = env
        .act(
            &c,
            orders(vec![with_cloid(
                limit(BTC, true, "100000", "0.002", Tif::Ioc),
                7,
            )]),
        )
        .await;
    let filled = &statuses(&answer)[0]["filled"];
    assert_eq!(filled["totalSz"], "0.001");
    assert_eq!(filled["cloid"], "0x00000000000000000000000000000007");
    let status = env
        .info(json!({ "type": "orderStatus", "user": c.user(), "oid": "0x00000000000000000000000000000007" }))
        .await;
    assert_eq!(status["order"]["status"], "canceled");
    assert_eq!(
        env.info(json!({ "type": "openOrders", "user": c.user() }))
            .await,
        json!([])
    );

    env.act(
        &a,
        orders(vec![limit(BTC, false, "100000", "0.001", Tif::Gtc)]),
    )
    .await;
    let answer = env
        .act(
            &c,
            orders(vec![limit(BTC, true, "100000", "0.003", Tif::Gtc)]),
        )
        .await;
    let oid = resting_oid(&statuses(&answer)[0]);
    let open = env
        .info(json!({ "type": "openOrders", "user": c.user() }))
        .await;
    assert_eq!(
        (open[0]["oid"].as_u64(), open[0]["sz"].clone()),
        (Some(oid), json!("0.002"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ioc_without_match_and_crossing_alo_are_rejected() {
    let (a, c) = (Trader::new("alo-maker"), Trader::new("alo-taker"));
    let env = Env::quiet(&[&a, &c]).await;
    let answer = env
        .act(
            &c,
            orders(vec![with_cloid(
                limit(BTC, true, "100000", "0.001", Tif::Ioc),
                9,
            )]),
        )
        .await;
    assert_eq!(
        statuses(&answer)[0]["error"],
        "Order could not immediately match against any resting orders. asset=0"
    );
    let status = env
        .info(json!({ "type": "orderStatus", "user": c.user(), "oid": "0x00000000000000000000000000000009" }))
        .await;
    assert_eq!(status["order"]["status"], "iocCancelRejected");

    env.act(
        &a,
        orders(vec![
            limit(BTC, true, "99000", "0.001", Tif::Gtc),
            limit(BTC, false, "101000", "0.001", Tif::Gtc),
        ]),
    )
    .await;
    let answer = env
        .act(
            &c,
            orders(vec![
                limit(BTC, true, "101000", "0.001", Tif::Alo),
                limit(BTC, true, "100000", "0.001", Tif::Alo),
            ]),
        )
        .await;
    let results = statuses(&answer);
    assert_eq!(
        results[0]["error"],
        "Post only order would have immediately matched, bbo was 99000@101000. asset=0"
    );
    resting_oid(&results[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_loss_fires_when_the_mark_crosses() {
    let (a, c) = (Trader::new("sl-maker"), Trader::new("sl-trader"));
    let env = Env::quiet(&[&a, &c]).await;
    env.act(
        &a,
        orders(vec![limit(BTC, false, "100000", "0.01", Tif::Gtc)]),
    )
    .await;
    env.act(
        &c,
        orders(vec![limit(BTC, true, "100000", "0.01", Tif::Ioc)]),
    )
    .await;

    let wrong_side = env
        .act(
            &c,
            orders(vec![trigger(
                BTC,
                false,
                "110000",
                "99000",
                "0.01",
                Tpsl::Sl,
            )]),
        )
        .await;
    assert_eq!(
        statuses(&wrong_side)[0]["error"],
        "Invalid TP/SL price. asset=0"
    );
    let stop = env
        .act(
            &c,
            orders(vec![trigger(
                BTC,
                false,
                "95000",
                "90000",
                "0.01",
                Tpsl::Sl,
            )]),
        )
        .await;
    let oid = resting_oid(&statuses(&stop)[0]);
    let frontend = env
        .info(json!({ "type": "frontendOpenOrders", "user": c.user() }))
        .await;
    assert_eq!(frontend[0]["isTrigger"], true);
    assert_eq!(frontend[0]["triggerCondition"], "Price below 95000");
    assert_eq!(frontend[0]["orderType"], "Stop Market");

    env.act(
        &a,
        orders(vec![limit(BTC, true, "94000", "0.01", Tif::Gtc)]),
    )
    .await;
    env.emulator.set_price("BTC", d("96000")).expect("price");
    let status = env
        .info(json!({ "type": "orderStatus", "user": c.user(), "oid": oid }))
        .await;
    assert_eq!(status["order"]["status"], "open", "not yet: {status}");
    env.emulator.set_price("BTC", d("94500")).expect("price");
    let status = env
        .info(json!({ "type": "orderStatus", "user": c.user(), "oid": oid }))
        .await;
    assert_eq!(status["order"]["status"], "filled", "{status}");
    let last = &fills(&env, &c).await[0];
    assert_eq!(
        (
            last["px"].clone(),
            last["dir"].clone(),
            last["closedPnl"].clone()
        ),
        (json!("94000"), json!("Close Long"), json!("-60"))
    );
    let state = env
        .info(json!({ "type": "clearinghouseState", "user": c.user() }))
        .await;
    assert_eq!(
        state["assetPositions"],
        json!([]),
        "closed positions are omitted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_trade_cancels_the_resting_order() {
    let (a, b) = (Trader::new("stp-a"), Trader::new("stp-b"));
    let env = Env::quiet(&[&a, &b]).await;
    let own = resting_oid(
        &statuses(
            &env.act(
                &a,
                orders(vec![limit(ETH, false, "3500", "0.01", Tif::Gtc)]),
            )
            .await,
        )[0],
    );
    env.act(
        &b,
        orders(vec![limit(ETH, false, "3500", "0.01", Tif::Gtc)]),
    )
    .await;
    let answer = env
        .act(&a, orders(vec![limit(ETH, true, "3500", "0.01", Tif::Ioc)]))
        .await;
    assert_eq!(statuses(&answer)[0]["filled"]["totalSz"], "0.01");
    let status = env
        .info(json!({ "type": "orderStatus", "user": a.user(), "oid": own }))
        .await;
    assert_eq!(status["order"]["status"], "selfTradeCanceled");
    assert_eq!(fills(&env, &b).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_flow_trades_against_user_orders() {
    let (alice, bob) = (Trader::new("flow-alice"), Trader::new("flow-bob"));
    let mut config = hl_emulator::Config::default();
    config.liquidity.taker_rate_per_sec = 20.0;
    config.liquidity.volatility_bps_per_sec = 0.0;
    config.fund(alice.address(), 100_000.into());
    config.fund(bob.address(), 100_000.into());
    let env = Env::start(config).await;
    let book = env.info(json!({ "type": "l2Book", "coin": "ETH" })).await;
    assert!(
        book["levels"][0].as_array().unwrap().len() >= 20
            && book["levels"][1].as_array().unwrap().len() >= 20
    );
    // Best bid inside the synthetic spread: synthetic sellers hit it first.
    let answer = env
        .act(
            &alice,
            orders(vec![limit(ETH, true, "3500", "0.01", Tif::Alo)]),
        )
        .await;
    let oid = resting_oid(&statuses(&answer)[0]);
    let mut filled = false;
    for _ in 0..100 {
        let status = env
            .info(json!({ "type": "orderStatus", "user": alice.user(), "oid": oid }))
            .await;
        if status["order"]["status"] == "filled" {
            filled = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(filled, "a synthetic taker filled the user's bid");
    let fill = &fills(&env, &alice).await[0];
    assert_eq!(
        (fill["crossed"].clone(), fill["px"].clone()),
        (json!(false), json!("3500"))
    );

    // A price move through a resting order fills it at the order's price.
    let answer = env
        .act(
            &bob,
            orders(vec![limit(ETH, true, "3450", "0.01", Tif::Gtc)]),
        )
        .await;
    let oid = resting_oid(&statuses(&answer)[0]);
    env.emulator.set_price("ETH", d("3300")).expect("price");
    let status = env
        .info(json!({ "type": "orderStatus", "user": bob.user(), "oid": oid }))
        .await;
    assert_eq!(status["order"]["status"], "filled", "{status}");
    assert_eq!(fills(&env, &bob).await[0]["px"], "3450");
}

fn grouped(wires: Vec<hyperliquid_core::OrderWire>) -> hyperliquid_core::Action {
    let hyperliquid_core::Action::Order(mut action) = orders(wires) else {
        unreachable!("orders() builds an order action")
    };
    action.grouping = hyperliquid_core::Grouping::NormalTpsl;
    hyperliquid_core::Action::Order(action)
}

async fn status_of_cloid(env: &Env, trader: &Trader, n: u128) -> Value {
    let cloid = hyperliquid_core::Cloid::from_u128(n);
    env.info(json!({ "type": "orderStatus", "user": trader.user(), "oid": cloid }))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn normal_tpsl_exits_wait_for_their_entry_and_cancel_each_other() {
    let (maker, trader) = (Trader::new("tpsl-maker"), Trader::new("tpsl-trader"));
    let env = Env::quiet(&[&maker, &trader]).await;
    let group = |entry: u128, take: u128, stop: u128| {
        grouped(vec![
            with_cloid(limit(BTC, true, "99000", "0.01", Tif::Gtc), entry),
            with_cloid(
                trigger(BTC, false, "101000", "100000", "0.01", Tpsl::Tp),
                take,
            ),
            with_cloid(
                trigger(BTC, false, "97000", "96000", "0.01", Tpsl::Sl),
                stop,
            ),
        ])
    };

    // Not reduce-only: the whole group is refused.
    let hyperliquid_core::Action::Order(mut opening) = group(1, 2, 3) else {
        unreachable!()
    };
    opening.orders[2].reduce_only = false;
    let refused = env
        .act(&trader, hyperliquid_core::Action::Order(opening))
        .await;
    assert_eq!(refused["status"], "err", "{refused}");

    // An entry cancelled with nothing filled takes its exits with it.
    let answer = statuses(&env.act(&trader, group(1, 2, 3)).await);
    resting_oid(&answer[0]);
    assert_eq!(
        answer[1..],
        [json!("waitingForFill"), json!("waitingForFill")]
    );
    let frontend = env
        .info(json!({ "type": "frontendOpenOrders", "user": trader.user() }))
        .await;
    assert_eq!(frontend.as_array().map(Vec::len), Some(1), "{frontend}");
    let cancel = hyperliquid_core::Action::CancelByCloid(hyperliquid_core::CancelByCloidAction {
        cancels: vec![hyperliquid_core::CancelByCloidWire {
            asset: BTC,
            cloid: hyperliquid_core::Cloid::from_u128(1),
        }],
    });
    assert_eq!(
        statuses(&env.act(&trader, cancel).await),
        [json!("success")]
    );
    assert_eq!(
        status_of_cloid(&env, &trader, 2).await["status"],
        "unknownOid"
    );

    // An entry that fills places its exits; the take-profit fills and the
    // stop-loss is cancelled by the venue.
    let answer = statuses(&env.act(&trader, group(4, 5, 6)).await);
    resting_oid(&answer[0]);
    env.act(
        &maker,
        orders(vec![limit(BTC, false, "99000", "0.01", Tif::Gtc)]),
    )
    .await;
    for exit in [5, 6] {
        let status = status_of_cloid(&env, &trader, exit).await;
        assert_eq!(status["order"]["status"], "open", "{status}");
    }
    env.act(
        &maker,
        orders(vec![limit(BTC, true, "101500", "0.01", Tif::Gtc)]),
    )
    .await;
    env.emulator.set_price("BTC", d("101500")).expect("price");
    assert_eq!(
        status_of_cloid(&env, &trader, 5).await["order"]["status"],
        "filled"
    );
    assert_eq!(
        status_of_cloid(&env, &trader, 6).await["order"]["status"],
        "siblingFilledCanceled"
    );

    // An entry that fills at once answers its exits as waiting for their
    // trigger: they are on the book already.
    env.act(
        &maker,
        orders(vec![limit(BTC, false, "99000", "0.01", Tif::Gtc)]),
    )
    .await;
    env.emulator.set_price("BTC", d("99000")).expect("price");
    let answer = statuses(&env.act(&trader, group(7, 8, 9)).await);
    assert!(answer[0].get("filled").is_some(), "{answer:?}");
    assert_eq!(
        answer[1..],
        [json!("waitingForTrigger"), json!("waitingForTrigger")]
    );
    assert_eq!(
        status_of_cloid(&env, &trader, 9).await["order"]["status"],
        "open"
    );
}
