//! The one-shot commands: `sign`, `keys`, `address`, `approve-agent`, and
//! `--help`.

use std::io::Write;
use std::process::{Output, Stdio};

use connector_signer::protocol::{ErrorCode, Response};
use hyperliquid_core::{ExchangeRequest, Network, recover_address, signing_digest};
use serde_json::json;

use crate::common::{
    ADDRESS, KEY, binary, now_ms, sign_with_keyring, vector, vector_request, write_file,
};

fn sign(stdin: &str, policy: Option<&str>) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let key = write_file(dir.path(), "key", KEY, 0o600);
    let mut command = binary();
    command
        .arg("sign")
        .args(["--allow-demo-keys", "--key-file"])
        .arg(&key);
    if let Some(policy) = policy {
        command
            .arg("--policy")
            .arg(write_file(dir.path(), "policy.toml", policy, 0o600));
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A signer that refuses to start exits without reading: ignore a broken pipe.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

#[test]
fn help_lists_the_commands() {
    let output = binary().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for command in ["serve", "sign", "address", "approve-agent"] {
        assert!(help.contains(command), "{help}");
    }
}

#[test]
fn address_prints_the_checksummed_address() {
    let dir = tempfile::tempdir().unwrap();
    let key = write_file(dir.path(), "key", &format!("{KEY}\n"), 0o600);
    let output = binary()
        .arg("address")
        .args(["--allow-demo-keys", "--key-file"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("{ADDRESS}\n")
    );
}

#[test]
fn sign_answers_one_request_from_stdin() {
    let vector = vector("order_gtc_expires_after");
    let key = vector["private_key"].as_str().unwrap();
    // This vector has its own key; sign with it.
    let dir = tempfile::tempdir().unwrap();
    let key_file = write_file(dir.path(), "key", key, 0o600);
    let mut child = binary()
        .arg("sign")
        .args(["--allow-demo-keys", "--key-file"])
        .arg(&key_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let request = vector_request(&vector, json!(77));
    writeln!(child.stdin.take().unwrap(), "{request}").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    let response: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(response["id"], 77);
    assert_eq!(response["ok"], true);
    let padded = &vector["signature_padded"];
    let expected = format!(
        "0x{}{}{:02x}",
        padded["r"].as_str().unwrap().trim_start_matches("0x"),
        padded["s"].as_str().unwrap().trim_start_matches("0x"),
        padded["v"].as_u64().unwrap()
    );
    assert_eq!(response["signature"], expected.as_str());
    assert_eq!(response["action_hash"], vector["connection_id"]);
    assert_eq!(
        response["signer"],
        vector["signer_address"].as_str().unwrap().to_lowercase()
    );
}

#[test]
fn sign_refusals_are_responses_with_a_failing_status() {
    let denied = sign(
        &json!({"id": "w", "scheme": "hyperliquid-l1", "action": {"type": "withdraw3"}, "nonce": 1, "network": "mainnet"}).to_string(),
        None,
    );
    assert_eq!(denied.status.code(), Some(1));
    let response: Response = serde_json::from_slice(&denied.stdout).unwrap();
    assert_eq!(response.result.unwrap_err().code, ErrorCode::PolicyDenied);

    let narrowed = sign(
        &json!({"id": 1, "scheme": "hyperliquid-l1", "action": {"type": "noop"}, "nonce": 1, "network": "testnet"}).to_string(),
        Some("networks = [\"mainnet\"]"),
    );
    let response: Response = serde_json::from_slice(&narrowed.stdout).unwrap();
    assert!(
        response
            .result
            .unwrap_err()
            .message
            .contains("rule: networks")
    );

    let garbage = sign("{", None);
    let response: Response = serde_json::from_slice(&garbage.stdout).unwrap();
    assert_eq!(response.id, None);
    assert_eq!(response.result.unwrap_err().code, ErrorCode::BadRequest);

    let widened = sign("{}", Some("allowed_actions = [\"usdSend\"]"));
    assert_eq!(widened.status.code(), Some(1));
    assert!(widened.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&widened.stderr);
    assert!(stderr.contains("\"usdSend\" cannot be allowed"), "{stderr}");
}

#[test]
fn approve_agent_reproduces_the_vector_byte_for_byte() {
    let vector = vector("approve_agent_named_mainnet");
    let dir = tempfile::tempdir().unwrap();
    let key = write_file(
        dir.path(),
        "master",
        vector["private_key"].as_str().unwrap(),
        0o600,
    );
    let output = binary()
        .args(["approve-agent", "--allow-demo-keys", "--key-file"])
        .arg(&key)
        .args([
            "--agent",
            vector["inputs"]["agent_address"].as_str().unwrap(),
        ])
        .args(["--name", vector["inputs"]["agent_name"].as_str().unwrap()])
        .args(["--network", "mainnet"])
        .args(["--nonce", &vector["nonce"].to_string()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected = serde_json::to_string(&vector["exchange_request_body"]).unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("{expected}\n")
    );
}

#[test]
fn approve_agent_defaults_the_nonce_to_now() {
    let dir = tempfile::tempdir().unwrap();
    let key = write_file(dir.path(), "master", KEY, 0o600);
    let before = now_ms();
    let output = binary()
        .args(["approve-agent", "--allow-demo-keys", "--key-file"])
        .arg(&key)
        .args(["--agent", "0x86b2e9eff39b2ca073d0b2e97b0edeb9a45068e3"])
        .args(["--network", "testnet"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let body: ExchangeRequest = serde_json::from_slice(&output.stdout).unwrap();
    assert!(body.nonce >= before && body.nonce < before + 60_000);
    let digest = signing_digest(&body.action, &body.context(Network::Testnet)).unwrap();
    assert_eq!(
        recover_address(&digest, &body.signature)
            .unwrap()
            .to_checksum(),
        ADDRESS
    );
    // No name: omitted from the body.
    assert!(
        !String::from_utf8(output.stdout)
            .unwrap()
            .contains("agentName")
    );

    let bad = binary()
        .args(["approve-agent", "--allow-demo-keys", "--key-file"])
        .arg(&key)
        .args(["--agent", "0x86b2", "--network", "mainnet"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

/// A keyring with a key of each venue: listed by `keys`, and each signs its
/// own schemes only.
#[test]
fn a_keyring_serves_every_venue_with_its_own_policy() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "hl.key", KEY, 0o600);
    write_file(dir.path(), "binance.secret", "binance-secret", 0o600);
    write_file(dir.path(), "bybit.secret", "bybit-secret", 0o600);
    let keyring = write_file(
        dir.path(),
        "keyring.toml",
        r#"
        [[key]]
        name = "hl"
        venue = "hyperliquid"
        file = "hl.key"

        [[key]]
        name = "binance"
        venue = "binance-usdm"
        algorithm = "hmac-sha256"
        api_key = "binance-api-key"
        file = "binance.secret"
        [key.policy]
        allowed_markets = ["BTCUSDT"]

        [[key]]
        name = "bybit"
        venue = "bybit"
        algorithm = "hmac-sha256"
        api_key = "bybit-api-key"
        file = "bybit.secret"
        "#,
        0o600,
    );
    let listed = binary()
        .args(["keys", "--allow-demo-keys", "--keyring"])
        .arg(&keyring)
        .output()
        .unwrap();
    assert!(listed.status.success(), "{listed:?}");
    let listed = String::from_utf8(listed.stdout).unwrap();
    let names: Vec<_> = listed
        .lines()
        .map(|line| line.split('\t').take(3).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        names,
        [
            format!("hl hyperliquid {ADDRESS}"),
            "binance binance-usdm binance-api-key".to_owned(),
            "bybit bybit bybit-api-key".to_owned(),
        ]
    );

    let now = now_ms();
    let sign_line = |request: serde_json::Value| sign_with_keyring(&keyring, &[], &request);
    let order = |symbol: &str| {
        json!({"id": 1, "scheme": "binance-rest", "api_key": "binance-api-key", "method": "POST",
               "path": "/fapi/v1/order",
               "query": [["symbol", symbol], ["side", "BUY"], ["type", "LIMIT"], ["quantity", "1"],
                         ["price", "9000"], ["timestamp", now.to_string()]]})
    };
    let signed = sign_line(order("BTCUSDT")).result.unwrap();
    assert_eq!(signed.signature.len(), 32);
    assert_eq!(signed.signer, "binance-api-key");
    let refused = sign_line(order("ETHUSDT")).result.unwrap_err();
    assert_eq!(refused.code, ErrorCode::PolicyDenied);
    assert!(
        refused.message.contains("rule: allowed_markets"),
        "{}",
        refused.message
    );

    let auth = sign_line(
        json!({"id": 2, "scheme": "bybit-ws-auth", "api_key": "bybit-api-key", "expires": now + 5_000}),
    );
    assert_eq!(auth.result.unwrap().signature.len(), 32);
    let named = sign_line(
        json!({"id": 3, "key": "hl", "scheme": "bybit-ws-auth", "api_key": "bybit-api-key", "expires": now + 5_000}),
    );
    let refused = named.result.unwrap_err();
    assert_eq!(refused.code, ErrorCode::PolicyDenied);
    assert_eq!(
        refused.message,
        "key \"hl\" is a hyperliquid key and does not sign bybit-ws-auth (rule: key venue)"
    );
    let unknown = sign_line(json!({"id": 4, "key": "nope", "scheme": "bybit-ws-auth"}));
    assert_eq!(unknown.result.unwrap_err().code, ErrorCode::BadRequest);
}

#[test]
fn keyring_mistakes_name_the_key_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "s", "secret", 0o600);
    for (entry, expected) in [
        (
            "name = \"a\"\nvenue = \"bybit\"\nfile = \"s\"\nalgorithm = \"hmac-sha256\"",
            "key \"a\": `api_key` is required",
        ),
        (
            "name = \"a\"\nvenue = \"bybit\"\nfile = \"s\"\napi_key = \"k\"\nalgorithm = \"ed25519\"",
            "a bybit key's algorithm is \"hmac-sha256\"",
        ),
        (
            "name = \"a\"\nvenue = \"kraken\"\nfile = \"s\"",
            "unknown variant `kraken`",
        ),
        (
            "name = \"a\"\nvenue = \"bybit\"\nfile = \"s\"\napi_key = \"k\"\nalgorithm = \"hmac-sha256\"\npolicy = { allowed_actions = [\"withdraw\"] }",
            "policy: allowed_actions: \"withdraw\" is not one of",
        ),
    ] {
        let keyring = write_file(
            dir.path(),
            "keyring.toml",
            &format!("[[key]]\n{entry}\n"),
            0o600,
        );
        let output = binary()
            .args(["keys", "--allow-demo-keys", "--keyring"])
            .arg(&keyring)
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(expected), "{entry}: {stderr}");
    }
}

/// `--default-max-order-notional` caps the keys whose policy sets no cap,
/// and leaves a key's own cap as it is.
#[test]
fn a_default_notional_cap_applies_to_keys_without_their_own() {
    let key_id = |name: &str| if name == "own" { "a" } else { "b" };
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "a.secret", "a-secret", 0o600);
    write_file(dir.path(), "b.secret", "b-secret", 0o600);
    let keyring = write_file(
        dir.path(),
        "keyring.toml",
        r#"
        [[key]]
        name = "own"
        venue = "bybit"
        algorithm = "hmac-sha256"
        api_key = "a"
        file = "a.secret"
        [key.policy]
        max_order_notional = "5000"

        [[key]]
        name = "none"
        venue = "bybit"
        algorithm = "hmac-sha256"
        api_key = "b"
        file = "b.secret"
        "#,
        0o600,
    );
    let listed = |extra: &[&str]| {
        let output = list_keys(&keyring, extra);
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let plain = listed(&[]);
    let lines: Vec<_> = plain.lines().collect();
    assert!(lines[0].contains("max order notional: 5000"), "{plain}");
    assert!(!lines[1].contains("max order notional"), "{plain}");
    let capped = listed(&["--default-max-order-notional", "1000"]);
    let lines: Vec<_> = capped.lines().collect();
    assert!(lines[0].contains("max order notional: 5000"), "{capped}");
    assert!(lines[1].contains("max order notional: 1000"), "{capped}");
    // The default cap refuses what it can value, and lets a market order
    // (no price, no marks to value it at) pass, where a key's own cap
    // refuses it.
    let now = now_ms();
    let sign = |key: &str, order_type: &str, price: Option<&str>| {
        let mut body = json!({"category": "linear", "symbol": "BTCUSDT", "side": "Sell",
                              "orderType": order_type, "qty": "1"});
        if let Some(price) = price {
            body["price"] = json!(price);
        }
        let request = json!({"id": 1, "key": key, "scheme": "bybit-rest", "api_key": key_id(key),
            "timestamp": now, "recv_window": 5000, "method": "POST", "path": "/v5/order/create",
            "body": body.to_string()});
        sign_with_keyring(
            &keyring,
            &["--default-max-order-notional", "1000"],
            &request,
        )
        .result
    };
    assert!(sign("none", "Market", None).is_ok());
    let refused = sign("none", "Limit", Some("2000")).unwrap_err();
    assert!(
        refused
            .message
            .starts_with("order notional 2000 × 1 = 2000 exceeds 1000"),
        "{}",
        refused.message
    );
    let refused = sign("own", "Market", None).unwrap_err();
    assert!(
        refused.message.contains("without a price cannot be valued"),
        "{}",
        refused.message
    );

    let refused = list_keys(&keyring, &["--default-max-order-notional=0"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("\"0\" is not a positive decimal"),
        "{refused:?}"
    );
}

/// `--default-mark-prices` values at a venue's marks the keys whose policy
/// caps the notional and names no source of its own; a key's own source and
/// a key without a cap are left alone, and one key given two sources is an
/// error.
#[test]
fn default_mark_sources_apply_to_capped_keys_without_their_own() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["own", "capped", "uncapped"] {
        write_file(dir.path(), &format!("{name}.secret"), "secret", 0o600);
    }
    let keyring = write_file(
        dir.path(),
        "keyring.toml",
        r#"
        [[key]]
        name = "own"
        venue = "bybit"
        algorithm = "hmac-sha256"
        api_key = "a"
        file = "own.secret"
        [key.policy]
        max_order_notional = "5000"
        [key.policy.mark_prices]
        url = "http://127.0.0.1:1/own"

        [[key]]
        name = "capped"
        venue = "bybit"
        algorithm = "hmac-sha256"
        api_key = "b"
        file = "capped.secret"
        [key.policy]
        max_order_notional = "5000"

        [[key]]
        name = "uncapped"
        venue = "binance-usdm"
        algorithm = "hmac-sha256"
        api_key = "c"
        file = "uncapped.secret"
        "#,
        0o600,
    );
    let listed = |defaults: &[&str]| {
        let extra: Vec<&str> = defaults
            .iter()
            .flat_map(|default| ["--default-mark-prices", default])
            .collect();
        list_keys(&keyring, &extra)
    };
    let output = listed(&[
        "bybit-rest:own=http://127.0.0.1:2",
        "bybit-rest:capped=http://127.0.0.1:3/",
        "bybit-ws-auth:capped=http://127.0.0.1:3",
        "binance-rest=http://127.0.0.1:4",
    ]);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert!(
        lines[0].contains("marks from http://127.0.0.1:1/own every 30000 ms"),
        "{text}"
    );
    assert!(
        lines[1].contains("marks from http://127.0.0.1:3 every 30000 ms, at most 120000 ms old"),
        "{text}"
    );
    assert!(!lines[2].contains("marks from"), "{text}");

    for (defaults, expected) in [
        (
            &[
                "bybit-rest:capped=http://127.0.0.1:3",
                "bybit-ws-auth:capped=http://127.0.0.1:5",
            ][..],
            "key \"capped\" is given two default mark sources: http://127.0.0.1:3 and http://127.0.0.1:5",
        ),
        (
            &["nonsense=http://127.0.0.1:3"][..],
            "unknown scheme \"nonsense\"",
        ),
        (
            &["bybit-rest:=http://127.0.0.1:3"][..],
            "names an empty key",
        ),
        (&["bybit-rest"][..], "is not SCHEME=URL or SCHEME:KEY=URL"),
        (
            &["bybit-rest=127.0.0.1:3"][..],
            "is not an http:// or https:// URL",
        ),
    ] {
        let output = listed(defaults);
        assert!(!output.status.success(), "{defaults:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{defaults:?}: {stderr}");
    }
}

/// `connector-signer keys` for `keyring`, with `extra` arguments.
fn list_keys(keyring: &std::path::Path, extra: &[&str]) -> std::process::Output {
    binary()
        .args(["keys", "--allow-demo-keys", "--keyring"])
        .arg(keyring)
        .args(extra)
        .output()
        .unwrap()
}
