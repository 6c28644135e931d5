//! The signer client over a real Unix socket, against a scripted signer:
//! pipelining with out-of-order answers, refusals, timeouts, a signer that
//! dies with requests in flight, and one that restarts.

use std::path::Path;
use std::time::Duration;

use connector_host::signer::{SignError, SignerClient};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

const PAYLOAD: &str = r#"{"action":{"type":"noop"},"nonce":1,"vault_address":null,"expires_after":null,"network":"mainnet"}"#;

/// A success whose signature is 64 bytes of `byte` and then 27 (a
/// secp256k1 `r ‖ s ‖ v`).
fn signed(id: &Value, byte: u8) -> String {
    let signature = format!("0x{}1b", format!("{byte:02x}").repeat(64));
    format!(
        r#"{{"id":{id},"ok":true,"signature":"{signature}","action_hash":"0x{}","signer":"0x{}"}}"#,
        "cd".repeat(32),
        "ab".repeat(20)
    )
}

/// Reads `count` requests on one connection, then answers them in reverse
/// order; the n-th request's signature bytes are all `n`.
async fn answer_in_reverse(stream: UnixStream, count: usize) {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    let mut ids = Vec::new();
    while ids.len() < count {
        let line = lines.next_line().await.unwrap().unwrap();
        let request: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(request["scheme"], "hyperliquid-l1");
        assert_eq!(request["action"]["type"], "noop");
        ids.push(request["id"].clone());
    }
    for (n, id) in ids.iter().enumerate().rev() {
        writer
            .write_all(format!("{}\n", signed(id, n as u8)).as_bytes())
            .await
            .unwrap();
    }
}

fn socket_in(dir: &Path) -> std::path::PathBuf {
    dir.join("signer.sock")
}

#[tokio::test]
async fn pipelined_requests_get_their_own_answers() {
    let dir = tempfile::tempdir().unwrap();
    let listener = UnixListener::bind(socket_in(dir.path())).unwrap();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        answer_in_reverse(stream, 20).await;
    });
    let client = SignerClient::new(&socket_in(dir.path()), Duration::from_secs(5));
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.sign("hyperliquid-l1", PAYLOAD).await })
        })
        .collect();
    let mut firsts = Vec::new();
    for call in calls {
        let bytes = call.await.unwrap().unwrap();
        assert_eq!(bytes.len(), 65);
        assert_eq!(bytes[64], 27);
        assert!(bytes[..64].iter().all(|b| *b == bytes[0]));
        firsts.push(bytes[0]);
    }
    firsts.sort_unstable();
    assert_eq!(
        firsts,
        (0..20).collect::<Vec<u8>>(),
        "every caller got a distinct answer"
    );
}

#[tokio::test]
async fn refusals_timeouts_and_a_dead_signer_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let listener = UnixListener::bind(socket_in(dir.path())).unwrap();
    tokio::spawn(async move {
        // First connection: refuse the first request, ignore the second,
        // then die with the third in flight.
        let (stream, _) = listener.accept().await.unwrap();
        let (reader, mut writer) = stream.into_split();
        let mut lines = BufReader::new(reader).lines();
        let first: Value =
            serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
        let refusal = format!(
            r#"{{"id":{},"ok":false,"error":{{"code":"policy_denied","message":"asset 3 is not allowed"}}}}"#,
            first["id"]
        );
        writer
            .write_all(format!("{refusal}\n").as_bytes())
            .await
            .unwrap();
        lines.next_line().await.unwrap().unwrap();
        lines.next_line().await.unwrap().unwrap();
        drop(writer);
        drop(lines);
        // Second connection (the client reconnects): answer normally.
        let (stream, _) = listener.accept().await.unwrap();
        answer_in_reverse(stream, 1).await;
    });
    let client = SignerClient::new(&socket_in(dir.path()), Duration::from_millis(300));
    assert_eq!(
        client.sign("hyperliquid-l1", PAYLOAD).await,
        Err(SignError::Refused {
            code: "policy_denied".into(),
            message: "asset 3 is not allowed".into()
        })
    );
    assert_eq!(
        client.sign("hyperliquid-l1", PAYLOAD).await,
        Err(SignError::Timeout(Duration::from_millis(300)))
    );
    assert!(matches!(
        client.sign("hyperliquid-l1", PAYLOAD).await,
        Err(SignError::Unavailable { .. })
    ));
    assert_eq!(
        client.sign("hyperliquid-l1", PAYLOAD).await.unwrap().len(),
        65
    );
}

#[tokio::test]
async fn requests_name_the_exchanges_key_when_it_has_one() {
    let dir = tempfile::tempdir().unwrap();
    let listener = UnixListener::bind(socket_in(dir.path())).unwrap();
    let (seen, mut requests) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (reader, mut writer) = stream.into_split();
        let mut lines = BufReader::new(reader).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let request: Value = serde_json::from_str(&line).unwrap();
            let answer = format!("{}\n", signed(&request["id"], 1));
            seen.send(request).unwrap();
            writer.write_all(answer.as_bytes()).await.unwrap();
        }
    });
    let client = SignerClient::new(&socket_in(dir.path()), Duration::from_secs(5));
    let keyed = client.with_key(Some("bin\"ance"));
    keyed
        .sign("binance-rest", r#"{"method":"GET"}"#)
        .await
        .unwrap();
    client.sign("hyperliquid-l1", PAYLOAD).await.unwrap();
    let first = requests.recv().await.unwrap();
    assert_eq!(first["key"], "bin\"ance");
    assert_eq!(first["scheme"], "binance-rest");
    assert_eq!(first["method"], "GET");
    let second = requests.recv().await.unwrap();
    assert!(second.get("key").is_none(), "{second}");
}

#[tokio::test]
async fn no_signer_and_bad_payloads_fail_fast() {
    let dir = tempfile::tempdir().unwrap();
    let client = SignerClient::new(&socket_in(dir.path()), Duration::from_secs(1));
    assert!(matches!(
        client.sign("hyperliquid-l1", PAYLOAD).await,
        Err(SignError::Unavailable { .. })
    ));
    assert_eq!(
        client.sign("hyperliquid-l1", "[1,2]").await,
        Err(SignError::BadPayload)
    );
}
