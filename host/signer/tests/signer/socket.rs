//! The signer process on its Unix socket.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::thread;

use connector_signer::protocol::{ErrorCode, MAX_LINE_BYTES, RequestId, Response};
use hyperliquid_core::{
    Action, Address, CancelAction, CancelWire, Network, SigningContext, l1_hashes, recover_address,
};
use serde_json::json;

use connector_signer::schemes::hyperliquid::L1Request;

use crate::common::{
    ADDRESS, KEY, Server, binary, now_ms, signature, signature_json, vector, vector_request,
    write_file,
};

const CLIENTS: u64 = 8;
const REQUESTS_PER_CLIENT: u64 = 200;

fn noop_request(id: u64) -> String {
    json!({
        "id": id,
        "scheme": "hyperliquid-l1",
        "action": {"type": "noop"},
        "nonce": 1_700_000_000_000u64 + id,
        "network": "mainnet",
    })
    .to_string()
}

fn error_of(response: &Response) -> (ErrorCode, &str) {
    let error = response
        .result
        .as_ref()
        .expect_err("the request should be refused");
    (error.code, error.message.as_str())
}

#[test]
fn socket_is_owner_only_and_removed_on_sigterm() {
    let mut server = Server::start(None);
    let meta = fs::symlink_metadata(&server.socket).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
    // The private staging directory is gone; only our files remain.
    let mut names: Vec<_> = fs::read_dir(server.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["key", "signer.sock", "stderr.log"]);

    let status = server.terminate();
    assert!(status.success(), "{status}: {}", server.stderr());
    assert!(!server.socket.exists(), "socket left behind");
}

#[test]
fn concurrent_pipelined_clients_get_their_own_answers() {
    let server = Server::start(None);
    let address: Address = ADDRESS.parse().unwrap();
    let request = |client: u64, n: u64| {
        let action = Action::Cancel(CancelAction {
            cancels: vec![CancelWire {
                asset: client as u32,
                oid: n,
            }],
        });
        let context = SigningContext::new(Network::Testnet, 1_700_000_000_000 + n);
        // Even clients use string ids, odd ones numbers.
        let id = if client.is_multiple_of(2) {
            RequestId::Text(format!("c{client}-{n}"))
        } else {
            RequestId::from(client * 1000 + n)
        };
        (id, action, context)
    };
    let workers: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let mut connection = server.connect();
            thread::spawn(move || {
                let expected: HashMap<_, _> = (0..REQUESTS_PER_CLIENT)
                    .map(|n| {
                        let (id, action, context) = request(client, n);
                        (id, (action, context))
                    })
                    .collect();
                let mut lines = String::new();
                for n in 0..REQUESTS_PER_CLIENT {
                    let (id, action, context) = request(client, n);
                    lines.push_str(&L1Request::line(id, None, action, &context).unwrap());
                }
                let mut writer = connection.writer.try_clone().unwrap();
                let sender = thread::spawn(move || writer.write_all(lines.as_bytes()).unwrap());
                let mut answered = HashMap::new();
                for _ in 0..REQUESTS_PER_CLIENT {
                    let response = connection.receive();
                    let id = response.id.clone().expect("id echoed");
                    let (action, context) = &expected[&id];
                    let signed = response.result.expect("signed");
                    let hashes = l1_hashes(action, context).unwrap();
                    assert_eq!(
                        signed.action_hash,
                        Some(hashes.connection_id.to_string()),
                        "{id}"
                    );
                    assert_eq!(signed.signer, address.to_string());
                    assert_eq!(
                        recover_address(&hashes.digest, &signature(&signed)).unwrap(),
                        address,
                        "{id}"
                    );
                    assert!(answered.insert(id, ()).is_none(), "answered twice");
                }
                sender.join().unwrap();
                assert_eq!(answered.len(), expected.len());
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
}

#[test]
fn vectors_over_the_socket_sign_exactly() {
    let vault = vector("order_gtc_vault_mainnet")["vault_address"].clone();
    let server = Server::start(Some(&format!("allowed_vaults = [{vault}]")));
    let mut client = server.connect();
    for name in [
        "order_limit_gtc_btc_mainnet",
        "order_gtc_vault_mainnet",
        "order_limit_alo_eth_testnet",
        "modify_single_by_oid",
    ] {
        let vector = vector(name);
        assert_eq!(vector["private_key"], KEY);
        let response = client.call(&vector_request(&vector, json!(name)));
        let signed = response.result.expect(name);
        assert_eq!(signature_json(&signed), vector["signature_padded"]);
        assert_eq!(
            signed.action_hash.as_deref(),
            vector["connection_id"].as_str()
        );
    }
}

#[test]
fn each_policy_rule_refuses_naming_the_rule() {
    let server = Server::start(Some(
        r#"
        allowed_actions = ["order", "noop"]
        allowed_assets = [0, 1, 10107]
        max_order_notional = "50000"
        networks = ["mainnet"]
        "#,
    ));
    let mut client = server.connect();
    let order = |asset: u32, price: &str, size: &str, network: &str| {
        json!({
            "id": "o",
            "scheme": "hyperliquid-l1",
            "action": {"type": "order", "grouping": "na", "orders": [
                {"a": asset, "b": true, "p": price, "s": size, "r": false, "t": {"limit": {"tif": "Gtc"}}}
            ]},
            "nonce": 1_700_000_000_000u64,
            "network": network,
        })
        .to_string()
    };
    assert!(
        client
            .call(&order(10107, "25000", "2", "mainnet"))
            .result
            .is_ok()
    );

    let with_action = |action: serde_json::Value| {
        json!({"id": 5, "scheme": "hyperliquid-l1", "action": action, "nonce": 1, "network": "mainnet"})
            .to_string()
    };
    let cases = [
        (
            order(2, "10", "1", "mainnet"),
            "asset 2 is not allowed (rule: allowed_assets)",
        ),
        (
            order(0, "65432", "1", "mainnet"),
            "order notional 65432 × 1 = 65432 exceeds 50000 (rule: max_order_notional)",
        ),
        (
            order(0, "10", "1", "testnet"),
            "network testnet is not allowed (rule: networks)",
        ),
        (
            with_action(json!({"type": "cancel", "cancels": [{"a": 0, "o": 1}]})),
            "action type \"cancel\" is not allowed (rule: allowed_actions; allowed: order, noop)",
        ),
        (
            with_action(json!({"type": "withdraw3", "amount": "1"})),
            "action type \"withdraw3\" is not allowed (rule: allowed_actions; allowed: order, noop)",
        ),
        (
            with_action(json!({"type": "usdSend", "amount": "1"})),
            "action type \"usdSend\" is not allowed (rule: allowed_actions; allowed: order, noop)",
        ),
        (
            with_action(json!({"type": "approveAgent",
                "agentAddress": "0x86b2E9EfF39b2CA073D0b2E97B0EdEB9a45068E3",
                "nonce": 1, "signatureChainId": "0x66eee", "hyperliquidChain": "Mainnet"})),
            "action type \"approveAgent\" is not allowed (rule: allowed_actions; allowed: order, noop)",
        ),
    ];
    for (line, expected) in cases {
        let response = client.call(&line);
        assert_eq!(
            error_of(&response),
            (ErrorCode::PolicyDenied, expected),
            "{line}"
        );
        assert!(response.id.is_some());
    }
    // Refusals are logged, the key never is.
    assert!(server.stderr().contains("policy denied"));
    assert!(!server.stderr().contains(&KEY[2..]));
}

#[test]
fn vaults_builders_leverage_nonces_and_expiry_are_held_to_the_policy() {
    let allowed = |digit: char| format!("0x{}", digit.to_string().repeat(40));
    let server = Server::start(Some(&format!(
        "allowed_vaults = [{:?}]\nallowed_builders = [{:?}]\nmax_leverage = 5\n\
         nonce_window_ms = 60000\nmax_expiry_ms = 10000\n",
        allowed('1'),
        allowed('2')
    )));
    let mut client = server.connect();
    let now = now_ms();
    let order = |builder: char| {
        json!({"type": "order", "grouping": "na", "builder": {"b": allowed(builder), "f": 10},
               "orders": [{"a": 0, "b": true, "p": "10", "s": "1", "r": false,
                           "t": {"limit": {"tif": "Gtc"}}}]})
    };
    let request = |action: serde_json::Value, vault: char, nonce: u64, expires: Option<u64>| {
        json!({"id": 1, "scheme": "hyperliquid-l1", "action": action, "nonce": nonce,
               "vault_address": allowed(vault), "expires_after": expires, "network": "mainnet"})
        .to_string()
    };
    let fine = client.call(&request(order('2'), '1', now, Some(now + 5_000)));
    assert!(fine.result.is_ok(), "{fine:?}");
    let leverage = |leverage: u32| json!({"type": "updateLeverage", "asset": 0, "isCross": true, "leverage": leverage});
    assert!(
        client
            .call(&request(leverage(5), '1', now, Some(now + 5_000)))
            .result
            .is_ok()
    );
    let cases = [
        (
            request(order('2'), '3', now, Some(now + 5_000)),
            "trading for vault 0x3333333333333333333333333333333333333333 is not allowed (rule: allowed_vaults)",
        ),
        (
            request(order('4'), '1', now, Some(now + 5_000)),
            "a fee to builder 0x4444444444444444444444444444444444444444 is not allowed (rule: allowed_builders)",
        ),
        (
            request(leverage(6), '1', now, Some(now + 5_000)),
            "leverage 6 exceeds 5 (rule: max_leverage)",
        ),
        (
            request(order('2'), '1', now - 3_600_000, Some(now + 5_000)),
            "ms from the signer's clock (rule: nonce_window_ms = 60000)",
        ),
        (
            request(order('2'), '1', now, None),
            "the request has no expires_after (rule: max_expiry_ms = 10000)",
        ),
        (
            request(order('2'), '1', now, Some(now + 3_600_000)),
            "ms from now (rule: max_expiry_ms = 10000)",
        ),
    ];
    for (line, expected) in cases {
        let response = client.call(&line);
        let (code, message) = error_of(&response);
        assert_eq!(code, ErrorCode::PolicyDenied, "{line}");
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn malformed_lines_get_bad_request_and_serving_goes_on() {
    let server = Server::start(None);
    let mut client = server.connect();
    let cases = [
        ("this is not json".to_owned(), None),
        ("{\"id\": 4,".to_owned(), None),
        (
            json!({"id": 1, "scheme": "hyperliquid-l1", "action": {"type": "noop"}, "nonce": "soon", "network": "mainnet"}).to_string(),
            Some(RequestId::from(1)),
        ),
        (
            json!({"id": 2, "scheme": "hyperliquid-l1", "action": {"type": "noop"}, "network": "mainnet"}).to_string(),
            Some(RequestId::from(2)),
        ),
        (
            json!({"id": 3, "scheme": "bitcoin", "action": {"type": "noop"}, "nonce": 1, "network": "mainnet"}).to_string(),
            Some(RequestId::from(3)),
        ),
        (
            json!({"id": 4, "scheme": "hyperliquid-l1", "action": {"type": "cancel", "cancels": [{"a": "BTC", "o": 1}]}, "nonce": 1, "network": "mainnet"}).to_string(),
            Some(RequestId::from(4)),
        ),
        (
            json!({"id": true, "scheme": "hyperliquid-l1", "action": {"type": "noop"}, "nonce": 1, "network": "mainnet"}).to_string(),
            None,
        ),
    ];
    for (line, id) in cases {
        let response = client.call(&line);
        assert_eq!(error_of(&response).0, ErrorCode::BadRequest, "{line}");
        assert_eq!(response.id, id, "{line}");
    }
    // The same connection still signs.
    assert!(client.call(&noop_request(10)).result.is_ok());

    // A request in flight before an over-long line is still answered; the
    // over-long line is refused and the connection closed.
    let mut long = server.connect();
    let mut bytes = noop_request(11).into_bytes();
    bytes.push(b'\n');
    // No newline after it: the signer stops reading at the limit, so nothing is
    // left unread when it closes.
    bytes.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 1));
    long.writer.write_all(&bytes).unwrap();
    let mut responses = [long.receive(), long.receive()];
    responses.sort_by_key(|response| response.id.is_none());
    assert_eq!(responses[0].id, Some(RequestId::from(11)));
    assert!(responses[0].result.is_ok());
    assert_eq!(responses[1].id, None);
    let (code, message) = error_of(&responses[1]);
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(message.contains("longer than 1048576 bytes"), "{message}");
    assert!(
        long.receive_value().is_none(),
        "connection should be closed"
    );

    // A line of exactly the limit is accepted.
    let mut exact = server.connect();
    let mut padded = noop_request(12);
    padded.push_str(&" ".repeat(MAX_LINE_BYTES - padded.len()));
    let response = exact.call(&padded);
    assert_eq!(response.id, Some(RequestId::from(12)));
    assert!(response.result.is_ok());

    // New connections are served as before.
    assert!(server.connect().call(&noop_request(13)).result.is_ok());
}

#[test]
fn stale_socket_is_replaced_and_anything_else_is_refused() {
    // A stale socket left by a dead signer.
    let dir = tempfile::tempdir().unwrap();
    drop(UnixListener::bind(dir.path().join("signer.sock")).unwrap());
    let server = Server::start_in(dir, None);
    assert!(server.connect().call(&noop_request(1)).result.is_ok());

    // A live signer on the path.
    let key = write_file(server.dir.path(), "key2", KEY, 0o600);
    let second = binary()
        .args(["serve", "--allow-demo-keys", "--key-file"])
        .arg(&key)
        .arg("--socket")
        .arg(&server.socket)
        .output()
        .unwrap();
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("already serving"), "{stderr}");
    assert!(server.connect().call(&noop_request(2)).result.is_ok());

    // A regular file.
    let not_socket = write_file(server.dir.path(), "file", "data", 0o600);
    let third = binary()
        .args(["serve", "--allow-demo-keys", "--key-file"])
        .arg(&key)
        .arg("--socket")
        .arg(&not_socket)
        .output()
        .unwrap();
    assert!(!third.status.success());
    let stderr = String::from_utf8_lossy(&third.stderr);
    assert!(stderr.contains("is not a socket"), "{stderr}");
    assert_eq!(fs::read_to_string(&not_socket).unwrap(), "data");
}

#[test]
fn key_file_readable_by_others_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = write_file(dir.path(), "key", KEY, 0o644);
    let socket = dir.path().join("signer.sock");
    let output = binary()
        .args(["serve", "--allow-demo-keys", "--key-file"])
        .arg(&key)
        .arg("--socket")
        .arg(&socket)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&key.display().to_string()), "{stderr}");
    assert!(stderr.contains("mode 0644"), "{stderr}");
    assert!(
        stderr.contains(&format!("chmod 600 {}", key.display())),
        "{stderr}"
    );
    assert!(!stderr.contains(&KEY[2..]));
    assert!(!socket.exists());
}

/// With `--audit-log`, every request answered is one line: who asked (this
/// process's uid and pid), the request, and the response — the signature,
/// or the refusal and why. The key never appears.
#[test]
fn every_request_is_recorded_with_who_asked_and_what_came_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let log_arg = log.to_str().unwrap().to_owned();
    let server = Server::start_with(
        dir,
        Some("allowed_actions = [\"noop\"]\n"),
        &["--audit-log", &log_arg],
    );
    let mut client = server.connect();
    assert!(client.call(&noop_request(1)).result.is_ok());
    let cancel = json!({"id": 2, "scheme": "hyperliquid-l1",
        "action": {"type": "cancel", "cancels": [{"a": 0, "o": 1}]},
        "nonce": 1, "network": "mainnet"})
    .to_string();
    assert!(client.call(&cancel).result.is_err());

    let lines: Vec<serde_json::Value> = fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    for line in &lines {
        assert_eq!(line["uid"], me);
        assert_eq!(line["pid"], std::process::id());
    }
    assert_eq!(lines[0]["request"]["action"]["type"], "noop");
    assert_eq!(lines[0]["response"]["ok"], true);
    assert!(
        lines[0]["response"]["signature"]
            .as_str()
            .is_some_and(|signature| signature.starts_with("0x")),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1]["response"]["error"]["code"], "policy_denied");
    assert!(
        lines[1]["response"]["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("rule: allowed_actions")
    );
    let mode = fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(!fs::read_to_string(&log).unwrap().contains(&KEY[2..]));
}
