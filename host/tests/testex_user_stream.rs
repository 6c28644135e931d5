//! An account socket that lives on a user-stream token and is
//! authenticated, through the `testex` fixture plugin and a venue served
//! here: the plugin makes the token, keeps it alive on its own timer,
//! replaces it when it expires or is forgotten, and authenticates the
//! socket before subscribing — the host only drives its I/O and time, and
//! refills after every new account connection.

mod common;

use std::sync::PoisonError;
use std::time::Duration;

use common::orders::eventually;
use common::testex::{Host, Venue, lock, scripted_signer, serve};
use serde_json::{Value, json};

async fn until(what: &str, check: impl Fn() -> bool) {
    eventually(what, Duration::from_secs(10), check).await;
}

/// Subscriptions of the account stream the venue received.
fn user_subscriptions(venue: &Venue) -> usize {
    lock(venue)
        .received
        .iter()
        .filter(|frame| frame["op"] == "subscribe" && frame["user"] == true)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_made_kept_alive_on_the_plugins_timer_and_replaced_when_it_expires() {
    let venue = Venue::default();
    lock(&venue).token_valid_ms = 400;
    let host = Host::start(serve(venue.clone()).await, None, &[]).await;

    until("the account socket on token t1", || {
        lock(&venue).user_sockets == ["t1"] && user_subscriptions(&venue) == 1
    })
    .await;
    // Kept alive every half validity, by the session's own timer.
    until("two keep-alives of t1", || {
        lock(&venue)
            .keepalives
            .iter()
            .filter(|t| *t == "t1")
            .count()
            >= 2
    })
    .await;

    // The venue says the token expired: a new token, a new socket on it,
    // and a refill for what the old one may have missed.
    let listings = lock(&venue).listings;
    venue.send_user(json!({"event": "tokenExpired"}));
    until("the account socket on token t2", || {
        lock(&venue).user_sockets == ["t1", "t2"] && user_subscriptions(&venue) == 2
    })
    .await;
    until("a refill after the new socket", || {
        lock(&venue).listings > listings
    })
    .await;
    until("t2 kept alive", || {
        lock(&venue).keepalives.last().map(String::as_str) == Some("t2")
    })
    .await;

    // A keep-alive finds the token forgotten (404): a new one.
    lock(&venue).live_tokens.clear();
    until("the account socket on token t3", || {
        lock(&venue).user_sockets == ["t1", "t2", "t3"]
    })
    .await;
    assert_eq!(
        lock(&venue).tokens,
        ["t1", "t2", "t3"],
        "one token per loss"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_socket_is_authenticated_before_it_subscribes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("signer.sock");
    let signed = scripted_signer(socket.clone()).await;
    let venue = Venue::default();
    lock(&venue).hold_auth = true;
    let host = Host::start(serve(venue.clone()).await, Some(socket), &[]).await;

    let auth = || -> Option<Value> {
        lock(&venue)
            .received
            .iter()
            .find(|frame| frame["op"] == "auth")
            .cloned()
    };
    until("the auth frame", || auth().is_some()).await;
    let auth = auth().expect("auth frame");
    // Signed by the signer (scheme testex-auth, over the expiry it carries:
    // the scripted signer's signature is the nonce's eight bytes).
    let expires = auth["args"][0].as_u64().expect("expiry");
    let expected: String = expires
        .to_be_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(auth["args"][1], expected.as_str());
    let requests = signed
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    assert!(
        requests
            .iter()
            .any(|r| r["scheme"] == "testex-auth" && r["nonce"] == expires),
        "{requests:?}"
    );

    // No subscription until the venue accepts the authentication.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        user_subscriptions(&venue),
        0,
        "subscribed before the auth ack"
    );
    venue.send_user(json!({"op": "auth", "success": true}));
    until("the subscription after the ack", || {
        user_subscriptions(&venue) == 1
    })
    .await;
    host.stop().await;
}
