//! EIP-712 building blocks: domain separators, the phantom-agent struct hash and
//! the final typed-data digest.

use std::sync::LazyLock;

use sha3::{Digest, Keccak256};

use crate::address::Address;
use crate::hashing::{B256, Network, keccak256};

const DOMAIN_TYPE: &str =
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
const AGENT_TYPE: &str = "Agent(string source,bytes32 connectionId)";
/// Chain id of the L1 ("Exchange") domain.
const L1_CHAIN_ID: u64 = 1337;

static L1_DOMAIN_SEPARATOR: LazyLock<B256> =
    LazyLock::new(|| domain_separator("Exchange", "1", L1_CHAIN_ID, &Address::ZERO));
static AGENT_TYPE_HASH: LazyLock<B256> = LazyLock::new(|| keccak256(AGENT_TYPE.as_bytes()));

/// Left-pads a 20-byte address to a 32-byte EIP-712 word.
pub(crate) fn address_word(address: &Address) -> [u8; 32] {
    let mut word = [0u8; 32];
    word[12..].copy_from_slice(address.as_bytes());
    word
}

/// A `uint256` EIP-712 word holding `value`.
pub(crate) fn uint_word(value: u64) -> [u8; 32] {
    let mut word = [0u8; 32];
    word[24..].copy_from_slice(&value.to_be_bytes());
    word
}

/// keccak256 over the concatenation of 32-byte words.
pub(crate) fn hash_words(words: &[&[u8; 32]]) -> B256 {
    let mut hasher = Keccak256::new();
    for word in words {
        hasher.update(word);
    }
    B256(hasher.finalize().into())
}

/// `EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)`
/// separator.
pub fn domain_separator(
    name: &str,
    version: &str,
    chain_id: u64,
    verifying_contract: &Address,
) -> B256 {
    hash_words(&[
        &keccak256(DOMAIN_TYPE.as_bytes()).0,
        &keccak256(name.as_bytes()).0,
        &keccak256(version.as_bytes()).0,
        &uint_word(chain_id),
        &address_word(verifying_contract),
    ])
}

/// Separator of the L1 domain (`Exchange`, `1`, chain 1337, zero contract).
pub fn l1_domain_separator() -> B256 {
    *L1_DOMAIN_SEPARATOR
}

/// Struct hash of the phantom agent `Agent(string source,bytes32 connectionId)`.
pub fn agent_struct_hash(network: Network, connection_id: &B256) -> B256 {
    hash_words(&[
        &AGENT_TYPE_HASH.0,
        &keccak256(network.agent_source().as_bytes()).0,
        &connection_id.0,
    ])
}

/// `keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ structHash)`.
pub fn typed_data_digest(domain_separator: &B256, struct_hash: &B256) -> B256 {
    let mut hasher = Keccak256::new();
    hasher.update([0x19, 0x01]);
    hasher.update(domain_separator.0);
    hasher.update(struct_hash.0);
    B256(hasher.finalize().into())
}
