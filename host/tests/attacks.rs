//! The attack suite: what a local user or a network peer could try against
//! a running host, one test per hole, each of which passed before its fix.
//! (Plugin files another user could change: `plugin_loading`; a config
//! file others could change or one half written: `hot_reload`; state files
//! under a permissive umask: `private_files`.)

mod common;

use std::process::Command;
use std::time::Duration;

use common::host_process::{HostFiles, funded_emulator, run_to_exit};
use common::orders::{EventLog, eventually};
use hl_emulator::EmulatorHandle;
use serde_json::{Value, json};

/// Waits until order `id` is `FAILED`; its `get_order` reply.
async fn until_failed(files: &HostFiles, id: &Value) -> Value {
    let mut failed = Value::Null;
    eventually("the order failed", Duration::from_secs(10), || {
        failed = files
            .command(json!({"cmd": "get_order", "client_order_id": id}))
            .unwrap_or_default();
        failed["result"]["order_state"] == "FAILED"
    })
    .await;
    failed
}

#[test]
fn an_endpoint_beyond_loopback_is_refused_by_check_config_and_run() {
    // Never started: the config is refused before anything connects.
    let files = HostFiles::new("open endpoint", "http://127.0.0.1:9", "");
    let config = std::fs::read_to_string(&files.config_file).expect("config");
    let open = config.replace(&files.commands, "tcp://0.0.0.0:5556");
    std::fs::write(&files.config_file, open).expect("config");
    for args in [&["check-config"][..], &["run", "--config"]] {
        let output = run_to_exit(args, &files.config_file, Duration::from_secs(20));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success()
                && stderr.contains("zmq.commands")
                && stderr.contains("beyond loopback"),
            "{args:?}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_host_on_the_same_socket_paths_is_refused_and_the_first_keeps_serving() {
    let emulator = funded_emulator("squatted host").await;
    let first = HostFiles::new("squatted host", &emulator.base_url(), "");
    let _host = first.start().await;

    let second = HostFiles::new("squatted host", &emulator.base_url(), "");
    let config = std::fs::read_to_string(&second.config_file)
        .expect("config")
        .replace(&second.events, &first.events)
        .replace(&second.commands, &first.commands);
    std::fs::write(&second.config_file, config).expect("config");
    let output = run_to_exit(
        &["run", "--config"],
        &second.config_file,
        Duration::from_secs(20),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("another process is already serving on"),
        "{stderr}"
    );

    let status = first.command(json!({"cmd": "status"})).expect("reply");
    assert_eq!(status["ok"], true, "{status}");
    emulator.shutdown().await;
}

/// The `data` of the first `host.status.signer` event in `state`.
fn signer_status(events: &EventLog, state: &str) -> Option<Value> {
    events.all().into_iter().find_map(|(topic, body)| {
        (topic == "host.status.signer" && body["data"]["state"] == state)
            .then(|| body["data"].clone())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_that_takes_the_signer_socket_gets_no_order_and_the_signer_exit_is_loud() {
    let emulator = funded_emulator("squatted signer").await;
    let files = HostFiles::new("squatted signer", &emulator.base_url(), "");
    let events = EventLog::start(&files.events);
    let _host = files.start().await;
    files.limit_buy("BTC-USD", "90000", "0.001");
    eventually("the signer up", Duration::from_secs(10), || {
        signer_status(&events, "up").is_some()
    })
    .await;
    let pid = signer_status(&events, "up").expect("up")["pid"]
        .as_u64()
        .expect("pid");

    // The signer dies; another process of the same user takes its socket.
    let killed = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    eventually(
        "the signer's exit published",
        Duration::from_secs(10),
        || signer_status(&events, "exited").is_some(),
    )
    .await;
    let socket = files.dir.path().join("signer.sock");
    let _ = std::fs::remove_file(&socket);
    let squatter = std::os::unix::net::UnixListener::bind(&socket).expect("squat");
    squatter.set_nonblocking(true).expect("nonblocking");

    // An order now is not signed, and the squatter is sent nothing.
    let id = files.limit_buy("BTC-USD", "90000", "0.001");
    let failed = until_failed(&files, &json!(id)).await;
    assert!(
        failed
            .to_string()
            .contains("not by the signer this host started"),
        "{failed}"
    );
    let mut received = Vec::new();
    while let Ok((mut stream, _)) = squatter.accept() {
        stream.set_nonblocking(true).expect("nonblocking");
        let _ = std::io::Read::read_to_end(&mut stream, &mut received);
    }
    assert!(
        received.is_empty(),
        "the squatter was sent {}",
        String::from_utf8_lossy(&received)
    );
    emulator.shutdown().await;
}

/// With `signer.spawn_audit_log`, the signer the host starts records every
/// request it answers: the host's order is on record, with who asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_signature_the_host_asks_for_is_on_record() {
    let seed = "audited host";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let text = std::fs::read_to_string(&files.config_file).expect("config");
    std::fs::write(
        &files.config_file,
        text.replace(
            "spawn_key_file = \"host.key\"",
            "spawn_key_file = \"host.key\"\nspawn_audit_log = \"signer-audit.log\"",
        ),
    )
    .expect("config");
    let _host = files.start().await;
    let id = files.limit_buy("BTC-USD", "90000", "0.001");
    let log = files.dir.path().join("signer-audit.log");
    let recorded = |id: &str| -> bool {
        std::fs::read_to_string(&log).is_ok_and(|text| {
            text.lines().any(|line| {
                serde_json::from_str::<Value>(line).is_ok_and(|entry| {
                    entry["response"]["ok"] == true
                        && entry["request"]["action"]["orders"][0]["c"] == id
                })
            })
        })
    };
    eventually(
        "the order's signature on record",
        Duration::from_secs(10),
        || recorded(&id),
    )
    .await;
    emulator.shutdown().await;
}

#[test]
fn a_plain_key_is_refused_once_an_exchange_reaches_beyond_this_machine() {
    // Never trades: the signer the host starts refuses the key before any
    // exchange connects.
    let files = HostFiles::new("beyond this machine", "http://127.0.0.1:9", "");
    files.replace_in_config(
        "network = \"local\"\napi_url = \"http://127.0.0.1:9\"",
        "network = \"testnet\"",
    );
    let output = run_to_exit(
        &["run", "--config"],
        &files.config_file,
        Duration::from_secs(20),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success()
            && stderr.contains("host.key is not encrypted")
            && stderr.contains("connector-signer import"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_key_unlocked_from_a_passphrase_file_trades() {
    let seed = "encrypted key";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let dir = files.dir.path();
    let passphrase = dir.join("passphrase");
    std::fs::write(&passphrase, "a long passphrase\n").expect("passphrase");
    std::fs::set_permissions(
        &passphrase,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod");
    let imported = Command::new(common::binary("connector-signer", "connector-signer"))
        .args([
            "import",
            "--kind",
            "secp256k1",
            "--scrypt-log-n",
            "10",
            "--from",
        ])
        .arg(dir.join("host.key"))
        .arg("--out")
        .arg(dir.join("host.json"))
        .arg("--passphrase-file")
        .arg(&passphrase)
        .output()
        .expect("import");
    assert!(imported.status.success(), "{imported:?}");
    std::fs::remove_file(dir.join("host.key")).expect("plain key removed");
    files.replace_in_config(
        "spawn_key_file = \"host.key\"",
        "spawn_key_file = \"host.json\"\nspawn_passphrase_file = \"passphrase\"",
    );
    let _host = files.start().await;
    let id = files.limit_buy("BTC-USD", "90000", "0.001");
    files.until_open(&json!(id)).await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exchange_beyond_this_machine_is_not_added_while_the_signer_takes_demo_keys() {
    let seed = "demo keys stay local";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let events = EventLog::start(&files.events);
    let _host = files.start().await;
    // Refused before it starts: nothing connects beyond loopback.
    files.append_config(&format!(
        "\n[[exchanges]]\nname = \"hl-remote\"\nplugin = \"hyperliquid\"\n\n\
         [exchanges.settings]\nnetwork = \"testnet\"\naccount = \"{}\"\n\n\
         [[exchanges.markets]]\nsymbol = \"BTC-USD\"\n",
        common::orders::key(seed).address()
    ));
    files.command(json!({"cmd": "reload"})).expect("reply");
    events
        .until_refused(
            "exchanges.hl-remote: it reaches beyond this machine, and the signer the host \
             started takes demo keys",
        )
        .await;
    let status = files.command(json!({"cmd": "status"})).expect("reply");
    assert!(!status.to_string().contains("hl-remote"), "{status}");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signature_by_another_key_than_the_configured_signer_is_never_sent() {
    // The signer answers with its own key; the exchange is configured to
    // take only another's (as a signer started separately, then replaced,
    // would be): the plugin checks each signature and sends nothing.
    let seed = "signer identity";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let account = common::orders::key(seed).address();
    files.replace_in_config(
        &format!("account = \"{account}\""),
        &format!(
            "account = \"{account}\"\nsigner = \"0x0000000000000000000000000000000000000001\""
        ),
    );
    let _host = files.start().await;
    let mut arrivals = emulator.exchange_arrivals();
    let id = files.limit_buy("BTC-USD", "90000", "0.001");
    let failed = until_failed(&files, &json!(id)).await;
    assert!(
        failed.to_string().contains(&format!(
            "the signature is by {}, not by the configured signer",
            account.to_checksum()
        )),
        "{failed}"
    );
    assert!(arrivals.try_recv().is_err(), "nothing reached the exchange");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_marketable_sell_with_a_low_limit_is_valued_at_the_mark_and_never_signed() {
    // The key's own policy caps it and names where its marks come from.
    let seed = "valued at the mark";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let policy = files.dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "max_order_notional = \"50000\"\n[mark_prices]\nurl = \"{}\"\nrefresh_ms = 100\nmax_age_ms = 2000\n",
            emulator.base_url()
        ),
    )
    .expect("policy");
    std::fs::set_permissions(&policy, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
    files.replace_in_config(
        "spawn_key_file = \"host.key\"",
        "spawn_key_file = \"host.key\"\nspawn_policy = \"policy.toml\"",
    );
    low_limit_sell_is_refused_at_the_mark(&emulator, &files).await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_signer_the_host_starts_values_orders_at_the_venues_mark_by_default() {
    // No policy of its own: the key is capped at the config's largest
    // max_order_notional and valued at the marks of the venue the exchange's
    // plugin trades on, which the host names to the signer it starts.
    let seed = "default marks";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(
        seed,
        &emulator.base_url(),
        "limits = { max_order_notional = \"50000\" }",
    );
    low_limit_sell_is_refused_at_the_mark(&emulator, &files).await;
    emulator.shutdown().await;
}

/// Capped at 50,000 an order, a sell of 5 BTC limited at 3 is worth 15 by
/// its limit and 250,000 at the mark, where it would fill: the signer
/// fetches the mark from the venue itself and refuses it; an order within
/// the cap at the mark goes through.
async fn low_limit_sell_is_refused_at_the_mark(emulator: &EmulatorHandle, files: &HostFiles) {
    emulator
        .set_price("BTC", rust_decimal::Decimal::from(50_000))
        .expect("mark");
    let _host = files.start().await;
    let mut arrivals = emulator.exchange_arrivals();
    let reply = files
        .command(
            json!({"cmd": "sell", "trading_pair": "BTC-USD", "order_type": "LIMIT",
                        "price": "3", "amount": "5"}),
        )
        .expect("reply");
    assert_eq!(reply["ok"], true, "{reply}");
    let failed = until_failed(files, &reply["result"]["client_order_id"]).await;
    assert!(
        failed.to_string().contains(
            "order notional 50000 (the mark; limit 3) × 5 = 250000 exceeds 50000 (rule: max_order_notional)"
        ),
        "{failed}"
    );
    assert!(arrivals.try_recv().is_err(), "nothing reached the exchange");
    // Within the cap at the mark, an order goes through.
    let id = files.limit_buy("BTC-USD", "49000", "0.001");
    files.until_open(&Value::from(id)).await;
}

/// Asks the signer at `socket` directly, as a compromised host could, to
/// sign an order of `size` BTC at `price`; its answer.
fn ask_signer_directly(socket: &std::path::Path, price: &str, size: &str) -> Value {
    use std::io::{BufRead, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(socket).expect("signer socket");
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;
    let request = json!({"id": 1, "scheme": "hyperliquid-l1", "nonce": nonce, "network": "mainnet",
        "action": {"type": "order", "grouping": "na", "orders": [
            {"a": 0, "b": true, "p": price, "s": size, "r": false, "t": {"limit": {"tif": "Gtc"}}}]}});
    writeln!(stream, "{request}").expect("request");
    let mut line = String::new();
    std::io::BufReader::new(stream)
        .read_line(&mut line)
        .expect("answer");
    serde_json::from_str(&line).expect("JSON answer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signer_the_host_starts_caps_orders_at_the_configs_largest_limit() {
    // The host's own risk check stops orders above its limits; the signer
    // it starts holds the same line for a host that no longer checks (one
    // taken over, or a bug): without a policy of its own, the key is capped
    // at the largest max_order_notional of the config.
    let seed = "signer default cap";
    let emulator = funded_emulator(seed).await;
    // The orders below are valued at the larger of their limit and the
    // mark (the signer's default source is the emulator).
    emulator
        .set_price("BTC", rust_decimal::Decimal::from(50_000))
        .expect("mark");
    let files = HostFiles::new(
        seed,
        &emulator.base_url(),
        "limits = { max_order_notional = \"1000\" }",
    );
    let events = EventLog::start(&files.events);
    let _host = files.start().await;
    let socket = files.dir.path().join("signer.sock");
    let within = ask_signer_directly(&socket, "50000", "0.02");
    assert!(within["signature"].is_string(), "{within}");
    let above = ask_signer_directly(&socket, "50000", "0.1");
    assert_eq!(above["error"]["code"], "policy_denied", "{above}");
    assert_eq!(
        above["error"]["message"],
        "order notional 50000 × 0.1 = 5000.0 exceeds 1000 (rule: max_order_notional)"
    );
    // A reload may not raise the limits past what the signer allows.
    files.replace_in_config("\"1000\"", "\"5000\"");
    files.command(json!({"cmd": "reload"})).expect("reply");
    events
        .until_refused(
            "limits.max_order_notional: the largest would be 5000, above the 1000 the signer \
             this host started caps orders at; restart the host to raise it",
        )
        .await;
    emulator.shutdown().await;
}
