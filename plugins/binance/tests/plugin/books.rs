//! A diff-depth book bridged from a REST snapshot: diffs buffered while
//! the session's own job fetches it, the first diff spanning its
//! `lastUpdateId` bridging, `pu` chaining, and one repair per gap.

use plugin_api::{Event, Exchange, Output, SESSION_JOB, StreamKind};

use super::support::{answer, d, events, plain, session, stream};

fn diff(first: u64, last: u64, prev: u64, bid: &str) -> String {
    format!(
        r#"{{"e":"depthUpdate","E":1,"T":2,"s":"BTCUSDT","U":{first},"u":{last},"pu":{prev},"b":[["{bid}","1.5"]],"a":[["101.0","0"]]}}"#
    )
}

fn fetches(outputs: &[Output]) -> Vec<(u64, String)> {
    outputs
        .iter()
        .filter_map(|output| match output {
            Output::Http { job, request } => Some((*job, request.url.to_string())),
            _ => None,
        })
        .collect()
}

#[test]
fn buffered_diffs_bridge_the_snapshot_and_a_gap_is_repaired_once() {
    let mut session = session();
    let opened = plain(
        session
            .subscribe(&[stream(StreamKind::BOOK, "BTCUSDT")], true, 0)
            .unwrap(),
    );
    assert!(
        matches!(&opened[0], Output::Open(spec) if spec.id == "public" && spec.url == "ws://127.0.0.1:9/public/ws")
    );
    let up = plain(session.on_connection("public", true, "", 0).unwrap());
    assert!(
        matches!(&up[0], Output::Send { text, .. } if text.contains(r#""params":["btcusdt@depth@100ms"]"#))
    );

    // The first diff is buffered and the snapshot fetched, once.
    let first = plain(
        session
            .on_frame("public", &diff(100, 110, 99, "99.0"), 10)
            .unwrap(),
    );
    let fetch = fetches(&first);
    assert_eq!(fetch.len(), 1, "{first:?}");
    let (job, url) = &fetch[0];
    assert_eq!(job & SESSION_JOB, SESSION_JOB);
    assert_eq!(
        url,
        "http://127.0.0.1:9/fapi/v1/depth?symbol=BTCUSDT&limit=1000"
    );
    assert!(events(&first).is_empty());
    let second = plain(
        session
            .on_frame("public", &diff(111, 120, 110, "99.1"), 11)
            .unwrap(),
    );
    assert!(second.is_empty(), "buffered, no second fetch: {second:?}");

    // The snapshot at 115: the first diff is older, the second spans it.
    let snapshot =
        r#"{"lastUpdateId":115,"E":1,"T":2,"bids":[["99.0","2"]],"asks":[["101.0","3"]]}"#;
    let bridged = events(&plain(
        session
            .on_answer(
                *job,
                &answer(200, snapshot, &[("X-MBX-USED-WEIGHT-1M", "25")]),
                12,
            )
            .unwrap(),
    ));
    let books: Vec<(bool, u64)> = bridged
        .iter()
        .filter_map(|event| match event {
            Event::Book(book) => Some((book.is_snapshot, book.seq)),
            _ => None,
        })
        .collect();
    assert_eq!(books, [(true, 115), (false, 120)], "{bridged:?}");
    assert!(
        bridged
            .iter()
            .any(|event| matches!(event, Event::RateLimit(state) if state.remaining == 2_375))
    );
    let Some(Event::Book(delta)) = bridged
        .iter()
        .find(|e| matches!(e, Event::Book(b) if !b.is_snapshot))
    else {
        panic!()
    };
    assert_eq!(delta.bids[0].price, d("99.1"));
    assert!(delta.asks[0].size.is_zero(), "a zero deletes");

    // Chained by pu.
    let next = events(&plain(
        session
            .on_frame("public", &diff(121, 130, 120, "99.2"), 13)
            .unwrap(),
    ));
    assert!(matches!(&next[0], Event::Book(book) if book.seq == 130 && !book.is_snapshot));

    // A gap: stale, one fetch, however many diffs follow.
    let gap = plain(
        session
            .on_frame("public", &diff(141, 150, 140, "99.3"), 14)
            .unwrap(),
    );
    assert!(matches!(&events(&gap)[0], Event::BookStale { market, .. } if market == "BTCUSDT"));
    assert_eq!(fetches(&gap).len(), 1);
    let after = plain(
        session
            .on_frame("public", &diff(151, 160, 150, "99.4"), 15)
            .unwrap(),
    );
    assert!(after.is_empty(), "{after:?}");

    // A failed fetch is tried again later, on the session's timer.
    let (job, _) = fetches(&gap)[0].clone();
    let failed = plain(
        session
            .on_answer(job, &answer(503, "Service Unavailable.", &[]), 16)
            .unwrap(),
    );
    assert!(fetches(&failed).is_empty());
    let wake = session.next_wakeup().expect("a retry is due");
    assert!(wake > 16);
    let retry = plain(session.on_timer(wake).unwrap());
    assert_eq!(fetches(&retry).len(), 1, "{retry:?}");

    // So is a snapshot answered 200 that does not read as one.
    let (job, _) = fetches(&retry)[0].clone();
    let garbled = plain(
        session
            .on_answer(job, &answer(200, "{\"lastUpdateId\":", &[]), wake + 1)
            .unwrap(),
    );
    assert!(
        events(&garbled)
            .iter()
            .any(|e| matches!(e, Event::Notice { text, .. } if text.contains("depth snapshot"))),
        "{garbled:?}"
    );
    let wake = session.next_wakeup().expect("a retry is due");
    let retry = plain(session.on_timer(wake).unwrap());
    assert_eq!(fetches(&retry).len(), 1, "{retry:?}");
}

#[test]
fn a_synced_book_goes_stale_with_its_connection() {
    let mut session = session();
    session
        .subscribe(&[stream(StreamKind::BOOK, "BTCUSDT")], true, 0)
        .unwrap();
    session.on_connection("public", true, "", 0).unwrap();
    let first = plain(
        session
            .on_frame("public", &diff(100, 110, 99, "99.0"), 1)
            .unwrap(),
    );
    let (job, _) = fetches(&first)[0].clone();
    let snapshot = r#"{"lastUpdateId":105,"bids":[],"asks":[]}"#;
    session
        .on_answer(job, &answer(200, snapshot, &[]), 2)
        .unwrap();
    let down = events(&plain(
        session.on_connection("public", false, "reset", 3).unwrap(),
    ));
    assert!(matches!(&down[0], Event::BookStale { reason, .. } if reason.contains("reset")));
    // Diffs of a book no longer wanted are dropped.
    session
        .subscribe(&[stream(StreamKind::BOOK, "BTCUSDT")], false, 4)
        .unwrap();
    assert!(
        session
            .on_frame("public", &diff(111, 120, 110, "1"), 5)
            .unwrap()
            .is_empty()
    );
}
