//! What Binance signs, and the receive window that bounds a signed
//! request's life.
//!
//! * REST ("totalParams"): the query text as sent, immediately followed by
//!   the form body as sent (nothing between them); `signature` is appended
//!   last, lower-case hex for HMAC-SHA256, percent-encoded base64 for
//!   Ed25519.
//! * WebSocket API: every parameter but `signature` (with `apiKey`), sorted
//!   by name, encoded as [`Params::encode`] does.
//! * Timing: Binance accepts `timestamp < server + 1000` and
//!   `server − timestamp <= recvWindow` (5 000 ms by default, at most
//!   60 000).

use base64::Engine as _;

use crate::errors::{VenueError, codes};
use crate::form::{Lookup, Params};

/// The receive window when a request names none, ms.
pub const DEFAULT_RECV_WINDOW_MS: u64 = 5_000;

/// The largest receive window Binance takes, ms.
pub const MAX_RECV_WINDOW_MS: u64 = 60_000;

/// How far ahead of the server's clock a timestamp may be, ms.
pub const MAX_AHEAD_MS: u64 = 1_000;

/// The name of the signature parameter.
pub const SIGNATURE: &str = "signature";

/// The text a REST request signs: the encoded query, then the encoded body.
pub fn rest_payload(query: &Params, body: &Params) -> String {
    let mut text = query.encode();
    text.push_str(&body.encode());
    text
}

/// The text a WebSocket API request signs: its parameters (with `apiKey`,
/// without `signature`) sorted by name and encoded.
pub fn socket_payload(params: &Params) -> String {
    let mut pairs: Vec<&(String, String)> = params
        .pairs()
        .iter()
        .filter(|(name, _)| name != SIGNATURE)
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    Params::from_pairs(pairs.into_iter().cloned()).encode()
}

/// Binance's text of a signature from the signer: lower-case hex for
/// HMAC-SHA256 (32 bytes), base64 for Ed25519 (64 bytes). The key's
/// algorithm is the signer's keyring's business; the length tells which.
pub fn signature_text(signature: &[u8]) -> Result<String, String> {
    match signature.len() {
        32 => Ok(hex::encode(signature)),
        64 => Ok(base64::engine::general_purpose::STANDARD.encode(signature)),
        other => Err(format!(
            "a {other}-byte signature is neither HMAC-SHA256 (32) nor Ed25519 (64)"
        )),
    }
}

/// Appends `&signature=…` (or `signature=…` to empty text), the signature
/// percent-encoded.
pub fn append_signature(text: &mut String, signature: &str) {
    if !text.is_empty() {
        text.push('&');
    }
    text.push_str(SIGNATURE);
    text.push('=');
    crate::form::push_encoded(text, signature);
}

/// Removes the `signature=…` pair from raw `a=1&b=2` text; returns the
/// rest and the signature (still encoded).
fn split_signature(raw: &str) -> (String, Option<String>) {
    let mut signature = None;
    let rest: Vec<&str> = raw
        .split('&')
        .filter(|part| match part.strip_prefix("signature=") {
            Some(value) => {
                signature = Some(value.to_owned());
                false
            }
            None => true,
        })
        .collect();
    (rest.join("&"), signature)
}

/// The text a received REST request signed (its raw query and body
/// without the `signature` pair, exactly as received) and its signature,
/// decoded; `-1102` without one.
pub fn received_payload(query: &str, body: &str) -> Result<(String, String), VenueError> {
    let (query, in_query) = split_signature(query);
    let (body, in_body) = split_signature(body);
    let signature = in_query
        .or(in_body)
        .ok_or_else(|| VenueError::mandatory(SIGNATURE))?;
    Ok((format!("{query}{body}"), crate::form::unescape(&signature)?))
}

/// Binance's timing rule over a request's `timestamp` and `recvWindow`,
/// against the server's clock `now_ms`.
pub fn check_timestamp(params: &impl Lookup, now_ms: u64) -> Result<(), VenueError> {
    let timestamp = params
        .integer("timestamp")?
        .ok_or_else(|| VenueError::mandatory("timestamp"))?;
    let window = params
        .integer("recvWindow")?
        .unwrap_or(DEFAULT_RECV_WINDOW_MS);
    if window > MAX_RECV_WINDOW_MS {
        return Err(VenueError::new(
            codes::BAD_RECV_WINDOW,
            "recvWindow must be less than 60000",
        ));
    }
    if timestamp >= now_ms + MAX_AHEAD_MS || now_ms.saturating_sub(timestamp) > window {
        return Err(VenueError::timestamp());
    }
    Ok(())
}

/// The receive window that makes a request stamped `now_ms` expire at
/// `valid_until_ms`: between 1 ms and [`MAX_RECV_WINDOW_MS`].
pub fn recv_window_until(now_ms: u64, valid_until_ms: u64) -> u64 {
    valid_until_ms
        .saturating_sub(now_ms)
        .clamp(1, MAX_RECV_WINDOW_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Binance's documented REST example (general info, "SIGNED endpoint
    /// examples").
    const ORDER: &str = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943";

    #[test]
    fn a_signature_is_written_as_its_algorithm_wants() {
        assert_eq!(signature_text(&[0xab; 32]).unwrap(), "ab".repeat(32));
        let ed25519 = signature_text(&[0xff; 64]).unwrap();
        assert_eq!(ed25519.len(), 88);
        assert!(ed25519.starts_with("/////") && ed25519.ends_with("/w=="));
        assert!(signature_text(&[0; 65]).unwrap_err().contains("65-byte"));
    }

    #[test]
    fn rest_text_is_query_then_body() {
        let all = Params::decode(ORDER).unwrap();
        assert_eq!(rest_payload(&all, &Params::new()), ORDER);
        assert_eq!(rest_payload(&Params::new(), &all), ORDER);
        let query = Params::decode("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC").unwrap();
        let body = Params::decode("quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943")
            .unwrap();
        assert_eq!(
            rest_payload(&query, &body),
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTCquantity=1&price=9000&recvWindow=5000&timestamp=1591702613943"
        );
    }

    #[test]
    fn a_received_request_signs_its_raw_text() {
        let mut sent = ORDER.to_owned();
        append_signature(&mut sent, "ab+/=");
        assert!(sent.ends_with("&signature=ab%2B%2F%3D"), "{sent}");
        let (text, signature) = received_payload(&sent, "").unwrap();
        assert_eq!((text.as_str(), signature.as_str()), (ORDER, "ab+/="));
        let (text, signature) = received_payload("", &sent).unwrap();
        assert_eq!((text.as_str(), signature.as_str()), (ORDER, "ab+/="));
        let missing = received_payload(ORDER, "").unwrap_err();
        assert_eq!(missing.code, codes::MANDATORY_PARAM);
    }

    #[test]
    fn socket_text_is_sorted_without_the_signature() {
        let params = Params::from_pairs([
            ("symbol", "BTCUSDT"),
            ("apiKey", "k"),
            ("newClientOrderId", "a:b"),
            ("signature", "x"),
        ]);
        assert_eq!(
            socket_payload(&params),
            "apiKey=k&newClientOrderId=a%3Ab&symbol=BTCUSDT"
        );
    }

    #[test]
    fn the_timing_rule_and_the_window_to_a_deadline() {
        let at = |timestamp: u64, window: Option<u64>| {
            let mut params = Params::new();
            params.push("timestamp", timestamp.to_string());
            if let Some(window) = window {
                params.push("recvWindow", window.to_string());
            }
            check_timestamp(&params, 100_000).map_err(|error| error.code)
        };
        assert_eq!(at(100_999, None), Ok(()));
        assert_eq!(at(101_000, None), Err(codes::INVALID_TIMESTAMP));
        assert_eq!(at(95_000, None), Ok(()));
        assert_eq!(at(94_999, None), Err(codes::INVALID_TIMESTAMP));
        assert_eq!(at(90_000, Some(10_000)), Ok(()));
        assert_eq!(at(90_000, Some(60_001)), Err(codes::BAD_RECV_WINDOW));
        assert_eq!(
            check_timestamp(&Params::new(), 1).unwrap_err().code,
            codes::MANDATORY_PARAM
        );
        assert_eq!(recv_window_until(1_000, 3_500), 2_500);
        assert_eq!(recv_window_until(1_000, 500), 1);
        assert_eq!(recv_window_until(0, 1_000_000), MAX_RECV_WINDOW_MS);
    }
}
