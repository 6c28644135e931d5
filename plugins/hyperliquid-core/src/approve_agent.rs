//! The user-signed `approveAgent` action and its EIP-712 message.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::address::{Address, checksummed};
use crate::eip712::{address_word, domain_separator, hash_words, typed_data_digest, uint_word};
use crate::hashing::{B256, Network, keccak256};

const APPROVE_AGENT_TYPE: &str = "HyperliquidTransaction:ApproveAgent(string hyperliquidChain,address agentAddress,string agentName,uint64 nonce)";
const USER_SIGNED_DOMAIN_NAME: &str = "HyperliquidSignTransaction";

/// EVM chain id of a user-signed action's EIP-712 domain, written as `0x`-hex text
/// (`"0x66eee"` = 421614 in the SDKs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainId(pub u64);

impl ChainId {
    /// The chain id the official SDKs put in `signatureChainId` (Arbitrum Sepolia).
    pub const SDK_DEFAULT: ChainId = ChainId(0x66eee);
}

/// Why text is not a `0x`-hex chain id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a 0x-hex chain id")]
pub struct ChainIdError {
    /// The offending text.
    pub text: String,
}

impl FromStr for ChainId {
    type Err = ChainIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.strip_prefix("0x")
            .filter(|digits| !digits.is_empty() && !digits.starts_with('+'))
            .and_then(|digits| u64::from_str_radix(digits, 16).ok())
            .map(ChainId)
            .ok_or_else(|| ChainIdError {
                text: text.to_owned(),
            })
    }
}

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl Serialize for ChainId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ChainId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `approveAgent` body: keys `agentAddress, agentName?, nonce, signatureChainId,
/// hyperliquidChain` (the order the SDK posts them in).
///
/// Signed as `HyperliquidTransaction:ApproveAgent(string hyperliquidChain,address
/// agentAddress,string agentName,uint64 nonce)` in the `HyperliquidSignTransaction`
/// domain. An absent name is signed as `""` and omitted from the body, as the
/// Python SDK does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveAgent {
    /// The agent wallet being authorized (posted in EIP-55 form).
    #[serde(rename = "agentAddress", serialize_with = "checksummed::serialize")]
    pub agent_address: Address,
    /// Optional agent name.
    #[serde(rename = "agentName", default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// Must equal the request nonce.
    pub nonce: u64,
    /// Chain id of the EIP-712 domain.
    #[serde(rename = "signatureChainId")]
    pub signature_chain_id: ChainId,
    /// Target Hyperliquid chain.
    #[serde(rename = "hyperliquidChain")]
    pub hyperliquid_chain: Network,
}

impl ApproveAgent {
    /// An approval with the SDK's `signatureChainId`.
    pub fn new(
        network: Network,
        agent_address: Address,
        agent_name: Option<String>,
        nonce: u64,
    ) -> Self {
        Self {
            agent_address,
            agent_name,
            nonce,
            signature_chain_id: ChainId::SDK_DEFAULT,
            hyperliquid_chain: network,
        }
    }

    /// Separator of the `HyperliquidSignTransaction` domain for `signatureChainId`.
    pub fn domain_separator(&self) -> B256 {
        domain_separator(
            USER_SIGNED_DOMAIN_NAME,
            "1",
            self.signature_chain_id.0,
            &Address::ZERO,
        )
    }

    /// EIP-712 struct hash of the approval message.
    pub fn struct_hash(&self) -> B256 {
        hash_words(&[
            &keccak256(APPROVE_AGENT_TYPE.as_bytes()).0,
            &keccak256(self.hyperliquid_chain.chain_name().as_bytes()).0,
            &address_word(&self.agent_address),
            &keccak256(self.agent_name.as_deref().unwrap_or_default().as_bytes()).0,
            &uint_word(self.nonce),
        ])
    }

    /// The digest to sign.
    pub fn digest(&self) -> B256 {
        typed_data_digest(&self.domain_separator(), &self.struct_hash())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_id_text() {
        assert_eq!("0x66eee".parse::<ChainId>().unwrap(), ChainId(421_614));
        assert_eq!(ChainId(421_614).to_string(), "0x66eee");
        for bad in ["66eee", "0x", "0x+1", "0xzz", "421614"] {
            assert!(bad.parse::<ChainId>().is_err(), "{bad:?} accepted");
        }
    }
}
