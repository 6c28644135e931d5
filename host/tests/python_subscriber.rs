//! The Python subscriber example (`docs/examples/subscriber.py`, pyzmq)
//! receives the host's events and finds no sequence gap.
//!
//! Needs a Python with pyzmq in `CONNECTOR_TEST_PYTHON`; `host/run-tests.sh`
//! sets it up.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use connector_host::publisher::Publisher;
use serde_json::Value;

#[test]
fn the_python_example_receives_every_event_in_order() {
    let python = common::test_python();
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("ipc://{}/events.sock", dir.path().display());
    let (publisher, thread) = Publisher::start(&endpoint, 4096).unwrap();
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/examples/subscriber.py"
    );
    let mut child = Command::new(&python)
        .args([
            example,
            "--endpoint",
            &endpoint,
            "--topic",
            "orders.",
            "--count",
            "50",
            "--timeout-ms",
            "20000",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Publish until the example has its 50 events (it joins late: PUB drops
    // what is sent before a subscriber is connected).
    let family = publisher.family("orders.hl-local");
    let started = Instant::now();
    let mut i = 0u64;
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the example never finished"
        );
        let data = serde_json::json!({
            "client_order_id": format!("0x{i:032x}"), "order_state": "OPEN",
            "filled_amount": 0, "amount": 1.5, "average_executed_price": null
        });
        publisher.publish(&family, "orders.hl-local.update".into(), "update", i, &data);
        i += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["received"], 50);
    assert_eq!(summary["gaps"], 0);
    assert_eq!(summary["topics"]["orders.hl-local.update"], 50);
    assert!(stdout.lines().next().unwrap().contains("OPEN filled 0/1.5"));
    drop(publisher);
    thread.join();
}
