//! One request line in, one response out: parse, find the key, check its
//! policy, build what is signed and sign it. No I/O.

use std::panic::{self, AssertUnwindSafe};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::keyring::{Key, Keyring, Material};
use crate::policy::KeyPolicy;
use crate::protocol::{Envelope, ErrorBody, ErrorCode, RequestId, Response, Signed};
use crate::schemes::{Refusal, Scheme, binance, bybit, hyperliquid, scheme_names};

/// The keys and their policies: everything needed to answer requests.
#[derive(Debug)]
pub struct Signer {
    keyring: Keyring,
}

impl Signer {
    /// A signer for the keys of `keyring`.
    pub fn new(keyring: Keyring) -> Self {
        Self { keyring }
    }

    /// The keys.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// Answers one request line (without its newline). Always returns a response:
    /// malformed input gets `bad_request`, with a `null` id when the id could not
    /// be read, and a failure inside the signer gets `internal`.
    pub fn handle_line(&self, line: &[u8]) -> Response {
        self.handle_line_at(line, now_ms())
    }

    /// [`handle_line`](Self::handle_line) with the signer's clock given (ms),
    /// against which receive windows and expiries are checked.
    pub fn handle_line_at(&self, line: &[u8], now_ms: u64) -> Response {
        let value: Value = match serde_json::from_slice(line) {
            Ok(value) => value,
            Err(error) => {
                let response = Response::failure(
                    None,
                    ErrorCode::BadRequest,
                    format!("request is not valid JSON: {error}"),
                );
                log_outcome(&response);
                return response;
            }
        };
        let id = RequestId::of_request(&value);
        let result = panic::catch_unwind(AssertUnwindSafe(|| self.handle_value(value, now_ms)))
            .unwrap_or_else(|_| {
                Err(ErrorBody {
                    code: ErrorCode::Internal,
                    message: "the signer failed while handling this request".to_owned(),
                })
            });
        let response = Response { id, result };
        log_outcome(&response);
        response
    }

    fn handle_value(&self, value: Value, now_ms: u64) -> Result<Signed, ErrorBody> {
        self.sign(value, now_ms).map_err(|refusal| ErrorBody {
            code: refusal.code(),
            message: refusal.to_string(),
        })
    }

    fn sign(&self, value: Value, now_ms: u64) -> Result<Signed, Refusal> {
        let envelope = Envelope::from_value(value)
            .map_err(|reason| Refusal::BadRequest(format!("invalid request: {reason}")))?;
        let scheme = Scheme::from_name(&envelope.scheme).ok_or_else(|| {
            Refusal::BadRequest(format!(
                "unknown scheme {:?} (schemes: {})",
                envelope.scheme,
                scheme_names()
            ))
        })?;
        let key = self.keyring.find(envelope.key.as_deref(), scheme)?;
        sign_with(key, scheme, envelope.fields, now_ms)
    }
}

/// Signs a request's fields under `scheme` with `key`, whose venue is the
/// scheme's.
fn sign_with(key: &Key, scheme: Scheme, fields: Value, now_ms: u64) -> Result<Signed, Refusal> {
    match (&key.material, &key.policy) {
        (Material::Secp256k1(secret), KeyPolicy::Hyperliquid(policy)) => match scheme {
            Scheme::HyperliquidL1 => hyperliquid::sign(secret, policy, fields, now_ms),
            _ => Err(mismatch(key)),
        },
        (Material::Api(secret), KeyPolicy::Api(policy)) => match scheme {
            Scheme::BinanceRest => binance::sign_rest(secret, policy, fields, now_ms),
            Scheme::BinanceWsApi => binance::sign_socket(secret, policy, fields, now_ms),
            Scheme::BybitRest => bybit::sign_rest(secret, policy, fields, now_ms),
            Scheme::BybitWsAuth => bybit::sign_auth(secret, policy, fields, now_ms),
            Scheme::HyperliquidL1 => Err(mismatch(key)),
        },
        _ => Err(mismatch(key)),
    }
}

/// A key whose material or policy does not fit the scheme its venue names:
/// the keyring loader never builds one.
fn mismatch(key: &Key) -> Refusal {
    Refusal::Internal(format!("key {:?} does not fit its venue", key.name))
}

/// The signer's clock, ms since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

fn log_outcome(response: &Response) {
    let id = response.id.as_ref().map(ToString::to_string);
    let id = id.as_deref().unwrap_or("null");
    match &response.result {
        Ok(_) => tracing::debug!(id, "signed"),
        Err(error) => match error.code {
            ErrorCode::BadRequest => tracing::info!(id, %error.message, "bad request"),
            ErrorCode::PolicyDenied => tracing::warn!(id, %error.message, "policy denied"),
            ErrorCode::NotAllowed => tracing::warn!(id, %error.message, "not allowed"),
            ErrorCode::Internal => tracing::error!(id, %error.message, "internal error"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::hyperliquid::Policy;
    use hyperliquid_core::{Action, PrivateKey, Signature, l1_hashes, recover_address};

    const KEY: &str = "0x00e5fb7b0f747acef23ab43fcff0c82511dd041b249c8a5efa84c59beee988b2";

    fn signer(policy: &str) -> Signer {
        Signer::new(Keyring::single(
            PrivateKey::from_hex(KEY).unwrap(),
            Policy::from_toml(policy).unwrap(),
        ))
    }

    fn answer(signer: &Signer, line: &str) -> Response {
        signer.handle_line(line.as_bytes())
    }

    fn request(action: &str) -> String {
        format!(
            r#"{{"id":9,"scheme":"hyperliquid-l1","action":{action},"nonce":1700000000000,"network":"mainnet"}}"#
        )
    }

    fn code(response: &Response) -> ErrorCode {
        response.result.as_ref().unwrap_err().code
    }

    #[test]
    fn signs_and_the_signature_recovers_to_the_key() {
        let signer = signer("");
        let response = answer(&signer, &request(r#"{"type":"noop"}"#));
        assert_eq!(response.id, Some(RequestId::from(9)));
        let signed = response.result.unwrap();
        let address = PrivateKey::from_hex(KEY).unwrap().address();
        assert_eq!(signed.signer, address.to_string());
        let action = Action::Noop;
        let context = hyperliquid_core::SigningContext::new(
            hyperliquid_core::Network::Mainnet,
            1_700_000_000_000,
        );
        let hashes = l1_hashes(&action, &context).unwrap();
        assert_eq!(signed.action_hash, Some(hashes.connection_id.to_string()));
        let signature = Signature {
            r: signed.signature[..32].try_into().unwrap(),
            s: signed.signature[32..64].try_into().unwrap(),
            v: signed.signature[64],
        };
        assert_eq!(
            recover_address(&hashes.digest, &signature).unwrap(),
            address
        );
    }

    #[test]
    fn refused_types_are_policy_denied_even_when_unparseable() {
        let signer = signer("");
        for action in [
            r#"{"type":"withdraw3","hyperliquidChain":"Mainnet","signatureChainId":"0x66eee","amount":"1","time":1,"destination":"0x0000000000000000000000000000000000000000"}"#,
            r#"{"type":"usdSend","amount":"1"}"#,
            r#"{"type":"approveAgent","agentAddress":"0x86b2E9EfF39b2CA073D0b2E97B0EdEB9a45068E3","nonce":1,"signatureChainId":"0x66eee","hyperliquidChain":"Mainnet"}"#,
            r#"{"type":"approveAgent","bogus":true}"#,
            r#"{"type":"somethingNew"}"#,
        ] {
            let response = answer(&signer, &request(action));
            assert_eq!(code(&response), ErrorCode::PolicyDenied, "{action}");
            assert_eq!(response.id, Some(RequestId::from(9)));
        }
        let narrowed = self::signer("allowed_actions = [\"cancel\"]");
        let response = answer(&narrowed, &request(r#"{"type":"order","orders":5}"#));
        assert_eq!(code(&response), ErrorCode::PolicyDenied);
    }

    #[test]
    fn malformed_input_is_bad_request_with_the_id_when_readable() {
        let signer = signer("");
        let cases = [
            ("garbage", None),
            ("[1,2]", None),
            (r#"{"id":{},"scheme":"hyperliquid-l1"}"#, None),
            (
                r#"{"id":"s","scheme":"hyperliquid-l2","action":{"type":"noop"},"nonce":1,"network":"mainnet"}"#,
                Some(RequestId::Text("s".into())),
            ),
            (
                r#"{"id":3,"scheme":"hyperliquid-l1","action":{"type":"noop"},"nonce":"1","network":"mainnet"}"#,
                Some(RequestId::from(3)),
            ),
            (
                r#"{"id":3,"scheme":"hyperliquid-l1","action":{"type":"noop"},"network":"mainnet"}"#,
                Some(RequestId::from(3)),
            ),
            (
                &request(r#"{"type":"cancel","cancels":"x"}"#),
                Some(RequestId::from(9)),
            ),
            (&request(r#"{"cancels":[]}"#), Some(RequestId::from(9))),
            (&request("[]"), Some(RequestId::from(9))),
        ];
        for (line, id) in cases {
            let response = answer(&signer, line);
            assert_eq!(code(&response), ErrorCode::BadRequest, "{line}");
            assert_eq!(response.id, id, "{line}");
        }
    }

    #[test]
    fn keys_are_found_by_name_or_as_the_only_one_of_their_venue() {
        use crate::keyring::{ApiKey, ApiSecret, Key};
        use crate::schemes::Venue;
        let api = |name: &str, venue| Key {
            name: name.to_owned(),
            venue,
            material: Material::Api(ApiKey::new(name, ApiSecret::hmac(b"s"))),
            policy: KeyPolicy::Api(Default::default()),
        };
        let keyring = Keyring::new(vec![
            api("bybit-a", Venue::Bybit),
            api("bybit-b", Venue::Bybit),
            api("binance", Venue::BinanceUsdm),
        ])
        .unwrap();
        let signer = Signer::new(keyring);
        let auth = |key: &str, api_key: &str| {
            let key = if key.is_empty() {
                String::new()
            } else {
                format!(r#""key":"{key}","#)
            };
            let line = format!(
                r#"{{"id":1,{key}"scheme":"bybit-ws-auth","api_key":"{api_key}","expires":1700000005000}}"#
            );
            signer
                .handle_line_at(line.as_bytes(), 1_700_000_000_000)
                .result
        };
        assert_eq!(auth("bybit-b", "bybit-b").unwrap().signer, "bybit-b");
        let error = auth("", "bybit-a").unwrap_err();
        assert_eq!(
            error.message,
            "several keys sign bybit-ws-auth (bybit-a, bybit-b): name one with `key`"
        );
        let error = auth("binance", "binance").unwrap_err();
        assert_eq!(error.code, ErrorCode::PolicyDenied);
        let binance = r#"{"id":1,"scheme":"binance-ws-api","api_key":"binance","method":"order.status","params":{"symbol":"BTCUSDT","orderId":1,"timestamp":1700000000000}}"#;
        assert!(
            signer
                .handle_line_at(binance.as_bytes(), 1_700_000_000_000)
                .result
                .is_ok()
        );
        let error = signer
            .handle_line(br#"{"id":1,"scheme":"kraken-rest"}"#)
            .result
            .unwrap_err();
        assert!(
            error.message.starts_with(
                "unknown scheme \"kraken-rest\" (schemes: hyperliquid-l1, binance-rest"
            ),
            "{}",
            error.message
        );
        assert!(Keyring::new(vec![api("a", Venue::Bybit), api("a", Venue::Bybit)]).is_err());
    }
}
