//! Start-up that fails loudly: each broken configuration gets one precise
//! error naming its key (with a "did you mean" where a typo is likely), the
//! same from `check-config` as from `run`, before anything is bound; a
//! start that fails later (a market the exchange does not list, a signer
//! that cannot start) exits non-zero with one message; every subcommand
//! finds the configuration the same way and says where it looked; with
//! `--online` the exchange says whether it lists the markets and serves the
//! account. Once running, a quiet host does not repeat itself in the log.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::host_process::{HostFiles, funded_emulator, run_to_exit};

/// Runs `connector-host <args…>` in `cwd` with no configuration variable.
fn host(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_connector-host"))
        .args(args)
        .current_dir(cwd)
        .env_remove("CONNECTOR_HOST_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run connector-host")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `files`' config with `from` replaced by `to` (which must be there).
fn edited(files: &HostFiles, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(&files.config_file).expect("config");
    assert!(text.contains(from), "`{from}` is not in the config");
    text.replacen(from, to, 1)
}

#[test]
fn every_broken_config_is_refused_alike_by_check_config_and_run_before_anything_is_bound() {
    let files = HostFiles::new("start-up checks", "http://127.0.0.1:1", "");
    let dir = files.dir.path();
    std::fs::write(dir.join("not-a-folder"), "").expect("file");
    let cases: [(&str, &str, &str); 10] = [
        (
            "plugins_dir =",
            "plugin_dir =",
            "host.plugin_dir: unknown key; did you mean `plugins_dir`?",
        ),
        (
            "plugin = \"hyperliquid\"",
            "plugin = \"hyperliqiud\"",
            "exchanges[hl].plugin: no plugin in",
        ),
        (
            "log_level = \"warn\"",
            "log_level = \"wran\"",
            "host.log_level: `wran` is not a level (trace, debug, info, warn, error, off) nor \
             `target=level`; did you mean `warn`?",
        ),
        (
            &format!("publish = \"{}\"", files.events),
            "publish = \"tcp://127.0.0.1:99999\"",
            "zmq.publish: port `99999` is not a number from 0 to 65535",
        ),
        (
            "spawn_key_file = \"host.key\"",
            "spawn_key_file = \"missing.key\"",
            "signer.spawn_key_file:",
        ),
        (
            "state_dir = \"state\"",
            "state_dir = \"not-a-folder/state\"",
            "host.state_dir:",
        ),
        (
            "request_timeout_ms = 1000",
            "request_timeout_ms = \"1s\"",
            "exchanges[hl].request_timeout_ms: must be a whole number (0 or more), not string \
             \"1s\"",
        ),
        (
            "symbol = \"BTC-USD\"",
            "symbl = \"BTC-USD\"",
            "exchanges[hl].markets[0].symbl: unknown key; did you mean `symbol`?",
        ),
        (
            "symbol = \"BTC-USD\"",
            "symbol = \"BTC-USD\"\nlimits = { max_order_size = \"-1\" }",
            "exchanges[hl].markets[BTC-USD].limits.max_order_size: must be positive",
        ),
        (
            "[signer]",
            "[signr]",
            "signr: unknown key; did you mean `signer`?",
        ),
    ];
    for (from, to, expected) in cases {
        let file = dir.join("broken.toml");
        std::fs::write(&file, edited(&files, from, to)).expect("write");
        let check = host(&["check-config", "broken.toml"], dir);
        assert_eq!(check.status.code(), Some(2), "{}", stderr(&check));
        assert!(stderr(&check).contains(expected), "{}", stderr(&check));
        let run = host(&["run", "-c", "broken.toml"], dir);
        assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
        assert!(stderr(&run).contains(expected), "{}", stderr(&run));
        assert!(
            !dir.join("events.sock").exists(),
            "`run` bound its publisher before refusing `{to}`"
        );
    }
    // The near-miss plugin name comes with the right one, and with what the
    // folder refused.
    std::fs::write(dir.join("plugins/broken.so"), "not a library").expect("write");
    let file = dir.join("broken.toml");
    std::fs::write(
        &file,
        edited(
            &files,
            "plugin = \"hyperliquid\"",
            "plugin = \"hyperliqiud\"",
        ),
    )
    .expect("write");
    let check = host(&["check-config", "broken.toml"], dir);
    assert!(
        stderr(&check).contains(
            "provides `hyperliqiud` (found: hyperliquid); did you mean `hyperliquid`?; 1 file \
             there was refused"
        ),
        "{}",
        stderr(&check)
    );
}

#[test]
fn every_subcommand_finds_the_config_the_same_way_and_says_where_it_looked() {
    let files = HostFiles::new("config lookup", "http://127.0.0.1:1", "");
    let dir = files.dir.path();
    let elsewhere = tempfile::tempdir().expect("dir");

    let missing = host(&["check-config"], elsewhere.path());
    assert_eq!(missing.status.code(), Some(2));
    let looked = elsewhere.path().join("configs/local.toml");
    assert!(
        stderr(&missing).contains(&format!(
            "no configuration file at {} (named by the default)",
            looked.display()
        )),
        "{}",
        stderr(&missing)
    );
    let missing = host(&["run", "-c", "nowhere.toml"], dir);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("nowhere.toml (named by --config)"),
        "{}",
        stderr(&missing)
    );

    let by_flag = host(&["-c", "host.toml", "check-config"], dir);
    assert_eq!(by_flag.status.code(), Some(0), "{}", stderr(&by_flag));
    let by_variable = Command::new(env!("CARGO_BIN_EXE_connector-host"))
        .arg("plugins")
        .current_dir(elsewhere.path())
        .env("CONNECTOR_HOST_CONFIG", &files.config_file)
        .output()
        .expect("run connector-host");
    assert_eq!(
        by_variable.status.code(),
        Some(0),
        "{}",
        stderr(&by_variable)
    );
    assert!(
        String::from_utf8_lossy(&by_variable.stdout).contains("loaded   hyperliquid"),
        "{}",
        String::from_utf8_lossy(&by_variable.stdout)
    );
    let missing = Command::new(env!("CARGO_BIN_EXE_connector-host"))
        .args(["tail", "--count", "1"])
        .env("CONNECTOR_HOST_CONFIG", elsewhere.path().join("gone.toml"))
        .output()
        .expect("run connector-host");
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("gone.toml (named by CONNECTOR_HOST_CONFIG)"),
        "{}",
        stderr(&missing)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_market_the_exchange_does_not_list_stops_the_start_with_a_non_zero_exit() {
    let seed = "unknown market start";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    std::fs::write(
        &files.config_file,
        edited(&files, "symbol = \"BTC-USD\"", "symbol = \"NOPE-USD\""),
    )
    .expect("write");
    // Offline, the file is fine: only the exchange knows its markets.
    let check = host(&["check-config", "host.toml"], files.dir.path());
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));

    let config = files.config_file.clone();
    let run = tokio::task::spawn_blocking(move || {
        run_to_exit(&["run", "--config"], &config, Duration::from_secs(30))
    })
    .await
    .expect("run");
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("exchange hl: market `NOPE-USD` is not listed"),
        "{}",
        stderr(&run)
    );
    emulator.shutdown().await;
}

#[test]
fn a_signer_that_cannot_start_fails_the_start_once_with_its_reason() {
    let files = HostFiles::new("signer cannot start", "http://127.0.0.1:1", "");
    // Present and private, so the file checks pass; not a key, so the
    // signer refuses it.
    std::fs::write(files.dir.path().join("host.key"), "not a key\n").expect("write");
    let run = run_to_exit(
        &["run", "--config"],
        &files.config_file,
        Duration::from_secs(30),
    );
    let said = stderr(&run);
    assert_eq!(run.status.code(), Some(1), "{said}");
    assert!(
        said.contains("the signer exited before it was ready (exit status: 1): key file"),
        "{said}"
    );
    assert_eq!(said.matches("host.key").count(), 1, "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_host_logs_a_summary_and_its_reconciliation_only_when_it_finds_something() {
    let seed = "quiet reconcile log";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "reconcile_interval_ms = 1000");
    std::fs::write(
        &files.config_file,
        edited(
            &files,
            "log_level = \"warn\"",
            "log_level = \"warn\"\nsummary_interval_s = 2",
        ),
    )
    .expect("write");
    let mut host = Command::new(env!("CARGO_BIN_EXE_connector-host"))
        .args(["run", "--config"])
        .arg(&files.config_file)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("run connector-host");
    let started = Instant::now();
    while files
        .command(serde_json::json!({"cmd": "status"}))
        .is_none_or(|reply| reply["ok"] != true)
    {
        assert!(started.elapsed() < Duration::from_secs(20), "no start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Six passes of the periodic reconciliation, with nothing to find.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let stopped = Command::new("kill")
        .args(["-TERM", &host.id().to_string()])
        .status()
        .expect("kill");
    assert!(stopped.success());
    let output = tokio::task::spawn_blocking(move || {
        let _ = host.wait();
        let mut said = String::new();
        if let Some(mut stderr) = host.stderr.take() {
            std::io::Read::read_to_string(&mut stderr, &mut said).expect("stderr");
        }
        said
    })
    .await
    .expect("output");
    let passes_logged = output
        .matches("orders and fills reconciled with the exchange")
        .count();
    // The pass after the streams connect is logged; the quiet ones are not.
    assert!(
        (1..=2).contains(&passes_logged),
        "{passes_logged} passes logged: {output}"
    );
    assert!(
        !output.contains('\u{1b}'),
        "colour codes in a pipe: {output}"
    );
    // What it says instead: a summary line every `summary_interval_s`.
    let summaries = output
        .matches("summary: hl 0 open/0 tracked; commands ")
        .count();
    assert!(summaries >= 2, "{summaries} summaries: {output}");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_online_asks_the_exchange_for_its_markets_and_the_account() {
    let seed = "online check";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let dir = files.dir.path().to_owned();
    // The check starts the signer in a folder of its own under TMPDIR, and
    // removes it.
    let tmp = tempfile::tempdir().expect("dir");
    let tmp_path = tmp.path().to_owned();
    let online = move |file: &str| {
        Command::new(env!("CARGO_BIN_EXE_connector-host"))
            .args(["check-config", "--online", file])
            .current_dir(&dir)
            .env("TMPDIR", &tmp_path)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run connector-host")
    };

    let good = tokio::task::spawn_blocking({
        let online = online.clone();
        move || online("host.toml")
    })
    .await
    .expect("check");
    let said = String::from_utf8_lossy(&good.stdout).into_owned();
    assert_eq!(good.status.code(), Some(0), "{said}{}", stderr(&good));
    assert!(
        said.contains("online: hl: the exchange lists")
            && said.contains("the account holds 1000000 USDC"),
        "{said}"
    );

    // A market the exchange does not list, by its nearest listed symbol; an
    // account with nothing on this network.
    let text = edited(
        &files,
        "symbol = \"BTC-USD\"",
        "symbol = \"BTC-USD\"\n\n[[exchanges.markets]]\nsymbol = \"ETH-USDD\"",
    );
    let other = common::orders::key("someone else").address().to_string();
    let own = common::orders::key(seed).address().to_string();
    std::fs::write(files.dir.path().join("broken.toml"), text).expect("write");
    std::fs::write(
        files.dir.path().join("empty.toml"),
        std::fs::read_to_string(&files.config_file)
            .expect("config")
            .replace(&own, &other),
    )
    .expect("write");
    let (broken, empty) =
        tokio::task::spawn_blocking(move || (online("broken.toml"), online("empty.toml")))
            .await
            .expect("check");
    assert_eq!(broken.status.code(), Some(2), "{}", stderr(&broken));
    assert!(
        stderr(&broken).contains(
            "exchanges[hl].markets[ETH-USDD].symbol: `ETH-USDD` is not listed by the exchange; did \
             you mean `ETH-USD`?"
        ),
        "{}",
        stderr(&broken)
    );
    assert_eq!(empty.status.code(), Some(0), "{}", stderr(&empty));
    assert_eq!(
        std::fs::read_dir(tmp.path()).expect("tmp").count(),
        0,
        "the check left files behind"
    );
    assert!(
        String::from_utf8_lossy(&empty.stdout).contains("the account holds nothing"),
        "{}",
        String::from_utf8_lossy(&empty.stdout)
    );
    emulator.shutdown().await;
}
