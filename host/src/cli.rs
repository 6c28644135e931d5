//! The `connector-host` command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::app::reload::SetLogLevel;
use crate::config::{self, Config};
use crate::plugins::PluginSet;

/// A plugin-based exchange connector host.
#[derive(Debug, Parser)]
#[command(name = "connector-host", version, about)]
pub struct Cli {
    /// Log format on standard error.
    #[arg(long, value_enum, global = true, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

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

/// Log output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the host with a configuration file.
    Run {
        /// The configuration file.
        #[arg(long, default_value = "configs/local.toml")]
        config: PathBuf,
    },
    /// Validate a configuration file: print every error with its key and
    /// line, or a one-line summary.
    CheckConfig {
        /// The configuration file.
        file: PathBuf,
    },
    /// Print events as they arrive, one line each: topic, then the body.
    Tail {
        /// Only topics starting with this (e.g. `orders.`, `market.hl-local.book`).
        #[arg(long, default_value = "")]
        topic: String,
        /// The publisher to subscribe to (default: `zmq.publish` of `--config`).
        #[arg(long)]
        endpoint: Option<String>,
        /// The configuration whose publisher to subscribe to.
        #[arg(long, default_value = "configs/local.toml")]
        config: PathBuf,
        /// Stop after this many events.
        #[arg(long)]
        count: Option<u64>,
    },
    /// Send an order command to a running host and print its reply.
    Order {
        /// The host's command endpoint (default: `zmq.commands` of `--config`).
        #[arg(long)]
        endpoint: Option<String>,
        /// The configuration whose command endpoint to use.
        #[arg(long, default_value = "configs/local.toml")]
        config: PathBuf,
        /// The exchange (needed when the host has several).
        #[arg(long)]
        exchange: Option<String>,
        /// The command.
        #[command(subcommand)]
        action: OrderAction,
    },
    /// Ask a running host to read its configuration file again now (as
    /// SIGHUP does); the outcome is published on `host.status.config`.
    Reload {
        /// The host's command endpoint (default: `zmq.commands` of `--config`).
        #[arg(long)]
        endpoint: Option<String>,
        /// The configuration whose command endpoint to use.
        #[arg(long, default_value = "configs/local.toml")]
        config: PathBuf,
    },
    /// List the plugins in a folder: one line per loaded plugin and per
    /// refused file.
    Plugins {
        /// The folder (default: the `plugins_dir` of `--config`).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The configuration whose plugins folder to list.
        #[arg(long, default_value = "configs/local.toml")]
        config: PathBuf,
    },
}

/// Sets up logging: `RUST_LOG` if set, otherwise `default_filter`.
pub fn init_logging(format: LogFormat, default_filter: &str) -> SetLogLevel {
    let from_environment = EnvFilter::try_from_default_env().ok();
    let fixed = from_environment.is_some();
    let filter = from_environment
        .or_else(|| EnvFilter::try_new(default_filter).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let (filter, handle) = tracing_subscriber::reload::Layer::new(filter);
    let text = (format == LogFormat::Text)
        .then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr));
    let json = (format == LogFormat::Json).then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
    });
    // A second initialisation (in tests) is harmless; ignore it.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(text)
        .with(json)
        .try_init();
    Box::new(move |level: &str| {
        let filter = EnvFilter::try_new(level).map_err(|error| error.to_string())?;
        if fixed {
            tracing::info!("RUST_LOG is set; it wins over host.log_level");
            return Ok(());
        }
        handle.reload(filter).map_err(|error| error.to_string())
    })
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::CheckConfig { file } => check_config(&file),
        Command::Plugins { dir, config } => {
            let _ = init_logging(cli.log_format, "warn");
            list_plugins(dir.as_deref(), &config)
        }
        Command::Run { config } => run_host(cli.log_format, &config),
        Command::Reload { endpoint, config } => {
            send_order_command(endpoint, &config, None, &OrderAction::Reload)
        }
        Command::Order {
            endpoint,
            config,
            exchange,
            action,
        } => send_order_command(endpoint, &config, exchange.as_deref(), &action),
        Command::Tail {
            topic,
            endpoint,
            config,
            count,
        } => tail(&topic, endpoint, &config, count),
    }
}

fn check_config(file: &Path) -> ExitCode {
    let config = match config::load(file) {
        Ok(config) => config,
        Err(errors) => {
            eprint!("{errors}");
            return ExitCode::from(2);
        }
    };
    let dir = &config.host.plugins_dir;
    let plugins = match PluginSet::load_dir(dir) {
        Ok(plugins) => plugins,
        Err(error) => {
            let problem = (
                config::KeyPath::key("host").join("plugins_dir"),
                error.to_string(),
            );
            eprint!("{}", config::locate(file, vec![problem]));
            return ExitCode::from(2);
        }
    };
    let mut problems = plugins.check_settings(&config);
    for (index, exchange) in config.exchanges.iter().enumerate() {
        if !plugins.loaded.contains_key(&exchange.plugin) {
            let provided: Vec<&str> = plugins
                .sorted()
                .iter()
                .map(|p| p.manifest.exchange.as_str())
                .collect();
            problems.push((
                config::KeyPath::key("exchanges")
                    .index(index)
                    .join("plugin"),
                format!(
                    "no plugin in {} provides `{}` (found: {})",
                    dir.display(),
                    exchange.plugin,
                    if provided.is_empty() {
                        "none".to_owned()
                    } else {
                        provided.join(", ")
                    }
                ),
            ));
        }
    }
    if !problems.is_empty() {
        eprint!("{}", config::locate(file, problems));
        return ExitCode::from(2);
    }
    println!("{}: valid — {}", file.display(), config.summary());
    ExitCode::SUCCESS
}

fn list_plugins(dir: Option<&Path>, config: &Path) -> ExitCode {
    let dir = match dir {
        Some(dir) => dir.to_owned(),
        None => match config::load(config) {
            Ok(config) => config.host.plugins_dir,
            Err(errors) => {
                eprint!("{errors}");
                return ExitCode::from(2);
            }
        },
    };
    let set = match PluginSet::load_dir(&dir) {
        Ok(set) => set,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    for plugin in set.sorted() {
        println!(
            "loaded   {:<14} version {:<8} abi {:<8} {}",
            plugin.manifest.exchange,
            plugin.manifest.plugin_version,
            plugin_api::ABI_VERSION,
            plugin.path.display()
        );
        for bucket in plugin.manifest.rate_limits.iter() {
            println!(
                "         rate limit {:<16} {} per {} ms",
                bucket.id, bucket.capacity, bucket.window_ms
            );
        }
    }
    for refused in &set.refused {
        println!("refused  {refused}");
    }
    if set.refused.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn tail(topic: &str, endpoint: Option<String>, config: &Path, count: Option<u64>) -> ExitCode {
    let endpoint = match endpoint {
        Some(endpoint) => endpoint,
        None => match config::load(config) {
            Ok(config) => config.zmq.publish,
            Err(errors) => {
                eprint!("{errors}");
                return ExitCode::from(2);
            }
        },
    };
    let context = zmq::Context::new();
    let subscribed = context.socket(zmq::SUB).and_then(|socket| {
        socket.connect(&endpoint)?;
        socket.set_subscribe(topic.as_bytes())?;
        Ok(socket)
    });
    let socket = match subscribed {
        Ok(socket) => socket,
        Err(error) => {
            eprintln!("cannot subscribe to {endpoint}: {error}");
            return ExitCode::from(2);
        }
    };
    let mut seen = 0u64;
    while count.is_none_or(|count| seen < count) {
        match socket.recv_multipart(0) {
            Ok(parts) => {
                let topic = String::from_utf8_lossy(parts.first().map_or(&[][..], |p| p));
                let body = String::from_utf8_lossy(parts.get(1).map_or(&[][..], |p| p));
                println!("{topic}  {body}");
                seen += 1;
            }
            Err(error) => {
                eprintln!("receive failed: {error}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}

/// How long the CLI waits for a host's reply, ms.
const REPLY_TIMEOUT_MS: i32 = 5_000;

fn send_order_command(
    endpoint: Option<String>,
    config: &Path,
    exchange: Option<&str>,
    action: &OrderAction,
) -> ExitCode {
    let endpoint = match endpoint {
        Some(endpoint) => endpoint,
        None => match config::load(config) {
            Ok(config) => config.zmq.commands,
            Err(errors) => {
                eprint!("{errors}");
                return ExitCode::from(2);
            }
        },
    };
    let request = action.request(exchange).to_string();
    let context = zmq::Context::new();
    let exchanged = context.socket(zmq::REQ).and_then(|socket| {
        socket.set_rcvtimeo(REPLY_TIMEOUT_MS)?;
        socket.set_linger(0)?;
        socket.connect(&endpoint)?;
        socket.send(request.as_bytes(), 0)?;
        socket.recv_bytes(0)
    });
    match exchanged {
        Ok(reply) => {
            let reply: serde_json::Value = serde_json::from_slice(&reply).unwrap_or_default();
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

/// Lifts the soft limit on open descriptors to the hard one: connections
/// to the exchanges, the signer, subscribers and command clients all take
/// one, and the default soft limit (often 1,024) is the first to run out.
fn raise_descriptor_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) != 0 {
            return;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raw const raised) == 0 {
                tracing::debug!(
                    from = limit.rlim_cur,
                    to = limit.rlim_max,
                    "descriptor limit raised"
                );
            }
        }
    }
}

fn run_host(format: LogFormat, path: &Path) -> ExitCode {
    let config: Config = match config::load(path) {
        Ok(config) => config,
        Err(errors) => {
            eprint!("{errors}");
            return ExitCode::from(2);
        }
    };
    let set_log_level = init_logging(format, &config.host.log_level);
    tracing::info!("{}", config.summary());
    raise_descriptor_limit();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!("cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(crate::app::run(path, config, set_log_level)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(crate::app::HostError::Settings(errors)) => {
            eprint!("{errors}");
            ExitCode::from(2)
        }
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::from(1)
        }
    }
}
