//! Binance's request signing: `X-MBX-APIKEY`, `timestamp` and `recvWindow`,
//! and `signature` over the query string followed by the body exactly as
//! received (without the `signature` pair) — HMAC-SHA256 in hex for HMAC
//! keys, Ed25519 in base64 for Ed25519 keys. The WebSocket API signs its
//! params sorted by name. What is signed and the timing rule are
//! `binance-core`'s ([`binance_core::signing`]), shared with the plugin
//! and the signer.

use base64::Engine as _;
use binance_core::ed25519::{self, PublicKey};

use super::errors::ApiError;
use super::params::Params;
use crate::signing::verify_hmac_hex;

/// How a key signs.
#[derive(Debug, Clone)]
pub enum KeyKind {
    /// HMAC-SHA256 with this secret, hex.
    Hmac(String),
    /// Ed25519 with this public key, base64.
    Ed25519(PublicKey),
}

/// A funded API key.
#[derive(Debug, Clone)]
pub struct ApiKey {
    /// The key (`X-MBX-APIKEY`).
    pub key: String,
    /// How its requests are signed.
    pub kind: KeyKind,
}

impl ApiKey {
    /// Whether `signature` (hex or base64, as received) signs `text`.
    pub fn verifies(&self, text: &[u8], signature: &str) -> bool {
        match &self.kind {
            KeyKind::Hmac(secret) => verify_hmac_hex(secret, text, signature),
            KeyKind::Ed25519(public) => base64::engine::general_purpose::STANDARD
                .decode(signature)
                .is_ok_and(|bytes| ed25519::verifies(public, text, &bytes)),
        }
    }
}

/// The signed text of a REST request and its signature, decoded.
pub fn rest_signed_text(query: &str, body: &str) -> Result<(String, String), ApiError> {
    Ok(binance_core::signing::received_payload(query, body)?)
}

/// Binance's timestamp rule: `timestamp < server + 1000` and
/// `server - timestamp <= recvWindow` (at most 60 000).
pub fn check_timestamp(params: &Params, now: u64) -> Result<(), ApiError> {
    Ok(binance_core::signing::check_timestamp(params, now)?)
}

/// The text a WebSocket API request signs: every param but `signature`,
/// sorted by name, encoded.
pub fn ws_signed_text(params: &Params) -> String {
    binance_core::signing::socket_payload(&params.to_core())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_hmac_vector() {
        let key = ApiKey {
            key: "k".to_owned(),
            kind: KeyKind::Hmac(
                "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j".to_owned(),
            ),
        };
        let query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";
        let (text, signature) = rest_signed_text(query, "").unwrap();
        assert!(key.verifies(text.as_bytes(), &signature));
        let (text, signature) = rest_signed_text("", query).unwrap();
        assert!(key.verifies(text.as_bytes(), &signature));
        assert!(!key.verifies(b"timestamp=1", &signature));
    }

    #[test]
    fn ws_text_is_sorted_and_quoted() {
        let params = Params(vec![
            ("symbol".into(), "BTCUSDT".into()),
            ("apiKey".into(), "k".into()),
            ("newClientOrderId".into(), "a:b".into()),
            ("signature".into(), "x".into()),
        ]);
        assert_eq!(
            ws_signed_text(&params),
            "apiKey=k&newClientOrderId=a%3Ab&symbol=BTCUSDT"
        );
    }
}
