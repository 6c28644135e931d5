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
    let applied = book
        .apply_delta(
            [level(1005, 4), level(990, 0)],
            [level(1010, 7)],
            11,
            11,
            None,
            2,
        )
        .unwrap();
    assert_eq!(applied, Applied::Updated);
    let (bids, asks) = book.depth(10);
    assert_eq!(bids, &[level(1005, 4), level(1000, 1)]);
    assert_eq!(asks[0], level(1010, 7));
    assert_eq!(book.seq(), 11);
}

#[test]
fn a_gap_is_reported_and_marks_the_book_stale() {
    let mut book = synced(10);
    book.apply_delta([], [], 11, 12, None, 2).unwrap();
    let error = book.apply_delta([], [], 14, 15, None, 3).unwrap_err();
    assert_eq!(
        error,
        BookError::Gap {
            book_seq: 12,
            first: 14,
            last: 15,
            prev: None
        }
    );
    assert!(matches!(book.status(), BookStatus::Stale(_)));
    assert!(matches!(
        book.apply_delta([], [], 16, 16, None, 4),
        Err(BookError::NoSnapshot { .. })
    ));
}

#[test]
fn binance_style_prev_sequence_chains_and_gaps() {
    // Snapshot lastUpdateId 100; the first delta straddles it (U <= 100 <= u),
    // later ones chain through pu.
    let mut book = synced(100);
    book.apply_delta([], [], 95, 105, Some(94), 1).unwrap();
    book.apply_delta([], [], 106, 110, Some(105), 2).unwrap();
    assert!(matches!(
        book.apply_delta([], [], 112, 115, Some(111), 3),
        Err(BookError::Gap {
            prev: Some(111),
            ..
        })
    ));
}

#[test]
fn a_delta_that_does_not_reach_the_snapshot_is_a_gap() {
    let mut book = synced(100);
    assert!(book.apply_delta([], [], 102, 103, None, 1).is_err());
}

#[test]
fn old_or_duplicate_updates_are_ignored() {
    let mut book = synced(10);
    book.apply_delta([level(1001, 1)], [], 11, 11, None, 2)
        .unwrap();
    assert_eq!(
        book.apply_delta([level(1002, 1)], [], 11, 11, None, 2),
        Ok(Applied::Outdated)
    );
    assert_eq!(book.best_bid().unwrap().price, Decimal::new(1001, 1));
    // Time-ordered snapshots (no sequence numbers): an older one is ignored.
    let mut timed = OrderBook::new();
    timed.apply_snapshot([level(1000, 1)], [], 0, 200);
    assert_eq!(
        timed.apply_snapshot([level(900, 1)], [], 0, 100),
        Applied::Outdated
    );
    assert_eq!(timed.best_bid().unwrap().price, Decimal::new(1000, 1));
}

#[test]
fn a_fresh_snapshot_recovers_a_stale_book() {
    let mut book = synced(10);
    book.mark_stale("connection lost");
    assert_eq!(
        book.apply_snapshot([level(1000, 1)], [level(1001, 1)], 5, 1),
        Applied::Updated
    );
    assert_eq!(book.status(), &BookStatus::Synced);
}

#[derive(Debug, Clone)]
enum Step {
    Snapshot(Vec<(i64, i64)>, Vec<(i64, i64)>),
    Delta(Vec<(i64, i64)>, Vec<(i64, i64)>, u64),
}

fn side() -> impl Strategy<Value = Vec<(i64, i64)>> {
    prop::collection::vec((1i64..200, 0i64..5), 0..12)
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => (side(), side()).prop_map(|(b, a)| Step::Snapshot(b, a)),
        4 => (side(), side(), 0u64..3).prop_map(|(b, a, skip)| Step::Delta(b, a, skip)),
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
                Step::Delta(bids, asks, skip) => {
                    let first = seq + 1 + skip;
                    let result = book.apply_delta(levels(&bids), levels(&asks), first, first, None, first);
                    match (&result, skip) {
                        (Ok(_), 0) => seq = first,
                        (Err(BookError::Gap { .. }), s) => {
                            prop_assert!(s > 0, "a contiguous delta was called a gap");
                            prop_assert!(matches!(book.status(), BookStatus::Stale(_)));
                        }
                        (Err(BookError::NoSnapshot { .. }), _) => {
                            prop_assert_ne!(book.status(), &BookStatus::Synced);
                        }
                        (other, s) => prop_assert!(false, "unexpected {other:?} for skip {s}"),
                    }
                }
            }
            let (bids, asks) = book.depth(usize::MAX);
            prop_assert!(bids.windows(2).all(|w| w[0].price > w[1].price));
            prop_assert!(asks.windows(2).all(|w| w[0].price < w[1].price));
            prop_assert!(bids.iter().chain(asks).all(|l| l.size > Decimal::ZERO));
        }
    }
}
