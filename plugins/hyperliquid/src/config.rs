//! The plugin's configuration, as the host passes it (JSON).

use hyperliquid_core::{Address, Network};
use plugin_api::PluginError;
use serde::Deserialize;

/// Hyperliquid's REST base URLs.
const MAINNET_URL: &str = "https://api.hyperliquid.xyz";
const TESTNET_URL: &str = "https://api.hyperliquid-testnet.xyz";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    network: String,
    #[serde(default)]
    api_url: Option<String>,
    account: String,
    #[serde(default)]
    vault: Option<String>,
    /// Which chain a `local` deployment signs for (default mainnet, as the
    /// emulator expects).
    #[serde(default)]
    signing_network: Option<String>,
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// REST base URL, without a trailing slash.
    pub rest_url: String,
    /// WebSocket URL.
    pub ws_url: String,
    /// The chain signatures are made for.
    pub network: Network,
    /// The account every query is about.
    pub account: Address,
    /// The vault or sub-account traded for, if any.
    pub vault: Option<Address>,
}

fn network(name: &str, key: &str) -> Result<Network, PluginError> {
    match name {
        "mainnet" => Ok(Network::Mainnet),
        "testnet" => Ok(Network::Testnet),
        other => Err(PluginError::config(format!(
            "{key} `{other}` is not mainnet or testnet"
        ))),
    }
}

impl Config {
    /// Parses and checks the host's JSON.
    pub fn parse(json: &str) -> Result<Config, PluginError> {
        let raw: RawConfig = serde_json::from_str(json)
            .map_err(|error| PluginError::config(format!("hyperliquid config: {error}")))?;
        let account = raw
            .account
            .parse::<Address>()
            .map_err(|error| PluginError::config(format!("account `{}`: {error}", raw.account)))?;
        let vault = raw
            .vault
            .as_deref()
            .map(|text| {
                text.parse::<Address>()
                    .map_err(|error| PluginError::config(format!("vault `{text}`: {error}")))
            })
            .transpose()?;
        let (default_url, network) = match raw.network.as_str() {
            "mainnet" => (Some(MAINNET_URL), Network::Mainnet),
            "testnet" => (Some(TESTNET_URL), Network::Testnet),
            "local" => (
                None,
                network(
                    raw.signing_network.as_deref().unwrap_or("mainnet"),
                    "signing_network",
                )?,
            ),
            other => {
                return Err(PluginError::config(format!(
                    "network `{other}` is not mainnet, testnet or local"
                )));
            }
        };
        let rest_url = raw
            .api_url
            .as_deref()
            .or(default_url)
            .ok_or_else(|| PluginError::config("network `local` needs api_url"))?
            .trim_end_matches('/')
            .to_owned();
        let ws_url = match rest_url.split_once("://") {
            Some(("https", rest)) => format!("wss://{rest}/ws"),
            Some(("http", rest)) => format!("ws://{rest}/ws"),
            _ => {
                return Err(PluginError::config(format!(
                    "api_url `{rest_url}` is not an http(s) URL"
                )));
            }
        };
        Ok(Config {
            rest_url,
            ws_url,
            network,
            account,
            vault,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE";

    #[test]
    fn networks_give_their_urls() {
        let config =
            Config::parse(&format!(r#"{{"network":"testnet","account":"{ACCOUNT}"}}"#)).unwrap();
        assert_eq!(config.rest_url, TESTNET_URL);
        assert_eq!(config.ws_url, "wss://api.hyperliquid-testnet.xyz/ws");
        assert_eq!(config.network, Network::Testnet);
        let local = Config::parse(&format!(
            r#"{{"network":"local","api_url":"http://127.0.0.1:8099/","account":"{ACCOUNT}"}}"#
        ))
        .unwrap();
        assert_eq!(local.ws_url, "ws://127.0.0.1:8099/ws");
        assert_eq!(local.network, Network::Mainnet);
    }

    #[test]
    fn bad_configs_say_what_is_wrong() {
        for (json, needle) in [
            (
                r#"{"network":"local","account":"0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE"}"#,
                "needs api_url",
            ),
            (
                r#"{"network":"moon","account":"0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE"}"#,
                "moon",
            ),
            (
                r#"{"network":"mainnet","account":"0x12"}"#,
                "account `0x12`",
            ),
            (
                r#"{"network":"mainnet","account":"0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE","x":1}"#,
                "unknown field",
            ),
            ("[]", "hyperliquid config"),
        ] {
            let error = Config::parse(json).unwrap_err();
            assert!(error.message.contains(needle), "{json}: {error}");
        }
    }
}
