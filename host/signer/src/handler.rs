//! One request line in, one response out: parse, check the policy, hash the
//! action itself and sign. No I/O.

use std::panic::{self, AssertUnwindSafe};

use hyperliquid_core::{
    Action, ActionParseError, Address, DigestError, PrivateKey, l1_hashes, sign_digest,
};
use serde_json::Value;

use crate::policy::{Policy, PolicyViolation};
use crate::protocol::{ErrorBody, ErrorCode, RequestId, Response, Scheme, SignRequest, Signed};

/// The key and the policy: everything needed to answer requests.
#[derive(Debug)]
pub struct Signer {
    key: PrivateKey,
    policy: Policy,
}

/// Why one request was not signed.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Policy(#[from] PolicyViolation),
    #[error("hashing the action failed: {0}")]
    Internal(#[from] DigestError),
}

impl Refusal {
    fn code(&self) -> ErrorCode {
        match self {
            Refusal::BadRequest(_) => ErrorCode::BadRequest,
            Refusal::Policy(_) => ErrorCode::PolicyDenied,
            Refusal::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl Signer {
    /// A signer for `key` that signs what `policy` allows.
    pub fn new(key: PrivateKey, policy: Policy) -> Self {
        Self { key, policy }
    }

    /// The key's address.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// The rules in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Answers one request line (without its newline). Always returns a response:
    /// malformed input gets `bad_request`, with a `null` id when the id could not
    /// be read, and a failure inside the signer gets `internal`.
    pub fn handle_line(&self, line: &[u8]) -> Response {
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
        let result = panic::catch_unwind(AssertUnwindSafe(|| self.handle_value(value)))
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

    fn handle_value(&self, value: Value) -> Result<Signed, ErrorBody> {
        serde_json::from_value::<SignRequest<Value>>(value)
            .map_err(|error| Refusal::BadRequest(format!("invalid request: {error}")))
            .and_then(|request| self.sign(request))
            .map_err(|refusal| ErrorBody {
                code: refusal.code(),
                message: refusal.to_string(),
            })
    }

    fn sign(&self, request: SignRequest<Value>) -> Result<Signed, Refusal> {
        match request.scheme {
            Scheme::HyperliquidL1 => {
                self.policy.check_network(request.network)?;
                let context = request.context();
                let action = self.parse_action(request.action)?;
                self.policy.check_action(&action)?;
                let hashes = l1_hashes(&action, &context)?;
                Ok(Signed {
                    signature: sign_digest(&self.key, &hashes.digest),
                    action_hash: hashes.connection_id,
                    signer: self.key.address(),
                })
            }
        }
    }

    /// Parses the action strictly. A type the policy does not allow is a policy
    /// refusal even when it cannot be parsed (unknown to the protocol core, or
    /// with fields it does not expect); only other malformed actions are bad
    /// requests.
    fn parse_action(&self, raw: Value) -> Result<Action, Refusal> {
        Action::from_value(raw).map_err(|error| match error {
            ActionParseError::UnknownType(name) => self.policy.type_violation(&name).into(),
            ActionParseError::InvalidFields { action, .. } if !self.policy.allows_type(action) => {
                self.policy.type_violation(action.as_str()).into()
            }
            other => Refusal::BadRequest(format!("invalid action: {other}")),
        })
    }
}

fn log_outcome(response: &Response) {
    let id = response.id.as_ref().map(ToString::to_string);
    let id = id.as_deref().unwrap_or("null");
    match &response.result {
        Ok(_) => tracing::debug!(id, "signed"),
        Err(error) => match error.code {
            ErrorCode::BadRequest => tracing::info!(id, %error.message, "bad request"),
            ErrorCode::PolicyDenied => tracing::warn!(id, %error.message, "policy denied"),
            ErrorCode::Internal => tracing::error!(id, %error.message, "internal error"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperliquid_core::recover_address;

    const KEY: &str = "0x00e5fb7b0f747acef23ab43fcff0c82511dd041b249c8a5efa84c59beee988b2";

    fn signer(policy: &str) -> Signer {
        Signer::new(
            PrivateKey::from_hex(KEY).unwrap(),
            Policy::from_toml(policy).unwrap(),
        )
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
        assert_eq!(signed.signer, signer.address());
        let action = Action::Noop;
        let context = hyperliquid_core::SigningContext::new(
            hyperliquid_core::Network::Mainnet,
            1_700_000_000_000,
        );
        let hashes = l1_hashes(&action, &context).unwrap();
        assert_eq!(signed.action_hash, hashes.connection_id);
        assert_eq!(
            recover_address(&hashes.digest, &signed.signature).unwrap(),
            signer.address()
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
}
