//! The `/exchange` request body.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::actions::Action;
use crate::address::Address;
use crate::hashing::{Network, SigningContext};
use crate::signature::Signature;

/// `POST /exchange` body: keys `action, nonce, signature, vaultAddress,
/// expiresAfter` in that order; unset `vaultAddress`/`expiresAfter` are written as
/// `null` (as the Python SDK does) and read from `null` or absence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRequest {
    /// The signed action, serialized in signature key order.
    pub action: Action,
    /// Request nonce.
    pub nonce: u64,
    /// Signature over the action's digest.
    pub signature: Signature,
    /// Vault or sub-account traded on behalf of.
    #[serde(rename = "vaultAddress", default)]
    pub vault_address: Option<Address>,
    /// Millisecond timestamp after which the action must be rejected.
    #[serde(rename = "expiresAfter", default)]
    pub expires_after: Option<u64>,
}

impl ExchangeRequest {
    /// A body for `action` signed under `context`.
    pub fn new(action: Action, context: &SigningContext, signature: Signature) -> Self {
        Self {
            action,
            nonce: context.nonce,
            signature,
            vault_address: context.vault_address,
            expires_after: context.expires_after,
        }
    }

    /// The signing context this body claims, for a given chain (the body itself
    /// does not name the chain of L1 actions).
    pub fn context(&self, network: Network) -> SigningContext {
        SigningContext {
            network,
            nonce: self.nonce,
            vault_address: self.vault_address,
            expires_after: self.expires_after,
        }
    }

    /// The body as JSON text.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let action = serde_json::value::to_raw_value(&self.action)?;
        SignedBody {
            action: &action,
            nonce: self.nonce,
            signature: &self.signature,
            vault_address: self.vault_address,
            expires_after: self.expires_after,
        }
        .to_json()
    }
}

/// An [`ExchangeRequest`] whose action is already JSON text (as a plugin
/// keeps it between its two phases): the same bytes, without reading the
/// action back into a tree.
#[derive(Debug, Serialize)]
pub struct SignedBody<'a> {
    /// The signed action, as JSON text in signature key order.
    pub action: &'a RawValue,
    /// Request nonce.
    pub nonce: u64,
    /// Signature over the action's digest.
    pub signature: &'a Signature,
    /// Vault or sub-account traded on behalf of.
    #[serde(rename = "vaultAddress")]
    pub vault_address: Option<Address>,
    /// Millisecond timestamp after which the action must be rejected.
    #[serde(rename = "expiresAfter")]
    pub expires_after: Option<u64>,
}

impl SignedBody<'_> {
    /// The body as JSON text.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}
