use abi_stable::std_types::RVec;

use super::*;
use crate::{Dec, Level};

fn level(price: i64, size: i64) -> Level {
    Level {
        price: Dec::new(price, 0),
        size: Dec::new(size, 0),
        orders: 0,
    }
}

fn update(seq: u64, bid: i64) -> BookUpdate {
    BookUpdate {
        market: "BTCUSDT".into(),
        is_snapshot: false,
        bids: RVec::from(vec![level(bid, 1)]),
        asks: RVec::new(),
        seq,
        time_ms: 0,
    }
}

/// The (is_snapshot, seq) of each book event, and the stale reasons.
fn summary(step: &SyncStep) -> Vec<String> {
    step.events
        .iter()
        .map(|event| match event {
            Event::Book(book) if book.is_snapshot => format!("snapshot {}", book.seq),
            Event::Book(book) => format!("delta {}", book.seq),
            Event::BookStale { .. } => "stale".to_owned(),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn a_resetting_book_chains_deltas_one_by_one_and_resubscribes_once_per_gap() {
    let mut book = ResettingBook::new("BTCUSDT");
    assert_eq!(summary(&book.snapshot(update(100, 1), 0)), ["snapshot 100"]);
    assert_eq!(summary(&book.delta(update(101, 2), 0)), ["delta 101"]);
    assert_eq!(
        book.delta(update(101, 2), 0),
        SyncStep::default(),
        "a repeat"
    );
    let gap = book.delta(update(103, 3), 0);
    assert_eq!(summary(&gap), ["stale"]);
    assert_eq!(gap.repair, Some(Repair::Resubscribe));
    // While the resubscription is under way, nothing more is asked.
    assert_eq!(book.delta(update(104, 3), 0), SyncStep::default());
    assert_eq!(summary(&book.snapshot(update(104, 4), 0)), ["snapshot 104"]);
    assert_eq!(summary(&book.delta(update(105, 5), 0)), ["delta 105"]);
}

#[test]
fn a_snapshot_with_update_id_one_is_a_reset_not_an_outdated_message() {
    let mut book = ResettingBook::new("BTCUSDT");
    book.snapshot(update(5_000, 1), 0);
    book.delta(update(5_001, 1), 0);
    // Bybit after a service restart: a snapshot with u = 1.
    let reset = book.snapshot(update(1, 9), 0);
    assert_eq!(summary(&reset), ["snapshot 1"]);
    assert_eq!(reset.repair, None);
    assert_eq!(summary(&book.delta(update(2, 9), 0)), ["delta 2"]);
}

#[test]
fn a_snapshot_older_than_the_book_makes_it_stale_and_older_deltas_are_ignored() {
    let mut book = ResettingBook::new("BTCUSDT");
    book.snapshot(update(1, 1), 500);
    book.delta(update(2, 2), 501);
    // The same snapshot again, late (a repeat, or one of a subscription
    // before): applied, its old levels would sit under the deltas to come.
    let late = book.snapshot(update(1, 1), 500);
    assert_eq!(summary(&late), ["stale"]);
    assert_eq!(late.repair, Some(Repair::Resubscribe));
    // The resubscription's snapshot restores it, whatever its cross.
    assert_eq!(summary(&book.snapshot(update(1, 3), 510)), ["snapshot 1"]);
    // A delta of the earlier subscription, numbered as the next one here
    // but older: ignored; the real next one applies.
    assert_eq!(book.delta(update(2, 2), 502), SyncStep::default());
    assert_eq!(summary(&book.delta(update(2, 4), 511)), ["delta 2"]);
    // A newer snapshot still replaces the book; venues without a cross
    // sequence (zero) keep the update-id rules alone.
    assert_eq!(summary(&book.snapshot(update(1, 5), 520)), ["snapshot 1"]);
    assert_eq!(summary(&book.snapshot(update(1, 6), 0)), ["snapshot 1"]);
}

#[test]
fn a_delta_numbered_after_a_reset_the_book_never_saw_makes_it_stale() {
    let mut book = ResettingBook::new("BTCUSDT");
    book.snapshot(update(1, 1), 500);
    book.delta(update(2, 2), 501);
    book.delta(update(3, 3), 502);
    // A repeat of the last delta: same cross sequence, ignored.
    assert_eq!(book.delta(update(3, 3), 502), SyncStep::default());
    // The venue reset (a `u = 1` snapshot, lost on the way) and numbers
    // anew: its second delta is newer than the book by its cross sequence.
    let after_reset = book.delta(update(2, 7), 510);
    assert_eq!(summary(&after_reset), ["stale"]);
    assert_eq!(after_reset.repair, Some(Repair::Resubscribe));
    // Without a cross sequence the update-id rules alone apply: ignored.
    let mut plain = ResettingBook::new("BTCUSDT");
    plain.snapshot(update(5, 1), 0);
    assert_eq!(plain.delta(update(2, 7), 0), SyncStep::default());
}

#[test]
fn a_resetting_book_is_stale_when_its_stream_is_lost() {
    let mut book = ResettingBook::new("BTCUSDT");
    assert_eq!(book.lost("down"), SyncStep::default(), "never synced");
    book.snapshot(update(7, 1), 0);
    let lost = book.lost("connection down");
    assert_eq!(summary(&lost), ["stale"]);
    assert_eq!(
        lost.repair, None,
        "the resubscription on reconnect repairs it"
    );
    let early = book.delta(update(8, 1), 0);
    assert_eq!(
        early.repair,
        Some(Repair::Resubscribe),
        "a delta before any snapshot"
    );
}

fn ids(first: u64, last: u64, prev: u64) -> DiffIds {
    DiffIds { first, last, prev }
}

/// Binance's algorithm on its own terms: diffs buffered while the snapshot
/// is fetched; those with `u < L` dropped; the first applied one has
/// `U <= L <= u`; each later one has `pu` equal to the previous `u`.
#[test]
fn a_bridged_book_buffers_diffs_and_bridges_the_snapshot_by_the_documented_rule() {
    let mut book = BridgedBook::new("BTCUSDT");
    let first = book.diff(update(0, 1), ids(157, 160, 156), 0);
    assert_eq!(first.repair, Some(Repair::FetchSnapshot));
    assert!(first.events.is_empty());
    let more = book.diff(update(0, 2), ids(161, 165, 160), 0);
    assert_eq!(more, SyncStep::default(), "one fetch at a time");
    book.diff(update(0, 3), ids(166, 170, 165), 0);

    let bridged = book.snapshot(update(163, 9), 0);
    assert_eq!(
        summary(&bridged),
        ["snapshot 163", "delta 165", "delta 170"],
        "160 < 163 dropped; 161 <= 163 <= 165 bridges; 165 chains to 170"
    );
    assert_eq!(bridged.repair, None);
    assert_eq!(
        summary(&book.diff(update(0, 4), ids(171, 180, 170), 0)),
        ["delta 180"]
    );
    assert_eq!(
        book.diff(update(0, 4), ids(171, 180, 170), 0),
        SyncStep::default()
    );
}

#[test]
fn a_gap_in_the_chain_asks_for_one_fetch_and_the_diffs_after_it_wait_for_the_snapshot() {
    let mut book = BridgedBook::new("BTCUSDT");
    book.diff(update(0, 1), ids(10, 20, 9), 0);
    book.snapshot(update(15, 1), 0);
    // Ids are not contiguous on futures: only `pu` proves continuity.
    assert_eq!(
        summary(&book.diff(update(0, 1), ids(25, 30, 20), 0)),
        ["delta 30"]
    );
    let gap = book.diff(update(0, 1), ids(41, 50, 40), 0);
    assert_eq!(summary(&gap), ["stale"]);
    assert_eq!(gap.repair, Some(Repair::FetchSnapshot));
    for (first, last, prev) in [(51, 60, 50), (61, 70, 60)] {
        assert_eq!(
            book.diff(update(0, 1), ids(first, last, prev), 0),
            SyncStep::default(),
            "no second fetch for the same gap"
        );
    }
    let repaired = book.snapshot(update(55, 1), 0);
    assert_eq!(summary(&repaired), ["snapshot 55", "delta 60", "delta 70"]);
}

#[test]
fn a_snapshot_older_than_the_stream_is_fetched_again_after_a_growing_delay() {
    let mut book = BridgedBook::new("BTCUSDT");
    book.diff(update(0, 1), ids(100, 110, 99), 1_000);
    let stale_snapshot = book.snapshot(update(90, 1), 1_000);
    assert_eq!(
        stale_snapshot,
        SyncStep::default(),
        "90 cannot be bridged by 100..=110"
    );
    assert_eq!(book.next_wakeup(), Some(1_000 + REFETCH_DELAY_MS));
    assert_eq!(book.on_timer(1_100), SyncStep::default(), "not yet due");
    let due = book.on_timer(1_000 + REFETCH_DELAY_MS);
    assert_eq!(due.repair, Some(Repair::FetchSnapshot));
    assert_eq!(book.next_wakeup(), None);
    book.snapshot_failed(2_000);
    assert_eq!(
        book.next_wakeup(),
        Some(2_000 + 2 * REFETCH_DELAY_MS),
        "doubled"
    );
    book.on_timer(3_000);
    assert_eq!(
        summary(&book.snapshot(update(105, 1), 3_000)),
        ["snapshot 105", "delta 110"]
    );
    // In sync again: the next outage's first fetch goes at once.
    assert_eq!(summary(&book.lost("connection down")), ["stale"]);
    let again = book.diff(update(0, 1), ids(200, 210, 199), 4_000);
    assert_eq!(again.repair, Some(Repair::FetchSnapshot));
}

#[test]
fn a_snapshot_nobody_fetched_is_ignored_and_the_buffer_is_bounded() {
    let mut book = BridgedBook::new("BTCUSDT");
    assert_eq!(book.snapshot(update(5, 1), 0), SyncStep::default());
    for n in 0..(MAX_BUFFERED_DIFFS as u64 + 10) {
        book.diff(update(0, 1), ids(n * 10 + 1, n * 10 + 10, n * 10), 0);
    }
    assert_eq!(book.buffer.len(), MAX_BUFFERED_DIFFS);
    // The oldest were dropped: a snapshot from before them cannot bridge.
    assert_eq!(book.snapshot(update(50, 1), 0), SyncStep::default());
    assert!(book.next_wakeup().is_some());
}

/// Found by the three-venue soak: the connection dropped while a snapshot
/// fetch was out; the plugin forgot the fetch (its answer belongs to the
/// old stream), and the book waited for it for ever.
#[test]
fn a_fetch_out_when_the_stream_is_lost_does_not_hold_up_the_next_one() {
    let mut book = BridgedBook::new("BTCUSDT");
    let first = book.diff(update(0, 1), ids(10, 20, 9), 0);
    assert_eq!(first.repair, Some(Repair::FetchSnapshot));
    book.lost("connection down");
    let again = book.diff(update(0, 1), ids(30, 40, 29), 100);
    assert_eq!(again.repair, Some(Repair::FetchSnapshot));
    assert_eq!(
        summary(&book.snapshot(update(35, 1), 100)),
        ["snapshot 35", "delta 40"]
    );
}
