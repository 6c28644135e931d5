//! The plugin's settings: the `[exchanges.settings]` table of a Bybit
//! exchange, as JSON.

use plugin_api::PluginError;
use serde::Deserialize;

/// The longest receive window Bybit takes, ms.
const MAX_RECV_WINDOW_MS: u64 = 60_000;

/// One configured Bybit account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The REST base URL, e.g. `https://api.bybit.com`.
    pub api_url: String,
    /// The WebSocket base URL, e.g. `wss://stream.bybit.com` (the public
    /// socket is `…/v5/public/linear`, the private one `…/v5/private`).
    pub stream_url: String,
    /// The account's API key (its public id; the secret stays in the
    /// signer).
    pub api_key: String,
    /// The receive window of reads, ms (actions are bounded by the host's
    /// validity instead).
    pub recv_window_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    api_url: Option<String>,
    stream_url: Option<String>,
    api_key: Option<String>,
    recv_window_ms: Option<u64>,
}

/// The stream host Bybit pairs with a REST host, or the same host over
/// `ws(s)` for anything else (a local emulator serves both on one port).
fn default_stream_url(api_url: &str) -> String {
    match api_url {
        "https://api.bybit.com" | "https://api.bytick.com" => "wss://stream.bybit.com".into(),
        "https://api-testnet.bybit.com" => "wss://stream-testnet.bybit.com".into(),
        "https://api-demo.bybit.com" => "wss://stream-demo.bybit.com".into(),
        other => other
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1),
    }
}

fn url(key: &str, value: String, schemes: [&str; 2]) -> Result<String, PluginError> {
    let value = value.trim_end_matches('/').to_owned();
    if schemes.iter().any(|scheme| value.starts_with(scheme))
        && !value.contains(char::is_whitespace)
    {
        Ok(value)
    } else {
        Err(PluginError::setting(
            key,
            format!("`{value}` is not a {} or {} URL", schemes[0], schemes[1]),
        ))
    }
}

impl Config {
    /// Reads and checks the settings (a JSON object).
    pub fn parse(text: &str) -> Result<Config, PluginError> {
        let settings: Settings = serde_json::from_str(text)
            .map_err(|error| PluginError::config(format!("bybit settings: {error}")))?;
        let api_url = settings
            .api_url
            .ok_or_else(|| PluginError::setting("api_url", "missing (the REST base URL)"))?;
        let api_url = url("api_url", api_url, ["http://", "https://"])?;
        let stream_url = match settings.stream_url {
            Some(stream) => url("stream_url", stream, ["ws://", "wss://"])?,
            None => default_stream_url(&api_url),
        };
        let api_key = settings
            .api_key
            .filter(|key| !key.trim().is_empty())
            .ok_or_else(|| PluginError::setting("api_key", "missing (the API key's public id)"))?;
        let recv_window_ms = settings.recv_window_ms.unwrap_or(5_000);
        if !(1..=MAX_RECV_WINDOW_MS).contains(&recv_window_ms) {
            return Err(PluginError::setting(
                "recv_window_ms",
                format!("{recv_window_ms} is not between 1 and {MAX_RECV_WINDOW_MS}"),
            ));
        }
        Ok(Config {
            api_url,
            stream_url,
            api_key,
            recv_window_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_settings_and_derives_the_stream_host() {
        let config =
            Config::parse(r#"{"api_url": "https://api-testnet.bybit.com/", "api_key": "k"}"#)
                .unwrap();
        assert_eq!(config.api_url, "https://api-testnet.bybit.com");
        assert_eq!(config.stream_url, "wss://stream-testnet.bybit.com");
        assert_eq!(config.recv_window_ms, 5_000);
        let local =
            Config::parse(r#"{"api_url": "http://127.0.0.1:9000", "api_key": "k"}"#).unwrap();
        assert_eq!(local.stream_url, "ws://127.0.0.1:9000");
    }

    #[test]
    fn refuses_what_is_wrong_at_its_key() {
        let error = |text: &str| Config::parse(text).unwrap_err();
        assert_eq!(error(r#"{"api_key": "k"}"#).key.as_str(), "api_url");
        assert_eq!(
            error(r#"{"api_url": "ftp://x", "api_key": "k"}"#)
                .key
                .as_str(),
            "api_url"
        );
        assert_eq!(error(r#"{"api_url": "http://x"}"#).key.as_str(), "api_key");
        assert_eq!(
            error(r#"{"api_url": "http://x", "api_key": "k", "recv_window_ms": 0}"#)
                .key
                .as_str(),
            "recv_window_ms"
        );
        assert!(
            error(r#"{"api_url": "http://x", "api_key": "k", "secret": "s"}"#)
                .message
                .contains("unknown field `secret`")
        );
    }
}
