//! Connections and subscriptions.

use abi_stable::std_types::{ROption, RString};
use plugin_api::{ConnectionKind, ConnectionSpec, PluginError, Stream, StreamKind};
use serde_json::json;

use crate::config::Config;

/// Ping often enough that the server (which drops connections silent for
/// 60 s) never does, and so that a dead socket shows within the idle timeout.
const PING_INTERVAL_MS: u64 = 20_000;
const IDLE_TIMEOUT_MS: u64 = 45_000;

/// The market-data connection's id.
pub const MARKET: &str = "market";
/// The account connection's id (it also carries `post` requests).
pub const USER: &str = "user";

/// The connection a stream travels on: one for market data, one for the
/// account (`orderUpdates` and `userEvents` do not name the user, so they
/// get a socket of their own).
pub fn route(stream: &Stream) -> &'static str {
    match stream.kind {
        StreamKind::ORDERS | StreamKind::FILLS | StreamKind::ACCOUNT => USER,
        _ => MARKET,
    }
}

/// The connection with this id.
pub fn connection(config: &Config, id: &'static str) -> ConnectionSpec {
    ConnectionSpec {
        id: id.into(),
        kind: if id == USER {
            ConnectionKind::USER
        } else {
            ConnectionKind::MARKET
        },
        url: config.ws_url.as_str().into(),
        ping_frame: ROption::RSome(r#"{"method":"ping"}"#.into()),
        ping_interval_ms: PING_INTERVAL_MS,
        idle_timeout_ms: IDLE_TIMEOUT_MS,
        max_lifetime_ms: ROption::RNone,
    }
}

fn subscription(config: &Config, stream: &Stream) -> Result<serde_json::Value, PluginError> {
    let coin = stream.market.as_str();
    let user = config.account.to_string();
    let needs_coin = |kind: &str| -> Result<serde_json::Value, PluginError> {
        if coin.is_empty() {
            return Err(PluginError::invalid(format!(
                "a {kind} stream needs a market"
            )));
        }
        Ok(json!({"type": kind, "coin": coin}))
    };
    match stream.kind {
        StreamKind::BOOK => needs_coin("l2Book"),
        StreamKind::TRADES => needs_coin("trades"),
        StreamKind::BBO => needs_coin("bbo"),
        StreamKind::FUNDING => needs_coin("activeAssetCtx"),
        StreamKind::ORDERS => Ok(json!({"type": "orderUpdates", "user": user})),
        StreamKind::FILLS => Ok(json!({"type": "userFills", "user": user})),
        StreamKind::ACCOUNT => Ok(json!({"type": "userEvents", "user": user})),
        other => Err(PluginError::unsupported(format!("stream kind {other}"))),
    }
}

/// `{"method":"subscribe"|"unsubscribe","subscription":{…}}` per stream.
pub fn frames(
    config: &Config,
    streams: &[Stream],
    subscribe: bool,
) -> Result<Vec<RString>, PluginError> {
    let method = if subscribe {
        "subscribe"
    } else {
        "unsubscribe"
    };
    streams
        .iter()
        .map(|stream| {
            let frame = json!({"method": method, "subscription": subscription(config, stream)?});
            Ok(frame.to_string().into())
        })
        .collect()
}
