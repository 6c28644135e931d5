//! Books kept by a plugin's sync rules, through the `testex` fixture plugin
//! and a venue served here: the host applies what the plugin hands it and
//! marks a book stale when the plugin says so, whatever the venue's
//! sequence rules — Bybit-style snapshots and deltas with resets, and
//! Binance-style diffs bridged from a REST snapshot.

mod common;

use std::time::Duration;

use common::orders::eventually;
use common::testex::{Host, Venue, lock, serve};
use connector_host::book::BookStatus;
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn d(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

/// How often the venue's market socket was asked to (un)subscribe `market`.
fn asked(venue: &Venue, op: &str, market: &str) -> usize {
    lock(venue)
        .received
        .iter()
        .filter(|frame| frame["op"] == op && frame["book"] == market)
        .count()
}

async fn until_asked(venue: &Venue, op: &str, market: &str, times: usize) {
    eventually(
        &format!("{op} {market} x{times}"),
        Duration::from_secs(10),
        || asked(venue, op, market) >= times,
    )
    .await;
}

/// Waits until the host's book of `market` is in sync at `seq` with `bid`
/// as its best bid.
async fn until_synced(host: &Host, market: &str, seq: u64, bid: &str) {
    eventually(
        &format!("{market} in sync at {seq}, best bid {bid}"),
        Duration::from_secs(10),
        || {
            host.book(market).is_some_and(|book| {
                book.status() == &BookStatus::Synced
                    && book.seq() == seq
                    && book.best_bid().map(|level| level.price) == Some(d(bid))
            })
        },
    )
    .await;
}

async fn until_stale(host: &Host, market: &str) {
    eventually(&format!("{market} stale"), Duration::from_secs(10), || {
        host.book(market)
            .is_some_and(|book| matches!(book.status(), BookStatus::Stale(_)))
    })
    .await;
}

fn book(market: &str, kind: &str, u: u64, bids: Value) -> Value {
    json!({"book": market, "type": kind, "u": u, "bids": bids, "asks": [["20", "1"]]})
}

fn diff(market: &str, first: u64, last: u64, prev: u64, bids: Value) -> Value {
    json!({"diff": market, "U": first, "u": last, "pu": prev, "bids": bids, "asks": []})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resetting_book_follows_its_deltas_and_resets_and_resubscribes_once_per_gap() {
    let venue = Venue::default();
    lock(&venue).markets.push("RST".into());
    let host = Host::start(serve(venue.clone()).await, None, &["RST"]).await;
    until_asked(&venue, "subscribe", "RST", 1).await;

    venue.send(book(
        "RST",
        "snapshot",
        100,
        json!([["10", "1"], ["9", "1"]]),
    ));
    venue.send(book(
        "RST",
        "delta",
        101,
        json!([["10.5", "2"], ["9", "0"]]),
    ));
    until_synced(&host, "RST", 101, "10.5").await;
    let levels = host.book("RST").expect("book").depth(10).0.len();
    assert_eq!(levels, 2, "9 deleted, 10.5 added");

    // A skipped update id: stale, and one resubscription however many
    // deltas follow before the fresh snapshot.
    venue.send(book("RST", "delta", 103, json!([["11", "1"]])));
    until_stale(&host, "RST").await;
    venue.send(book("RST", "delta", 104, json!([["11", "1"]])));
    venue.send(book("RST", "delta", 105, json!([["11", "1"]])));
    until_asked(&venue, "subscribe", "RST", 2).await;
    venue.send(book("RST", "snapshot", 105, json!([["12", "1"]])));
    until_synced(&host, "RST", 105, "12").await;
    assert_eq!(asked(&venue, "unsubscribe", "RST"), 1);
    assert_eq!(asked(&venue, "subscribe", "RST"), 2);

    // The venue restarted: a snapshot with u = 1 replaces the book, and
    // its deltas continue from it.
    venue.send(book("RST", "snapshot", 1, json!([["8", "1"]])));
    venue.send(book("RST", "delta", 2, json!([["8.5", "1"]])));
    until_synced(&host, "RST", 2, "8.5").await;

    // The socket drops: the plugin marks the book stale; on reconnect it
    // subscribes again and the snapshot restores the book.
    venue.drop_sockets();
    until_stale(&host, "RST").await;
    until_asked(&venue, "subscribe", "RST", 3).await;
    venue.send(book("RST", "snapshot", 40, json!([["7", "1"]])));
    until_synced(&host, "RST", 40, "7").await;
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridged_book_buffers_until_its_snapshot_bridges_and_fetches_once_per_gap() {
    let venue = Venue::default();
    {
        let mut state = lock(&venue);
        state.markets.push("BRG".into());
        state.depth.insert(
            "BRG".into(),
            json!({"lastUpdateId": 163, "bids": [["10", "1"]], "asks": [["20", "1"]]}),
        );
    }
    let host = Host::start(serve(venue.clone()).await, None, &["BRG"]).await;
    until_asked(&venue, "subscribe", "BRG", 1).await;
    let fetches = || lock(&venue).depth_fetches.get("BRG").copied().unwrap_or(0);

    // Binance's rule: drop diffs with u < 163, bridge with U <= 163 <= u,
    // then chain by pu — whenever the snapshot's answer lands among them.
    venue.send(diff("BRG", 157, 160, 156, json!([["1", "1"]])));
    venue.send(diff("BRG", 161, 165, 160, json!([["10.5", "1"]])));
    venue.send(diff("BRG", 166, 170, 165, json!([["10.6", "1"]])));
    until_synced(&host, "BRG", 170, "10.6").await;
    let bids = host.book("BRG").expect("book").depth(10).0.to_vec();
    assert!(
        bids.iter().all(|level| level.price != d("1")),
        "the diff before the snapshot was dropped: {bids:?}"
    );
    assert_eq!(fetches(), 1);

    // A broken pu chain: stale, one fetch for the gap, and the diffs that
    // follow wait for it.
    lock(&venue).depth.insert(
        "BRG".into(),
        json!({"lastUpdateId": 195, "bids": [["11", "1"]], "asks": [["20", "1"]]}),
    );
    venue.send(diff("BRG", 181, 190, 180, json!([["11.1", "1"]])));
    venue.send(diff("BRG", 191, 200, 190, json!([["11.2", "1"]])));
    until_synced(&host, "BRG", 200, "11.2").await;
    assert_eq!(fetches(), 2, "one fetch for the gap");

    // A snapshot older than the stream cannot be bridged: fetched again,
    // after the plugin's delay (its timer), not in a loop.
    lock(&venue).depth.insert(
        "BRG".into(),
        json!({"lastUpdateId": 150, "bids": [["1", "1"]], "asks": [["20", "1"]]}),
    );
    venue.send(diff("BRG", 211, 220, 210, json!([["12", "1"]])));
    until_stale(&host, "BRG").await;
    eventually(
        "the first fetch for the gap",
        Duration::from_secs(10),
        || fetches() == 3,
    )
    .await;
    lock(&venue).depth.insert(
        "BRG".into(),
        json!({"lastUpdateId": 225, "bids": [["12.5", "1"]], "asks": [["20", "1"]]}),
    );
    venue.send(diff("BRG", 221, 230, 220, json!([["12.6", "1"]])));
    until_synced(&host, "BRG", 230, "12.6").await;
    assert_eq!(fetches(), 4, "one delayed refetch");
    host.stop().await;
}
