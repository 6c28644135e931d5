//! Helpers shared by the host's integration tests. Each test binary uses a
//! part of them.
#![allow(dead_code)]

pub mod host_process;
pub mod http;
pub mod orders;
pub mod testex;
pub mod venue;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use connector_host::config::{ExchangeConfig, Limits, MarketConfig};
use connector_host::order::{OrderType, TimeInForce, TradeType};
use connector_host::trading::OrderCommand;

/// The folder of this build's artifacts (`target/debug` or
/// `target/release`), found from the running test binary.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(Path::parent)
        .expect("test binaries live in <target>/<profile>/deps")
        .to_owned()
}

/// Runs `cargo build` for the test binary's profile, once per set of
/// arguments and test binary.
fn cargo_build(arguments: &[&str]) {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let key = arguments.join(" ");
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if built.contains(&key) {
        return;
    }
    let mut command = Command::new(env!("CARGO"));
    command
        .args(["build", "--quiet"])
        .args(arguments)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir()
        .file_name()
        .is_some_and(|name| name == "release")
    {
        command.arg("--release");
    }
    assert!(
        command.status().expect("run cargo").success(),
        "cargo build {key} failed"
    );
    built.push(key);
}

/// Builds the `cdylib` of a workspace package and returns its path.
/// `cargo test` builds test harnesses, not cdylibs, so plugin tests build
/// the real files themselves.
pub fn cdylib(package: &str) -> PathBuf {
    cargo_build(&["-p", package]);
    let file = format!(
        "{}{}.{}",
        std::env::consts::DLL_PREFIX,
        package.replace('-', "_"),
        std::env::consts::DLL_EXTENSION
    );
    profile_dir().join(file)
}

/// Builds a workspace binary and returns its path.
pub fn binary(package: &str, name: &str) -> PathBuf {
    cargo_build(&["-p", package, "--bin", name]);
    profile_dir().join(name)
}

/// Copies `file` into `dir` under `name`.
pub fn copy_as(file: &Path, dir: &Path, name: &str) -> PathBuf {
    let target = dir.join(name);
    std::fs::copy(file, &target).expect("copy plugin file");
    target
}

/// The Python interpreter for tests that drive Python clients: the one in
/// `CONNECTOR_TEST_PYTHON` (set by `host/run-tests.sh`).
pub fn test_python() -> PathBuf {
    match std::env::var_os("CONNECTOR_TEST_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => panic!(
            "CONNECTOR_TEST_PYTHON is not set: run the tests with host/run-tests.sh, \
             which creates target/test-venv with pyzmq and the Hyperliquid SDK"
        ),
    }
}

/// A Hyperliquid exchange `hl` at a local emulator, trading BTC-USD and
/// ETH-USD for `account`, with the config's usual settings; tests adjust
/// the fields they care about.
pub fn local_exchange(api_url: String, account: String) -> ExchangeConfig {
    ExchangeConfig {
        name: "hl".into(),
        plugin: "hyperliquid".into(),
        settings: toml::Table::from_iter([
            ("network".to_owned(), "local".into()),
            ("api_url".to_owned(), api_url.into()),
            ("account".to_owned(), account.into()),
        ]),
        insecure_transport: false,
        signer_key: None,
        stream_timeout_ms: None,
        request_timeout_ms: 10_000,
        order_expiry_ms: 10_000,
        closed_order_retention_ms: 600_000,
        reconcile_interval_ms: 30_000,
        market_slippage_percent: None,
        cancel_on_shutdown: false,
        order_transport: Default::default(),
        attached_exits: Default::default(),
        market_data: None,
        limits: Limits::default(),
        rate_limits: Default::default(),
        dead_man_switch: None,
        markets: ["BTC-USD", "ETH-USD"]
            .into_iter()
            .map(|symbol| MarketConfig {
                symbol: symbol.into(),
                limits: Limits::default(),
            })
            .collect(),
    }
}

/// Sends the host's logs to the test's output (shown when a test fails),
/// at `RUST_LOG`'s level or `warn`.
pub fn capture_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
}

/// Runs `future` on a two-worker runtime, as the bench binaries do (the
/// machine has two cores).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// A JSON number or decimal string as an exact decimal.
pub fn decimal(value: &serde_json::Value) -> rust_decimal::Decimal {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
        .parse()
        .expect("a decimal")
}

/// A GTC buy of `amount` at `price` on `pair`, as the order path takes it.
pub fn buy_order(pair: &str, price: &str, amount: &str, order_type: OrderType) -> OrderCommand {
    let number = |text: &str| text.parse().expect("a decimal");
    OrderCommand {
        parent: None,
        stop_loss: None,
        take_profit: None,
        trigger_reference: None,
        trading_pair: pair.into(),
        trade_type: TradeType::Buy,
        order_type,
        time_in_force: TimeInForce::Gtc,
        price: Some(number(price)),
        amount: number(amount),
        position_action: None,
        reduce_only: false,
        client_order_id: None,
        max_slippage_percent: None,
        trigger_price: None,
    }
}
