//! Editing the config of a running host: a valid edit (saved the way
//! editors save, write-then-rename) is applied while orders are live and no
//! connection drops; an invalid edit is refused with its line and the old
//! limits hold; a change that needs a restart is named; a plugin copied
//! into the folder is loaded; Bybit and Binance exchanges are added to a
//! running host and removed. A file still being written is never applied,
//! and one another user could change is refused.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use common::host_process::{ApiVenues, HostFiles, funded_emulator};
use common::orders::{EventLog, eventually, key};
use common::{cdylib, copy_as};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Saves `text` over `file` as editors do: a new file, renamed over it.
fn editor_save(file: &Path, text: &str) {
    let temp = file.with_extension("toml.swp");
    std::fs::write(&temp, text).expect("write");
    std::fs::rename(&temp, file).expect("rename");
}

fn buy(files: &HostFiles, amount: &str) -> Value {
    files
        .command(
            json!({"cmd": "buy", "trading_pair": "BTC-USD", "order_type": "LIMIT",
                        "price": "90000", "amount": amount}),
        )
        .expect("reply")
}

/// The client order id of a `buy` reply, which must be `ok`.
fn order_id(reply: &Value) -> String {
    assert_eq!(reply["ok"], true, "{reply}");
    reply["result"]["client_order_id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// Waits until `host.status.<what>` is published with every `(field,
/// value)` in its data.
async fn until_status(events: &EventLog, what: &str, fields: &[(&str, &str)]) {
    let topic = format!("host.status.{what}");
    eventually(
        &format!("{topic} with {fields:?}"),
        Duration::from_secs(10),
        || {
            events.all().iter().any(|(published, body)| {
                *published == topic
                    && fields
                        .iter()
                        .all(|(field, value)| body["data"][field] == *value)
            })
        },
    )
    .await;
}

/// Repeats `command` until its reply is `ok` (an exchange being added
/// answers `unknown_exchange` until it has started).
async fn eventually_ok(command: impl Fn() -> Option<Value>) -> Value {
    let mut last = Value::Null;
    eventually("an ok reply", Duration::from_secs(15), || {
        last = command().unwrap_or_default();
        last["ok"] == true
    })
    .await;
    last
}

/// Waits until the host has the order (of `exchange`) in `state`.
async fn until_order_state(files: &HostFiles, exchange: &str, id: &str, state: &str) {
    eventually(
        &format!("order {id} {state}"),
        Duration::from_secs(10),
        || {
            files
                .command(json!({"cmd": "get_order", "exchange": exchange, "client_order_id": id}))
                .is_some_and(|reply| reply["result"]["order_state"] == state)
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_host_applies_valid_edits_and_refuses_invalid_ones() {
    let seed = "hot reload host";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(
        seed,
        &emulator.base_url(),
        "[exchanges.limits]\nmax_order_size = \"0.01\"",
    );
    let events = EventLog::start(&files.events);
    let _host = files.start().await;
    let original = std::fs::read_to_string(&files.config_file).expect("config");
    // Reading the file (at start, or here) is not a change: no reload.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(
        events
            .config_events()
            .iter()
            .all(|data| data["state"] == "loaded"),
        "reloads without a change: {:?}",
        events.config_events()
    );

    let live = buy(&files, "0.005");
    let live_id = order_id(&live);

    // A valid edit: a tighter limit (live) and another command endpoint
    // (needs a restart), saved the way editors save.
    let tighter = original
        .replace("max_order_size = \"0.01\"", "max_order_size = \"0.001\"")
        .replace("commands = \"ipc://", "commands = \"ipc:///tmp/elsewhere-");
    editor_save(&files.config_file, &tighter);
    eventually("the edit applied", Duration::from_secs(10), || {
        events.config_events().iter().any(|data| {
            data["state"] == "applied"
                && data["applied"] == json!(["exchanges.hl.limits"])
                && data["restart_required"] == json!(["zmq"])
        })
    })
    .await;
    let refused = buy(&files, "0.005");
    assert_eq!(refused["error"]["code"], "risk_limit", "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("max_order_size")),
        "{refused}"
    );

    // Invalid edits (a float where a decimal string belongs; a typo; a
    // setting its plugin refuses) are refused with key and line, and the
    // limits in force stay.
    for (bad, key) in [
        (
            tighter.replace("max_order_size = \"0.001\"", "max_order_size = 0.5"),
            "max_order_size",
        ),
        (
            tighter.replace("order_expiry_ms", "order_expiry_msec"),
            "order_expiry_msec",
        ),
        // The plugin judges its own settings; its refusal has a line too.
        (
            tighter.replace("network = \"local\"", "network = \"moon\""),
            "exchanges[hl].settings.network: `moon` is not mainnet, testnet or local",
        ),
    ] {
        editor_save(&files.config_file, &bad);
        eventually(
            &format!("the edit of {key} refused"),
            Duration::from_secs(10),
            || {
                events.config_events().iter().any(|data| {
                    data["state"] == "refused"
                        && data["errors"].as_array().is_some_and(|errors| {
                            errors.iter().any(|e| {
                                e.as_str()
                                    .is_some_and(|e| e.contains(key) && e.starts_with("line "))
                            })
                        })
                })
            },
        )
        .await;
    }
    assert_eq!(buy(&files, "0.005")["error"]["code"], "risk_limit");
    assert_eq!(buy(&files, "0.0005")["ok"], true);

    // A market added is subscribed to and traded at once; removing one
    // that has live orders is refused.
    let with_eth = format!(
        "{tighter}\n[[exchanges.markets]]\nsymbol = \"ETH-USD\"\nlimits = {{ max_order_size = \"0.01\" }}\n"
    );
    editor_save(&files.config_file, &with_eth);
    until_status(
        &events,
        "book",
        &[("symbol", "ETH-USD"), ("state", "synced")],
    )
    .await;
    files.limit_buy("ETH-USD", "2000", "0.01");
    let without_btc = with_eth.replacen("[[exchanges.markets]]\nsymbol = \"BTC-USD\"\n", "", 1);
    assert_ne!(without_btc, with_eth);
    editor_save(&files.config_file, &without_btc);
    events.until_refused("BTC-USD has 2 live orders").await;
    editor_save(&files.config_file, &with_eth);

    // `connector-host reload` asks for the same on demand.
    let reload = std::process::Command::new(env!("CARGO_BIN_EXE_connector-host"))
        .args(["reload", "--endpoint", &files.commands])
        .output()
        .expect("reload");
    let stdout = String::from_utf8_lossy(&reload.stdout);
    assert!(
        reload.status.success() && stdout.contains("requested"),
        "{stdout}"
    );
    eventually("the asked-for reload", Duration::from_secs(10), || {
        events
            .config_events()
            .last()
            .is_some_and(|data| data["state"] == "applied")
            && events.config_events().len() >= 8
    })
    .await;

    // A plugin copied into the folder is loaded while the host runs.
    copy_as(
        &cdylib("test-plugin"),
        &files.dir.path().join("plugins"),
        "testex.so",
    );
    until_status(
        &events,
        "plugin",
        &[("state", "loaded"), ("exchange", "testex")],
    )
    .await;

    // An exchange added while running is started and takes orders; one
    // removed while it has live orders is refused, and once they are
    // cancelled it is stopped.
    // (On an exchange of its own, so that it does not adopt hl's orders.)
    let second = funded_emulator(seed).await;
    let hl2 = format!(
        "{with_eth}\n{}",
        original[original.find("[[exchanges]]").expect("exchange entry")..]
            .replace("name = \"hl\"", "name = \"hl2\"")
            .replace(&emulator.base_url(), &second.base_url())
    );
    editor_save(&files.config_file, &hl2);
    eventually("hl2 added", Duration::from_secs(15), || {
        events.config_events().iter().any(|data| {
            data["state"] == "applied"
                && data["applied"]
                    .as_array()
                    .is_some_and(|keys| keys.iter().any(|k| k == "exchanges.hl2 (added)"))
        })
    })
    .await;
    let on_hl2 = files
        .command(
            json!({"cmd": "buy", "exchange": "hl2", "trading_pair": "BTC-USD",
                        "order_type": "LIMIT", "price": "90000", "amount": "0.0005"}),
        )
        .expect("reply");
    let hl2_id = order_id(&on_hl2);
    until_order_state(&files, "hl2", &hl2_id, "OPEN").await;
    editor_save(&files.config_file, &with_eth);
    events
        .until_refused("exchanges.hl2: removing it is refused")
        .await;
    let cancel = files
        .command(json!({"cmd": "cancel", "exchange": "hl2", "client_order_id": hl2_id}))
        .expect("reply");
    assert_eq!(cancel["ok"], true, "{cancel}");
    until_order_state(&files, "hl2", &hl2_id, "CANCELLED").await;
    files.command(json!({"cmd": "reload"})).expect("reply");
    eventually("hl2 removed", Duration::from_secs(15), || {
        files
            .command(json!({"cmd": "status", "exchange": "hl2"}))
            .is_some_and(|reply| reply["error"]["code"] == "unknown_exchange")
    })
    .await;

    // With `cancel_on_shutdown`, removing it cancels its orders first.
    let cancelling = hl2.replace(
        "name = \"hl2\"",
        "name = \"hl2\"\ncancel_on_shutdown = true",
    );
    editor_save(&files.config_file, &cancelling);
    let on_hl2 = eventually_ok(|| {
        files.command(
            json!({"cmd": "buy", "exchange": "hl2", "trading_pair": "BTC-USD",
                            "order_type": "LIMIT", "price": "90000", "amount": "0.0005"}),
        )
    })
    .await;
    let hl2_id = order_id(&on_hl2);
    until_order_state(&files, "hl2", &hl2_id, "OPEN").await;
    editor_save(&files.config_file, &with_eth);
    eventually(
        "hl2 removed, its order cancelled",
        Duration::from_secs(15),
        || {
            second
                .account_state(key(seed).address())
                .is_some_and(|state| state["openOrders"].as_array().is_some_and(Vec::is_empty))
                && files
                    .command(json!({"cmd": "status", "exchange": "hl2"}))
                    .is_some_and(|reply| reply["error"]["code"] == "unknown_exchange")
        },
    )
    .await;

    // Nothing dropped, nothing forgotten.
    assert!(
        !events.all().iter().any(|(topic, body)| {
            topic == "host.status.connection" && body["data"]["state"] == "down"
        }),
        "a connection dropped"
    );
    let order = files
        .command(json!({"cmd": "get_order", "client_order_id": live_id}))
        .expect("reply");
    assert_eq!(order["result"]["order_state"], "OPEN", "{order}");
    emulator.shutdown().await;
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_is_taken_only_when_complete_and_only_if_no_one_else_can_change_it() {
    let seed = "hot reload half-written";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    // The market's limits are the file's last line.
    let limited = format!(
        "{}limits = {{ max_order_size = \"0.01\" }}\n",
        std::fs::read_to_string(&files.config_file).expect("config")
    );
    std::fs::write(&files.config_file, &limited).expect("config");
    let events = EventLog::start(&files.events);
    let _host = files.start().await;
    assert_eq!(buy(&files, "0.05")["error"]["code"], "risk_limit");

    // A writer empties the file and writes all but its last line, which
    // is a valid config without the market's limits, and is not done yet.
    let (written, rest) = limited.split_at(limited.find("limits = ").expect("limits line"));
    assert!(connector_host::config::parse(written).is_ok());
    let mut writer = std::fs::File::create(&files.config_file).expect("open in place");
    writer.write_all(written.as_bytes()).expect("write");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(
        events
            .config_events()
            .iter()
            .all(|data| data["state"] == "loaded"),
        "a half-written file was read: {:?}",
        events.config_events()
    );
    assert_eq!(buy(&files, "0.05")["error"]["code"], "risk_limit");

    // It finishes (with a tighter limit) and closes the file: taken then.
    writer
        .write_all(rest.replace("0.01", "0.001").as_bytes())
        .expect("write");
    drop(writer);
    until_status(&events, "config", &[("state", "applied")]).await;
    assert_eq!(buy(&files, "0.005")["error"]["code"], "risk_limit");

    // A file any user may write is refused, on reload and by check-config,
    // and the limits in force stay.
    std::fs::set_permissions(&files.config_file, std::fs::Permissions::from_mode(0o666))
        .expect("chmod");
    files.command(json!({"cmd": "reload"})).expect("reply");
    events.until_refused("another user could change it").await;
    assert_eq!(buy(&files, "0.005")["error"]["code"], "risk_limit");
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_connector-host"))
        .arg("check-config")
        .arg(&files.config_file)
        .output()
        .expect("check-config");
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(
        !check.status.success() && stderr.contains("writable by every user"),
        "{stderr}"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_dropped_into_the_folder_is_loaded_and_used() {
    let seed = "plugin drop-in host";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    // The host starts with no exchange and an empty plugins folder (an
    // exchange whose plugin is missing would stop the start, as `start_up`
    // shows).
    let plugins = files.dir.path().join("plugins");
    std::fs::remove_file(plugins.join("hyperliquid.so")).expect("remove plugin");
    let with_exchange = std::fs::read_to_string(&files.config_file).expect("config");
    let (without, _) = with_exchange
        .split_once("[[exchanges]]")
        .expect("an exchange");
    editor_save(&files.config_file, without);
    let events = EventLog::start(&files.events);
    let host = files.start().await;

    // An exchange whose plugin is not loaded is refused…
    editor_save(&files.config_file, &with_exchange);
    events
        .until_refused("exchanges.hl: no loaded plugin provides `hyperliquid`")
        .await;
    assert_eq!(
        files
            .command(json!({"cmd": "status", "exchange": "hl"}))
            .expect("reply")["error"]["code"],
        "unknown_exchange"
    );

    // …and taken once the plugin is dropped into the folder.
    copy_as(&cdylib("hyperliquid-plugin"), &plugins, "hyperliquid.so");
    until_status(&events, "plugin", &[("state", "loaded")]).await;
    editor_save(&files.config_file, &with_exchange);
    eventually(
        "the exchange started with the new plugin",
        Duration::from_secs(15),
        || {
            files
                .command(json!({"cmd": "status", "exchange": "hl"}))
                .is_some_and(|reply| reply["ok"] == true)
        },
    )
    .await;
    let order = buy(&files, "0.001");
    let id = order_id(&order);
    until_order_state(&files, "hl", &id, "OPEN").await;

    // A file replacing the loaded plugin (renamed over it, as installers
    // do) needs a restart.
    let temp = files.dir.path().join("new-hyperliquid.so");
    std::fs::copy(cdylib("hyperliquid-plugin"), &temp).expect("copy");
    std::fs::rename(&temp, plugins.join("hyperliquid.so")).expect("rename");
    eventually("the replacement refused", Duration::from_secs(10), || {
        events.all().iter().any(|(topic, body)| {
            topic == "host.status.plugin"
                && body["data"]["state"] == "refused"
                && body["data"]["reason"]
                    .as_str()
                    .is_some_and(|reason| reason.starts_with("restart required"))
        })
    })
    .await;

    // SIGHUP reloads too.
    let before = events.config_events().len();
    let sent = std::process::Command::new("kill")
        .args(["-HUP", &host.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    eventually("a reload after SIGHUP", Duration::from_secs(10), || {
        events.config_events().len() > before
    })
    .await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_and_binance_are_dropped_into_a_running_host_and_removed() {
    let seed = "venue hot reload host";
    let emulator = funded_emulator(seed).await;
    let files = HostFiles::new(seed, &emulator.base_url(), "");
    let venues = ApiVenues::start(&files, Decimal::from(100_000)).await;
    let events = EventLog::start(&files.events);
    let _host = files.start().await;
    let original = std::fs::read_to_string(&files.config_file).expect("config");

    // The plugins dropped into the folder, the exchanges added to the
    // config: each starts and takes an order, signed with its key.
    venues.add_plugins(&files);
    let keys = "cancel_on_shutdown = true";
    let with_venues = format!("{original}{}", venues.exchanges(keys, keys));
    editor_save(&files.config_file, &with_venues);
    for (name, venue) in venues.named() {
        let placed = eventually_ok(|| {
            files.command(
                json!({"cmd": "buy", "exchange": name, "trading_pair": "BTC-USDT",
                "order_type": "LIMIT", "price": "97000", "amount": "0.002"}),
            )
        })
        .await;
        let id = order_id(&placed);
        until_order_state(&files, name, &id, "OPEN").await;
        let open = venue.state()["accounts"][0]["orders"]
            .as_array()
            .map_or(0, |orders| {
                orders.iter().filter(|o| o["status"] == "open").count()
            });
        assert_eq!(open, 1, "{name}: {}", venue.state());
    }

    // Removed (with `cancel_on_shutdown`): each venue's order is cancelled
    // first, then the exchange is gone; Hyperliquid's runs on.
    editor_save(&files.config_file, &original);
    eventually(
        "both removed, their orders cancelled",
        Duration::from_secs(15),
        || {
            venues.named().iter().all(|(name, venue)| {
                let open = venue.state()["accounts"][0]["orders"]
                    .as_array()
                    .map_or(1, |orders| {
                        orders.iter().filter(|o| o["status"] == "open").count()
                    });
                open == 0
                    && files
                        .command(json!({"cmd": "status", "exchange": name}))
                        .is_some_and(|reply| reply["error"]["code"] == "unknown_exchange")
            })
        },
    )
    .await;
    let hl = files
        .command(json!({"cmd": "status", "exchange": "hl"}))
        .expect("reply");
    assert_eq!(hl["ok"], true, "{hl}");
    assert!(
        events
            .config_events()
            .iter()
            .any(|data| data["state"] == "applied"),
        "the edits were applied"
    );
    emulator.shutdown().await;
    venues.shutdown().await;
}
