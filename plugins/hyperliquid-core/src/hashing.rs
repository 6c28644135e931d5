//! msgpack pre-image, connection id and the digest every action is signed over.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha3::{Digest, Keccak256};

use crate::actions::Action;
use crate::address::Address;
use crate::eip712::{agent_struct_hash, l1_domain_separator, typed_data_digest};
use crate::hex_text::{decode_fixed, encode_prefixed};

/// A 32-byte hash, written as `0x` + 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct B256(pub [u8; 32]);

/// Why text is not a 32-byte hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not 0x followed by 64 hex digits")]
pub struct B256Error {
    /// The offending text.
    pub text: String,
}

impl FromStr for B256 {
    type Err = B256Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        decode_fixed(text).map(B256).ok_or_else(|| B256Error {
            text: text.to_owned(),
        })
    }
}

impl fmt::Display for B256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode_prefixed(&self.0))
    }
}

impl fmt::Debug for B256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "B256({self})")
    }
}

/// Keccak-256 (the Ethereum variant, not SHA3-256).
pub fn keccak256(bytes: &[u8]) -> B256 {
    B256(Keccak256::digest(bytes).into())
}

/// Which Hyperliquid chain an action is meant for.
///
/// Serializes as `"Mainnet"` / `"Testnet"` (the `hyperliquidChain` field of
/// user-signed actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Network {
    /// Production.
    Mainnet,
    /// Testnet.
    Testnet,
}

impl Network {
    /// `hyperliquidChain` text: `"Mainnet"` or `"Testnet"`.
    pub fn chain_name(self) -> &'static str {
        match self {
            Network::Mainnet => "Mainnet",
            Network::Testnet => "Testnet",
        }
    }

    /// Phantom-agent `source`: `"a"` on mainnet, `"b"` on testnet.
    pub fn agent_source(self) -> &'static str {
        match self {
            Network::Mainnet => "a",
            Network::Testnet => "b",
        }
    }
}

/// Everything besides the action that the signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigningContext {
    /// Target chain.
    pub network: Network,
    /// Request nonce (milliseconds by convention), chosen by the caller.
    pub nonce: u64,
    /// Sub-account or vault traded on behalf of, if any.
    pub vault_address: Option<Address>,
    /// Millisecond timestamp after which the exchange must reject the action.
    pub expires_after: Option<u64>,
}

impl SigningContext {
    /// A context with no vault and no expiry.
    pub fn new(network: Network, nonce: u64) -> Self {
        Self {
            network,
            nonce,
            vault_address: None,
            expires_after: None,
        }
    }
}

/// The intermediate values of L1 ("phantom agent") hashing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L1Hashes {
    preimage: Vec<u8>,
    msgpack_len: usize,
    /// `keccak256(preimage)`.
    pub connection_id: B256,
    /// EIP-712 struct hash of the phantom agent `{source, connectionId}`.
    pub struct_hash: B256,
    /// Digest to sign: `keccak(0x1901 ‖ domainSeparator ‖ structHash)`.
    pub digest: B256,
}

impl L1Hashes {
    /// The msgpack encoding of the action.
    pub fn msgpack(&self) -> &[u8] {
        &self.preimage[..self.msgpack_len]
    }

    /// `msgpack ‖ nonce u64 BE ‖ vault part ‖ [00 ‖ expiresAfter u64 BE]`.
    pub fn preimage(&self) -> &[u8] {
        &self.preimage
    }
}

/// Why an action cannot be hashed for signing.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    /// msgpack encoding failed.
    #[error("msgpack encoding failed: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
    /// A user-signed action with a vault address; such actions cannot carry one.
    #[error("user-signed action `{action}` cannot be sent on behalf of a vault")]
    VaultNotAllowed {
        /// The action type.
        action: &'static str,
    },
    /// A user-signed action with `expiresAfter`; such actions cannot carry one.
    #[error("user-signed action `{action}` does not support expiresAfter")]
    ExpiryNotAllowed {
        /// The action type.
        action: &'static str,
    },
    /// The action names a different chain than the signing context.
    #[error("action is for {action:?} but the request is for {context:?}")]
    NetworkMismatch {
        /// Chain named inside the action.
        action: Network,
        /// Chain of the signing context.
        context: Network,
    },
    /// The action's own nonce differs from the request nonce.
    #[error("action nonce {action} differs from request nonce {context}")]
    NonceMismatch {
        /// Nonce inside the action.
        action: u64,
        /// Nonce of the signing context.
        context: u64,
    },
}

/// L1 hashing of an action: msgpack, pre-image, connection id, phantom-agent
/// struct hash and the EIP-712 digest.
///
/// Meant for L1 actions; [`signing_digest`] picks the right scheme for any action.
pub fn l1_hashes(action: &Action, context: &SigningContext) -> Result<L1Hashes, DigestError> {
    let mut preimage = Vec::with_capacity(256);
    rmp_serde::encode::write_named(&mut preimage, action)?;
    let msgpack_len = preimage.len();
    preimage.extend_from_slice(&context.nonce.to_be_bytes());
    match &context.vault_address {
        None => preimage.push(0x00),
        Some(vault) => {
            preimage.push(0x01);
            preimage.extend_from_slice(vault.as_bytes());
        }
    }
    if let Some(expires_after) = context.expires_after {
        preimage.push(0x00);
        preimage.extend_from_slice(&expires_after.to_be_bytes());
    }
    let connection_id = keccak256(&preimage);
    let struct_hash = agent_struct_hash(context.network, &connection_id);
    let digest = typed_data_digest(&l1_domain_separator(), &struct_hash);
    Ok(L1Hashes {
        preimage,
        msgpack_len,
        connection_id,
        struct_hash,
        digest,
    })
}

/// The 32-byte digest to sign for `action` under `context`.
///
/// L1 actions use the phantom-agent scheme ([`l1_hashes`]). User-signed actions
/// ([`Action::ApproveAgent`]) use their own EIP-712 message and are refused with a
/// vault or expiry, or when their chain or nonce disagrees with `context`.
pub fn signing_digest(action: &Action, context: &SigningContext) -> Result<B256, DigestError> {
    match action {
        Action::ApproveAgent(approve) => {
            let name = action.action_type().as_str();
            if context.vault_address.is_some() {
                return Err(DigestError::VaultNotAllowed { action: name });
            }
            if context.expires_after.is_some() {
                return Err(DigestError::ExpiryNotAllowed { action: name });
            }
            if approve.hyperliquid_chain != context.network {
                return Err(DigestError::NetworkMismatch {
                    action: approve.hyperliquid_chain,
                    context: context.network,
                });
            }
            if approve.nonce != context.nonce {
                return Err(DigestError::NonceMismatch {
                    action: approve.nonce,
                    context: context.nonce,
                });
            }
            Ok(approve.digest())
        }
        _ => Ok(l1_hashes(action, context)?.digest),
    }
}
