//! Conformance with the official Python SDK (hyperliquid-python-sdk 0.24.0).
//!
//! Needs `CONNECTOR_TEST_PYTHON` = a Python with the SDK installed, as
//! `host/run-tests.sh` sets up; see docs/emulator.md.

use std::process::Command;

#[test]
fn python_sdk_conformance() {
    let Ok(python) = std::env::var("CONNECTOR_TEST_PYTHON") else {
        panic!(
            "CONNECTOR_TEST_PYTHON is not set: run the tests with host/run-tests.sh, which \
             creates target/test-venv with hyperliquid-python-sdk==0.24.0 \
             (see docs/emulator.md, \"Python SDK conformance\")"
        );
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/conformance/sdk_conformance.py"
    );
    let output = Command::new(&python)
        .arg(script)
        .arg("--emulator")
        .arg(env!("CARGO_BIN_EXE_hl-emulator"))
        .output()
        .unwrap_or_else(|error| panic!("cannot run {python}: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "SDK conformance failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains("SDK conformance: all checks passed"),
        "{stdout}\n{stderr}"
    );
}

/// Runs one conformance script against one emulator binary; the script
/// prints `marker` when every check passed.
fn run_conformance(script: &str, emulator: &str, marker: &str) {
    let Ok(python) = std::env::var("CONNECTOR_TEST_PYTHON") else {
        panic!(
            "CONNECTOR_TEST_PYTHON is not set: run the tests with host/run-tests.sh, which \
             creates target/test-venv with the clients (see docs/emulator.md)"
        );
    };
    let output = Command::new(&python)
        .arg(script)
        .arg("--emulator")
        .arg(emulator)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {python}: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains(marker), "{stdout}\n{stderr}");
}

/// Bybit's official pybit 5.17.0 against `bybit-emulator`.
#[test]
fn pybit_conformance() {
    run_conformance(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/conformance/pybit_conformance.py"
        ),
        env!("CARGO_BIN_EXE_bybit-emulator"),
        "pybit conformance: all checks passed",
    );
}

/// Binance's official USDⓈ-M SDK 18.1.0 (HMAC and Ed25519, REST and the
/// WebSocket API) against `binance-emulator`.
#[test]
fn binance_sdk_conformance() {
    run_conformance(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/conformance/binance_sdk_conformance.py"
        ),
        env!("CARGO_BIN_EXE_binance-emulator"),
        "Binance SDK conformance: all checks passed",
    );
}

/// ccxt 4.5.90 `bybit`, `binanceusdm` and `hyperliquid` against the three emulators.
#[test]
fn ccxt_conformance() {
    let Ok(python) = std::env::var("CONNECTOR_TEST_PYTHON") else {
        panic!("CONNECTOR_TEST_PYTHON is not set: run the tests with host/run-tests.sh");
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/conformance/ccxt_conformance.py"
    );
    let output = Command::new(&python)
        .arg(script)
        .arg("--bybit")
        .arg(env!("CARGO_BIN_EXE_bybit-emulator"))
        .arg("--binance")
        .arg(env!("CARGO_BIN_EXE_binance-emulator"))
        .arg("--hyperliquid")
        .arg(env!("CARGO_BIN_EXE_hl-emulator"))
        .output()
        .unwrap_or_else(|error| panic!("cannot run {python}: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "ccxt conformance failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("ccxt conformance: all checks passed"),
        "{stdout}\n{stderr}"
    );
}
