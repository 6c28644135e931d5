//! The configuration file's shape. Every key is documented in
//! `docs/config.md`; unknown keys are errors.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

use super::errors::{KeyPath, KeyPathSegment};
use crate::plugins::pins::Sha256Digest;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Config {
    /// Host-wide settings.
    pub host: HostConfig,
    /// ZeroMQ endpoints.
    #[serde(default)]
    pub zmq: ZmqConfig,
    /// How to reach the signer.
    pub signer: SignerConfig,
    /// The exchange connections.
    #[serde(default)]
    pub exchanges: Vec<ExchangeConfig>,
    /// Prometheus metrics and a health check over HTTP (off when absent).
    #[serde(default)]
    pub metrics: Option<MetricsConfig>,
}

/// `[metrics]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MetricsConfig {
    /// The loopback address and port of `/metrics` and `/healthz`.
    #[serde(default = "default_metrics_listen")]
    pub listen: String,
}

fn default_metrics_listen() -> String {
    "127.0.0.1:9464".to_owned()
}

/// `[host]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HostConfig {
    /// This instance's name. It is hashed into every client order id, so a
    /// restarted host recognises its own orders: keep it stable, and unique
    /// per account.
    pub id: String,
    /// Folder of plugin files (relative paths are relative to the config
    /// file).
    pub plugins_dir: PathBuf,
    /// Folder for the journal and the nonce state (relative to the config
    /// file).
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
    /// Log filter, in `RUST_LOG` syntax.
    #[serde(default = "default_log_level")]
    pub log_level: String,
    /// Seconds between the one-line summaries in the log (orders per
    /// exchange, commands, events); 0: none.
    #[serde(default = "default_summary_interval")]
    pub summary_interval_s: u64,
    /// The async runtime's worker threads, which drive every exchange's
    /// sockets and requests (the command, publishing, journal-syncing and
    /// market-relay threads come on top).
    #[serde(default = "default_runtime_threads")]
    pub runtime_threads: usize,
    /// Each journal is synced to disk at most this often, ms.
    #[serde(default = "default_journal_sync_ms")]
    pub journal_sync_ms: u64,
    /// Optional pins: plugin file names and the SHA-256 (64 hex digits)
    /// each must have. With any pin set, a file not pinned, or changed
    /// since, is not loaded (`connector-host plugins` prints each file's).
    #[serde(default)]
    pub plugin_sha256: BTreeMap<String, Sha256Digest>,
}

impl HostConfig {
    /// How each exchange's journal syncs (`journal_sync_ms`).
    pub fn journal_options(&self) -> crate::journal::JournalOptions {
        crate::journal::JournalOptions {
            sync_interval: std::time::Duration::from_millis(self.journal_sync_ms),
            ..Default::default()
        }
    }
}

fn default_summary_interval() -> u64 {
    300
}

/// One worker: an order's hand-overs between its tasks then stay on one
/// thread, where two workers wake each other (docs/benchmarks.md).
fn default_runtime_threads() -> usize {
    1
}

fn default_journal_sync_ms() -> u64 {
    crate::journal::DEFAULT_SYNC_INTERVAL.as_millis() as u64
}

fn default_state_dir() -> PathBuf {
    PathBuf::from("state")
}

fn default_log_level() -> String {
    "info".to_owned()
}

/// `[zmq]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ZmqConfig {
    /// Where events are published (PUB).
    #[serde(default = "default_publish")]
    pub publish: String,
    /// Where commands are taken (ROUTER).
    #[serde(default = "default_commands")]
    pub commands: String,
    /// Events queued for the publisher before new ones are dropped (and
    /// counted).
    #[serde(default = "default_queue")]
    pub queue_capacity: usize,
    /// How long the publishing thread polls an empty queue before it
    /// sleeps, µs: events then reach it without a wake-up system call, at
    /// the price of a busy core while events flow. 0 sleeps at once.
    #[serde(default = "default_publisher_spin")]
    pub publisher_spin_us: u64,
    /// Connections to the command socket open at once; more are shut down
    /// as they come, so that a flood cannot take the file descriptors the
    /// order path needs.
    #[serde(default = "default_max_command_connections")]
    pub max_command_connections: u32,
    /// Subscribers connected to the event socket at once; more are shut
    /// down as they come, for the same reason.
    #[serde(default = "default_max_event_connections")]
    pub max_event_connections: u32,
    /// Commands a second taken from one connection (in bursts of as many);
    /// more are answered `rate_limited`. 0: no bound.
    #[serde(default = "default_max_commands_per_second")]
    pub max_commands_per_second: u32,
    /// CURVE on both sockets: the host's key pair and the clients allowed
    /// (off when absent).
    #[serde(default)]
    pub curve: Option<CurveConfig>,
}

/// `[zmq.curve]`: who may connect to the command and event sockets.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CurveConfig {
    /// The host's secret key file (`connector-host keygen`).
    pub secret_key_file: PathBuf,
    /// The clients allowed, each with its role.
    #[serde(default)]
    pub clients: Vec<CurveClientConfig>,
}

/// `[[zmq.curve.clients]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CurveClientConfig {
    /// The client's name, in logs and refusals.
    pub name: String,
    /// Its public key file (`NAME.pub` from `connector-host keygen`).
    pub public_key_file: PathBuf,
    /// What it may do.
    pub role: crate::auth::Role,
}

impl Default for ZmqConfig {
    fn default() -> Self {
        ZmqConfig {
            publish: default_publish(),
            commands: default_commands(),
            queue_capacity: default_queue(),
            publisher_spin_us: default_publisher_spin(),
            max_command_connections: default_max_command_connections(),
            max_event_connections: default_max_event_connections(),
            max_commands_per_second: default_max_commands_per_second(),
            curve: None,
        }
    }
}

fn default_publish() -> String {
    "tcp://127.0.0.1:5555".to_owned()
}

fn default_commands() -> String {
    "tcp://127.0.0.1:5556".to_owned()
}

fn default_queue() -> usize {
    65_536
}

fn default_max_event_connections() -> u32 {
    crate::publisher::DEFAULT_MAX_CONNECTIONS as u32
}

fn default_max_command_connections() -> u32 {
    crate::commands::SocketLimits::default().max_connections
}

fn default_max_commands_per_second() -> u32 {
    crate::commands::SocketLimits::default().max_commands_per_second
}

fn default_publisher_spin() -> u64 {
    crate::publisher::DEFAULT_SPIN
        .as_micros()
        .try_into()
        .unwrap_or(u64::MAX)
}

/// `[signer]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SignerConfig {
    /// The signer's Unix socket.
    pub socket: PathBuf,
    /// How long to wait for a signature, ms.
    #[serde(default = "default_signer_timeout")]
    pub timeout_ms: u64,
    /// Start the signer as a child process with this key file.
    #[serde(default)]
    pub spawn_key_file: Option<PathBuf>,
    /// The policy file for a spawned signer's key file.
    #[serde(default)]
    pub spawn_policy: Option<PathBuf>,
    /// Start the signer as a child process with this keyring (named keys of
    /// any venue, each with its policy) instead of one key file.
    #[serde(default)]
    pub spawn_keyring: Option<PathBuf>,
    /// A spawned signer appends a line per request it answers (who asked,
    /// the request, the response) to this file (`--audit-log`).
    #[serde(default)]
    pub spawn_audit_log: Option<PathBuf>,
    /// A spawned signer reads the passphrase of encrypted key files from
    /// this file (this user's, mode 0600; `--passphrase-file`). The host
    /// never reads it.
    #[serde(default)]
    pub spawn_passphrase_file: Option<PathBuf>,
}

impl Config {
    /// How the host starts its signer, if the configuration asks it to.
    /// Demo keys (plain files, published keys) are taken only while every
    /// exchange stays on this machine.
    pub fn spawned_signer(&self) -> Option<crate::signer::SpawnSpec<'_>> {
        Some(crate::signer::SpawnSpec {
            keys: self.signer.spawn_keys()?,
            audit_log: self.signer.spawn_audit_log.as_deref(),
            passphrase_file: self.signer.spawn_passphrase_file.as_deref(),
            demo_keys: self.stays_on_this_machine(),
            default_max_order_notional: self.largest_order_notional(),
            default_mark_prices: &[],
        })
    }

    /// The largest `max_order_notional` in force on any market: a spawned
    /// signer caps every key whose policy sets no cap of its own there, so
    /// that it refuses what no configured limit allows, even when the host
    /// asks. `None` when some market has no cap (or there is no market).
    pub fn largest_order_notional(&self) -> Option<Decimal> {
        let caps = self.exchanges.iter().flat_map(|exchange| {
            exchange
                .markets
                .iter()
                .map(|market| market.limits.or(&exchange.limits).max_order_notional)
        });
        caps.reduce(|largest, cap| largest.zip(cap).map(|(a, b)| a.max(b)))
            .flatten()
    }

    /// Whether every exchange's settings keep it on this machine (only
    /// loopback URLs; see `urls::stays_on_this_machine`).
    pub fn stays_on_this_machine(&self) -> bool {
        self.exchanges
            .iter()
            .all(ExchangeConfig::stays_on_this_machine)
    }
}

impl SignerConfig {
    /// The keys a spawned signer serves, if the host starts one.
    pub fn spawn_keys(&self) -> Option<crate::signer::SpawnKeys<'_>> {
        match (&self.spawn_keyring, &self.spawn_key_file) {
            (Some(keyring), _) => Some(crate::signer::SpawnKeys::Keyring(keyring)),
            (None, Some(key_file)) => Some(crate::signer::SpawnKeys::KeyFile {
                key_file,
                policy: self.spawn_policy.as_deref(),
            }),
            (None, None) => None,
        }
    }
}

fn default_signer_timeout() -> u64 {
    2_000
}

impl ExchangeConfig {
    /// Whether its settings name URLs, all on loopback (see
    /// `urls::stays_on_this_machine`).
    pub fn stays_on_this_machine(&self) -> bool {
        super::urls::stays_on_this_machine(&self.settings)
    }

    /// The JSON a plugin is created with: the `settings` table.
    pub fn plugin_settings(&self) -> String {
        // A table of TOML values always has a JSON form (its keys are
        // strings).
        serde_json::to_string(&self.settings).unwrap_or_default()
    }
}

/// One `[[exchanges]]` entry: one account on one exchange.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExchangeConfig {
    /// A label unique in this file, used in topics (`orders.<name>.…`).
    pub name: String,
    /// The plugin's exchange name (from its manifest; `connector-host
    /// plugins` lists them).
    pub plugin: String,
    /// The plugin's own settings (`[exchanges.settings]`: which deployment,
    /// which account, …), handed to it as they are and validated by it;
    /// see the plugin's documentation for its keys.
    #[serde(default)]
    pub settings: toml::Table,
    /// Lets the settings' plain `http://` and `ws://` URLs reach a host
    /// beyond loopback (an emulator on a private network); refused
    /// otherwise.
    #[serde(default)]
    pub insecure_transport: bool,
    /// The signer's key to sign with, by name; default: the signer's only
    /// key for the plugin's signing scheme.
    #[serde(default)]
    pub signer_key: Option<String>,
    /// A WebSocket silent this long (ms) is dead and replaced; default: the
    /// plugin's manifest. Pings go out at least three times per
    /// timeout.
    #[serde(default)]
    pub stream_timeout_ms: Option<u64>,
    /// How long one HTTP request to the exchange may take, ms.
    #[serde(default = "default_request_timeout")]
    pub request_timeout_ms: u64,
    /// Every signed action is valid at the venue this long after signing
    /// (ms; the plugin writes the deadline as its venue does): it bounds
    /// how long an order's outcome can stay unknown.
    #[serde(default = "default_order_expiry")]
    pub order_expiry_ms: u64,
    /// Orders in a final state stay in memory (for `get_order`, late
    /// updates and fill deduplication) this long after their last change,
    /// ms; the journal keeps them for a day.
    #[serde(default = "default_closed_order_retention")]
    pub closed_order_retention_ms: u64,
    /// Reconciles orders and fills with the exchange this often, ms, even
    /// while the streams are up: a stream can lose a message without
    /// dropping its connection.
    #[serde(default = "default_reconcile_interval")]
    pub reconcile_interval_ms: u64,
    /// Market orders are sent as aggressive IOC limits at most this many
    /// percent away from the mid (a string or integer, e.g. `"2.5"`);
    /// default: the plugin's manifest. A command may override it.
    #[serde(default, deserialize_with = "decimal")]
    pub market_slippage_percent: Option<Decimal>,
    /// How signed actions travel: `http` (default) or `websocket` (a
    /// `post` on the user connection, HTTP while it is down).
    #[serde(default)]
    pub order_transport: OrderTransport,
    /// Who holds an order's attached take-profit and stop-loss:
    /// `exchange` (default: sent with the entry where the venue groups
    /// them, the host elsewhere) or `host`.
    #[serde(default)]
    pub attached_exits: ExitsHolder,
    /// On SIGINT/SIGTERM, cancel every open order of this exchange before
    /// stopping (waits up to 10 s for the cancels to be confirmed).
    #[serde(default)]
    pub cancel_on_shutdown: bool,
    /// Take market data from another host's events instead of opening a
    /// market connection of this host's own.
    #[serde(default)]
    pub market_data: Option<MarketDataSource>,
    /// Limits for every market of this exchange, unless a market overrides
    /// them.
    #[serde(default)]
    pub limits: Limits,
    /// Keep the exchange's dead man's switch armed while the host is
    /// healthy (and strategies send heartbeats, if asked for).
    #[serde(default)]
    pub dead_man_switch: Option<DeadManSwitchConfig>,
    /// Client-side rate limits that replace the plugin's, by bucket id
    /// (`[exchanges.rate_limits.ip_weight]`): for accounts the venue grants
    /// more, or for an emulator that has no limit.
    #[serde(default)]
    pub rate_limits: BTreeMap<String, RateLimitConfig>,
    /// The markets to trade and watch.
    pub markets: Vec<MarketConfig>,
}

/// How signed actions travel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderTransport {
    /// A POST to the REST endpoint.
    #[default]
    Http,
    /// A `post` request on the user WebSocket.
    Websocket,
}

/// Who holds an entry's attached exits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExitsHolder {
    /// The exchange, where it takes an entry with its exits (they are
    /// placed at the entry's whole amount the moment it fills, also while
    /// the host is down); the host elsewhere.
    #[default]
    Exchange,
    /// The host: it places them once the entry is done, for what filled.
    Host,
}

/// `[exchanges.dead_man_switch]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct DeadManSwitchConfig {
    /// The exchange cancels every order this long after the host last
    /// refreshed the switch, ms (at least the minimum lead the plugin's
    /// manifest names). The host refreshes it three times as often.
    pub cancel_after_ms: u64,
    /// If set, strategies must send `heartbeat` commands at least this
    /// often (ms); without them the host stops refreshing the switch.
    #[serde(default)]
    pub heartbeat_timeout_ms: Option<u64>,
}

/// One rate-limit bucket: at most `capacity` units per `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct RateLimitConfig {
    /// Units per window.
    pub capacity: u32,
    /// The window, ms.
    pub window_ms: u64,
}

/// `[exchanges.market_data]`: another host whose book topics feed this
/// host's books.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MarketDataSource {
    /// That host's `zmq.publish` endpoint.
    pub from: String,
    /// That host's name for this exchange (default: this entry's `name`).
    #[serde(default)]
    pub exchange: Option<String>,
    /// That host's public key file, when it takes CURVE clients only; this
    /// host connects with its own `zmq.curve` key, which that host lists.
    #[serde(default)]
    pub server_key_file: Option<PathBuf>,
}

fn default_request_timeout() -> u64 {
    10_000
}

fn default_closed_order_retention() -> u64 {
    600_000
}

fn default_reconcile_interval() -> u64 {
    30_000
}

fn default_order_expiry() -> u64 {
    10_000
}

/// One market of an exchange.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MarketConfig {
    /// The host's symbol, e.g. `BTC-USD`, or the venue's coin name.
    pub symbol: String,
    /// Per-market limits; unset keys fall back to the exchange's.
    #[serde(default)]
    pub limits: Limits,
}

/// Pre-trade limits. Every key is optional; decimals are written as strings
/// (`"0.5"`) or integers, never as TOML floats.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Limits {
    /// Largest order size, in base units.
    #[serde(default, deserialize_with = "decimal")]
    pub max_order_size: Option<Decimal>,
    /// Largest order value, in the quote asset.
    #[serde(default, deserialize_with = "decimal")]
    pub max_order_notional: Option<Decimal>,
    /// Most open orders at once.
    #[serde(default)]
    pub max_open_orders: Option<u32>,
    /// Largest absolute position, in base units.
    #[serde(default, deserialize_with = "decimal")]
    pub max_position: Option<Decimal>,
    /// Largest distance of a limit price from the mid, in percent.
    #[serde(default, deserialize_with = "decimal")]
    pub price_band_percent: Option<Decimal>,
    /// Most new orders per second.
    #[serde(default)]
    pub max_orders_per_second: Option<u32>,
}

impl Limits {
    /// These limits with unset keys taken from `fallback`.
    pub fn or(&self, fallback: &Limits) -> Limits {
        Limits {
            max_order_size: self.max_order_size.or(fallback.max_order_size),
            max_order_notional: self.max_order_notional.or(fallback.max_order_notional),
            max_open_orders: self.max_open_orders.or(fallback.max_open_orders),
            max_position: self.max_position.or(fallback.max_position),
            price_band_percent: self.price_band_percent.or(fallback.price_band_percent),
            max_orders_per_second: self
                .max_orders_per_second
                .or(fallback.max_orders_per_second),
        }
    }
}

/// A decimal written as a string or an integer. Floats are refused: they
/// are binary and would silently round money.
fn decimal<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Decimal>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Integer(i64),
        Float(f64),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Text(text) => text
            .trim()
            .parse::<Decimal>()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("`{text}` is not a decimal number"))),
        Raw::Integer(value) => Ok(Some(Decimal::from(value))),
        Raw::Float(value) => Err(serde::de::Error::custom(format!(
            "write decimals as strings (\"{value}\"), not as TOML floats"
        ))),
    }
}

/// The keys a table at `path` may hold (for "did you mean"), when the
/// table is one of the schema's.
pub fn known_keys(path: &KeyPath) -> Option<&'static [&'static str]> {
    let names: Vec<Option<&str>> = path
        .0
        .iter()
        .map(|segment| match segment {
            KeyPathSegment::Key(key) => Some(key.as_str()),
            KeyPathSegment::Index(_) | KeyPathSegment::Named(_) => None,
        })
        .collect();
    let fields = match names.as_slice() {
        [] => &["host", "zmq", "signer", "exchanges", "metrics"][..],
        [Some("metrics")] => field_names::<MetricsConfig>(),
        [Some("host")] => field_names::<HostConfig>(),
        [Some("zmq")] => field_names::<ZmqConfig>(),
        [Some("signer")] => field_names::<SignerConfig>(),
        [Some("exchanges"), None] => field_names::<ExchangeConfig>(),
        [Some("exchanges"), None, Some("limits")]
        | [
            Some("exchanges"),
            None,
            Some("markets"),
            None,
            Some("limits"),
        ] => field_names::<Limits>(),
        [Some("exchanges"), None, Some("markets"), None] => field_names::<MarketConfig>(),
        [Some("exchanges"), None, Some("dead_man_switch")] => field_names::<DeadManSwitchConfig>(),
        [Some("exchanges"), None, Some("market_data")] => field_names::<MarketDataSource>(),
        [Some("exchanges"), None, Some("rate_limits"), Some(_)] => field_names::<RateLimitConfig>(),
        _ => return None,
    };
    Some(fields)
}

/// The field names a derived `Deserialize` struct asks for.
fn field_names<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

/// A deserializer that only notes the fields a struct asks for.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(serde::de::Error::custom("only the field names were asked"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}
