//! Bodies of the market-data and host-status topics (see `docs/events.md`).

use serde::Serialize;

use super::JsonDecimal;

/// `market.<exchange>.trade.<symbol>`.
#[derive(Serialize)]
pub struct TradeData<'a> {
    /// The exchange's configured name.
    pub exchange: &'a str,
    /// The host symbol.
    pub symbol: &'a str,
    /// Price.
    pub price: JsonDecimal,
    /// Size.
    pub size: JsonDecimal,
    /// The aggressor: `BUY` or `SELL`.
    pub side: &'static str,
    /// The venue's trade id.
    pub trade_id: &'a str,
    /// Exchange time, ns.
    pub exchange_time: u64,
}

/// `market.<exchange>.bbo.<symbol>`.
#[derive(Serialize)]
pub struct BboData<'a> {
    /// The exchange's configured name.
    pub exchange: &'a str,
    /// The host symbol.
    pub symbol: &'a str,
    /// Best bid price and size.
    pub bid_price: Option<JsonDecimal>,
    /// Size at the best bid.
    pub bid_size: Option<JsonDecimal>,
    /// Best ask price.
    pub ask_price: Option<JsonDecimal>,
    /// Size at the best ask.
    pub ask_size: Option<JsonDecimal>,
    /// Exchange time, ns.
    pub exchange_time: u64,
}

/// `market.<exchange>.funding.<symbol>`.
#[derive(Serialize)]
pub struct FundingData<'a> {
    /// The exchange's configured name.
    pub exchange: &'a str,
    /// The host symbol.
    pub symbol: &'a str,
    /// Funding rate per interval.
    pub rate: JsonDecimal,
    /// Mark price.
    pub mark_price: JsonDecimal,
    /// Oracle price.
    pub oracle_price: JsonDecimal,
    /// Next funding time, ns.
    pub next_funding_time: u64,
    /// Open interest, base units.
    pub open_interest: JsonDecimal,
}

/// `host.status.connection`.
#[derive(Serialize)]
pub struct ConnectionStatus<'a> {
    /// The exchange's configured name.
    pub exchange: &'a str,
    /// The connection id (`market`, `user`).
    pub connection: &'a str,
    /// `up` or `down`.
    pub state: &'static str,
    /// Why it went down.
    pub reason: Option<&'a str>,
}

/// `host.status.book`.
#[derive(Serialize)]
pub struct BookStatusData<'a> {
    /// The exchange's configured name.
    pub exchange: &'a str,
    /// The host symbol.
    pub symbol: &'a str,
    /// `synced` or `stale`.
    pub state: &'static str,
    /// Why it is stale.
    pub reason: Option<&'a str>,
}

/// `host.status.plugin`: a plugin file loaded or refused.
#[derive(Serialize)]
pub struct PluginStatus<'a> {
    /// The file.
    pub file: String,
    /// `loaded` or `refused`.
    pub state: &'static str,
    /// The exchange it provides (loaded plugins).
    pub exchange: Option<&'a str>,
    /// Its version (loaded plugins).
    pub version: Option<&'a str>,
    /// Why it was refused.
    pub reason: Option<String>,
}

/// `host.status.config`: the configuration in force, a reload applied, or
/// a reload refused.
#[derive(Serialize)]
pub struct ConfigStatus<'a> {
    /// The file.
    pub file: String,
    /// `loaded` (at start), `applied` (a reload) or `refused` (a reload).
    pub state: &'static str,
    /// A one-line summary (empty when refused).
    pub summary: &'a str,
    /// Keys a reload applied while running.
    pub applied: &'a [String],
    /// Keys a reload changed that take effect only after a restart.
    pub restart_required: &'a [String],
    /// Why a reload was refused (key and line each).
    pub errors: &'a [String],
}

/// `host.status.publisher`: the publisher's counters, every few seconds.
#[derive(Serialize)]
pub struct PublisherCounters {
    /// Events handed to the socket so far.
    pub sent: u64,
    /// Events dropped because the queue was full, so far.
    pub dropped: u64,
}

/// `host.status.signer`: the signer the host started, up or gone.
#[derive(Serialize)]
pub struct SignerStatus<'a> {
    /// `up` or `exited`.
    pub state: &'a str,
    /// Its process id, while up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Why it is gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
}

/// `host.status.internal_error`: a bug stopped one piece of work (a
/// command), and the host went on.
#[derive(Serialize)]
pub struct InternalErrorStatus<'a> {
    /// The part of the host (`commands`).
    pub component: &'a str,
    /// What it was doing (the command's `cmd`).
    pub task: &'a str,
    /// The panic's message.
    pub message: &'a str,
}

/// `host.status.throttle`: a request waited for client-side rate-limit
/// capacity.
#[derive(Serialize)]
pub struct ThrottleStatus<'a> {
    /// The exchange's configured name.
    pub exchange: &'a str,
    /// The rate-limit bucket it waited for (the plugin manifest's id, e.g.
    /// `ip_weight`, `address`).
    pub bucket: &'a str,
    /// How long the request waited, ms.
    pub waited_ms: u64,
}

/// `host.status.rate_limit`: a rate-limit bucket as the venue counts it.
#[derive(Serialize)]
pub struct RateLimitStatus<'a> {
    /// The exchange's configured name.
    pub exchange: &'a str,
    /// The plugin manifest's bucket id.
    pub bucket: &'a str,
    /// Units that may still be spent.
    pub remaining: u64,
    /// Units the venue allows in all.
    pub capacity: u64,
}

/// `host.status.kill_switch`.
#[derive(Serialize)]
pub struct KillSwitchStatus<'a> {
    /// The exchange's configured name.
    pub exchange: &'a str,
    /// `engaged` or `released`.
    pub state: &'static str,
    /// Why it was engaged.
    pub reason: Option<&'a str>,
}

/// `host.status.dead_man_switch`.
#[derive(Serialize)]
pub struct DeadManSwitchStatus<'a> {
    /// The exchange's configured name.
    pub exchange: &'a str,
    /// `armed`, `lapsing`, `fired`, `exhausted`, `failed` or `disarmed`.
    pub state: &'static str,
    /// When the exchange cancels everything unless refreshed, ns.
    pub deadline: Option<u64>,
    /// Times it fired today (UTC), as far as the host saw.
    pub triggers_today: u32,
    /// Why the exchange refused to arm it.
    pub reason: Option<&'a str>,
}
