//! The Python examples (`host/python/examples`) against a host and a
//! Hyperliquid emulator with liquidity, as a user would run them: a TWAP
//! executor fills its amount slice by slice; a fill logger stores every
//! fill once and, restarted — and after the host restarts — stores only
//! what is new; a market maker quotes both sides, moves its quotes by
//! modify and leaves nothing open.
//!
//! Needs the Python of `CONNECTOR_TEST_PYTHON` (pyzmq); `host/run-tests.sh`
//! sets it up.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::host_process::HostFiles;
use common::orders::key;
use hl_emulator::{Config as EmulatorConfig, Emulator};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python/examples")
}

/// Runs an example with `args` and returns its JSON summary (last line).
async fn example(files: &HostFiles, name: &str, args: &[&str]) -> Value {
    let mut command = Command::new(common::test_python());
    command
        .arg(examples().join(name))
        .args(["--commands", &files.commands, "--events", &files.events])
        .args(args)
        .env("PYTHONPATH", examples().join(".."));
    let output = tokio::task::spawn_blocking(move || command.output().expect("python"))
        .await
        .expect("example");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{name}: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.lines().last().expect("a summary")).expect("json summary")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_run_against_the_emulator_as_they_are() {
    let seed = "python examples host";
    let mut config = EmulatorConfig::default();
    config.fund(key(seed).address(), Decimal::from(1_000_000));
    let emulator = Emulator::start(config).await.expect("emulator");
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let host = files.start().await;

    let twap = example(
        &files,
        "twap.py",
        &[
            "--exchange",
            "hl",
            "--pair",
            "BTC-USD",
            "--side",
            "buy",
            "--amount",
            "0.003",
            "--slices",
            "3",
            "--seconds",
            "1.5",
        ],
    )
    .await;
    assert_eq!(twap["filled"], "0.003", "{twap}");
    assert_eq!(twap["slices"].as_array().map(Vec::len), Some(3), "{twap}");

    // Every fill so far, from the oldest kept event; then, run again, none
    // twice.
    let db = files.dir.path().join("fills.sqlite");
    let db = db.display().to_string();
    let logger = ["--exchange", "hl", "--db", db.as_str(), "--idle", "1.5"];
    let first = example(&files, "fill_logger.py", &logger).await;
    let stored = first["stored_fills"].as_u64().expect("count");
    assert!(stored >= 3, "{first}");
    assert_eq!(first["new_fills"], stored);
    let again = example(&files, "fill_logger.py", &logger).await;
    assert_eq!(again, json!({"new_fills": 0, "stored_fills": stored}));

    // The host killed and restarted, a fill in its new run: only that one
    // is new.
    drop(host);
    let _host = files.start().await;
    // A market order needs the book in sync again.
    common::orders::eventually(
        "the book in sync after the restart",
        std::time::Duration::from_secs(10),
        || {
            files
                .command(json!({"cmd": "status"}))
                .is_some_and(|reply| {
                    reply["result"]["exchanges"][0]["books"][0]["state"] == "synced"
                })
        },
    )
    .await;
    let reply = files
        .command(json!({"cmd": "buy", "trading_pair": "BTC-USD", "order_type": "MARKET", "amount": "0.001"}))
        .expect("reply");
    assert_eq!(reply["ok"], true, "{reply}");
    let id = reply["result"]["client_order_id"].clone();
    common::orders::eventually(
        "the market order filled",
        std::time::Duration::from_secs(10),
        || {
            files
                .command(json!({"cmd": "get_order", "client_order_id": id}))
                .is_some_and(|reply| reply["result"]["order_state"] == "FILLED")
        },
    )
    .await;
    let after_restart = example(&files, "fill_logger.py", &logger).await;
    let new = after_restart["new_fills"].as_u64().expect("count");
    assert!(new >= 1, "{after_restart}");
    assert_eq!(after_restart["stored_fills"].as_u64(), Some(stored + new));

    let maker = example(
        &files,
        "market_maker.py",
        &[
            "--exchange",
            "hl",
            "--pair",
            "BTC-USD",
            "--size",
            "0.001",
            "--spread-bps",
            "40",
            "--requote-bps",
            "0",
            "--tick",
            "10",
            "--seconds",
            "4",
        ],
    )
    .await;
    assert!(maker["mids"].as_u64() > Some(0), "{maker}");
    assert!(maker["placed"].as_u64() >= Some(2), "{maker}");
    assert!(maker["modified"].as_u64() >= Some(1), "{maker}");
    common::orders::eventually(
        "the quotes cancelled",
        std::time::Duration::from_secs(10),
        || {
            files
                .command(json!({"cmd": "open_orders"}))
                .is_some_and(|reply| {
                    reply["result"]["orders"]
                        .as_array()
                        .is_some_and(Vec::is_empty)
                })
        },
    )
    .await;
    emulator.shutdown().await;
}
