//! The command socket under abuse, as a buggy strategy or an attacker on
//! the machine would try it: a burst of commands the risk limits refuse, a
//! client flooding one connection, a flood of connections. Refusals leave
//! no trace in the journal (they are counted on `host.status.commands`),
//! one client's flood slows only that client, and a connection flood takes
//! no more descriptors than the cap, so orders and the kill switch go on;
//! likewise a flood of connections to the event socket.

mod common;

use std::os::unix::net::UnixStream;
use std::time::Duration;

use common::host_process::{HostFiles, funded_emulator};
use common::orders::{EventLog, eventually};
use serde_json::{Value, json};

/// A DEALER connected to `endpoint`, kept open across commands.
fn dealer(endpoint: &str) -> zmq::Socket {
    let socket = zmq::Context::new().socket(zmq::DEALER).expect("dealer");
    socket.set_rcvtimeo(5_000).expect("timeout");
    socket.set_linger(0).expect("linger");
    socket.connect(endpoint).expect("connect");
    socket
}

fn send(socket: &zmq::Socket, request: &Value) {
    socket
        .send_multipart([&b""[..], request.to_string().as_bytes()], 0)
        .expect("send");
}

fn receive(socket: &zmq::Socket) -> Value {
    let parts = socket.recv_multipart(0).expect("a reply");
    serde_json::from_slice(parts.last().expect("a body")).expect("JSON")
}

fn ask(socket: &zmq::Socket, request: Value) -> Value {
    send(socket, &request);
    receive(socket)
}

fn buy(price: &str, amount: &str) -> Value {
    json!({"cmd": "buy", "trading_pair": "BTC-USD", "order_type": "LIMIT",
           "price": price, "amount": amount})
}

fn open_descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("the host's descriptors")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_commands_leave_the_journal_alone_and_are_counted() {
    let emulator = funded_emulator("refusals host").await;
    let files = HostFiles::new(
        "refusals host",
        &emulator.base_url(),
        "[exchanges.limits]\nmax_order_size = \"0.01\"",
    );
    let _host = files.start().await;
    let events = EventLog::start(&files.events);
    let first = files.limit_buy("BTC-USD", "95000", "0.001");
    files.until_open(&json!(first)).await;
    let journal = files.journal();
    let before = std::fs::metadata(&journal).expect("the journal").len();

    const BURST: usize = 10_000;
    let client = dealer(&files.commands);
    // In windows of 500 in flight: ZeroMQ queues at most 1,000 replies to
    // one connection.
    let mut codes = std::collections::BTreeMap::new();
    for _ in 0..BURST / 500 {
        for _ in 0..500 {
            send(&client, &buy("95000", "1"));
        }
        for _ in 0..500 {
            let reply = receive(&client);
            *codes
                .entry(reply["error"]["code"].as_str().unwrap_or("ok").to_owned())
                .or_insert(0) += 1;
        }
    }
    assert_eq!(
        codes,
        [("risk_limit".to_owned(), BURST)].into(),
        "{codes:?}"
    );
    let after = std::fs::metadata(&journal).expect("the journal").len();
    assert_eq!(after, before, "refused orders were journaled");
    eventually(
        "the refusals on host.status.commands",
        Duration::from_secs(15),
        || {
            events.all().iter().any(|(topic, body)| {
                topic == "host.status.commands"
                    && body["data"]["refused"]["risk_limit"].as_u64() >= Some(BURST as u64)
            })
        },
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_flooding_is_slowed_and_the_others_are_served() {
    let emulator = funded_emulator("throttled host").await;
    let files = HostFiles::new("throttled host", &emulator.base_url(), "");
    files.add_zmq_keys("max_commands_per_second = 100");
    let _host = files.start().await;

    let flooding = dealer(&files.commands);
    for _ in 0..1_000 {
        send(&flooding, &json!({"cmd": "status"}));
    }
    let limited = (0..1_000)
        .map(|_| receive(&flooding))
        .filter(|reply| reply["error"]["code"] == "rate_limited")
        .count();
    assert!(limited >= 800, "{limited} of 1000 limited");
    // Another connection has its own budget.
    let other = dealer(&files.commands);
    assert_eq!(ask(&other, json!({"cmd": "status"}))["ok"], true);
    // And the flooding one is served again once it slows down.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(ask(&flooding, json!({"cmd": "status"}))["ok"], true);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_flood_takes_no_more_than_the_cap_and_the_kill_switch_works() {
    const CAP: usize = 16;
    let emulator = funded_emulator("flooded host").await;
    let files = HostFiles::new("flooded host", &emulator.base_url(), "");
    files.add_zmq_keys(&format!("max_command_connections = {CAP}"));
    let host = files.start().await;
    let pid = host.0.id();
    let client = dealer(&files.commands);
    let resting = ask(&client, buy("95000", "0.001"));
    let resting = resting["result"]["client_order_id"].clone();
    let baseline = open_descriptors(pid);

    let path = files.commands.trim_start_matches("ipc://").to_owned();
    let flood: Vec<UnixStream> = (0..300)
        .filter_map(|_| UnixStream::connect(&path).ok())
        .collect();
    assert!(flood.len() > CAP, "the flood connected");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during = open_descriptors(pid);
    assert!(
        during <= baseline + CAP + 4,
        "{during} descriptors with the flood, {baseline} before"
    );

    // The order path and the kill switch work through the flood.
    let second = ask(&client, buy("95100", "0.001"));
    assert_eq!(second["ok"], true, "{second}");
    let engaged = ask(
        &client,
        json!({"cmd": "kill_switch", "reason": "flood drill"}),
    );
    assert_eq!(engaged["ok"], true, "{engaged}");
    for id in [resting, second["result"]["client_order_id"].clone()] {
        eventually("the kill switch's cancels", Duration::from_secs(10), || {
            ask(&client, json!({"cmd": "get_order", "client_order_id": id}))["result"]
                ["order_state"]
                == "CANCELLED"
        })
        .await;
    }
    drop(flood);
    // Once the flood is gone a new client gets in.
    eventually("a new client to be served", Duration::from_secs(10), || {
        files
            .command(json!({"cmd": "release_kill_switch"}))
            .is_some_and(|reply| reply["ok"] == true)
    })
    .await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_flood_takes_no_more_than_the_cap_and_events_go_on() {
    const CAP: usize = 16;
    let emulator = funded_emulator("flooded events").await;
    let files = HostFiles::new("flooded events", &emulator.base_url(), "");
    files.add_zmq_keys(&format!("max_event_connections = {CAP}"));
    let events = EventLog::start(&files.events);
    let host = files.start().await;
    let pid = host.0.id();
    let client = dealer(&files.commands);
    let baseline = open_descriptors(pid);

    let path = files.events.trim_start_matches("ipc://").to_owned();
    let flood: Vec<UnixStream> = (0..300)
        .filter_map(|_| UnixStream::connect(&path).ok())
        .collect();
    assert!(flood.len() > CAP, "the flood connected");
    // The publisher looks at its connections whenever it wakes; an order
    // wakes it.
    let placed = ask(&client, buy("95000", "0.001"));
    assert_eq!(placed["ok"], true, "{placed}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during = open_descriptors(pid);
    assert!(
        during <= baseline + CAP + 4,
        "{during} descriptors with the flood, {baseline} before"
    );
    // The subscriber that was there first still hears the order's events.
    let id = placed["result"]["client_order_id"].clone();
    eventually("the order's events", Duration::from_secs(10), || {
        events.all().iter().any(|(topic, body)| {
            topic.starts_with("orders.") && body["data"]["client_order_id"] == id
        })
    })
    .await;
    drop(flood);
    emulator.shutdown().await;
}
