//! A strategy sending nonsense to a running host: each command gets a
//! precise error (or, past the size limit, its connection closed), the host
//! keeps running, and an order placed before the nonsense is still known
//! and the exchange still agrees with it. `docs/reliability.md` lists these
//! beside the other bad inputs.

mod common;

use common::host_process::{HostFiles, funded_emulator};
use serde_json::{Value, json};

/// Sends raw bytes as one command over a fresh DEALER; the reply, if one
/// comes within a second.
fn raw_command(endpoint: &str, body: &[u8]) -> Option<Value> {
    let socket = zmq::Context::new().socket(zmq::DEALER).ok()?;
    socket.set_rcvtimeo(1_000).ok()?;
    socket.set_linger(0).ok()?;
    socket.connect(endpoint).ok()?;
    socket.send_multipart([&b""[..], body], 0).ok()?;
    let parts = socket.recv_multipart(0).ok()?;
    serde_json::from_slice(parts.last()?).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonsense_commands_get_precise_errors_and_lose_nothing() {
    let emulator = funded_emulator("bad input host").await;
    let files = HostFiles::new("bad input host", &emulator.base_url(), "");
    let _host = files.start().await;
    let id = json!(files.limit_buy("BTC-USD", "95000", "0.001"));

    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let long_pair = format!(
        r#"{{"cmd":"buy","trading_pair":"{}","order_type":"LIMIT","price":"1","amount":"1"}}"#,
        "X".repeat(100_000)
    );
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        ("not JSON", b"buy 1 BTC".to_vec(), "bad_request", "not JSON"),
        ("not UTF-8", vec![0xff, 0xfe, b'{'], "bad_request", "not JSON"),
        ("nested 10,000 deep", deep.into_bytes(), "bad_request", "recursion limit"),
        ("a wrong type", br#"{"cmd":"cancel","client_order_id":7}"#.to_vec(), "bad_request", "`client_order_id`: invalid type"),
        ("an unknown command", br#"{"cmd":"withdraw","amount":"1000"}"#.to_vec(), "bad_request", "unknown variant"),
        ("a misspelt field", br#"{"cmd":"buy","trading_pair":"BTC-USD","order_type":"LIMIT","price":"1","amount":"1","reduceonly":true}"#.to_vec(), "bad_request", "unknown field"),
        ("a number too big for a decimal", br#"{"cmd":"buy","trading_pair":"BTC-USD","order_type":"LIMIT","price":1e400,"amount":"1"}"#.to_vec(), "bad_request", ""),
        ("a price of 10^30", br#"{"cmd":"buy","trading_pair":"BTC-USD","order_type":"LIMIT","price":"1000000000000000000000000000000","amount":"0.001"}"#.to_vec(), "bad_request", "`price`"),
        ("a price of 10^20", br#"{"cmd":"buy","trading_pair":"BTC-USD","order_type":"LIMIT","price":"100000000000000000000","amount":"0.001"}"#.to_vec(), "invalid_order", ""),
        ("a negative amount", br#"{"cmd":"sell","trading_pair":"BTC-USD","order_type":"LIMIT","price":"100000","amount":"-1"}"#.to_vec(), "invalid_order", ""),
        ("a zero price", br#"{"cmd":"buy","trading_pair":"BTC-USD","order_type":"LIMIT","price":"0","amount":"0.001"}"#.to_vec(), "invalid_order", ""),
        ("an amount below the lot", br#"{"cmd":"buy","trading_pair":"BTC-USD","order_type":"LIMIT","price":"95000","amount":"0.0000001"}"#.to_vec(), "invalid_order", ""),
        ("an unknown pair 100 kB long", long_pair.into_bytes(), "unknown_market", ""),
        ("an unknown order", br#"{"cmd":"cancel","client_order_id":"0x0000000000000000000000000000beef"}"#.to_vec(), "unknown_order", ""),
        ("a duplicate client order id", format!(r#"{{"cmd":"buy","trading_pair":"BTC-USD","order_type":"LIMIT","price":"95000","amount":"0.001","client_order_id":{id}}}"#).into_bytes(), "duplicate_client_order_id", ""),
        // Numbers whose quantization or value leaves the decimal range
        // (these once panicked the command thread).
        ("an amount of 10^24", br#"{"cmd":"buy","trading_pair":"BTC-USD","order_type":"LIMIT","price":"95000","amount":"1e24"}"#.to_vec(), "invalid_order", "`amount`: size 1000000000000000000000000 is too large"),
        ("a price of 10^18 times an amount of 10^12", br#"{"cmd":"sell","trading_pair":"BTC-USD","order_type":"LIMIT","price":"1e18","amount":"1e12"}"#.to_vec(), "invalid_order", "`amount`: order value"),
        ("a modify to an amount of 10^24", format!(r#"{{"cmd":"modify","client_order_id":{id},"amount":"1e24"}}"#).into_bytes(), "invalid_order", "`amount`"),
        ("an all-zero client order id", br#"{"cmd":"buy","trading_pair":"BTC-USD","order_type":"LIMIT","price":"95000","amount":"0.001","client_order_id":"0x00000000000000000000000000000000"}"#.to_vec(), "invalid_order", "all-zero"),
        ("another host's client order id", br#"{"cmd":"buy","trading_pair":"BTC-USD","order_type":"LIMIT","price":"95000","amount":"0.001","client_order_id":"0x0123456789abcdef0123456789abcdef"}"#.to_vec(), "invalid_order", "prefix"),
        ("a modify with neither price nor amount", format!(r#"{{"cmd":"modify","client_order_id":{id}}}"#).into_bytes(), "invalid_order", "needs a new"),
        ("reduce_only false with position_action CLOSE", br#"{"cmd":"sell","trading_pair":"BTC-USD","order_type":"LIMIT","price":"105000","amount":"0.001","reduce_only":false,"position_action":"CLOSE"}"#.to_vec(), "invalid_order", "contradicts"),
        ("reduce_only true with position_action OPEN", br#"{"cmd":"sell","trading_pair":"BTC-USD","order_type":"LIMIT","price":"105000","amount":"0.001","reduce_only":true,"position_action":"OPEN"}"#.to_vec(), "invalid_order", "contradicts"),
    ];
    for (what, body, code, needle) in cases {
        let reply =
            raw_command(&files.commands, &body).unwrap_or_else(|| panic!("{what}: no reply"));
        assert_eq!(reply["ok"], false, "{what}: {reply}");
        assert_eq!(reply["error"]["code"], code, "{what}: {reply}");
        let message = reply["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !message.is_empty() && message.contains(needle),
            "{what}: {reply}"
        );
    }
    // Past the size limit (1 MiB) the sender's connection is closed unread.
    let huge = vec![b' '; 2 << 20];
    assert!(
        raw_command(&files.commands, &huge).is_none(),
        "a 2 MiB command is not read"
    );

    // The host goes on, and nothing was lost: the order placed first is
    // still tracked and open on the exchange.
    let order = files
        .command(json!({"cmd": "get_order", "client_order_id": id}))
        .expect("the host still answers");
    assert_eq!(order["ok"], true, "{order}");
    files.until_open(&id).await;
    files.limit_buy("BTC-USD", "95000", "0.001");
    emulator.shutdown().await;
}
