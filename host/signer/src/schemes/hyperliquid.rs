//! `hyperliquid-l1`: a Hyperliquid L1 action, parsed strictly, hashed with
//! msgpack and the phantom-agent EIP-712 message, signed with secp256k1
//! (`docs/signer-protocol.md`, section 5).

use hyperliquid_core::{
    Action, ActionParseError, Address, Network, PrivateKey, SigningContext, l1_hashes, sign_digest,
};
use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Refusal;
use crate::policy::hyperliquid::Policy;
use crate::protocol::{RequestId, Signed};

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

/// The scheme's fields.
///
/// `A` is the action: a typed [`Action`] when a client builds a request (it is
/// written in signature key order), raw JSON ([`Value`]) when the signer reads
/// one, so that it can tell an action it refuses from a malformed one before
/// parsing it strictly. Unknown keys are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L1Request<A = Action> {
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

impl L1Request {
    /// The request line (newline included) asking to sign `action` under
    /// `context`, for the key named `key` (any key of the scheme if `None`).
    pub fn line(
        id: RequestId,
        key: Option<&str>,
        action: Action,
        context: &SigningContext,
    ) -> Result<String, serde_json::Error> {
        let fields = serde_json::to_value(L1Request {
            action,
            nonce: context.nonce,
            vault_address: context.vault_address,
            expires_after: context.expires_after,
            network: context.network,
        })?;
        let mut line = serde_json::to_string(&serde_json::json!({
            "id": id,
            "key": key,
            "scheme": super::Scheme::HyperliquidL1.name(),
        }))?;
        // Splice the fields in after the shared ones.
        line.pop();
        let fields = serde_json::to_string(&fields)?;
        line.push(',');
        line.push_str(fields.trim_start_matches('{'));
        line.push('\n');
        Ok(line)
    }
}

impl<A> L1Request<A> {
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

/// Reads, checks (at `now_ms` on the signer's clock) and signs one
/// request's fields with `key`.
pub fn sign(
    key: &PrivateKey,
    policy: &Policy,
    fields: Value,
    now_ms: u64,
) -> Result<Signed, Refusal> {
    let request: L1Request<Value> = serde_json::from_value(fields)
        .map_err(|error| Refusal::BadRequest(format!("invalid request: {error}")))?;
    let context = request.context();
    policy.check_context(&context, now_ms)?;
    let action = parse_action(policy, request.action)?;
    policy.check_action(&action, now_ms)?;
    let hashes =
        l1_hashes(&action, &context).map_err(|error| Refusal::Internal(error.to_string()))?;
    let signature = sign_digest(key, &hashes.digest);
    let mut bytes = Vec::with_capacity(65);
    bytes.extend_from_slice(&signature.r);
    bytes.extend_from_slice(&signature.s);
    bytes.push(signature.v);
    Ok(Signed {
        signature: bytes,
        signer: key.address().to_string(),
        action_hash: Some(hashes.connection_id.to_string()),
    })
}

/// Parses the action strictly. A type the policy does not allow is a policy
/// refusal even when it cannot be parsed (unknown to the protocol core, or
/// with fields it does not expect); only other malformed actions are bad
/// requests.
fn parse_action(policy: &Policy, raw: Value) -> Result<Action, Refusal> {
    Action::from_value(raw).map_err(|error| match error {
        ActionParseError::UnknownType(name) => policy.type_violation(&name).into(),
        ActionParseError::InvalidFields { action, .. } if !policy.allows_type(action) => {
            policy.type_violation(action.as_str()).into()
        }
        other => Refusal::BadRequest(format!("invalid action: {other}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperliquid_core::{CancelAction, CancelWire};

    #[test]
    fn request_lines_carry_the_shared_fields_then_the_schemes() {
        let action = Action::Cancel(CancelAction {
            cancels: vec![CancelWire { asset: 0, oid: 7 }],
        });
        let context = SigningContext::new(Network::Testnet, 1_700_000_000_000);
        let line = L1Request::line(RequestId::from(1), Some("hl"), action, &context).unwrap();
        assert_eq!(
            line,
            "{\"id\":1,\"key\":\"hl\",\"scheme\":\"hyperliquid-l1\",\"action\":{\"type\":\"cancel\",\"cancels\":[{\"a\":0,\"o\":7}]},\
             \"nonce\":1700000000000,\"vault_address\":null,\"expires_after\":null,\"network\":\"testnet\"}\n"
        );
    }

    #[test]
    fn fields_refuse_unknown_keys_and_networks() {
        let base = r#""action":{"type":"noop"},"nonce":1"#;
        for bad in [
            format!(r#"{{{base},"network":"Mainnet"}}"#),
            format!(r#"{{{base},"network":"mainnet","vaultAddress":null}}"#),
            format!(r#"{{{base}}}"#),
        ] {
            assert!(serde_json::from_str::<L1Request>(&bad).is_err(), "{bad}");
        }
        let good = format!(r#"{{{base},"network":"mainnet"}}"#);
        let request: L1Request<Value> = serde_json::from_str(&good).unwrap();
        assert_eq!(request.vault_address, None);
        assert_eq!(request.expires_after, None);
    }
}
