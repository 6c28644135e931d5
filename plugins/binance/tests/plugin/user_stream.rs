//! The listen key's life: made when the account streams are wanted, kept
//! alive on the session's timer, made anew (with a new connection) when
//! Binance forgets it or says it expired.

use plugin_api::{ConnectionKind, Event, Exchange, Output, StreamKind};

use super::support::{API_KEY, answer, events, not_sent, plain, session, stream};

fn http(outputs: &[Output]) -> (u64, String, String) {
    outputs
        .iter()
        .find_map(|output| match output {
            Output::Http { job, request } => {
                assert!(
                    request
                        .headers
                        .iter()
                        .any(|h| h.0 == "X-MBX-APIKEY" && h.1 == API_KEY),
                    "API key only"
                );
                assert!(!request.url.contains("signature"));
                Some((*job, request.method.to_string(), request.url.to_string()))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no request in {outputs:?}"))
}

#[test]
fn a_listen_key_is_made_kept_alive_and_replaced() {
    let mut session = session();
    let first = plain(
        session
            .subscribe(
                &[
                    stream(StreamKind::ORDERS, ""),
                    stream(StreamKind::FILLS, ""),
                ],
                true,
                0,
            )
            .unwrap(),
    );
    let (job, method, url) = http(&first);
    assert_eq!(
        (method.as_str(), url.as_str()),
        ("POST", "http://127.0.0.1:9/fapi/v1/listenKey")
    );
    // Asked once, however many account streams.
    assert!(
        session
            .subscribe(&[stream(StreamKind::ACCOUNT, "")], true, 0)
            .unwrap()
            .is_empty()
    );

    let opened = plain(
        session
            .on_answer(job, &answer(200, r#"{"listenKey":"k1"}"#, &[]), 1_000)
            .unwrap(),
    );
    let Some(Output::Open(spec)) = opened.iter().find(|o| matches!(o, Output::Open(_))) else {
        panic!("{opened:?}")
    };
    assert_eq!(spec.id, "user-1");
    assert_eq!(spec.kind, ConnectionKind::USER);
    assert_eq!(spec.url, "ws://127.0.0.1:9/private/ws?listenKey=k1");
    assert!(
        spec.max_lifetime_ms.is_some(),
        "replaced before Binance's 24 h cut"
    );
    assert!(
        session
            .on_connection("user-1", true, "", 1_000)
            .unwrap()
            .is_empty()
    );

    // Kept alive every keep-alive period (60 s in this config).
    assert_eq!(session.next_wakeup(), Some(61_000));
    assert!(session.on_timer(60_999).unwrap().is_empty());
    let (job, method, _) = http(&plain(session.on_timer(61_000).unwrap()));
    assert_eq!(method, "PUT");
    session
        .on_answer(job, &answer(200, "{}", &[]), 61_500)
        .unwrap();
    assert_eq!(session.next_wakeup(), Some(121_500));

    // A keep-alive Binance cannot match (-1125): a new key, a new
    // connection, the old one closed.
    let (job, method, _) = http(&plain(session.on_timer(121_500).unwrap()));
    assert_eq!(method, "PUT");
    let renewed = plain(
        session
            .on_answer(
                job,
                &answer(
                    400,
                    r#"{"code":-1125,"msg":"This listenKey does not exist."}"#,
                    &[],
                ),
                122_000,
            )
            .unwrap(),
    );
    let (job, method, _) = http(&renewed);
    assert_eq!(method, "POST");
    let moved = plain(
        session
            .on_answer(job, &answer(200, r#"{"listenKey":"k2"}"#, &[]), 122_100)
            .unwrap(),
    );
    assert!(matches!(&moved[0], Output::Close(id) if id == "user-1"));
    assert!(
        matches!(&moved[1], Output::Open(spec) if spec.id == "user-2" && spec.url.ends_with("listenKey=k2"))
    );

    // Binance says the key expired: a new one again.
    let expired = r#"{"e":"listenKeyExpired","E":"1736996475556","listenKey":"k2"}"#;
    let (_, method, _) = http(&plain(
        session.on_frame("user-2", expired, 130_000).unwrap(),
    ));
    assert_eq!(method, "POST");
}

#[test]
fn a_failed_key_request_is_tried_again_later() {
    let mut session = session();
    let first = plain(
        session
            .subscribe(&[stream(StreamKind::ORDERS, "")], true, 0)
            .unwrap(),
    );
    let (job, _, _) = http(&first);
    let failed = events(&plain(session.on_answer(job, &not_sent(), 10).unwrap()));
    assert!(matches!(&failed[0], Event::Notice { .. }));
    let due = session.next_wakeup().expect("a retry");
    let (_, method, _) = http(&plain(session.on_timer(due).unwrap()));
    assert_eq!(method, "POST");
}
