//! The plugin's settings: the exchange's `settings` table, as the host
//! passes it (JSON); every error names its key.

use hyperliquid_core::{Address, Network};
use plugin_api::PluginError;
use serde_json::Value;

/// Hyperliquid's REST base URLs.
const MAINNET_URL: &str = "https://api.hyperliquid.xyz";
const TESTNET_URL: &str = "https://api.hyperliquid-testnet.xyz";

/// The settings this plugin reads.
const KEYS: [&str; 6] = [
    "network",
    "api_url",
    "account",
    "vault",
    "signing_network",
    "signer",
];

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
    /// The address the signer signs as (the API wallet), when given: every
    /// signature is checked against it before a request is sent.
    pub signer: Option<Address>,
}

/// The settings table, read key by key so that each error names its key.
struct Settings(serde_json::Map<String, Value>);

impl Settings {
    fn text(&self, key: &str) -> Result<Option<&str>, PluginError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(PluginError::setting(
                key,
                format!("must be a string, not {other}"),
            )),
        }
    }

    fn required(&self, key: &str, what: &str) -> Result<&str, PluginError> {
        self.text(key)?
            .ok_or_else(|| PluginError::setting(key, format!("is required ({what})")))
    }

    fn address(&self, key: &str, text: &str) -> Result<Address, PluginError> {
        text.parse::<Address>()
            .map_err(|error| PluginError::setting(key, format!("`{text}`: {error}")))
    }
}

fn network(name: &str, key: &str) -> Result<Network, PluginError> {
    match name {
        "mainnet" => Ok(Network::Mainnet),
        "testnet" => Ok(Network::Testnet),
        other => Err(PluginError::setting(
            key,
            format!("`{other}` is not mainnet or testnet"),
        )),
    }
}

impl Config {
    /// Parses and checks the exchange's `settings` table (as JSON).
    pub fn parse(json: &str) -> Result<Config, PluginError> {
        let settings = match serde_json::from_str(json) {
            Ok(Value::Object(map)) => Settings(map),
            _ => return Err(PluginError::config("settings must be a table")),
        };
        if let Some(unknown) = settings.0.keys().find(|key| !KEYS.contains(&key.as_str())) {
            return Err(PluginError::setting(
                unknown,
                format!("unknown setting (hyperliquid reads {})", KEYS.join(", ")),
            ));
        }
        let account = settings.required("account", "the master account's address")?;
        let account = settings.address("account", account)?;
        let vault = settings
            .text("vault")?
            .map(|text| settings.address("vault", text))
            .transpose()?;
        let signer = settings
            .text("signer")?
            .map(|text| settings.address("signer", text))
            .transpose()?;
        let (default_url, network) =
            match settings.required("network", "mainnet, testnet or local")? {
                "mainnet" => (Some(MAINNET_URL), Network::Mainnet),
                "testnet" => (Some(TESTNET_URL), Network::Testnet),
                "local" => (
                    None,
                    network(
                        settings.text("signing_network")?.unwrap_or("mainnet"),
                        "signing_network",
                    )?,
                ),
                other => {
                    return Err(PluginError::setting(
                        "network",
                        format!("`{other}` is not mainnet, testnet or local"),
                    ));
                }
            };
        let rest_url = settings
            .text("api_url")?
            .or(default_url)
            .ok_or_else(|| PluginError::setting("api_url", "is required when network = \"local\""))?
            .trim_end_matches('/')
            .to_owned();
        let ws_url = match rest_url.split_once("://") {
            Some(("https", rest)) => format!("wss://{rest}/ws"),
            Some(("http", rest)) => format!("ws://{rest}/ws"),
            _ => {
                return Err(PluginError::setting(
                    "api_url",
                    format!("`{rest_url}` is not an http(s) URL"),
                ));
            }
        };
        Ok(Config {
            rest_url,
            ws_url,
            network,
            account,
            vault,
            signer,
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
    fn bad_settings_name_their_key() {
        for (json, key, needle) in [
            (
                r#"{"network":"local","account":"0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE"}"#,
                "api_url",
                "required when network",
            ),
            (
                r#"{"network":"local","api_url":"127.0.0.1:1","account":"0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE"}"#,
                "api_url",
                "not an http(s) URL",
            ),
            (
                r#"{"network":"moon","account":"0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE"}"#,
                "network",
                "moon",
            ),
            (
                r#"{"network":"mainnet","account":"0x12"}"#,
                "account",
                "`0x12`",
            ),
            (r#"{"network":"mainnet"}"#, "account", "is required"),
            (
                r#"{"network":"mainnet","account":"0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE","vault":7}"#,
                "vault",
                "must be a string",
            ),
            (
                r#"{"network":"mainnet","account":"0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE","acount":1}"#,
                "acount",
                "unknown setting",
            ),
            ("[]", "", "must be a table"),
        ] {
            let error = Config::parse(json).unwrap_err();
            assert_eq!(error.key, key, "{json}: {error}");
            assert!(error.message.contains(needle), "{json}: {error}");
        }
    }
}
