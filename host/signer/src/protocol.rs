//! The wire protocol between a signer and its clients: one JSON object per line
//! each way. Shared by the signer process and by clients such as the host; it
//! does no I/O. `docs/signer-protocol.md` is the full specification.
//!
//! A client builds a [`SignRequest`] (usually with [`SignRequest::hyperliquid_l1`]),
//! writes [`SignRequest::to_json_line`], and reads back a [`Response`] whose
//! [`Response::id`] names the request it answers.

use std::fmt;

use hyperliquid_core::{Action, Address, B256, Network, Signature, SigningContext};
use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest request line accepted, in bytes, not counting the newline. A longer
/// line gets a `bad_request` response and the connection is closed.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// A request id: any JSON number or string, echoed back as is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// A JSON number.
    Number(serde_json::Number),
    /// A JSON string.
    Text(String),
}

impl RequestId {
    /// The id of a parsed request object, if it has a readable one (a number or
    /// a string under `"id"`).
    pub fn of_request(request: &Value) -> Option<Self> {
        match request.get("id")? {
            Value::Number(number) => Some(RequestId::Number(number.clone())),
            Value::String(text) => Some(RequestId::Text(text.clone())),
            _ => None,
        }
    }
}

impl From<u64> for RequestId {
    fn from(id: u64) -> Self {
        RequestId::Number(id.into())
    }
}

impl From<String> for RequestId {
    fn from(id: String) -> Self {
        RequestId::Text(id)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(number) => write!(f, "{number}"),
            RequestId::Text(text) => write!(f, "{text:?}"),
        }
    }
}

/// How the signed bytes are derived from the request. Only Hyperliquid L1
/// ("phantom agent") actions exist today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scheme {
    /// `"hyperliquid-l1"`: a Hyperliquid L1 action, hashed with msgpack and the
    /// phantom-agent EIP-712 message.
    #[serde(rename = "hyperliquid-l1")]
    HyperliquidL1,
}

/// The wire name of a network: `"mainnet"` or `"testnet"`.
pub fn network_name(network: Network) -> &'static str {
    match network {
        Network::Mainnet => "mainnet",
        Network::Testnet => "testnet",
    }
}

/// The network with this wire name (`"mainnet"` or `"testnet"`, lower case).
pub fn parse_network(name: &str) -> Option<Network> {
    [Network::Mainnet, Network::Testnet]
        .into_iter()
        .find(|network| network_name(*network) == name)
}

/// Serde adapter for a [`Network`] written as its lower-case wire name.
mod network_field {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        network: &Network,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(network_name(*network))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Network, D::Error> {
        let name = String::deserialize(deserializer)?;
        parse_network(&name).ok_or_else(|| {
            de::Error::invalid_value(de::Unexpected::Str(&name), &"\"mainnet\" or \"testnet\"")
        })
    }
}

/// A request to sign one action.
///
/// `A` is the action: a typed [`Action`] when a client builds a request (it is
/// written in signature key order), raw JSON ([`Value`]) when the signer reads
/// one, so that it can tell an action it refuses from a malformed one before
/// parsing it strictly. Unknown keys are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignRequest<A = Action> {
    /// Echoed in the response.
    pub id: RequestId,
    /// How to hash the action.
    pub scheme: Scheme,
    /// The action to sign.
    pub action: A,
    /// Request nonce (milliseconds by convention).
    pub nonce: u64,
    /// Vault or sub-account traded on behalf of; `null` or absent for none.
    #[serde(default)]
    pub vault_address: Option<Address>,
    /// Millisecond timestamp after which the exchange must reject the action;
    /// `null` or absent for none.
    #[serde(default)]
    pub expires_after: Option<u64>,
    /// Target chain, `"mainnet"` or `"testnet"`.
    #[serde(with = "network_field")]
    pub network: Network,
}

impl SignRequest {
    /// A request to sign a Hyperliquid L1 action under `context`.
    pub fn hyperliquid_l1(id: RequestId, action: Action, context: &SigningContext) -> Self {
        Self {
            id,
            scheme: Scheme::HyperliquidL1,
            action,
            nonce: context.nonce,
            vault_address: context.vault_address,
            expires_after: context.expires_after,
            network: context.network,
        }
    }

    /// The request as one line of JSON, newline included.
    pub fn to_json_line(&self) -> Result<String, serde_json::Error> {
        let mut line = serde_json::to_string(self)?;
        line.push('\n');
        Ok(line)
    }
}

impl<A> SignRequest<A> {
    /// Everything besides the action that the signature covers.
    pub fn context(&self) -> SigningContext {
        SigningContext {
            network: self.network,
            nonce: self.nonce,
            vault_address: self.vault_address,
            expires_after: self.expires_after,
        }
    }
}

/// What a successful response carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed {
    /// The signature to post in the `/exchange` body.
    pub signature: Signature,
    /// The L1 connection id, `keccak256(msgpack(action) ‖ nonce ‖ vault ‖ expiry)`,
    /// so that a client can check the signer hashed what it meant to send.
    pub action_hash: B256,
    /// Address of the signing key.
    pub signer: Address,
}

/// Why a request was not signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Malformed JSON, missing, unknown or ill-typed fields, an unknown scheme,
    /// an unparseable action, or a line over [`MAX_LINE_BYTES`].
    BadRequest,
    /// A well-formed request the policy does not allow; the message names the rule.
    PolicyDenied,
    /// The signer failed; the request may be retried.
    Internal,
}

impl ErrorCode {
    /// The wire name (`"bad_request"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::PolicyDenied => "policy_denied",
            ErrorCode::Internal => "internal",
        }
    }
}

/// The `error` object of a failed response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// Machine-readable reason.
    pub code: ErrorCode,
    /// Human-readable detail.
    pub message: String,
}

/// One response line: `{"id", "ok": true, "signature", "action_hash", "signer"}`
/// or `{"id", "ok": false, "error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The request's id; `None` (JSON `null`) when it could not be read.
    pub id: Option<RequestId>,
    /// The signature, or why there is none.
    pub result: Result<Signed, ErrorBody>,
}

impl Response {
    /// A failed response.
    pub fn failure(id: Option<RequestId>, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            id,
            result: Err(ErrorBody {
                code,
                message: message.into(),
            }),
        }
    }

    /// The response as one line of JSON, newline included.
    pub fn to_json_line(&self) -> Vec<u8> {
        // Serializing these types into memory cannot fail; the fallback keeps the
        // one-response-per-request promise even so.
        let mut line = serde_json::to_vec(self).unwrap_or_else(|_| {
            br#"{"id":null,"ok":false,"error":{"code":"internal","message":"response encoding failed"}}"#
                .to_vec()
        });
        line.push(b'\n');
        line
    }
}

/// Field-by-field wire form of [`Response`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseWire {
    id: Option<RequestId>,
    ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signature: Option<Signature>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "optional_b256"
    )]
    action_hash: Option<B256>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signer: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<ErrorBody>,
}

impl Serialize for Response {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let wire = match &self.result {
            Ok(signed) => ResponseWire {
                id: self.id.clone(),
                ok: true,
                signature: Some(signed.signature),
                action_hash: Some(signed.action_hash),
                signer: Some(signed.signer),
                error: None,
            },
            Err(error) => ResponseWire {
                id: self.id.clone(),
                ok: false,
                signature: None,
                action_hash: None,
                signer: None,
                error: Some(error.clone()),
            },
        };
        wire.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Response {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = ResponseWire::deserialize(deserializer)?;
        let result = match wire {
            ResponseWire {
                ok: true,
                signature: Some(signature),
                action_hash: Some(action_hash),
                signer: Some(signer),
                error: None,
                ..
            } => Ok(Signed {
                signature,
                action_hash,
                signer,
            }),
            ResponseWire {
                ok: false,
                signature: None,
                action_hash: None,
                signer: None,
                error: Some(error),
                ..
            } => Err(error),
            _ => {
                return Err(de::Error::custom(
                    "a response has `ok: true` with `signature`, `action_hash` and `signer`, \
                     or `ok: false` with `error`",
                ));
            }
        };
        Ok(Response {
            id: wire.id,
            result,
        })
    }
}

/// Serde adapter for an optional [`B256`] written as `0x` + 64 hex digits.
mod optional_b256 {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        hash: &Option<B256>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match hash {
            Some(hash) => serializer.collect_str(hash),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<B256>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| text.parse().map_err(de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperliquid_core::CancelAction;
    use hyperliquid_core::CancelWire;

    #[test]
    fn request_round_trips_with_lower_case_network_and_nulls() {
        let action = Action::Cancel(CancelAction {
            cancels: vec![CancelWire { asset: 0, oid: 7 }],
        });
        let request = SignRequest::hyperliquid_l1(
            RequestId::from(1),
            action,
            &SigningContext::new(Network::Testnet, 1_700_000_000_000),
        );
        let line = request.to_json_line().unwrap();
        assert_eq!(
            line,
            "{\"id\":1,\"scheme\":\"hyperliquid-l1\",\"action\":{\"type\":\"cancel\",\"cancels\":[{\"a\":0,\"o\":7}]},\
             \"nonce\":1700000000000,\"vault_address\":null,\"expires_after\":null,\"network\":\"testnet\"}\n"
        );
        let back: SignRequest = serde_json::from_str(&line).unwrap();
        assert_eq!(back, request);
    }

    #[test]
    fn request_refuses_unknown_keys_and_networks() {
        let base = r#""id":"a","scheme":"hyperliquid-l1","action":{"type":"noop"},"nonce":1"#;
        for bad in [
            format!(r#"{{{base},"network":"Mainnet"}}"#),
            format!(r#"{{{base},"network":"mainnet","vaultAddress":null}}"#),
            format!(r#"{{{base}}}"#),
        ] {
            assert!(serde_json::from_str::<SignRequest>(&bad).is_err(), "{bad}");
        }
        let good = format!(r#"{{{base},"network":"mainnet"}}"#);
        let request: SignRequest<Value> = serde_json::from_str(&good).unwrap();
        assert_eq!(request.id, RequestId::Text("a".into()));
        assert_eq!(request.vault_address, None);
        assert_eq!(request.expires_after, None);
    }

    #[test]
    fn responses_round_trip_and_refuse_mixed_shapes() {
        let failure = Response::failure(None, ErrorCode::PolicyDenied, "no");
        let line = failure.to_json_line();
        assert_eq!(
            line,
            b"{\"id\":null,\"ok\":false,\"error\":{\"code\":\"policy_denied\",\"message\":\"no\"}}\n"
        );
        assert_eq!(serde_json::from_slice::<Response>(&line).unwrap(), failure);

        let signed = Response {
            id: Some(RequestId::from("x".to_owned())),
            result: Ok(Signed {
                signature: Signature {
                    r: [1; 32],
                    s: [2; 32],
                    v: 27,
                },
                action_hash: B256([3; 32]),
                signer: Address([4; 20]),
            }),
        };
        let line = signed.to_json_line();
        let text = String::from_utf8(line.clone()).unwrap();
        assert!(text.starts_with(r#"{"id":"x","ok":true,"signature":{"r":"0x0101"#));
        assert!(text.contains(&format!(r#""action_hash":"0x{}""#, "03".repeat(32))));
        assert!(text.contains(&format!(r#""signer":"0x{}""#, "04".repeat(20))));
        assert_eq!(serde_json::from_slice::<Response>(&line).unwrap(), signed);

        for bad in [
            r#"{"id":1,"ok":true}"#,
            r#"{"id":1,"ok":false}"#,
            r#"{"id":1,"ok":false,"error":{"code":"nope","message":""}}"#,
        ] {
            assert!(serde_json::from_str::<Response>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_are_read_only_from_numbers_and_strings() {
        let id = |text: &str| RequestId::of_request(&serde_json::from_str(text).unwrap());
        assert_eq!(id(r#"{"id":-1.5}"#).unwrap().to_string(), "-1.5");
        assert_eq!(id(r#"{"id":"7"}"#), Some(RequestId::Text("7".into())));
        assert_eq!(id(r#"{"id":[1]}"#), None);
        assert_eq!(id(r#"{"x":1}"#), None);
        assert_eq!(id("[1]"), None);
    }
}
