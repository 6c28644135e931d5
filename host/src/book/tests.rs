use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;

fn level(price: i64, size: i64) -> BookLevel {
    BookLevel {
        price: Decimal::new(price, 1),
        size: Decimal::new(size, 0),
        orders: 1,
    }
}

fn synced(seq: u64) -> OrderBook {
    let mut book = OrderBook::new();
    book.apply_snapshot(
        [level(1000, 1), level(990, 2)],
        [level(1010, 1), level(1020, 3)],
        seq,
        1,
    );
    book
}

#[test]
fn snapshot_gives_best_prices_mid_and_spread() {
    let book = synced(10);
    assert_eq!(book.best_bid().unwrap().price, Decimal::new(1000, 1));
    assert_eq!(book.best_ask().unwrap().price, Decimal::new(1010, 1));
    assert_eq!(book.mid().unwrap(), Decimal::new(1005, 1));
    assert_eq!(book.spread().unwrap(), Decimal::new(10, 1));
    assert_eq!(book.depth(1).0.len(), 1);
    assert_eq!(book.depth(10).1.len(), 2);
    assert_eq!(book.status(), &BookStatus::Synced);
}

#[test]
fn unsorted_snapshots_are_sorted_and_empty_levels_dropped() {
    let mut book = OrderBook::new();
    book.apply_snapshot(
        [level(990, 2), level(1000, 0), level(995, 1)],
        [level(1020, 3), level(1010, 1)],
        0,
        5,
    );
    let (bids, asks) = book.depth(10);
    assert_eq!(
        bids.iter().map(|l| l.price).collect::<Vec<_>>(),
        [Decimal::new(995, 1), Decimal::new(990, 1)]
    );
    assert_eq!(asks[0].price, Decimal::new(1010, 1));
}

#[test]
fn deltas_update_insert_and_delete_levels() {
    let mut book = synced(10);
    book.apply_delta([level(1005, 4), level(990, 0)], [level(1010, 7)], 11, 2)
        .unwrap();
    let (bids, asks) = book.depth(10);
    assert_eq!(bids, &[level(1005, 4), level(1000, 1)]);
    assert_eq!(asks[0], level(1010, 7));
    assert_eq!(book.seq(), 11);
}

#[test]
fn a_delta_is_refused_by_a_book_without_a_snapshot_or_a_stale_one() {
    let mut book = OrderBook::new();
    assert_eq!(
        book.apply_delta([level(1, 1)], [], 3, 1),
        Err(NotInSync { seq: 3 })
    );
    assert_eq!(book.depth(10).0.len(), 0, "nothing applied");
    let mut book = synced(10);
    book.mark_stale("sequence gap");
    assert_eq!(
        book.apply_delta([level(1, 1)], [], 11, 1),
        Err(NotInSync { seq: 11 })
    );
}

#[test]
fn a_snapshot_replaces_the_book_whatever_its_update_id() {
    // A venue's reset (its update id starting again) is the plugin's to
    // recognize; the book applies what it is given.
    let mut book = synced(5_000);
    book.apply_snapshot([level(900, 1)], [], 1, 2);
    assert_eq!(book.seq(), 1);
    assert_eq!(book.depth(10).0, &[level(900, 1)]);
}

#[test]
fn a_fresh_snapshot_recovers_a_stale_book() {
    let mut book = synced(10);
    book.mark_stale("connection lost");
    assert!(matches!(book.status(), BookStatus::Stale(_)));
    book.apply_snapshot([level(1000, 1)], [level(1001, 1)], 5, 1);
    assert_eq!(book.status(), &BookStatus::Synced);
}

#[derive(Debug, Clone)]
enum Step {
    Snapshot(Vec<(i64, i64)>, Vec<(i64, i64)>),
    Delta(Vec<(i64, i64)>, Vec<(i64, i64)>),
    Stale,
}

fn side() -> impl Strategy<Value = Vec<(i64, i64)>> {
    prop::collection::vec((1i64..200, 0i64..5), 0..12)
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => (side(), side()).prop_map(|(b, a)| Step::Snapshot(b, a)),
        4 => (side(), side()).prop_map(|(b, a)| Step::Delta(b, a)),
        1 => Just(Step::Stale),
    ]
}

fn levels(raw: &[(i64, i64)]) -> Vec<BookLevel> {
    raw.iter().map(|&(p, s)| level(p, s)).collect()
}

proptest! {
    #[test]
    fn random_updates_keep_the_book_sorted_and_positive(steps in prop::collection::vec(step(), 1..60)) {
        let mut book = OrderBook::new();
        let mut seq = 0u64;
        for step in steps {
            match step {
                Step::Snapshot(bids, asks) => {
                    seq += 1;
                    book.apply_snapshot(levels(&bids), levels(&asks), seq, seq);
                }
                Step::Delta(bids, asks) => {
                    seq += 1;
                    let synced = book.status() == &BookStatus::Synced;
                    let result = book.apply_delta(levels(&bids), levels(&asks), seq, seq);
                    prop_assert_eq!(result.is_ok(), synced);
                }
                Step::Stale => book.mark_stale("test"),
            }
            let (bids, asks) = book.depth(usize::MAX);
            prop_assert!(bids.windows(2).all(|w| w[0].price > w[1].price));
            prop_assert!(asks.windows(2).all(|w| w[0].price < w[1].price));
            prop_assert!(bids.iter().chain(asks).all(|l| l.size > Decimal::ZERO));
        }
    }
}
