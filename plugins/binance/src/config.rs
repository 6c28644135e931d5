//! The plugin's settings: the exchange's `settings` table, as the host
//! passes it (JSON); every error names its key.

use binance_core::ed25519::{self, PublicKey};
use binance_core::signing::{DEFAULT_RECV_WINDOW_MS, MAX_RECV_WINDOW_MS};
use plugin_api::PluginError;
use serde_json::Value;

/// Binance USDⓈ-M's REST base URL.
const API_URL: &str = "https://fapi.binance.com";
/// Binance USDⓈ-M's stream host (routes `/public`, `/market`, `/private`
/// below it).
const WS_URL: &str = "wss://fstream.binance.com";

/// The WebSocket API of Binance's REST hosts (for others: the stream
/// host's `/ws-fapi/v1`, as a local emulator serves it).
const WS_API_URLS: [(&str, &str); 2] = [
    (API_URL, "wss://ws-fapi.binance.com/ws-fapi/v1"),
    (
        "https://testnet.binancefuture.com",
        "wss://testnet.binancefuture.com/ws-fapi/v1",
    ),
];

/// The book snapshot depths `GET /fapi/v1/depth` takes.
const DEPTH_LIMITS: [u64; 7] = [5, 10, 20, 50, 100, 500, 1000];

/// Binance keeps a listen key 60 minutes after its last keep-alive; one
/// every 30 minutes is what Binance advises.
const KEEPALIVE_MS: u64 = 30 * 60 * 1000;

/// The settings this plugin reads.
const KEYS: [&str; 8] = [
    "api_url",
    "ws_url",
    "ws_api_url",
    "api_key",
    "signer_public_key",
    "recv_window_ms",
    "depth_limit",
    "listen_key_keepalive_ms",
];

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// REST base URL, without a trailing slash.
    pub api_url: String,
    /// Stream base URL (`wss://…`), without a trailing slash.
    pub ws_url: String,
    /// The WebSocket API's URL (`wss://…/ws-fapi/v1`), for orders over
    /// the socket.
    pub ws_api_url: String,
    /// The API key (public: `X-MBX-APIKEY`; its secret stays in the
    /// signer).
    pub api_key: String,
    /// The receive window of signed reads, ms (actions use the host's
    /// deadline).
    pub recv_window_ms: u64,
    /// Levels of a book snapshot.
    pub depth_limit: u64,
    /// How often the listen key is kept alive, ms.
    pub keepalive_ms: u64,
    /// The Ed25519 public key (`signer_public_key`, PEM) every signature
    /// must verify under, over the text the plugin asked to sign; `None`:
    /// not checked (an HMAC signature cannot be checked without its
    /// secret).
    pub signer_public_key: Option<PublicKey>,
}

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

    fn number(&self, key: &str, default: u64, range: (u64, u64)) -> Result<u64, PluginError> {
        let value = match self.0.get(key) {
            None => return Ok(default),
            Some(value) => value.as_u64().ok_or_else(|| {
                PluginError::setting(key, format!("must be a whole number, not {value}"))
            })?,
        };
        if value < range.0 || value > range.1 {
            return Err(PluginError::setting(
                key,
                format!("{value} is outside {}..={}", range.0, range.1),
            ));
        }
        Ok(value)
    }

    fn url(&self, key: &str, default: &str, schemes: [&str; 2]) -> Result<String, PluginError> {
        let url = self.text(key)?.unwrap_or(default).trim_end_matches('/');
        match url.split_once("://") {
            Some((scheme, rest)) if schemes.contains(&scheme) && !rest.is_empty() => {
                Ok(url.to_owned())
            }
            _ => Err(PluginError::setting(
                key,
                format!("`{url}` is not a {} URL", schemes.join("/")),
            )),
        }
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
                format!("unknown setting (binance-usdm reads {})", KEYS.join(", ")),
            ));
        }
        let api_key = settings
            .text("api_key")?
            .filter(|key| !key.is_empty())
            .ok_or_else(|| {
                PluginError::setting("api_key", "is required (the API key the signer holds)")
            })?;
        if !api_key.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(PluginError::setting(
                "api_key",
                "must be printable ASCII without spaces",
            ));
        }
        let depth_limit = settings.number("depth_limit", 1000, (5, 1000))?;
        if !DEPTH_LIMITS.contains(&depth_limit) {
            return Err(PluginError::setting(
                "depth_limit",
                format!("{depth_limit} is not one of 5, 10, 20, 50, 100, 500, 1000"),
            ));
        }
        let api_url = settings.url("api_url", API_URL, ["https", "http"])?;
        let ws_url = settings.url("ws_url", WS_URL, ["wss", "ws"])?;
        let ws_api_default = WS_API_URLS
            .iter()
            .find(|(rest, _)| *rest == api_url)
            .map_or_else(
                || format!("{ws_url}/ws-fapi/v1"),
                |(_, api)| (*api).to_owned(),
            );
        let signer_public_key = settings
            .text("signer_public_key")?
            .map(|pem| {
                ed25519::public_key_from_pem(pem)
                    .map_err(|error| PluginError::setting("signer_public_key", error))
            })
            .transpose()?;
        Ok(Config {
            signer_public_key,
            ws_api_url: settings.url("ws_api_url", &ws_api_default, ["wss", "ws"])?,
            api_url,
            ws_url,
            api_key: api_key.to_owned(),
            recv_window_ms: settings.number(
                "recv_window_ms",
                DEFAULT_RECV_WINDOW_MS,
                (1, MAX_RECV_WINDOW_MS),
            )?,
            depth_limit,
            keepalive_ms: settings.number(
                "listen_key_keepalive_ms",
                KEEPALIVE_MS,
                (1_000, 59 * 60 * 1000),
            )?,
        })
    }

    /// Refuses a signature that is not `signer_public_key`'s over `text`,
    /// the text the plugin asked to have signed: nothing signed by another
    /// key, or over other bytes, is sent.
    pub fn check_signature(&self, text: &str, signature: &[u8]) -> Result<(), PluginError> {
        match &self.signer_public_key {
            Some(key) if !ed25519::verifies(key, text.as_bytes(), signature) => {
                Err(PluginError::invalid(format!(
                    "the {}-byte signature is not by the configured signer_public_key over the \
                     request: not sent",
                    signature.len()
                )))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_a_signer_public_key_only_that_keys_signature_over_the_text_passes() {
        use ed25519_dalek::pkcs8::EncodePublicKey;
        use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
        use ed25519_dalek::{Signer, SigningKey};
        let key = SigningKey::from_bytes(&[7; 32]);
        let pem = key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let settings = serde_json::json!({"api_key": "k", "signer_public_key": pem});
        let config = Config::parse(&settings.to_string()).unwrap();
        let text = "symbol=BTCUSDT&side=SELL&timestamp=1";
        assert!(
            config
                .check_signature(text, &key.sign(text.as_bytes()).to_bytes())
                .is_ok()
        );
        let other = SigningKey::from_bytes(&[8; 32])
            .sign(text.as_bytes())
            .to_bytes();
        let refused = config.check_signature(text, &other).unwrap_err();
        assert_eq!(
            refused.message.as_str(),
            "the 64-byte signature is not by the configured signer_public_key over the request: not sent"
        );
        let over_other_text = key.sign(b"symbol=ETHUSDT").to_bytes();
        assert!(config.check_signature(text, &over_other_text).is_err());
        assert!(
            config.check_signature(text, &[0; 32]).is_err(),
            "an HMAC answer"
        );
        // Without the setting nothing is checked (an HMAC key cannot be).
        let unchecked = Config::parse(r#"{"api_key":"k"}"#).unwrap();
        assert!(unchecked.check_signature(text, &[0; 32]).is_ok());
        let bad = Config::parse(r#"{"api_key":"k","signer_public_key":"nope"}"#).unwrap_err();
        assert_eq!(bad.key.as_str(), "signer_public_key");
        assert!(
            bad.message.starts_with("not an Ed25519 public key in PEM"),
            "{}",
            bad.message
        );
    }

    #[test]
    fn defaults_are_binances_hosts() {
        let config = Config::parse(r#"{"api_key":"k"}"#).unwrap();
        assert_eq!(config.api_url, API_URL);
        assert_eq!(config.ws_url, WS_URL);
        assert_eq!(config.recv_window_ms, 5_000);
        assert_eq!(config.depth_limit, 1000);
        assert_eq!(config.keepalive_ms, 1_800_000);
        let local = Config::parse(
            r#"{"api_key":"k","api_url":"http://127.0.0.1:9/","ws_url":"ws://127.0.0.1:9","depth_limit":100}"#,
        )
        .unwrap();
        assert_eq!(local.api_url, "http://127.0.0.1:9");
        assert_eq!(local.ws_url, "ws://127.0.0.1:9");
        assert_eq!(local.ws_api_url, "ws://127.0.0.1:9/ws-fapi/v1");
        assert_eq!(config.ws_api_url, "wss://ws-fapi.binance.com/ws-fapi/v1");
        assert_eq!(local.depth_limit, 100);
    }

    #[test]
    fn bad_settings_name_their_key() {
        for (json, key, needle) in [
            (r#"{}"#, "api_key", "is required"),
            (r#"{"api_key":""}"#, "api_key", "is required"),
            (r#"{"api_key":"a b"}"#, "api_key", "printable"),
            (r#"{"api_key":7}"#, "api_key", "must be a string"),
            (
                r#"{"api_key":"k","api_url":"ftp://x"}"#,
                "api_url",
                "not a https/http URL",
            ),
            (
                r#"{"api_key":"k","ws_url":"https://x"}"#,
                "ws_url",
                "not a wss/ws URL",
            ),
            (
                r#"{"api_key":"k","recv_window_ms":60001}"#,
                "recv_window_ms",
                "outside",
            ),
            (
                r#"{"api_key":"k","recv_window_ms":"5000"}"#,
                "recv_window_ms",
                "whole number",
            ),
            (
                r#"{"api_key":"k","depth_limit":30}"#,
                "depth_limit",
                "not one of",
            ),
            (r#"{"api_key":"k","apikey":1}"#, "apikey", "unknown setting"),
            ("[]", "", "must be a table"),
        ] {
            let error = Config::parse(json).unwrap_err();
            assert_eq!(error.key, key, "{json}: {error}");
            assert!(error.message.contains(needle), "{json}: {error}");
        }
    }
}
