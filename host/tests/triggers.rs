//! Stop and take-profit orders end to end: on Hyperliquid tracked while
//! they wait for their trigger, published as `triggered` when it fires
//! (the emulator fires them on its mark price), filled like any order,
//! and kept across a SIGKILL with their trigger; on Bybit (conditional
//! orders) and Binance (algo orders) on the mark or the last price.

mod common;

use std::time::Duration;

use common::host_process::{ApiVenues, HostFiles, funded_emulator, liquid_emulator};
use common::orders::{Counterparty, EventLog, eventually, quiet_with_counterparty};
use connector_host::order::ClientOrderId;
use hl_emulator::EmulatorHandle;
use hyperliquid_core::Tif;
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Order `id` of `exchange` as the host has it.
fn order_on(files: &HostFiles, exchange: &str, id: &str) -> Value {
    let reply = files
        .command(json!({"cmd": "get_order", "exchange": exchange, "client_order_id": id}))
        .expect("reply");
    reply["result"].clone()
}

/// A buy of `amount` on `exchange`'s `pair` with `fields`; the reply.
fn buy_on(files: &HostFiles, (exchange, pair, amount): (&str, &str, &str), fields: Value) -> Value {
    let mut request =
        json!({"cmd": "buy", "exchange": exchange, "trading_pair": pair, "amount": amount});
    if let (Value::Object(request), Value::Object(fields)) = (&mut request, fields) {
        request.extend(fields);
    }
    files.command(request).expect("reply")
}

/// Bybit's and Binance's emulators for `files`' host, configured: no takers
/// and no drift, so the last price moves only with the test's trades.
async fn quiet_venues(files: &HostFiles) -> ApiVenues {
    let venues = ApiVenues::start_with(files, Decimal::from(100_000), |config| {
        config.liquidity.taker_rate_per_sec = 0.0;
        config.liquidity.volatility_bps_per_sec = 0.0;
    })
    .await;
    venues.configure(files);
    venues
}

fn order(files: &HostFiles, id: &str) -> Value {
    order_on(files, "hl", id)
}

fn place(files: &HostFiles, fields: Value) -> Value {
    buy_on(files, ("hl", "BTC-USD", "0.001"), fields)
}

fn id_of(reply: &Value) -> String {
    assert_eq!(reply["ok"], true, "{reply}");
    reply["result"]["client_order_id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// A quiet Hyperliquid exchange where the host's key (`seed`) and a
/// counterparty's are funded, the counterparty, and the host's files for
/// it with `exchange_keys` added to its exchange.
async fn with_maker(seed: &str, exchange_keys: &str) -> (EmulatorHandle, Counterparty, HostFiles) {
    let (emulator, maker) = quiet_with_counterparty(seed, &format!("{seed} maker")).await;
    let files = HostFiles::new(seed, &emulator.base_url(), exchange_keys);
    (emulator, maker, files)
}

/// A limit buy with a take-profit at 120,000 and a stop at `stop_loss`,
/// once it rests; its client order id.
async fn resting_entry(files: &HostFiles, stop_loss: &str) -> String {
    let entry = files.limit_buy_with_exits("95000", "120000", stop_loss);
    eventually("the entry resting", Duration::from_secs(10), || {
        order(files, &entry)["order_state"] == "OPEN"
    })
    .await;
    entry
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_waits_fires_on_the_mark_and_fills_and_survives_a_kill() {
    let seed = "trigger host";
    let emulator = liquid_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let events = EventLog::start(&files.events);
    let mut host = files.start().await;

    // Refused before anything is tracked.
    for (fields, needle) in [
        (
            json!({"order_type": "STOP_MARKET"}),
            "needs a trigger price",
        ),
        (
            json!({"order_type": "LIMIT", "price": "90000", "trigger_price": "95000"}),
            "only stop and take-profit",
        ),
        (
            json!({"order_type": "STOP_LIMIT", "price": "102500", "trigger_price": "102000", "time_in_force": "IOC"}),
            "rests until triggered",
        ),
        (
            json!({"order_type": "STOP_LIMIT", "trigger_price": "102000"}),
            "needs a price",
        ),
        (
            json!({"order_type": "STOP_MARKET", "trigger_price": "102000", "trigger_reference": "LAST"}),
            "does not trigger on the last price",
        ),
        (
            json!({"order_type": "LIMIT", "price": "90000", "trigger_reference": "MARK"}),
            "only stop and take-profit",
        ),
    ] {
        let reply = place(&files, fields.clone());
        assert_eq!(reply["error"]["code"], "invalid_order", "{fields}: {reply}");
        assert!(
            reply["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains(needle),
            "{reply}"
        );
    }

    // A buy stop above the market and a buy stop-limit further above.
    let stop = id_of(&place(
        &files,
        json!({"order_type": "STOP_MARKET", "trigger_price": "101000"}),
    ));
    let stop_limit = id_of(&place(
        &files,
        json!({"order_type": "STOP_LIMIT", "trigger_price": "103000", "price": "103500"}),
    ));
    eventually("both resting untriggered", Duration::from_secs(10), || {
        [&stop, &stop_limit].iter().all(|id| {
            let order = order(&files, id);
            order["order_state"] == "OPEN" && order["trigger"]["triggered"] == false
        })
    })
    .await;
    assert_eq!(order(&files, &stop)["trigger"]["trigger_price"], 101000);
    assert_eq!(order(&files, &stop)["order_type"], "STOP_MARKET");

    // The mark moves past the first trigger: it fires and fills.
    emulator
        .set_price("BTC", Decimal::from(101_500))
        .expect("price");
    eventually(
        "the stop triggered and filled",
        Duration::from_secs(10),
        || {
            let order = order(&files, &stop);
            order["order_state"] == "FILLED" && order["trigger"]["triggered"] == true
        },
    )
    .await;
    let topics_of_stop = || -> Vec<String> {
        events
            .all()
            .into_iter()
            .filter(|(_, body)| body["data"]["client_order_id"] == stop)
            .map(|(topic, _)| topic)
            .collect()
    };
    // The events may arrive after the command socket shows the fill.
    eventually("the stop's fill published", Duration::from_secs(10), || {
        topics_of_stop().iter().any(|t| t == "orders.hl.filled")
    })
    .await;
    let topics = topics_of_stop();
    let triggered = topics.iter().position(|t| t == "orders.hl.triggered");
    let filled = topics.iter().position(|t| t == "orders.hl.filled");
    assert!(triggered.is_some() && triggered < filled, "{topics:?}");
    assert_eq!(
        topics
            .iter()
            .filter(|t| *t == "orders.hl.triggered")
            .count(),
        1
    );
    assert_eq!(order(&files, &stop_limit)["trigger"]["triggered"], false);

    // Killed and started again: the waiting stop-limit is still known with
    // its trigger, and the journal's history has both.
    host.0.kill().expect("kill");
    let _ = host.0.wait();
    let _host = files.start().await;
    eventually("the stop-limit restored", Duration::from_secs(10), || {
        let order = order(&files, &stop_limit);
        order["order_state"] == "OPEN" && order["trigger"]["trigger_price"] == 103000
    })
    .await;
    let history = files
        .command(json!({"cmd": "history", "trading_pair": "BTC-USD"}))
        .expect("reply");
    let triggers: Vec<(String, bool)> = history["result"]["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .map(|o| {
            (
                o["client_order_id"].as_str().unwrap_or("").to_owned(),
                o["trigger"]["triggered"] == true,
            )
        })
        .collect();
    assert_eq!(triggers, [(stop, true), (stop_limit.clone(), false)]);

    // It fires too, and rests as a limit at its price until it fills.
    emulator
        .set_price("BTC", Decimal::from(103_200))
        .expect("price");
    eventually("the stop-limit triggered", Duration::from_secs(10), || {
        order(&files, &stop_limit)["trigger"]["triggered"] == true
    })
    .await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_and_binance_trigger_on_the_mark_or_the_last_price() {
    let seed = "venue trigger host";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let venues = quiet_venues(&files).await;
    let _host = files.start().await;
    for (exchange, venue) in [("by", &venues.bybit), ("bn", &venues.binance)] {
        let on = |fields: Value| buy_on(&files, (exchange, "BTC-USDT", "0.002"), fields);
        let get = |id: &str| order_on(&files, exchange, id);
        let wait = |what: &'static str, id: &str, state: &'static str, triggered: bool| {
            let id = id.to_owned();
            let get = &get;
            async move {
                eventually(what, Duration::from_secs(10), || {
                    let order = get(&id);
                    order["order_state"] == state && order["trigger"]["triggered"] == triggered
                })
                .await
            }
        };
        venue
            .set_price("BTC", Decimal::from(100_000))
            .expect("price");
        // A trade at about 100,000 makes the last price.
        let first = id_of(&on(json!({"order_type": "MARKET"})));
        eventually("the first buy filled", Duration::from_secs(10), || {
            get(&first)["order_state"] == "FILLED"
        })
        .await;

        // A buy stop on the last price: the mark passing its trigger does
        // not fire it, a trade beyond it does.
        let on_last = id_of(&on(json!({
            "order_type": "STOP_MARKET", "trigger_price": "101000", "trigger_reference": "LAST",
        })));
        wait("the last-price stop waiting", &on_last, "OPEN", false).await;
        assert_eq!(get(&on_last)["trigger"]["reference"], "LAST");
        venue
            .set_price("BTC", Decimal::from(101_500))
            .expect("price");
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert_eq!(
            get(&on_last)["trigger"]["triggered"],
            false,
            "{exchange}: the mark alone fired a last-price stop"
        );
        let push = id_of(&on(json!({"order_type": "MARKET"})));
        eventually("the pushing buy filled", Duration::from_secs(10), || {
            get(&push)["order_state"] == "FILLED"
        })
        .await;
        wait("the last-price stop fired", &on_last, "FILLED", true).await;

        // A buy stop on the mark fires when the mark passes it.
        let on_mark = id_of(&on(
            json!({"order_type": "STOP_MARKET", "trigger_price": "102500"}),
        ));
        wait("the mark stop waiting", &on_mark, "OPEN", false).await;
        assert_eq!(get(&on_mark)["trigger"]["reference"], "MARK");
        venue
            .set_price("BTC", Decimal::from(103_000))
            .expect("price");
        wait("the mark stop fired", &on_mark, "FILLED", true).await;

        // A take-profit sell waiting far above is cancelled while it waits
        // (Binance: in the algo service).
        let take = id_of(&files.command(json!({
            "cmd": "sell", "exchange": exchange, "trading_pair": "BTC-USDT", "amount": "0.002",
            "order_type": "TAKE_PROFIT_LIMIT", "trigger_price": "120000", "price": "119900",
            "reduce_only": true,
        })).expect("reply"));
        wait("the take-profit waiting", &take, "OPEN", false).await;
        let cancel = files
            .command(json!({"cmd": "cancel", "exchange": exchange, "client_order_id": take}))
            .expect("reply");
        assert_eq!(cancel["ok"], true, "{cancel}");
        wait("the take-profit cancelled", &take, "CANCELLED", false).await;
    }
    emulator.shutdown().await;
    venues.shutdown().await;
}

/// Take-profit and stop-loss attached to an entry, on each venue: refused
/// where they make no sense; placed, reduce-only and linked to the entry,
/// once it filled; the take-profit fires and fills, and the stop-loss
/// beside it is cancelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attached_exits_follow_the_entry_and_cancel_each_other() {
    let seed = "exits host";
    let emulator = liquid_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let venues = quiet_venues(&files).await;
    let _host = files.start().await;
    for (exchange, pair, amount, venue) in [
        ("hl", "BTC-USD", "0.001", &emulator),
        ("by", "BTC-USDT", "0.002", &venues.bybit),
        ("bn", "BTC-USDT", "0.002", &venues.binance),
    ] {
        venue
            .set_price("BTC", Decimal::from(100_000))
            .expect("price");
        let buy = |fields: Value| buy_on(&files, (exchange, pair, amount), fields);
        let get = |id: &str| order_on(&files, exchange, id);
        for (fields, needle) in [
            (
                json!({"order_type": "MARKET", "reduce_only": true,
                       "take_profit": {"trigger_price": "101000"}}),
                "not a reduce-only one",
            ),
            (
                json!({"order_type": "LIMIT", "price": "100000",
                       "stop_loss": {"trigger_price": "100500"}}),
                "must lie below the order's price",
            ),
        ] {
            let refused = buy(fields);
            assert_eq!(
                refused["error"]["code"], "invalid_order",
                "{exchange}: {refused}"
            );
            assert!(
                refused["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains(needle),
                "{exchange}: {refused}"
            );
        }

        let entry = id_of(&buy(json!({
            "order_type": "MARKET",
            "take_profit": {"trigger_price": "101000"},
            "stop_loss": {"trigger_price": "99000", "price": "98900"},
        })));
        eventually("the entry filled", Duration::from_secs(10), || {
            get(&entry)["order_state"] == "FILLED"
        })
        .await;
        assert_eq!(
            get(&entry)["exits"]["take_profit"]["trigger_price"],
            101000,
            "{exchange}"
        );
        let exits = || -> Vec<Value> {
            let open = files
                .command(json!({"cmd": "open_orders", "exchange": exchange}))
                .expect("reply");
            open["result"]["orders"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|order| order["parent_client_order_id"] == entry.as_str())
                .cloned()
                .collect()
        };
        eventually("both exits resting", Duration::from_secs(10), || {
            let exits = exits();
            exits.len() == 2 && exits.iter().all(|exit| exit["order_state"] == "OPEN")
        })
        .await;
        let mut placed: Vec<(String, String, String, Value)> = exits()
            .iter()
            .map(|exit| {
                (
                    exit["order_type"].as_str().unwrap_or("").to_owned(),
                    exit["trade_type"].as_str().unwrap_or("").to_owned(),
                    exit["client_order_id"].as_str().unwrap_or("").to_owned(),
                    exit["amount"].clone(),
                )
            })
            .collect();
        placed.sort_by(|a, b| a.0.cmp(&b.0));
        let filled = get(&entry)["filled_amount"].clone();
        assert_eq!(
            placed
                .iter()
                .map(|(kind, side, _, amount)| (kind.as_str(), side.as_str(), amount.clone()))
                .collect::<Vec<_>>(),
            [
                ("STOP_LIMIT", "SELL", filled.clone()),
                ("TAKE_PROFIT_MARKET", "SELL", filled),
            ],
            "{exchange}"
        );
        let (stop, take) = (placed[0].2.clone(), placed[1].2.clone());

        // The take-profit fires and fills; the stop-loss is cancelled.
        venue
            .set_price("BTC", Decimal::from(101_500))
            .expect("price");
        eventually("the take-profit filled", Duration::from_secs(10), || {
            get(&take)["order_state"] == "FILLED"
        })
        .await;
        eventually("the stop-loss cancelled", Duration::from_secs(10), || {
            get(&stop)["order_state"] == "CANCELLED"
        })
        .await;
    }
    emulator.shutdown().await;
    venues.shutdown().await;
}

/// Hyperliquid holds an entry's exits with it (`normalTpsl`, one signed
/// action): the host tracks them from the start, sent and waiting without
/// an exchange id; they go with an entry cancelled unfilled, go live when it
/// fills, and when one fills the exchange cancels the other — the host
/// sends no cancel of its own; one whose trigger the price passed before
/// the entry filled is refused as it is placed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyperliquid_holds_an_entrys_exits_until_it_fills() {
    let seed = "venue exits host";
    let (emulator, maker, files) = with_maker(seed, "").await;
    let events = EventLog::start(&files.events);
    let _host = files.start().await;
    let bracket = || files.limit_buy_with_exits("95000", "120000", "90000");
    let exits = |entry: &str| -> Vec<String> {
        let mut exits: Vec<(String, String)> = files
            .command(json!({"cmd": "open_orders"}))
            .map(|reply| reply["result"]["orders"].clone())
            .into_iter()
            .flat_map(|orders| orders.as_array().cloned().unwrap_or_default())
            .filter(|order| order["parent_client_order_id"] == entry)
            .map(|order| {
                (
                    order["order_type"].as_str().unwrap_or("").to_owned(),
                    order["client_order_id"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        exits.sort();
        exits.into_iter().map(|(_, id)| id).collect()
    };

    // Tracked with the entry, waiting on the exchange without an id.
    let entry = bracket();
    eventually(
        "the entry and its exits open",
        Duration::from_secs(10),
        || exits(&entry).len() == 2 && order(&files, &entry)["order_state"] == "OPEN",
    )
    .await;
    let waiting = exits(&entry);
    for exit in &waiting {
        let exit = order(&files, exit);
        assert_eq!(exit["order_state"], "PENDING_SUBMIT", "{exit}");
        assert_eq!(exit["outcome_unknown"], false, "{exit}");
        assert!(exit["exchange_order_id"].is_null(), "{exit}");
    }
    for (id, needle) in [
        (&entry, "cancel it and place it anew"),
        (&waiting[0], "waits on the exchange for its entry"),
    ] {
        let refused = files
            .command(json!({"cmd": "modify", "client_order_id": id, "price": "94000"}))
            .expect("reply");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains(needle),
            "{refused}"
        );
    }

    // Cancelled with nothing filled: its exits go with it.
    files
        .command(json!({"cmd": "cancel", "client_order_id": entry}))
        .expect("reply");
    eventually("the waiting exits dropped", Duration::from_secs(10), || {
        waiting
            .iter()
            .all(|exit| order(&files, exit)["order_state"] == "CANCELLED")
    })
    .await;

    // Filled: the exchange places the exits; the take-profit fills and the
    // exchange cancels the stop.
    let entry = bracket();
    eventually("the second entry open", Duration::from_secs(10), || {
        exits(&entry).len() == 2 && order(&files, &entry)["order_state"] == "OPEN"
    })
    .await;
    let (stop, take) = match exits(&entry).as_slice() {
        [stop, take] => (stop.clone(), take.clone()),
        other => panic!("exits {other:?}"),
    };
    maker.order(0, false, "95000", "0.001", Tif::Ioc).await;
    eventually(
        "the exits live on the book",
        Duration::from_secs(10),
        || {
            order(&files, &entry)["order_state"] == "FILLED"
                && [&stop, &take].iter().all(|exit| {
                    let exit = order(&files, exit);
                    exit["order_state"] == "OPEN" && exit["exchange_order_id"].is_string()
                })
        },
    )
    .await;
    maker.order(0, true, "121000", "0.001", Tif::Gtc).await;
    emulator
        .set_price("BTC", Decimal::from(121_000))
        .expect("price");
    eventually("the take-profit filled", Duration::from_secs(10), || {
        order(&files, &take)["order_state"] == "FILLED"
    })
    .await;
    eventually(
        "the stop cancelled by the exchange",
        Duration::from_secs(10),
        || order(&files, &stop)["order_state"] == "CANCELLED",
    )
    .await;
    let stop_id: ClientOrderId = stop.parse().expect("client order id");
    assert!(
        !events
            .of(stop_id)
            .iter()
            .any(|(_, state)| state == "PENDING_CANCEL"),
        "the host sent a cancel: {:?}",
        events.of(stop_id)
    );

    // The price passed the stop before the entry filled: the exchange
    // refuses the stop as it places it — it never was on the book.
    let entry = files.limit_buy_with_exits("95000", "120000", "94000");
    eventually("the third entry open", Duration::from_secs(10), || {
        exits(&entry).len() == 2 && order(&files, &entry)["order_state"] == "OPEN"
    })
    .await;
    let (stop, take) = match exits(&entry).as_slice() {
        [stop, take] => (stop.clone(), take.clone()),
        other => panic!("exits {other:?}"),
    };
    emulator
        .set_price("BTC", Decimal::from(93_500))
        .expect("price");
    maker.order(0, false, "95000", "0.001", Tif::Ioc).await;
    eventually(
        "the stop refused, the take-profit open",
        Duration::from_secs(10),
        || {
            order(&files, &stop)["order_state"] == "FAILED"
                && order(&files, &take)["order_state"] == "OPEN"
        },
    )
    .await;
    emulator.shutdown().await;
}

/// The answer to an entry sent with its exits is lost: the entry is
/// settled by a query, and its exits — which the exchange cannot be asked
/// about while it holds them — stay in doubt, never failed, until the
/// entry fills and the exchange places them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_exits_whose_answer_was_lost_wait_for_their_entry_and_are_never_failed() {
    let seed = "lost exits host";
    let (emulator, maker, files) = with_maker(seed, "").await;
    let events = EventLog::start(&files.events);
    let _host = files.start().await;
    emulator
        .set_faults(&hl_emulator::FaultSettings {
            exchange_hang_next: Some(1),
            ws_silence_secs: Some(3),
            ..hl_emulator::FaultSettings::default()
        })
        .expect("faults");
    let entry = files.limit_buy_with_exits("95000", "120000", "90000");
    eventually(
        "the entry found resting by a query",
        Duration::from_secs(15),
        || {
            let entry = order(&files, &entry);
            entry["order_state"] == "OPEN" && entry["exchange_order_id"].is_string()
        },
    )
    .await;
    let exits: Vec<String> = files
        .exits_of(Some("hl"), &entry)
        .iter()
        .filter_map(|exit| exit["client_order_id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(exits.len(), 2, "{exits:?}");
    // Past the action's expiry and a refill: still in doubt, not failed.
    tokio::time::sleep(Duration::from_secs(4)).await;
    for exit in &exits {
        let exit = order(&files, exit);
        assert_eq!(exit["order_state"], "PENDING_SUBMIT", "{exit}");
    }
    maker.order(0, false, "95000", "0.001", Tif::Ioc).await;
    eventually(
        "the exits on the book once the entry filled",
        Duration::from_secs(15),
        || {
            exits.iter().all(|exit| {
                let exit = order(&files, exit);
                exit["order_state"] == "OPEN"
                    && exit["exchange_order_id"].is_string()
                    && exit["outcome_unknown"] == false
            })
        },
    )
    .await;
    for exit in &exits {
        let id: ClientOrderId = exit.parse().expect("client order id");
        assert!(
            !events.of(id).iter().any(|(topic, _)| topic == "failed"),
            "{:?}",
            events.of(id)
        );
    }
    emulator.shutdown().await;
}

/// An entry whose exits the exchange holds, partly filled and then
/// cancelled: the exchange places its exits (at their own size; reduce-only
/// keeps them to the position), the host follows them, and places none of
/// its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_exits_of_an_entry_cancelled_after_a_partial_fill_go_on_the_book() {
    let seed = "partial exits host";
    let (emulator, maker, files) = with_maker(seed, "").await;
    let _host = files.start().await;
    let entry = resting_entry(&files, "90000").await;
    maker.order(0, false, "95000", "0.0004", Tif::Ioc).await;
    eventually("partly filled", Duration::from_secs(10), || {
        order(&files, &entry)["order_state"] == "PARTIALLY_FILLED"
    })
    .await;
    files
        .command(json!({"cmd": "cancel", "client_order_id": entry}))
        .expect("reply");
    eventually(
        "the entry cancelled, its two exits on the book",
        Duration::from_secs(10),
        || {
            let exits = files.exits_of(Some("hl"), &entry);
            order(&files, &entry)["order_state"] == "CANCELLED"
                && exits.len() == 2
                && exits.iter().all(|exit| {
                    exit["order_state"] == "OPEN" && exit["exchange_order_id"].is_string()
                })
        },
    )
    .await;
    // No exits of the host's own beside the exchange's.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(files.exits_of(Some("hl"), &entry).len(), 2);
    emulator.shutdown().await;
}

/// Exits the host holds follow their entry's fills where the venue can
/// modify a waiting trigger order: placed at the first partial fill for
/// what filled, resized by a modify as the entry fills more, and left at
/// what filled when the rest of the entry is cancelled — on the host and
/// on the exchange.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exits_the_host_holds_follow_their_entrys_fills() {
    let seed = "following exits host";
    let (emulator, maker, files) = with_maker(seed, "attached_exits = \"host\"\n").await;
    let _host = files.start().await;
    let entry = resting_entry(&files, "90000").await;
    let exits_at = |amount: &'static str| {
        let (files, entry) = (&files, &entry);
        move || {
            let exits = files.exits_of(Some("hl"), entry);
            exits.len() == 2
                && exits.iter().all(|exit| {
                    exit["order_state"] == "OPEN"
                        && exit["exchange_order_id"].is_string()
                        && exit["amount"] == json!(amount.parse::<f64>().unwrap_or(0.0))
                })
        }
    };
    maker.order(0, false, "95000", "0.0004", Tif::Ioc).await;
    eventually(
        "both exits on the book at the first fill",
        Duration::from_secs(10),
        exits_at("0.0004"),
    )
    .await;
    assert_eq!(order(&files, &entry)["order_state"], "PARTIALLY_FILLED");
    maker.order(0, false, "95000", "0.0003", Tif::Ioc).await;
    eventually(
        "both exits resized to the second fill",
        Duration::from_secs(10),
        exits_at("0.0007"),
    )
    .await;
    files
        .command(json!({"cmd": "cancel", "client_order_id": entry}))
        .expect("reply");
    eventually("the entry cancelled", Duration::from_secs(10), || {
        order(&files, &entry)["order_state"] == "CANCELLED"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(exits_at("0.0007")(), "the exits stay at what filled");
    // The exchange's own list: the two trigger orders, at what filled.
    let listed: Value = reqwest::Client::new()
        .post(format!("{}/info", emulator.base_url()))
        .json(&json!({"type": "frontendOpenOrders",
                      "user": common::orders::key(seed).address().to_string()}))
        .send()
        .await
        .expect("info")
        .json()
        .await
        .expect("json");
    let sizes: Vec<(bool, &str)> = listed
        .as_array()
        .expect("open orders")
        .iter()
        .map(|order| {
            (
                order["isTrigger"].as_bool().unwrap_or(false),
                order["sz"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(sizes, [(true, "0.0007"), (true, "0.0007")], "{listed}");
    emulator.shutdown().await;
}

/// The exchange refuses a held exit as the entry fills (its trigger
/// passed) while every user-stream frame arrives garbled: the refill that
/// follows asks the exchange about the exit — its sender is the exchange
/// now — and finds it refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_exit_refused_while_its_report_was_lost_is_found_failed() {
    let seed = "garbled exits host";
    let (emulator, maker, files) = with_maker(seed, "").await;
    let _host = files.start().await;
    let entry = resting_entry(&files, "94000").await;
    let exits: Vec<(String, String)> = files
        .exits_of(Some("hl"), &entry)
        .iter()
        .map(|exit| {
            (
                exit["order_type"].as_str().unwrap_or("").to_owned(),
                exit["client_order_id"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let id_of_kind = |kind: &str| {
        exits
            .iter()
            .find(|(order_type, _)| order_type == kind)
            .map(|(_, id)| id.clone())
            .unwrap_or_else(|| panic!("no {kind} in {exits:?}"))
    };
    let (stop, take) = (id_of_kind("STOP_MARKET"), id_of_kind("TAKE_PROFIT_MARKET"));
    emulator
        .set_price("BTC", Decimal::from(93_500))
        .expect("price");
    emulator
        .set_faults(&hl_emulator::FaultSettings {
            ws_malformed_probability: Some(1.0),
            ..hl_emulator::FaultSettings::default()
        })
        .expect("faults");
    maker.order(0, false, "95000", "0.001", Tif::Ioc).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    emulator
        .set_faults(&hl_emulator::FaultSettings {
            reset: true,
            ..hl_emulator::FaultSettings::default()
        })
        .expect("faults");
    eventually(
        "the entry filled, the stop refused, the take-profit open",
        Duration::from_secs(15),
        || {
            order(&files, &entry)["order_state"] == "FILLED"
                && order(&files, &stop)["order_state"] == "FAILED"
                && order(&files, &take)["order_state"] == "OPEN"
        },
    )
    .await;
    emulator.shutdown().await;
}
