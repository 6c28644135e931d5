use super::diff::CURVE_CLIENTS;
use super::*;

/// One exchange `hl` with a limit, one market.
fn base() -> String {
    crate::config::tests::with_exchange_table("limits", "max_order_size = \"1\"")
}

fn parse(text: &str) -> Config {
    crate::config::parse(text).unwrap()
}

#[test]
fn an_unchanged_file_changes_nothing() {
    assert_eq!(
        diff(&parse(&base()), &parse(&base())),
        ConfigDiff::default()
    );
}

#[test]
fn limits_rate_limits_and_log_level_apply_live() {
    let new = base()
        .replace(r#"max_order_size = "1""#, r#"max_order_size = "0.5""#)
        .replace(
            "[[exchanges.markets]]\nsymbol = \"BTC-USD\"",
            "[exchanges.rate_limits.ip_weight]\ncapacity = 10\nwindow_ms = 1000\n\n[[exchanges.markets]]\nsymbol = \"BTC-USD\"\nlimits = { max_open_orders = 3 }",
        )
        .replace("plugins_dir = \"plugins\"", "plugins_dir = \"plugins\"\nlog_level = \"debug\"");
    let diff = diff(&parse(&base()), &parse(&new));
    assert_eq!(
        diff.live,
        [
            "host.log_level",
            "exchanges.hl.limits",
            "exchanges.hl.markets.limits",
            "exchanges.hl.rate_limits"
        ]
    );
    assert!(diff.restart.is_empty(), "{:?}", diff.restart);
}

#[test]
fn endpoints_and_accounts_need_a_restart_markets_and_exchanges_are_live() {
    let new = base()
        .replace("account = \"0xabc\"", "account = \"0xdef\"")
        .replace("symbol = \"BTC-USD\"", "symbol = \"ETH-USD\"")
        .replace(
            "[signer]",
            "[zmq]\ncommands = \"tcp://127.0.0.1:7000\"\n\n[signer]",
        )
        .replace("name = \"hl\"", "name = \"hl2\"");
    let diff = diff(&parse(&base()), &parse(&new));
    assert_eq!(
        diff.live,
        ["exchanges.hl2 (added)", "exchanges.hl (removed)"]
    );
    assert_eq!(diff.restart, ["zmq"]);
    let new = base()
        .replace("account = \"0xabc\"", "account = \"0xdef\"")
        .replace("symbol = \"BTC-USD\"", "symbol = \"ETH-USD\"");
    let diff = super::diff(&parse(&base()), &parse(&new));
    assert_eq!(diff.live, ["exchanges.hl.markets"]);
    assert_eq!(diff.restart, ["exchanges.hl.settings"]);
}

#[test]
fn curve_clients_apply_live_and_the_host_key_needs_a_restart() {
    let curve = |key: &str, clients: &str| {
        base().replace(
            "[signer]",
            &format!("[zmq.curve]\nsecret_key_file = \"{key}\"\n{clients}\n[signer]"),
        )
    };
    let reader =
        "[[zmq.curve.clients]]\nname = \"r\"\nrole = \"read\"\npublic_key_file = \"r.pub\"\n";
    let old = parse(&curve("host.key", ""));
    let added = diff(&old, &parse(&curve("host.key", reader)));
    assert_eq!(added.live, [CURVE_CLIENTS]);
    assert!(added.restart.is_empty(), "{:?}", added.restart);
    let new_key = diff(&old, &parse(&curve("other.key", "")));
    assert_eq!(
        (new_key.live.len(), new_key.restart),
        (0, vec!["zmq".into()])
    );
    let turned_on = diff(&parse(&base()), &parse(&curve("host.key", reader)));
    assert_eq!(
        (turned_on.live.len(), turned_on.restart),
        (0, vec!["zmq".into()])
    );
}
