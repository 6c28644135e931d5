//! `connector-host order …` and `reload`: one command to a running host,
//! its reply printed.

use std::process::ExitCode;

use clap::Subcommand;

use crate::auth::ClientKeys;

/// New-order arguments: the fields of `buy` and `sell`.
#[derive(Debug, clap::Args)]
pub struct NewOrderArgs {
    /// The host symbol, e.g. BTC-USD.
    #[arg(long, alias = "pair")]
    pub trading_pair: String,
    /// limit, market, limit_maker, stop_market, stop_limit,
    /// take_profit_market or take_profit_limit.
    #[arg(long, alias = "type", default_value = "limit")]
    pub order_type: String,
    /// Limit price.
    #[arg(long)]
    pub price: Option<String>,
    /// Size in base units.
    #[arg(long)]
    pub amount: String,
    /// gtc, ioc or fok.
    #[arg(long, alias = "tif", default_value = "gtc")]
    pub time_in_force: String,
    /// open, or close (reduce-only).
    #[arg(long)]
    pub position_action: Option<String>,
    /// Only reduce a position.
    #[arg(long)]
    pub reduce_only: bool,
    /// Use this client order id.
    #[arg(long, alias = "client-id")]
    pub client_order_id: Option<String>,
    /// Market orders: the worst price accepted, in percent from the mid.
    #[arg(long)]
    pub max_slippage_percent: Option<String>,
    /// Stop and take-profit orders: the price that triggers them.
    #[arg(long)]
    pub trigger_price: Option<String>,
    /// Stop and take-profit orders: the price the trigger watches, MARK
    /// (default) or LAST.
    #[arg(long)]
    pub trigger_reference: Option<String>,
    /// An attached take-profit's trigger price (placed, reduce-only, once
    /// the order is done).
    #[arg(long, value_name = "TRIGGER_PRICE")]
    pub take_profit: Option<String>,
    /// The take-profit's limit once fired (default: at market).
    #[arg(long, value_name = "PRICE", requires = "take_profit")]
    pub take_profit_price: Option<String>,
    /// An attached stop-loss's trigger price.
    #[arg(long, value_name = "TRIGGER_PRICE")]
    pub stop_loss: Option<String>,
    /// The stop-loss's limit once fired (default: at market).
    #[arg(long, value_name = "PRICE", requires = "stop_loss")]
    pub stop_loss_price: Option<String>,
}

/// The fields of `fills` and `history`.
#[derive(Debug, clap::Args)]
pub struct WindowArgs {
    /// Only this pair.
    #[arg(long, alias = "pair")]
    pub trading_pair: Option<String>,
    /// From this time on, ms since the epoch.
    #[arg(long)]
    pub since_ms: Option<u64>,
    /// Before this time, ms since the epoch.
    #[arg(long)]
    pub until_ms: Option<u64>,
    /// The most items in the reply (the newest).
    #[arg(long)]
    pub limit: Option<usize>,
}

/// The fields of `set_leverage` and `set_margin_mode`.
#[derive(Debug, clap::Args)]
pub struct LeverageArgs {
    /// The market.
    #[arg(long, alias = "pair")]
    pub trading_pair: String,
    /// The leverage (1 to the market's maximum).
    #[arg(long)]
    pub leverage: u32,
    /// cross or isolated.
    #[arg(long)]
    pub margin_mode: String,
}

/// The commands of `docs/command-protocol.md`, named as there (`-` for
/// `_`; `_` works too), with its fields as flags.
#[derive(Debug, Subcommand)]
pub enum OrderAction {
    /// A buy order.
    Buy(NewOrderArgs),
    /// A sell order.
    Sell(NewOrderArgs),
    /// Cancel an order.
    Cancel {
        /// Its client order id.
        #[arg(long, alias = "id")]
        client_order_id: String,
    },
    /// Cancel every open order (of one pair).
    #[command(alias = "cancel_all")]
    CancelAll {
        /// Only this pair.
        #[arg(long, alias = "pair")]
        trading_pair: Option<String>,
    },
    /// Change an order's price or size.
    Modify {
        /// Its client order id.
        #[arg(long, alias = "id")]
        client_order_id: String,
        /// The new price.
        #[arg(long)]
        price: Option<String>,
        /// The new size.
        #[arg(long)]
        amount: Option<String>,
    },
    /// One order.
    #[command(aliases = ["get_order", "get"])]
    GetOrder {
        /// Its client order id.
        #[arg(long, alias = "id")]
        client_order_id: String,
    },
    /// Open orders (of one pair).
    #[command(aliases = ["open_orders", "list"])]
    OpenOrders {
        /// Only this pair.
        #[arg(long, alias = "pair")]
        trading_pair: Option<String>,
    },
    /// Each exchange's orders, connections, books, kill switch and dead
    /// man's switch.
    Status,
    /// Open orders, balances, positions and books' state, each with the
    /// seq of its event family it includes.
    Snapshot,
    /// Kept order or account events after a position (a page of them).
    Replay {
        /// `orders.<exchange>` or `account.<exchange>`.
        #[arg(long)]
        family: String,
        /// The run of the last event you have (with `--after-seq`).
        #[arg(long, requires = "after_seq")]
        after_run: Option<u64>,
        /// The seq of the last event you have (with `--after-run`).
        #[arg(long, requires = "after_run")]
        after_seq: Option<u64>,
        /// The most events in the reply.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Balances now.
    Balances,
    /// Positions now (of one pair).
    Positions {
        /// Only this pair.
        #[arg(long, alias = "pair")]
        trading_pair: Option<String>,
    },
    /// Each exchange's capabilities and its markets' rules.
    Markets {
        /// Only this pair.
        #[arg(long, alias = "pair")]
        trading_pair: Option<String>,
    },
    /// Fills from the journal, by time and pair.
    Fills(WindowArgs),
    /// Orders from the journal, by time and pair.
    History(WindowArgs),
    /// Several buy, sell, cancel and modify commands in one, sent as the
    /// venue's batches; each answered on its own.
    Batch {
        /// The elements, a JSON array of commands, e.g.
        /// '[{"cmd":"buy","trading_pair":"BTC-USD","order_type":"LIMIT","price":"90000","amount":"0.001"}]'.
        #[arg(long)]
        commands: String,
    },
    /// Set a market's leverage (with its margin mode) on the exchange.
    #[command(alias = "set_leverage")]
    SetLeverage(LeverageArgs),
    /// Set a market's margin mode (with its leverage) on the exchange.
    #[command(alias = "set_margin_mode")]
    SetMarginMode(LeverageArgs),
    /// Cancel every open order and refuse new ones until released.
    #[command(alias = "kill_switch")]
    KillSwitch {
        /// Why (published, and given to refused orders).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Take new orders again after a kill switch.
    #[command(alias = "release_kill_switch")]
    ReleaseKillSwitch,
    /// Tell the host a strategy is alive (for the dead man's switch).
    Heartbeat,
    /// Read the configuration file again (`connector-host reload`).
    #[command(hide = true)]
    Reload,
}

impl OrderAction {
    /// The command as the protocol's JSON.
    pub fn request(&self, exchange: Option<&str>) -> serde_json::Value {
        use serde_json::json;
        let new_order = |cmd: &str, args: &NewOrderArgs| {
            json!({
                "cmd": cmd,
                "trading_pair": args.trading_pair,
                "order_type": args.order_type.to_uppercase(),
                "price": args.price,
                "amount": args.amount,
                "time_in_force": args.time_in_force.to_uppercase(),
                "position_action": args.position_action.as_deref().map(str::to_uppercase),
                "reduce_only": args.reduce_only.then_some(true),
                "client_order_id": args.client_order_id,
                "max_slippage_percent": args.max_slippage_percent,
                "trigger_price": args.trigger_price,
                "trigger_reference": args.trigger_reference.as_deref().map(str::to_uppercase),
                "take_profit": args.take_profit.as_ref().map(|trigger| {
                    json!({"trigger_price": trigger, "price": args.take_profit_price})
                }),
                "stop_loss": args.stop_loss.as_ref().map(|trigger| {
                    json!({"trigger_price": trigger, "price": args.stop_loss_price})
                }),
            })
        };
        let window = |cmd: &str, args: &WindowArgs| {
            json!({
                "cmd": cmd,
                "trading_pair": args.trading_pair,
                "since_ms": args.since_ms,
                "until_ms": args.until_ms,
                "limit": args.limit,
            })
        };
        let mut request = match self {
            OrderAction::Buy(args) => new_order("buy", args),
            OrderAction::Sell(args) => new_order("sell", args),
            OrderAction::Cancel { client_order_id } => {
                json!({"cmd": "cancel", "client_order_id": client_order_id})
            }
            OrderAction::CancelAll { trading_pair } => {
                json!({"cmd": "cancel_all", "trading_pair": trading_pair})
            }
            OrderAction::Modify {
                client_order_id,
                price,
                amount,
            } => json!({
                "cmd": "modify",
                "client_order_id": client_order_id,
                "price": price,
                "amount": amount,
            }),
            OrderAction::GetOrder { client_order_id } => {
                json!({"cmd": "get_order", "client_order_id": client_order_id})
            }
            OrderAction::OpenOrders { trading_pair } => {
                json!({"cmd": "open_orders", "trading_pair": trading_pair})
            }
            OrderAction::Status => json!({"cmd": "status"}),
            OrderAction::Snapshot => json!({"cmd": "snapshot"}),
            OrderAction::Replay {
                family,
                after_run,
                after_seq,
                limit,
            } => json!({
                "cmd": "replay",
                "family": family,
                "after": after_run.zip(*after_seq).map(|(run, seq)| json!({"run": run, "seq": seq})),
                "limit": limit,
            }),
            OrderAction::Balances => json!({"cmd": "balances"}),
            OrderAction::Positions { trading_pair } => {
                json!({"cmd": "positions", "trading_pair": trading_pair})
            }
            OrderAction::Markets { trading_pair } => {
                json!({"cmd": "markets", "trading_pair": trading_pair})
            }
            OrderAction::SetLeverage(args) | OrderAction::SetMarginMode(args) => json!({
                "cmd": if matches!(self, OrderAction::SetLeverage(_)) { "set_leverage" } else { "set_margin_mode" },
                "trading_pair": args.trading_pair,
                "leverage": args.leverage,
                "margin_mode": args.margin_mode.to_lowercase(),
            }),
            OrderAction::Batch { commands } => json!({
                "cmd": "batch",
                // Sent as given: the host says what is wrong with it.
                "commands": serde_json::from_str::<serde_json::Value>(commands)
                    .unwrap_or_else(|_| serde_json::Value::String(commands.clone())),
            }),
            OrderAction::Fills(args) => window("fills", args),
            OrderAction::History(args) => window("history", args),
            OrderAction::KillSwitch { reason } => json!({"cmd": "kill_switch", "reason": reason}),
            OrderAction::ReleaseKillSwitch => json!({"cmd": "release_kill_switch"}),
            OrderAction::Heartbeat => json!({"cmd": "heartbeat"}),
            OrderAction::Reload => json!({"cmd": "reload"}),
        };
        if let Some(object) = request.as_object_mut() {
            object.retain(|_, value| !value.is_null());
            // `replay` names its exchange in `family`; `reload` is the host's.
            let takes_exchange = !matches!(self, OrderAction::Replay { .. } | OrderAction::Reload);
            if let Some(exchange) = exchange.filter(|_| takes_exchange) {
                object.insert("exchange".into(), exchange.into());
            }
            object.insert("id".into(), 1.into());
        }
        request
    }
}

/// How long the CLI waits for a host's reply, ms (`set_leverage` waits
/// for the exchange's answer).
const REPLY_TIMEOUT_MS: i32 = 15_000;

/// Sends `action` to the command socket at `endpoint` (with CURVE `keys`
/// when given) and prints the reply; fails when the host refuses it or
/// does not answer.
pub fn send(
    endpoint: &str,
    keys: Option<&ClientKeys>,
    exchange: Option<&str>,
    action: &OrderAction,
) -> ExitCode {
    let request = action.request(exchange).to_string();
    let context = zmq::Context::new();
    let exchanged = context.socket(zmq::REQ).and_then(|socket| {
        socket.set_rcvtimeo(REPLY_TIMEOUT_MS)?;
        socket.set_linger(0)?;
        if let Some(keys) = keys {
            keys.secure(&socket)?;
        }
        socket.connect(endpoint)?;
        socket.send(request.as_bytes(), 0)?;
        socket.recv_bytes(0)
    });
    match exchanged {
        Ok(reply) => {
            let reply: serde_json::Value = match serde_json::from_slice(&reply) {
                Ok(reply) => reply,
                Err(error) => {
                    eprintln!("the reply from {endpoint} is not JSON ({error})");
                    return ExitCode::from(2);
                }
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&reply).unwrap_or_default()
            );
            if reply["ok"] == true {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!("no reply from {endpoint}: {error}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use crate::cli::{Cli, Command};
    use crate::commands::parse_request;

    /// Every flag of every order subcommand given, as a user would.
    const FULL: &[&[&str]] = &[
        &[
            "buy",
            "--trading-pair",
            "BTC-USD",
            "--order-type",
            "market",
            "--price",
            "1",
            "--amount",
            "2",
            "--time-in-force",
            "ioc",
            "--position-action",
            "close",
            "--reduce-only",
            "--client-order-id",
            "0x00000001000000000000000000000001",
            "--max-slippage-percent",
            "2.5",
        ],
        &[
            "sell",
            "--trading-pair",
            "BTC-USD",
            "--order-type",
            "stop_limit",
            "--price",
            "94000",
            "--trigger-price",
            "94500",
            "--trigger-reference",
            "last",
            "--amount",
            "1",
        ],
        &[
            "buy",
            "--trading-pair",
            "BTC-USD",
            "--order-type",
            "limit",
            "--price",
            "100000",
            "--amount",
            "1",
            "--take-profit",
            "101000",
            "--stop-loss",
            "99000",
            "--stop-loss-price",
            "98900",
        ],
        &[
            "sell",
            "--pair",
            "BTC-USD",
            "--type",
            "limit",
            "--price",
            "1",
            "--amount",
            "2",
            "--tif",
            "gtc",
            "--client-id",
            "0x00000001000000000000000000000001",
        ],
        &[
            "cancel",
            "--client-order-id",
            "0x00000001000000000000000000000001",
        ],
        &["cancel-all", "--trading-pair", "BTC-USD"],
        &[
            "modify",
            "--client-order-id",
            "0x00000001000000000000000000000001",
            "--price",
            "1",
            "--amount",
            "2",
        ],
        &["get-order", "--id", "0x00000001000000000000000000000001"],
        &["open_orders", "--trading-pair", "BTC-USD"],
        &["status"],
        &["snapshot"],
        &[
            "replay",
            "--family",
            "orders.hl",
            "--after-run",
            "1",
            "--after-seq",
            "2",
            "--limit",
            "3",
        ],
        &["balances"],
        &["positions", "--trading-pair", "BTC-USD"],
        &["markets", "--trading-pair", "BTC-USD"],
        &[
            "fills",
            "--trading-pair",
            "BTC-USD",
            "--since-ms",
            "1",
            "--until-ms",
            "2",
            "--limit",
            "3",
        ],
        &[
            "history",
            "--trading-pair",
            "BTC-USD",
            "--since-ms",
            "1",
            "--until-ms",
            "2",
            "--limit",
            "3",
        ],
        &[
            "batch",
            "--commands",
            r#"[{"cmd":"cancel","client_order_id":"0x00000001000000000000000000000001"}]"#,
        ],
        &[
            "set-leverage",
            "--trading-pair",
            "BTC-USD",
            "--leverage",
            "5",
            "--margin-mode",
            "cross",
        ],
        &[
            "set_margin_mode",
            "--pair",
            "BTC-USD",
            "--leverage",
            "3",
            "--margin-mode",
            "ISOLATED",
        ],
        &["kill-switch", "--reason", "drill"],
        &["release-kill-switch"],
        &["heartbeat"],
        &["reload"],
    ];

    #[test]
    fn every_subcommand_sends_its_protocol_command_with_fields_the_host_takes() {
        for args in FULL {
            let line = [&["connector-host", "order", "--exchange", "hl"][..], args].concat();
            let cli = Cli::try_parse_from(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
            let Command::Order {
                action, exchange, ..
            } = cli.command
            else {
                panic!("{line:?} is not an order command");
            };
            let request = action.request(exchange.as_deref()).to_string();
            let parsed = parse_request(request.as_bytes())
                .unwrap_or_else(|reply| panic!("{request}: {:?}", reply.error));
            assert_eq!(
                parsed.command.name(),
                args[0].replace('-', "_"),
                "{request}"
            );
        }
    }

    #[test]
    fn the_subcommands_are_the_commands_of_the_protocol_document() {
        let document = include_str!("../../../docs/command-protocol.md");
        let requests = document
            .split("## Requests")
            .nth(1)
            .and_then(|rest| rest.split("## Replies").next())
            .expect("the Requests section");
        let documented: Vec<String> = requests
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .flat_map(|row| row.split(" |").next())
            .flat_map(|cell| cell.split(", "))
            .map(|name| name.trim_matches('`').to_owned())
            .filter(|name| {
                name != "cmd" && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            })
            .collect();
        let order = Cli::command();
        let order = order.find_subcommand("order").expect("order");
        let cli: Vec<String> = order
            .get_subcommands()
            .map(|command| command.get_name().replace('-', "_"))
            .collect();
        for name in &documented {
            assert!(
                cli.contains(name),
                "`{name}` is documented but has no subcommand"
            );
        }
        for name in &cli {
            assert!(
                documented.contains(name),
                "`{name}` has a subcommand but is not documented"
            );
        }
        let tried: Vec<String> = FULL.iter().map(|args| args[0].replace('-', "_")).collect();
        for name in &cli {
            assert!(tried.contains(name), "`{name}` is not tried above");
        }
    }
}
