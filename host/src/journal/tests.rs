use std::fs;
use std::sync::Arc;

use rust_decimal::Decimal;

use super::*;
use crate::order::{
    ClientIdGenerator, ClientOrderTracker, NewOrder, OrderState, OrderType, OrderUpdate,
    TimeInForce, TradeType, TradeUpdate,
};

fn new_order(id: ClientOrderId) -> NewOrder {
    NewOrder {
        exits: None,
        parent: None,
        trigger_reference: None,
        client_order_id: id,
        exchange: "hl".into(),
        trading_pair: "BTC-USD".into(),
        order_type: OrderType::Limit,
        trade_type: TradeType::Buy,
        position_action: None,
        time_in_force: TimeInForce::Gtc,
        price: Decimal::new(65000, 0),
        amount: Decimal::new(3, 1),
        creation_timestamp_ms: 1_000,
        trigger_price: None,
    }
}

fn fill(id: ClientOrderId, trade_id: &str) -> TradeUpdate {
    TradeUpdate {
        trade_id: trade_id.into(),
        client_order_id: id,
        exchange_order_id: Some("9".into()),
        fill_price: Decimal::new(65000, 0),
        fill_amount: Decimal::new(1, 1),
        fee: Decimal::new(1, 2),
        fee_asset: "USDC".into(),
        timestamp_ms: 2_000,
    }
}

#[test]
fn a_journal_gives_back_every_order_as_it_last_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hl.journal");
    let generator = ClientIdGenerator::with_salt("journal", 1);
    let (open_id, filled_id) = (generator.next(), generator.next());
    {
        let (journal, recovered) = Journal::open(&path, 10_000).unwrap();
        assert!(recovered.orders.is_empty());
        let tracker = ClientOrderTracker::new();
        tracker.add_listener(Arc::new(journal));
        for id in [open_id, filled_id] {
            tracker.start_tracking(new_order(id)).unwrap();
            tracker.mark_submitted(id, 1_500).unwrap();
        }
        tracker.process_trade_update(&fill(open_id, "a")).unwrap();
        for trade in ["b", "c", "d"] {
            tracker
                .process_trade_update(&fill(filled_id, trade))
                .unwrap();
        }
        tracker
            .process_order_update(&OrderUpdate {
                client_order_id: open_id,
                exchange_order_id: None,
                new_state: OrderState::PendingCancel,
                timestamp_ms: 3_000,
                reason: None,
            })
            .unwrap();
        // Dropping the tracker drops the journal, which syncs what was written.
    }
    // A crash mid-write leaves a torn last line.
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str("{\"client_order_id\":\"0x00");
    fs::write(&path, text).unwrap();

    let (_journal, recovered) = Journal::open(&path, 10_000).unwrap();
    assert_eq!(recovered.unreadable_lines, 1);
    assert_eq!(recovered.orders.len(), 2);
    let open = &recovered.orders[0];
    assert_eq!(open.spec.client_order_id, open_id);
    assert_eq!(open.state, OrderState::PendingCancel);
    assert_eq!(open.filled_amount, Decimal::new(1, 1));
    assert!(open.has_trade("a"));
    let filled = &recovered.orders[1];
    assert_eq!(filled.state, OrderState::Filled);
    assert_eq!(filled.fill_count(), 3);
    assert_eq!(filled.fee_paid(), Decimal::new(3, 2));
    // Compaction left one line per order.
    assert_eq!(fs::read_to_string(&path).unwrap().lines().count(), 2);
}

#[test]
fn old_closed_orders_are_compacted_away() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hl.journal");
    let generator = ClientIdGenerator::with_salt("journal", 2);
    let (closed, live) = (generator.next(), generator.next());
    {
        let (journal, _) = Journal::open(&path, 0).unwrap();
        let tracker = ClientOrderTracker::new();
        tracker.add_listener(Arc::new(journal));
        for id in [closed, live] {
            tracker.start_tracking(new_order(id)).unwrap();
        }
        tracker
            .fail(
                closed,
                crate::order::FailureCause::NotSent("test".into()),
                1_000,
            )
            .unwrap();
    }
    let (_, soon) = Journal::open(&path, 1_000 + RETENTION_MS - 1).unwrap();
    assert_eq!(soon.orders.len(), 2);
    let (_, later) = Journal::open(&path, 1_000 + RETENTION_MS + 1).unwrap();
    assert_eq!(later.orders.len(), 1, "the live order stays however old");
    assert_eq!(later.orders[0].spec.client_order_id, live);
}

#[test]
fn a_change_is_in_the_file_once_the_listeners_have_been_told() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hl.journal");
    let id = ClientIdGenerator::with_salt("journal", 3).next();
    let (journal, _) = Journal::open(&path, 0).unwrap();
    let journal = Arc::new(journal);
    let tracker = ClientOrderTracker::new();
    tracker.add_listener(Arc::clone(&journal) as Arc<dyn OrderListener>);
    tracker.start_tracking(new_order(id)).unwrap();
    // Not closed, not synced: a process killed now still leaves the order
    // in the file.
    let found = read(&path).unwrap();
    assert_eq!(found.orders.len(), 1);
    assert_eq!(found.orders[0].spec.client_order_id, id);
    assert_eq!(found.orders[0].state, OrderState::PendingCreate);

    journal.close();
    tracker.mark_submitted(id, 1_500).unwrap();
    assert_eq!(
        read(&path).unwrap().orders[0].state,
        OrderState::PendingCreate,
        "a closed journal takes no more changes"
    );
}

#[test]
fn history_and_fills_come_from_the_journal_by_market_and_time() {
    use super::query::{Window, fills, orders};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hl.journal");
    let generator = ClientIdGenerator::with_salt("journal", 4);
    let (early, late, eth) = (generator.next(), generator.next(), generator.next());
    {
        let (journal, _) = Journal::open(&path, 0).unwrap();
        let tracker = ClientOrderTracker::new();
        tracker.add_listener(Arc::new(journal));
        for (id, pair, created) in [
            (early, "BTC-USD", 1_000),
            (late, "BTC-USD", 5_000),
            (eth, "ETH-USD", 1_000),
        ] {
            let mut order = new_order(id);
            order.trading_pair = pair.into();
            order.creation_timestamp_ms = created;
            tracker.start_tracking(order).unwrap();
            tracker.mark_submitted(id, created).unwrap();
        }
        // `early` fills completely by 4,000 (three fills); `late` and
        // `eth` stay open, `late` with one fill at 6,000.
        for (trade, at) in [("a", 2_000), ("b", 3_000), ("c", 4_000)] {
            let mut trade = fill(early, trade);
            trade.timestamp_ms = at;
            tracker.process_trade_update(&trade).unwrap();
        }
        let mut trade = fill(late, "d");
        trade.timestamp_ms = 6_000;
        tracker.process_trade_update(&trade).unwrap();
    }
    let window = |pair: Option<&str>, since, until| Window {
        trading_pair: pair.map(str::to_owned),
        since_ms: since,
        until_ms: until,
    };
    let ids = |found: Vec<InFlightOrder>| {
        let mut ids: Vec<ClientOrderId> = found.iter().map(|o| o.spec.client_order_id).collect();
        ids.sort();
        ids
    };
    let sorted = |mut ids: Vec<ClientOrderId>| {
        ids.sort();
        ids
    };
    assert_eq!(
        ids(orders(&path, &window(None, None, None)).unwrap()),
        sorted(vec![early, late, eth])
    );
    assert_eq!(
        ids(orders(&path, &window(Some("BTC-USD"), None, None)).unwrap()),
        sorted(vec![early, late])
    );
    // `early` closed at 4,000: not alive from 4,001 on; `late` was created at 5,000.
    assert_eq!(
        ids(orders(&path, &window(Some("BTC-USD"), Some(4_001), None)).unwrap()),
        vec![late]
    );
    assert_eq!(
        ids(orders(&path, &window(Some("BTC-USD"), Some(4_000), Some(5_000))).unwrap()),
        vec![early]
    );
    // A live order is alive whenever after its creation.
    assert_eq!(
        ids(orders(&path, &window(Some("ETH-USD"), Some(1_000_000), None)).unwrap()),
        vec![eth]
    );

    let trades = |since, until| -> Vec<String> {
        let mut found: Vec<(u64, String)> = fills(&path, &window(None, since, until))
            .unwrap()
            .into_iter()
            .map(|(_, fill)| (fill.timestamp_ms, fill.trade_id))
            .collect();
        found.sort();
        found.into_iter().map(|(_, id)| id).collect()
    };
    assert_eq!(trades(None, None), ["a", "b", "c", "d"]);
    assert_eq!(trades(Some(3_000), Some(6_000)), ["b", "c"]);
    let (order, fill) = fills(&path, &window(None, Some(6_000), None))
        .unwrap()
        .remove(0);
    assert_eq!(
        (order.spec.client_order_id, fill.price, fill.amount),
        (late, Decimal::new(65000, 0), Decimal::new(1, 1))
    );
}

/// A journal at `path` compacted while it runs once 4 KiB were appended,
/// heard by a new tracker that tracks `count` new orders (ids salted with
/// `salt`); the journal, the tracker and the ids.
fn compacting_journal(
    path: &Path,
    salt: u32,
    count: usize,
) -> (Arc<Journal>, ClientOrderTracker, Vec<ClientOrderId>) {
    let generator = ClientIdGenerator::with_salt("journal", salt);
    let ids: Vec<ClientOrderId> = (0..count).map(|_| generator.next()).collect();
    let (journal, _) = Journal::open_with(
        path,
        0,
        JournalOptions {
            compact_after: 4_096,
            ..JournalOptions::default()
        },
    )
    .unwrap();
    let journal = Arc::new(journal);
    let tracker = ClientOrderTracker::new();
    tracker.add_listener(Arc::clone(&journal) as Arc<dyn crate::order::OrderListener>);
    for id in &ids {
        tracker.start_tracking(new_order(*id)).unwrap();
    }
    (journal, tracker, ids)
}

/// The journal at `path` read back, every line readable and every order
/// as `tracker` has it.
fn read_back_as_tracked(path: &Path, tracker: &ClientOrderTracker) -> Vec<InFlightOrder> {
    let recovered = read(path).unwrap();
    assert_eq!(recovered.unreadable_lines, 0);
    for order in &recovered.orders {
        assert_eq!(
            Some(order),
            tracker.get(order.spec.client_order_id).as_ref()
        );
    }
    recovered.orders
}

#[test]
fn a_running_journal_is_compacted_and_keeps_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hl.journal");
    let (journal, tracker, ids) = compacting_journal(&path, 5, 5);
    for id in &ids {
        tracker.mark_submitted(*id, 1_500).unwrap();
    }
    // Many changes: far more than 4 KiB of records (310 lines uncompacted).
    for round in 0..60u64 {
        for id in &ids {
            tracker
                .amend(
                    *id,
                    Decimal::new(65000 + round as i64, 0),
                    Decimal::new(3, 1),
                    Decimal::ZERO,
                    None,
                    2_000 + round,
                )
                .unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    tracker.process_trade_update(&fill(ids[0], "a")).unwrap();
    journal.close();
    let lines = fs::read_to_string(&path).unwrap().lines().count();
    assert!(lines < 5 * 60, "{lines} lines: not compacted");
    // Every order as the tracker has it, the last change included.
    let orders = read_back_as_tracked(&path, &tracker);
    assert_eq!(orders.len(), ids.len());
    assert!(orders[0].has_trade("a"));
}

#[test]
fn a_running_journal_compacts_old_closed_orders_away_and_keeps_the_order_of_first_sight() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hl.journal");
    let (journal, tracker, ids) = compacting_journal(&path, 6, 6);
    // Every other order closed in 1970: older than any retention by the
    // time a live compaction runs.
    let (closed, live): (Vec<ClientOrderId>, Vec<ClientOrderId>) = ids
        .iter()
        .partition(|id| ids.iter().position(|x| x == *id).unwrap() % 2 == 0);
    for id in &closed {
        tracker
            .fail(
                *id,
                crate::order::FailureCause::NotSent("test".into()),
                1_000,
            )
            .unwrap();
    }
    // Changes to the live ones until compactions ran (300 records, about
    // a hundred kilobytes, against 4 KiB).
    for round in 0..100u64 {
        for id in &live {
            tracker.mark_submitted(*id, 2_000 + round).unwrap();
        }
        if round % 10 == 0 {
            std::thread::sleep(std::time::Duration::from_millis(15));
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    journal.close();
    let found: Vec<ClientOrderId> = read_back_as_tracked(&path, &tracker)
        .iter()
        .map(|order| order.spec.client_order_id)
        .collect();
    assert_eq!(
        found, live,
        "the closed ones gone, the live ones in their order"
    );
    let lines = fs::read_to_string(&path).unwrap().lines().count();
    assert!(lines < 150, "{lines} lines: not compacted");
}

/// An entry still working, its exit closed long ago, and an unrelated
/// order closed as long ago, journaled; the exit's record says the entry's
/// exits were placed.
fn entry_with_a_closed_exit(path: &Path) -> [ClientOrderId; 3] {
    let generator = ClientIdGenerator::with_salt("journal", 9);
    let (entry, exit, other) = (generator.next(), generator.next(), generator.next());
    let (journal, _) = Journal::open(path, 0).unwrap();
    let tracker = ClientOrderTracker::new();
    tracker.add_listener(Arc::new(journal));
    tracker.start_tracking(new_order(entry)).unwrap();
    for (id, parent) in [(exit, Some(entry)), (other, None)] {
        tracker
            .start_tracking(NewOrder {
                parent,
                ..new_order(id)
            })
            .unwrap();
        tracker
            .fail(
                id,
                crate::order::FailureCause::NotSent("test".into()),
                1_000,
            )
            .unwrap();
    }
    [entry, exit, other]
}

#[test]
fn closed_orders_of_a_live_order_outlive_the_retention() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hl.journal");
    let [entry, exit, _] = entry_with_a_closed_exit(&path);
    let (_, later) = Journal::open(&path, 1_000 + RETENTION_MS + 1).unwrap();
    let found: Vec<ClientOrderId> = later
        .orders
        .iter()
        .map(|order| order.spec.client_order_id)
        .collect();
    assert_eq!(found, [entry, exit], "the entry works: its exit stays");

    // The same while the journal runs (its compaction streams the file).
    let file = fs::read(&path).unwrap();
    let spans = |parents| {
        last_records(
            &file[..],
            |order| kept(order, 1_000 + RETENTION_MS + 1),
            parents,
        )
        .unwrap()
        .len()
    };
    assert_eq!(spans(Parents::KeepChildrenOfLive), 2);
    assert_eq!(spans(Parents::Ignored), 1, "queries take what they ask for");
}
