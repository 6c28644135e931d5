//! SIGTERM of a host configured with `cancel_on_shutdown`: it cancels every
//! open order on the exchange, waits for the confirmations, and exits
//! cleanly.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::host_process::{HostFiles, funded_emulator};
use common::orders::key;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_cancels_every_open_order_before_exiting() {
    let account = key("shutdown test host").address();
    let emulator = funded_emulator("shutdown test host").await;
    let files = HostFiles::new(
        "shutdown test host",
        &emulator.base_url(),
        "cancel_on_shutdown = true",
    );
    let mut host = files.start().await;

    let mut ids = Vec::new();
    for price in ["90000", "90010", "90020"] {
        ids.push(files.limit_buy("BTC-USD", price, "0.001"));
    }
    let exchange_status = |id: &str| {
        emulator.account_state(account).and_then(|state| {
            state["orders"]
                .as_array()?
                .iter()
                .find(|order| order["cloid"] == id)
                .map(|order| order["status"].as_str().unwrap_or_default().to_owned())
        })
    };
    let started = Instant::now();
    while !ids
        .iter()
        .all(|id| exchange_status(id).as_deref() == Some("open"))
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "orders not open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let pid = host.0.id().to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = host.0.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the host did not stop"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit}");
    for id in &ids {
        assert_eq!(exchange_status(id).as_deref(), Some("canceled"), "{id}");
    }
    emulator.shutdown().await;
}
