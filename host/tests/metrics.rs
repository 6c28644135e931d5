//! `/metrics` and `/healthz` of a running host: orders by state, commands,
//! connections, the signer and the latency histograms are there after an
//! order; health turns to 503 naming the connection when the exchange goes
//! away; anything but a GET of the two paths gets a plain refusal; a
//! non-loopback address is refused by the configuration check.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::time::Duration;

use common::host_process::{HostFiles, funded_emulator};
use common::http::{get, http, try_http, value};
use common::orders::eventually;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_serves_its_metrics_and_health() {
    let seed = "metrics host";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let port = files.with_metrics();
    let _host = files.start().await;
    let id = files.limit_buy("BTC-USD", "90000", "0.001");
    files.until_open(&serde_json::json!(id)).await;

    let (status, metrics) = get(port, "/metrics");
    assert_eq!(status, 200, "{metrics}");
    assert_eq!(
        value(&metrics, "connector_orders{exchange=\"hl\",state=\"OPEN\"}"),
        Some(1.0),
        "{metrics}"
    );
    assert!(value(&metrics, "connector_commands_received_total").is_some_and(|n| n >= 2.0));
    assert_eq!(
        value(&metrics, "connector_signer_up"),
        Some(1.0),
        "{metrics}"
    );
    assert!(
        metrics.lines().any(
            |line| line.starts_with("connector_connection_up{exchange=\"hl\"")
                && line.ends_with(" 1")
        ),
        "{metrics}"
    );
    for histogram in [
        "connector_command_seconds",
        "connector_signer_seconds",
        "connector_exchange_request_seconds",
        "connector_journal_sync_seconds",
    ] {
        assert!(
            value(&metrics, &format!("{histogram}_count")).is_some_and(|n| n >= 1.0),
            "{histogram}: {metrics}"
        );
        assert!(metrics.contains(&format!("{histogram}_bucket{{le=\"+Inf\"}}")));
    }
    assert!(metrics.contains("connector_info{version=\""));

    assert_eq!(get(port, "/healthz"), (200, "ok\n".to_owned()));
    assert_eq!(get(port, "/nothing").0, 404);
    assert_eq!(http(port, "POST /metrics HTTP/1.1\r\n\r\n").0, 405);
    assert_eq!(http(port, "\r\n\r\n").0, 405);

    // Connections beyond the cap are closed as they come; once the idle
    // ones go, requests are answered again.
    let idle: Vec<TcpStream> = (0..16)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connect"))
        .collect();
    eventually(
        "a connection over the cap closed",
        Duration::from_secs(5),
        || {
            let mut extra = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            let _ = extra.set_read_timeout(Some(Duration::from_millis(500)));
            let mut byte = [0u8; 1];
            matches!(extra.read(&mut byte), Ok(0))
        },
    )
    .await;
    drop(idle);
    eventually("metrics again", Duration::from_secs(10), || {
        try_http(port, "GET /healthz HTTP/1.1\r\n\r\n").is_some_and(|(status, _)| status == 200)
    })
    .await;

    // The exchange goes away: health names what is down.
    emulator.shutdown().await;
    eventually("health to fail", Duration::from_secs(20), || {
        let (status, body) = get(port, "/healthz");
        status == 503 && body.contains("exchange hl: connection") && body.contains("down")
    })
    .await;
}

#[test]
fn a_metrics_address_beyond_loopback_is_refused() {
    let files = HostFiles::new("metrics refused", "http://127.0.0.1:1", "");
    let config = std::fs::read_to_string(&files.config_file).expect("config");
    std::fs::write(
        &files.config_file,
        format!("{config}\n[metrics]\nlisten = \"0.0.0.0:9464\"\n"),
    )
    .expect("config");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_connector-host"))
        .arg("check-config")
        .arg(&files.config_file)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("metrics.listen: `0.0.0.0:9464` is not a loopback address"),
        "{stderr}"
    );
}
