//! Bybit's request authentication: the HMAC-SHA256 (lower-case hex) of
//! `timestamp ‖ api_key ‖ recv_window ‖ payload`, where the payload is the
//! query string of a GET or the JSON body of a POST exactly as sent, in the
//! `X-BAPI-*` headers; and a socket's `auth` op, signing
//! `GET/realtime ‖ expires`.

/// The API key header.
pub const API_KEY_HEADER: &str = "X-BAPI-API-KEY";
/// The timestamp header (ms).
pub const TIMESTAMP_HEADER: &str = "X-BAPI-TIMESTAMP";
/// The receive-window header (ms).
pub const RECV_WINDOW_HEADER: &str = "X-BAPI-RECV-WINDOW";
/// The signature header.
pub const SIGN_HEADER: &str = "X-BAPI-SIGN";

/// The receive window when a request names none, ms.
pub const DEFAULT_RECV_WINDOW_MS: u64 = 5_000;
/// How far ahead of the server's clock a timestamp may be, ms.
pub const FUTURE_TOLERANCE_MS: u64 = 1_000;

/// The bytes a REST request signs.
pub fn rest_signing_text(
    timestamp: u64,
    api_key: &str,
    recv_window: u64,
    payload: &[u8],
) -> Vec<u8> {
    let mut text = format!("{timestamp}{api_key}{recv_window}").into_bytes();
    text.extend_from_slice(payload);
    text
}

/// The text a socket's `auth` op signs.
pub fn ws_auth_text(expires: u64) -> String {
    format!("GET/realtime{expires}")
}

/// Whether a request stamped `timestamp` with `recv_window` is fresh at
/// the server's `now`: `now − recv_window ≤ timestamp < now + 1000`.
pub fn timestamp_fresh(timestamp: u64, recv_window: u64, now: u64) -> bool {
    timestamp.saturating_add(recv_window) >= now
        && timestamp < now.saturating_add(FUTURE_TOLERANCE_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, KeyInit, Mac};

    fn mac_hex(secret: &str, text: &[u8]) -> String {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any length");
        mac.update(text);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn signs_the_published_vectors() {
        // Key `test_api_key`, secret `test_secret`, timestamp 1700000000000,
        // recv window 5000 (shared/protocols/binance-bybit.md §1.4).
        let get = rest_signing_text(
            1_700_000_000_000,
            "test_api_key",
            5_000,
            b"category=linear&symbol=BTCUSDT",
        );
        assert_eq!(
            mac_hex("test_secret", &get),
            "fd4f31228a46109dc6673062328693696df9a96c7ff04e6491a45e7f63a0fdd7"
        );
        let post = rest_signing_text(
            1_700_000_000_000,
            "test_api_key",
            5_000,
            br#"{"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "test-order-1"}"#,
        );
        assert_eq!(
            mac_hex("test_secret", &post),
            "2df4a0603d69c08d5dea29ba85b46eb7db64ce9e9ebd34a7802a3d69700cb2a1"
        );
        assert_eq!(
            mac_hex("test_secret", ws_auth_text(1_700_000_000_000).as_bytes()),
            "bacffe7500499eb829bb58c45d36d1b3e5ac67c14eaeba91df5e99ccee013925"
        );
    }

    #[test]
    fn timestamps_live_within_the_window() {
        let now = 1_700_000_010_000;
        assert!(timestamp_fresh(now - 5_000, 5_000, now));
        assert!(!timestamp_fresh(now - 5_001, 5_000, now));
        assert!(timestamp_fresh(now + 999, 5_000, now));
        assert!(!timestamp_fresh(now + 1_000, 5_000, now));
    }
}
