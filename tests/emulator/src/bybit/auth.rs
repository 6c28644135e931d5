//! Bybit's request authentication: `X-BAPI-API-KEY`, `X-BAPI-TIMESTAMP`,
//! `X-BAPI-RECV-WINDOW` and `X-BAPI-SIGN`, the HMAC-SHA256 (hex) of
//! timestamp + key + recv window + payload, where the payload is the query
//! string or the body exactly as received. WebSocket `auth` signs
//! `GET/realtime` + expires.

use axum::http::HeaderMap;

use super::params::{API_KEY, PARAMS, Reject, SIGN, TIMESTAMP};
use super::{ApiKey, Bybit};
use crate::signing::verify_hmac_hex;

pub use bybit_core::auth::DEFAULT_RECV_WINDOW_MS as DEFAULT_RECV_WINDOW;
use bybit_core::auth::timestamp_fresh;

/// The checked signing headers of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The API key.
    pub key: String,
    /// `X-BAPI-TIMESTAMP`.
    pub timestamp: u64,
    /// `X-BAPI-RECV-WINDOW`.
    pub recv_window: u64,
    /// `X-BAPI-SIGN`.
    pub sign: String,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Reads the signing headers.
pub fn read_headers(headers: &HeaderMap) -> Result<Signed, Reject> {
    let key = header(headers, "x-bapi-api-key")
        .filter(|k| !k.is_empty())
        .ok_or_else(|| Reject::new(API_KEY, "API key is invalid."))?;
    let timestamp = header(headers, "x-bapi-timestamp")
        .ok_or_else(|| Reject::new(PARAMS, "params error: X-BAPI-TIMESTAMP is required"))?
        .trim()
        .parse::<u64>()
        .map_err(|_| Reject::new(PARAMS, "params error: X-BAPI-TIMESTAMP invalid"))?;
    let recv_window = match header(headers, "x-bapi-recv-window") {
        None => DEFAULT_RECV_WINDOW,
        Some(text) => text
            .trim()
            .parse::<u64>()
            .map_err(|_| Reject::new(PARAMS, "params error: X-BAPI-RECV-WINDOW invalid"))?,
    };
    let sign = header(headers, "x-bapi-sign")
        .ok_or_else(|| Reject::new(SIGN, "error sign! X-BAPI-SIGN is missing"))?
        .to_owned();
    Ok(Signed {
        key: key.to_owned(),
        timestamp,
        recv_window,
        sign,
    })
}

/// Bybit's timestamp rule: `server - recv_window <= timestamp < server + 1000`.
pub fn check_timestamp(timestamp: u64, recv_window: u64, now: u64) -> Result<(), Reject> {
    if timestamp_fresh(timestamp, recv_window, now) {
        return Ok(());
    }
    Err(Reject::new(
        TIMESTAMP,
        format!(
            "invalid request, please check your server timestamp or recv_window param. \
             req_timestamp[{timestamp}],server_timestamp[{now}],recv_window[{recv_window}]"
        ),
    ))
}

/// The text a REST request signs.
pub fn signing_text(signed: &Signed, payload: &[u8]) -> Vec<u8> {
    bybit_core::auth::rest_signing_text(signed.timestamp, &signed.key, signed.recv_window, payload)
}

/// Authenticates a REST request: a funded key, a fresh timestamp and the
/// signature over `payload` (raw query or body). Returns the key.
pub fn authenticate<'a>(
    bybit: &'a Bybit,
    headers: &HeaderMap,
    payload: &[u8],
    now: u64,
) -> Result<&'a ApiKey, Reject> {
    let signed = read_headers(headers)?;
    let key = bybit
        .key(&signed.key)
        .ok_or_else(|| Reject::new(API_KEY, "API key is invalid."))?;
    check_timestamp(signed.timestamp, signed.recv_window, now)?;
    if !verify_hmac_hex(&key.secret, &signing_text(&signed, payload), &signed.sign) {
        return Err(Reject::new(
            SIGN,
            "error sign! origin_string[redacted]".to_owned(),
        ));
    }
    Ok(key)
}

/// Checks a WebSocket `auth` op: `[key, expires, signature]`, the signature
/// over `GET/realtime{expires}`, expires not in the past.
pub fn authenticate_ws<'a>(
    bybit: &'a Bybit,
    key: &str,
    expires: u64,
    signature: &str,
    now: u64,
) -> Result<&'a ApiKey, Reject> {
    let record = bybit
        .key(key)
        .ok_or_else(|| Reject::new(API_KEY, "Invalid apikey"))?;
    if expires < now {
        return Err(Reject::new(
            TIMESTAMP,
            "Params Error: expires is in the past",
        ));
    }
    let text = bybit_core::auth::ws_auth_text(expires);
    if !verify_hmac_hex(&record.secret, text.as_bytes(), signature) {
        return Err(Reject::new(SIGN, "Invalid sign"));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recv_window_bounds() {
        let now = 1_700_000_010_000;
        assert!(check_timestamp(now - 5_000, 5_000, now).is_ok());
        assert_eq!(
            check_timestamp(now - 5_001, 5_000, now).map_err(|r| r.code),
            Err(TIMESTAMP)
        );
        assert!(check_timestamp(now + 999, 5_000, now).is_ok());
        assert!(check_timestamp(now + 1_000, 5_000, now).is_err());
    }

    #[test]
    fn signs_the_documented_post_vector() {
        // pybit POST vector (docs/research/emulator-clients.md §2.3).
        let signed = Signed {
            key: "test_api_key".to_owned(),
            timestamp: 1_700_000_000_000,
            recv_window: 5_000,
            sign: String::new(),
        };
        let body = br#"{"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001", "price": "50000"}"#;
        let expected = "a34f046c13067990e1f8cc6b15f3bcd02164dfe376720f7f2782125bed59e89b";
        assert!(verify_hmac_hex(
            "test_secret",
            &signing_text(&signed, body),
            expected
        ));
        let ws = "GET/realtime1700000001000";
        assert!(verify_hmac_hex(
            "test_secret",
            ws.as_bytes(),
            "3763930b37bba7305c521ddbe2e899df26d1eff498d6c76669364ac3ad30101c"
        ));
    }
}
