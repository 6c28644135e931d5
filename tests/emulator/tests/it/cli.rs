//! The `hl-emulator` binary: first stdout line, funding flags, config file,
//! admin API, SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::json;

use crate::support::*;

struct Running {
    child: Child,
    http: Http,
}

fn spawn(args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hl-emulator"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn hl-emulator");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(addr.starts_with("127.0.0.1:"));
    Running {
        child,
        http: Http::new(format!("http://{addr}")),
    }
}

impl Running {
    fn terminate(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait");
        assert!(exit.success(), "{exit}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_funds_serves_admin_and_stops_on_sigterm() {
    let alice = Trader::new("cli-alice");
    let running = spawn(&[
        "--seed",
        "3",
        "--fund",
        &format!("{}:500", alice.address().to_checksum()),
        "--http-429-next",
        "1",
    ]);
    assert_eq!(
        running
            .http
            .post("/info", &json!({ "type": "meta" }))
            .await
            .0,
        429
    );
    let state = running
        .http
        .info(json!({ "type": "clearinghouseState", "user": alice.user() }))
        .await;
    assert_eq!(state["marginSummary"]["accountValue"], "500");
    let bob = Trader::new("cli-bob");
    running
        .http
        .admin(
            "/admin/fund",
            json!({ "user": bob.user(), "usdc": "250", "spot": { "PURR": "10" } }),
        )
        .await;
    let (status, text) = running
        .http
        .request(
            "GET",
            &format!("/admin/state?user={}", bob.user()),
            String::new(),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    let truth: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (truth["usdc"].clone(), truth["spot"]["PURR"].clone()),
        (json!("250"), json!("10"))
    );
    let moved = running
        .http
        .admin("/admin/price", json!({ "coin": "ETH", "px": "3000" }))
        .await;
    assert_eq!(moved["mark"], "3000");
    let (status, _) = running
        .http
        .request("GET", "/admin/state", String::new())
        .await;
    assert_eq!(status, 200);
    running.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_reads_a_config_file() {
    let alice = Trader::new("cli-config");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("emulator.toml");
    std::fs::write(
        &path,
        format!(
            "seed = 5\n[liquidity]\nlevels = 0\n[[perps]]\nname = \"DOGE\"\nsz_decimals = 0\nmax_leverage = 10\nprice = \"0.1\"\n\
             [[accounts]]\naddress = \"{}\"\nusdc = \"42\"\n",
            alice.address()
        ),
    )
    .expect("write config");
    let running = spawn(&["--config", path.to_str().expect("utf-8 path")]);
    let meta = running.http.info(json!({ "type": "meta" })).await;
    assert_eq!(meta["universe"].as_array().map(Vec::len), Some(1));
    assert_eq!(meta["universe"][0]["name"], "DOGE");
    let book = running
        .http
        .info(json!({ "type": "l2Book", "coin": "DOGE" }))
        .await;
    assert_eq!(book["levels"], json!([[], []]));
    let state = running
        .http
        .info(json!({ "type": "clearinghouseState", "user": alice.user() }))
        .await;
    assert_eq!(state["marginSummary"]["accountValue"], "42");
    running.terminate();
}
