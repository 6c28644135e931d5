use super::*;

/// [`MINIMAL`] with a `[exchanges.<table>]` holding `body`.
pub(crate) fn with_exchange_table(table: &str, body: &str) -> String {
    MINIMAL.replace(
        "[[exchanges.markets]]",
        &format!("[exchanges.{table}]\n{body}\n\n[[exchanges.markets]]"),
    )
}

fn errors_of(text: &str) -> Vec<String> {
    match parse(text) {
        Ok(_) => panic!("expected errors"),
        Err(errors) => errors.errors.iter().map(ToString::to_string).collect(),
    }
}

/// The smallest valid file: one exchange, one market.
pub(crate) const MINIMAL: &str = r#"
[host]
id = "h1"
plugins_dir = "plugins"

[signer]
socket = "signer.sock"

[[exchanges]]
name = "hl"
plugin = "testex"
settings = { network = "local", api_url = "http://127.0.0.1:1", account = "0xabc" }

[[exchanges.markets]]
symbol = "BTC-USD"
"#;

#[test]
fn the_shipped_configs_are_valid() {
    for text in [
        include_str!("../../../configs/local.toml"),
        include_str!("../../../configs/testnet.toml"),
        include_str!("../../../configs/mainnet.example.toml"),
    ] {
        if let Err(errors) = parse(text) {
            panic!("{errors}");
        }
    }
}

#[test]
fn defaults_fill_optional_sections() {
    let config = parse(MINIMAL).unwrap();
    assert_eq!(config.zmq, ZmqConfig::default());
    assert_eq!(config.signer.timeout_ms, 2_000);
    assert_eq!(config.host.log_level, "info");
    assert_eq!(config.exchanges[0].markets[0].limits, Limits::default());
}

#[test]
fn decimals_are_exact_and_floats_are_refused() {
    let with_limits = MINIMAL.replace(
        "[[exchanges.markets]]",
        "[exchanges.limits]\nmax_order_size = \"0.1\"\nmax_open_orders = 3\nmax_order_notional = 1000\n\n[[exchanges.markets]]",
    );
    let config = parse(&with_limits).unwrap();
    let limits = &config.exchanges[0].limits;
    assert_eq!(limits.max_order_size, Some("0.1".parse().unwrap()));
    assert_eq!(limits.max_order_notional, Some(1000.into()));
    let float = MINIMAL.replace(
        "[[exchanges.markets]]",
        "[exchanges.limits]\nmax_order_size = 0.1\n\n[[exchanges.markets]]",
    );
    let errors = errors_of(&float);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("exchanges[hl].limits.max_order_size"),
        "{errors:?}"
    );
    assert!(errors[0].contains("not as TOML floats"), "{errors:?}");
    assert!(errors[0].starts_with("line 15:"), "{errors:?}");
}

#[test]
fn every_unknown_key_is_reported_with_its_line() {
    let text = MINIMAL
        .replace("id = \"h1\"", "id = \"h1\"\nlog_levle = \"debug\"")
        .replace("symbol = \"BTC-USD\"", "symbol = \"BTC-USD\"\nmax_size = 1")
        + "\n[extra]\nx = 1\n";
    let errors = errors_of(&text);
    assert_eq!(
        errors,
        [
            "line 4: host.log_levle: unknown key; did you mean `log_level`?",
            "line 17: exchanges[hl].markets[BTC-USD].max_size: unknown key (the keys here are \
             symbol, limits)",
            "line 19: extra: unknown key (the keys here are host, zmq, signer, exchanges, metrics)",
        ]
    );
}

#[test]
fn type_errors_name_key_and_line() {
    let errors = errors_of(&MINIMAL.replace(
        "plugin = \"testex\"",
        "plugin = \"testex\"\nrequest_timeout_ms = \"fast\"",
    ));
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with(
            "line 12: exchanges[hl].request_timeout_ms: must be a whole number (0 or more), not \
             string \"fast\""
        ),
        "{errors:?}"
    );
    assert!(errors[0].contains("fast"), "{errors:?}");
}

#[test]
fn settings_are_the_plugins_to_judge_and_reach_it_as_json() {
    let config = parse(MINIMAL).unwrap();
    let settings: serde_json::Value =
        serde_json::from_str(&config.exchanges[0].plugin_settings()).unwrap();
    assert_eq!(
        settings,
        serde_json::json!({"network": "local", "api_url": "http://127.0.0.1:1", "account": "0xabc"})
    );
    // Whatever the plugin reads is no concern of the host's schema.
    let odd = MINIMAL.replace("account = \"0xabc\"", "account = 7, anything = [1, 2]");
    assert!(parse(&odd).is_ok());
    let bare = MINIMAL.replace(
        "settings = { network = \"local\", api_url = \"http://127.0.0.1:1\", account = \"0xabc\" }\n",
        "",
    );
    assert_eq!(parse(&bare).unwrap().exchanges[0].plugin_settings(), "{}");
}

#[test]
fn syntax_errors_give_the_line() {
    let errors = errors_of("[host]\nid = \"h1\nplugins_dir = \"p\"\n");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with("line 2:"), "{errors:?}");
}

#[test]
fn missing_sections_are_errors() {
    let errors = errors_of("[zmq]\n");
    assert_eq!(
        errors,
        ["missing section [host]", "missing section [signer]"]
    );
}

#[test]
fn cross_key_rules_are_all_reported() {
    let text = format!(
        "{MINIMAL}\n[[exchanges]]\nname = \"hl\"\nplugin = \"testex\"\n\
         limits = {{ max_position = \"-1\", max_open_orders = 0 }}\nmarkets = [{{ symbol = \"ETH\" }}, {{ symbol = \"ETH\" }}]\n"
    )
    .replace("id = \"h1\"", "id = \"h 1\"");
    let errors = errors_of(&text);
    assert_eq!(
        errors,
        [
            "line 3: host.id: must be a non-empty name without spaces",
            // Two exchanges named `hl`, two markets `ETH`: by index, as
            // a name would point at both.
            "line 18: exchanges[1].name: `hl` names another exchange too",
            "line 20: exchanges[1].limits.max_position: must be positive",
            "line 20: exchanges[1].limits.max_open_orders: must be at least 1",
            "line 21: exchanges[1].markets[1].symbol: `ETH` is listed twice",
        ]
    );
}

#[test]
fn a_spawned_signer_takes_one_key_file_or_one_keyring() {
    let signer = |lines: &str| {
        MINIMAL.replace(
            "socket = \"signer.sock\"",
            &format!("socket = \"signer.sock\"\n{lines}"),
        )
    };
    let errors = errors_of(&signer(
        "spawn_key_file = \"k\"\nspawn_keyring = \"keys.toml\"",
    ));
    assert_eq!(
        errors,
        [
            "line 9: signer.spawn_keyring: give signer.spawn_key_file or signer.spawn_keyring, not both"
        ]
    );
    let errors = errors_of(&signer(
        "spawn_keyring = \"keys.toml\"\nspawn_policy = \"p\"",
    ));
    assert_eq!(
        errors,
        [
            "line 9: signer.spawn_policy: needs signer.spawn_key_file (a keyring holds each key's policy)"
        ]
    );
    let config = parse(&signer("spawn_keyring = \"keys.toml\"")).unwrap();
    assert!(matches!(
        config.signer.spawn_keys(),
        Some(crate::signer::SpawnKeys::Keyring(path)) if path == std::path::Path::new("keys.toml")
    ));
    let config = parse(&MINIMAL.replace(
        "plugin = \"testex\"",
        "plugin = \"testex\"\nsigner_key = \"hl-agent\"",
    ))
    .unwrap();
    assert_eq!(config.exchanges[0].signer_key.as_deref(), Some("hl-agent"));
}

#[test]
fn endpoints_are_checked() {
    let text = format!("{MINIMAL}\n[zmq]\npublish = \"http://x\"\ncommands = \"http://x\"\n");
    let errors = errors_of(&text);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("zmq.publish: `http://x` is not a ZeroMQ endpoint"))
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("zmq.commands: must differ from zmq.publish"))
    );
}

#[test]
fn market_slippage_is_a_percentage_between_0_and_100() {
    let with = |value: &str| {
        MINIMAL.replace(
            "plugin = \"testex\"",
            &format!("plugin = \"testex\"\nmarket_slippage_percent = {value}"),
        )
    };
    let config = parse(&with("\"2.5\"")).unwrap();
    assert_eq!(
        config.exchanges[0].market_slippage_percent,
        Some("2.5".parse().unwrap())
    );
    for bad in ["\"0\"", "100", "\"-1\""] {
        let errors = errors_of(&with(bad));
        assert!(
            errors
                .iter()
                .any(|e| e.contains("market_slippage_percent: must lie between 0 and 100")),
            "{bad}: {errors:?}"
        );
    }
}

#[test]
fn rate_limit_overrides_are_buckets_with_a_capacity_and_a_window() {
    let with = |body: &str| with_exchange_table("rate_limits.ip_weight", body);
    let config = parse(&with("capacity = 120000\nwindow_ms = 60000")).unwrap();
    assert_eq!(
        config.exchanges[0].rate_limits["ip_weight"],
        RateLimitConfig {
            capacity: 120_000,
            window_ms: 60_000
        }
    );
    let errors = errors_of(&with("capacity = 0\nwindow_ms = 60000"));
    assert!(
        errors
            .iter()
            .any(|e| e.contains("exchanges[hl].rate_limits.ip_weight.capacity: must be at least 1")),
        "{errors:?}"
    );
    let errors = errors_of(&with("capacity = 1"));
    assert!(errors.iter().any(|e| e.contains("window_ms")), "{errors:?}");
}

#[test]
fn the_dead_man_switch_needs_sane_periods() {
    let with = |body: &str| with_exchange_table("dead_man_switch", body);
    let config = parse(&with(
        "cancel_after_ms = 15000\nheartbeat_timeout_ms = 5000",
    ))
    .unwrap();
    assert_eq!(
        config.exchanges[0].dead_man_switch,
        Some(DeadManSwitchConfig {
            cancel_after_ms: 15_000,
            heartbeat_timeout_ms: Some(5_000)
        })
    );
    let errors = errors_of(&with("cancel_after_ms = 10\nheartbeat_timeout_ms = 1"));
    assert!(
        errors
            .iter()
            .any(|e| e.contains("dead_man_switch.cancel_after_ms: must be at least 1000")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("dead_man_switch.heartbeat_timeout_ms: must be at least 100")),
        "{errors:?}"
    );
}

#[test]
fn load_resolves_paths_against_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("host.toml");
    std::fs::write(&file, MINIMAL).unwrap();
    let config = load(&file).unwrap();
    assert_eq!(config.host.plugins_dir, dir.path().join("plugins"));
    assert_eq!(config.signer.socket, dir.path().join("signer.sock"));
    let missing = load(&dir.path().join("nope.toml")).unwrap_err();
    assert!(missing.to_string().contains("cannot read the file"));
}

#[test]
fn market_limits_fall_back_to_the_exchange() {
    let exchange = Limits {
        max_order_size: Some(1.into()),
        max_open_orders: Some(5),
        ..Limits::default()
    };
    let market = Limits {
        max_order_size: Some(2.into()),
        ..Limits::default()
    };
    let merged = market.or(&exchange);
    assert_eq!(merged.max_order_size, Some(2.into()));
    assert_eq!(merged.max_open_orders, Some(5));
}

#[test]
fn a_log_level_that_would_silence_every_log_is_refused() {
    let with = |level: &str| {
        MINIMAL.replace(
            "id = \"h1\"",
            &format!("id = \"h1\"\nlog_level = \"{level}\""),
        )
    };
    let errors = errors_of(&with("debgu"));
    assert_eq!(
        errors,
        [
            "line 4: host.log_level: `debgu` is not a level (trace, debug, info, warn, error, off) \
          nor `target=level`; did you mean `debug`?"
        ]
    );
    for good in ["warn", "INFO", "info,connector_host=debug", "off"] {
        assert!(parse(&with(good)).is_ok(), "{good}");
    }
}

#[test]
fn runtime_threads_and_journal_sync_are_bounded() {
    let with = |line: &str| MINIMAL.replace("id = \"h1\"", &format!("id = \"h1\"\n{line}"));
    let defaults = parse(MINIMAL).unwrap();
    assert_eq!(defaults.host.runtime_threads, 1);
    assert_eq!(
        defaults.host.journal_options().sync_interval,
        crate::journal::DEFAULT_SYNC_INTERVAL
    );
    let set = parse(&with("runtime_threads = 4\njournal_sync_ms = 2")).unwrap();
    assert_eq!(set.host.runtime_threads, 4);
    assert_eq!(
        set.host.journal_options().sync_interval,
        std::time::Duration::from_millis(2)
    );
    assert_eq!(
        errors_of(&with("runtime_threads = 0")),
        ["line 4: host.runtime_threads: must be from 1 to 256"]
    );
    assert_eq!(
        errors_of(&with("journal_sync_ms = 0")),
        ["line 4: host.journal_sync_ms: must be from 1 to 1000 (ms)"]
    );
    assert_eq!(
        errors_of(&with("journal_sync_ms = 60000")),
        ["line 4: host.journal_sync_ms: must be from 1 to 1000 (ms)"]
    );
}

#[test]
fn a_missing_key_is_named_in_plain_words() {
    let errors = errors_of(&MINIMAL.replace("symbol = \"BTC-USD\"", "limits = {}"));
    assert_eq!(
        errors,
        ["line 14: exchanges[hl].markets[0]: `symbol` is required"]
    );
}

#[test]
fn urls_in_settings_with_credentials_or_plain_text_beyond_loopback_are_refused() {
    let with_url = |url: &str| MINIMAL.replace("http://127.0.0.1:1", url);
    let errors = errors_of(&with_url("https://key:secret@api.example.com"));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("exchanges[hl].settings.api_url")
            && errors[0].contains("credentials")
            && !errors[0].contains("secret"),
        "{errors:?}"
    );
    let nested = MINIMAL.replace(
        "account = \"0xabc\" }",
        "account = \"0xabc\", streams = { urls = [\"wss://a.example.com\", \"ws://10.1.2.3:9000\"] } }",
    );
    let errors = errors_of(&nested);
    assert!(
        errors[0].contains("exchanges[hl].settings.streams.urls[1]")
            && errors[0].contains("use wss://"),
        "{errors:?}"
    );
    let remote = with_url("http://emulator:8080");
    assert!(errors_of(&remote)[0].contains("insecure_transport = true"));
    let allowed = remote.replace(
        "plugin = \"testex\"",
        "plugin = \"testex\"\ninsecure_transport = true",
    );
    assert!(parse(&allowed).is_ok());
}

#[test]
fn with_curve_endpoints_may_reach_beyond_loopback_and_clients_are_checked() {
    let open = |curve: &str| {
        MINIMAL.replace(
            "[signer]",
            &format!("[zmq]\ncommands = \"tcp://0.0.0.0:5556\"\n{curve}\n[signer]"),
        )
    };
    assert!(errors_of(&open(""))[0].contains("without zmq.curve"));
    let client = |name: &str, role: &str| {
        format!(
            "\n[[zmq.curve.clients]]\nname = \"{name}\"\nrole = \"{role}\"\n\
             public_key_file = \"{name}.pub\"\n"
        )
    };
    let curve = |clients: &str| format!("\n[zmq.curve]\nsecret_key_file = \"host.key\"\n{clients}");
    let config = parse(&open(&curve(
        &(client("a", "trade") + &client("b", "admin")),
    )))
    .unwrap();
    let clients = &config.zmq.curve.as_ref().expect("curve").clients;
    assert_eq!(clients[1].role, crate::auth::Role::Admin);
    let twice = errors_of(&open(&curve(
        &(client("a", "trade") + &client("a", "read")),
    )));
    assert!(
        twice[0].contains("zmq.curve.clients[1].name") && twice[0].contains("listed twice"),
        "{twice:?}"
    );
    let unknown = errors_of(&open(&curve(&client("a", "root"))));
    assert!(
        unknown[0].contains("role") && unknown[0].contains("root"),
        "{unknown:?}"
    );
    let relay = MINIMAL.replace(
        "[[exchanges.markets]]",
        "[exchanges.market_data]\nfrom = \"tcp://127.0.0.1:5555\"\nserver_key_file = \"other.pub\"\n\n[[exchanges.markets]]",
    );
    let errors = errors_of(&relay);
    assert!(
        errors[0].contains("market_data.server_key_file") && errors[0].contains("[zmq.curve]"),
        "{errors:?}"
    );
}

#[test]
fn the_signers_default_cap_is_the_largest_market_cap_and_only_when_every_market_has_one() {
    let uncapped = parse(MINIMAL).unwrap();
    assert_eq!(uncapped.largest_order_notional(), None);
    let exchange_cap = with_exchange_table("limits", "max_order_notional = \"1000\"");
    let capped = parse(&exchange_cap).unwrap();
    assert_eq!(capped.largest_order_notional(), Some(1000.into()));
    // A market's own cap overrides its exchange's, above or below.
    let two_markets = exchange_cap.clone()
        + "limits = { max_order_notional = \"250\" }\n\n[[exchanges.markets]]\nsymbol = \"ETH-USD\"\nlimits = { max_order_notional = \"4000\" }\n";
    assert_eq!(
        parse(&two_markets).unwrap().largest_order_notional(),
        Some(4000.into())
    );
    // One market without a cap leaves every key uncapped.
    let one_uncapped = MINIMAL.to_owned()
        + "limits = { max_order_notional = \"250\" }\n\n[[exchanges.markets]]\nsymbol = \"ETH-USD\"\n";
    assert_eq!(parse(&one_uncapped).unwrap().largest_order_notional(), None);
}

#[test]
fn attached_exits_are_the_exchanges_unless_the_host_is_asked_to_hold_them() {
    let config = parse(MINIMAL).unwrap();
    assert_eq!(config.exchanges[0].attached_exits, ExitsHolder::Exchange);
    let host = parse(&MINIMAL.replace(
        "plugin = \"testex\"",
        "plugin = \"testex\"\nattached_exits = \"host\"",
    ))
    .unwrap();
    assert_eq!(host.exchanges[0].attached_exits, ExitsHolder::Host);
    let errors = errors_of(&MINIMAL.replace(
        "plugin = \"testex\"",
        "plugin = \"testex\"\nattached_exits = \"venue\"",
    ));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("exchanges[hl].attached_exits") && errors[0].contains("venue"),
        "{errors:?}"
    );
}
