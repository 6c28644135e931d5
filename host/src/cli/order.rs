//! `connector-host order …` and `reload`: one command to a running host,
//! its reply printed.

use std::process::ExitCode;

use clap::Subcommand;

/// New-order arguments.
#[derive(Debug, clap::Args)]
pub struct NewOrderArgs {
    /// The host symbol, e.g. BTC-USD.
    #[arg(long)]
    pub pair: String,
    /// limit, market or limit_maker.
    #[arg(long = "type", default_value = "limit")]
    pub order_type: String,
    /// Limit price.
    #[arg(long)]
    pub price: Option<String>,
    /// Size in base units.
    #[arg(long)]
    pub amount: String,
    /// gtc, ioc or fok.
    #[arg(long, default_value = "gtc")]
    pub tif: String,
    /// Only reduce a position.
    #[arg(long)]
    pub reduce_only: bool,
    /// Use this client order id.
    #[arg(long)]
    pub client_id: Option<String>,
}

/// Order commands.
#[derive(Debug, Subcommand)]
pub enum OrderAction {
    /// A buy order.
    Buy(NewOrderArgs),
    /// A sell order.
    Sell(NewOrderArgs),
    /// Cancel an order.
    Cancel {
        /// Its client order id.
        #[arg(long)]
        id: String,
    },
    /// Cancel every open order (of one pair).
    CancelAll {
        /// Only this pair.
        #[arg(long)]
        pair: Option<String>,
    },
    /// Change an order's price or size.
    Modify {
        /// Its client order id.
        #[arg(long)]
        id: String,
        /// The new price.
        #[arg(long)]
        price: Option<String>,
        /// The new size.
        #[arg(long)]
        amount: Option<String>,
    },
    /// One order.
    Get {
        /// Its client order id.
        #[arg(long)]
        id: String,
    },
    /// Open orders (of one pair).
    List {
        /// Only this pair.
        #[arg(long)]
        pair: Option<String>,
    },
    /// The host's state.
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
    /// Cancel every open order and refuse new ones until released.
    KillSwitch {
        /// Why (published, and given to refused orders).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Take new orders again after a kill switch.
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
                "trading_pair": args.pair,
                "order_type": args.order_type.to_uppercase(),
                "price": args.price,
                "amount": args.amount,
                "time_in_force": args.tif.to_uppercase(),
                "reduce_only": args.reduce_only,
                "client_order_id": args.client_id,
            })
        };
        let mut request = match self {
            OrderAction::Buy(args) => new_order("buy", args),
            OrderAction::Sell(args) => new_order("sell", args),
            OrderAction::Cancel { id } => json!({"cmd": "cancel", "client_order_id": id}),
            OrderAction::CancelAll { pair } => json!({"cmd": "cancel_all", "trading_pair": pair}),
            OrderAction::Modify { id, price, amount } => {
                json!({"cmd": "modify", "client_order_id": id, "price": price, "amount": amount})
            }
            OrderAction::Get { id } => json!({"cmd": "get_order", "client_order_id": id}),
            OrderAction::List { pair } => json!({"cmd": "open_orders", "trading_pair": pair}),
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
            OrderAction::KillSwitch { reason } => json!({"cmd": "kill_switch", "reason": reason}),
            OrderAction::ReleaseKillSwitch => json!({"cmd": "release_kill_switch"}),
            OrderAction::Heartbeat => json!({"cmd": "heartbeat"}),
            OrderAction::Reload => json!({"cmd": "reload"}),
        };
        if let Some(object) = request.as_object_mut() {
            object.retain(|_, value| !value.is_null());
            if let Some(exchange) = exchange {
                object.insert("exchange".into(), exchange.into());
            }
            object.insert("id".into(), 1.into());
        }
        request
    }
}

/// How long the CLI waits for a host's reply, ms.
const REPLY_TIMEOUT_MS: i32 = 5_000;

/// Sends `action` to the command socket at `endpoint` and prints the
/// reply; fails when the host refuses it or does not answer.
pub fn send(endpoint: &str, exchange: Option<&str>, action: &OrderAction) -> ExitCode {
    let request = action.request(exchange).to_string();
    let context = zmq::Context::new();
    let exchanged = context.socket(zmq::REQ).and_then(|socket| {
        socket.set_rcvtimeo(REPLY_TIMEOUT_MS)?;
        socket.set_linger(0)?;
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
