//! The Python client (`host/python`, package `connector-host-client`):
//! its unit tests, its installation with pip from the repository, and the
//! client against a running host — typed results, coded errors, a
//! subscriber that resumes from the kept history and one for asyncio.
//!
//! Needs the Python of `CONNECTOR_TEST_PYTHON` (pyzmq, setuptools);
//! `host/run-tests.sh` sets it up.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::host_process::{HostFiles, funded_emulator};
use serde_json::Value;

fn package() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python")
}

fn python(args: &[&str], path: &Path) -> Output {
    Command::new(common::test_python())
        .args(args)
        .env("PYTHONPATH", path)
        .current_dir(package())
        .output()
        .expect("python")
}

fn said(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Copies `from` into `to`, files and folders, skipping Python caches.
fn copy_folder(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_name() == "__pycache__" {
            continue;
        }
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir(&target).expect("mkdir");
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn the_unit_tests_pass_and_pip_installs_the_package() {
    let unit = python(&["-m", "unittest", "discover", "-s", "tests"], &package());
    assert!(unit.status.success(), "{}", said(&unit));

    // Installed by pip from a copy of the repository's folder (a build
    // writes beside the sources; no network: no build isolation), then
    // imported from the installation alone.
    let source = tempfile::tempdir().expect("dir");
    copy_folder(&package(), source.path());
    let target = tempfile::tempdir().expect("dir");
    let install = Command::new(common::test_python())
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
        ])
        .arg("--target")
        .arg(target.path())
        .arg(source.path())
        .output()
        .expect("pip");
    assert!(install.status.success(), "{}", said(&install));
    assert!(
        target
            .path()
            .join("connector_host_client/py.typed")
            .is_file()
    );
    let imported = Command::new(common::test_python())
        .args(["-c", "import connector_host_client as c; print(c.__file__)"])
        .env("PYTHONPATH", target.path())
        .current_dir(target.path())
        .output()
        .expect("python");
    assert!(imported.status.success(), "{}", said(&imported));
    assert!(
        String::from_utf8_lossy(&imported.stdout).contains(&target.path().display().to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_drives_a_host_and_its_subscribers_miss_nothing() {
    let seed = "python client host";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let _host = files.start().await;
    let script = package().join("tests/e2e_client.py");
    let (commands, events) = (files.commands.clone(), files.events.clone());
    let output = tokio::task::spawn_blocking(move || {
        python(
            &[
                &script.display().to_string(),
                "--commands",
                &commands,
                "--events",
                &events,
                "--exchange",
                "hl",
            ],
            &package(),
        )
    })
    .await
    .expect("script");
    assert!(output.status.success(), "{}", said(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: Value =
        serde_json::from_str(stdout.lines().last().expect("a summary")).expect("json");
    assert_eq!(summary["unknown_order_code"], "unknown_order", "{summary}");
    // The order placed before the subscriber existed, from its creation on.
    assert_eq!(summary["early_topics"][0], "created", "{summary}");
    assert_eq!(summary["early_price_is_decimal"], true);
    assert_eq!(summary["get_order_state"], "OPEN");
    assert_eq!(summary["live_final"], "CANCELLED");
    assert_eq!(summary["open_after"], serde_json::json!([summary["early"]]));
    assert_eq!(summary["nothing_after_position"], true, "{summary}");
    // The state queries: both orders from the journal (no fill on this
    // book), the market, the account.
    assert_eq!(
        summary["history"],
        serde_json::json!([
            [summary["early"], "OPEN"],
            [summary["history"][1][0], "CANCELLED"]
        ]),
        "{summary}"
    );
    assert_eq!(summary["history_complete"], true);
    assert_eq!(summary["fills"], 0);
    assert_eq!(summary["markets"], serde_json::json!(["BTC-USD"]));
    assert_eq!(summary["balances_is_list"], true);
    assert_eq!(summary["positions_is_list"], true);
    assert_eq!(summary["leverage_set"], 2, "{summary}");
    assert_eq!(
        summary["batch"],
        serde_json::json!(["placed", "unknown_order"]),
        "{summary}"
    );
    assert_eq!(
        summary["zero_leverage_code"], "invalid_setting",
        "{summary}"
    );
    assert_eq!(summary["async_order_open"], true);
    emulator.shutdown().await;
}
