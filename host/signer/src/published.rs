//! Secrets anyone can read: the demo keys in this repository, the test
//! keys of the signing vectors, the well-known development-chain accounts.
//! Whoever signs with one signs for everybody; the signer takes such a key
//! only when told the keys are for a local emulator (`--allow-demo-keys`).
//!
//! Each is listed by the SHA-256 of its secret bytes (the 32 bytes of a
//! secp256k1 key or an Ed25519 seed, an HMAC secret as written).

use sha2::{Digest, Sha256};

/// SHA-256 of each published secret, with where it was published.
const PUBLISHED: [(&str, &str); 13] = [
    (
        "2c0125bd02e515897b20d9365e5e86b79eab08b41a8683a209659be699e3be2e",
        "configs/local-demo.key (0x284b7262F9502aDBC720ab8316DF70bcaE437E51)",
    ),
    (
        "c6733c0cc0dede091416a8cc898c2fbbbb554f9a1dcb7fb8ca9b79a1e8095d51",
        "configs/local-demo-bybit.secret",
    ),
    (
        "910a5d44a4ad7c6c6024107992bb24c1d33a31b373a193fb48c372d7db5da39d",
        "configs/local-demo-binance.pem",
    ),
    (
        "8ed51c8438ac38066662578078917561f441fcdf0bc860e6b28a188aca12318b",
        "the Ed25519 example key of RFC 8410",
    ),
    (
        "234a158e27ba07b0d3034efea3c0fa802acd924105e5d7783b50ce5afd7dcfb6",
        "a Hyperliquid SDK signing vector (0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE)",
    ),
    (
        "bbbf58b8fd83f262410cb983deae3b60d48a929bbc7769901ccdf8254a99d0b5",
        "a Hyperliquid SDK signing vector (0xc9a9F36249d475a1296237c321140E5fe3f10BBe)",
    ),
    (
        "18b8b32ac87a57fd9d0c6a36589f327ef00c475804a96be687393302ee15d4f0",
        "a Hyperliquid SDK signing vector (0x095379a355Ef23Bc06f0233314B88B7e32852B4F)",
    ),
    (
        "f5ba0a4cbe54c35b95eb5bb5f84b17bd209eef7890e6be35ac589c09b5b3b4ae",
        "a Hyperliquid SDK signing vector (0xcD49bbAc6E85fdEB167EB7cA41A945d2b8758F6F)",
    ),
    (
        "59891c96881dfbcf7d2ddc270b7813e666694fbbffe8ddd2736bf91c1b0e85d4",
        "Hardhat/Anvil development account #0 (0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266)",
    ),
    (
        "bca4c2c0761d850f0c403a699280f70f86ab6659a611ada431019203cd66098f",
        "Hardhat/Anvil development account #1 (0x70997970C51812dc3A010C7d01b50e0d17dc79C8)",
    ),
    (
        "193ae84c4c9567c25105535802f463f3f8dc420b0ce9a5b57c7931c764e623d6",
        "Hardhat/Anvil development account #2 (0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC)",
    ),
    (
        "e25a680eff8baac7b15129a830ecc40211017919d5d32fce8c6b409af753e50f",
        "Hardhat/Anvil development account #3 (0x90F79bf6EB2c4f870365E785982E1f101E93b906)",
    ),
    (
        "6718ba8966161cc843e01e8d19f018859e1bcba7f0e8f2c108578b497ac408b7",
        "Hardhat/Anvil development account #4 (0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65)",
    ),
];

/// Where `secret` was published, if it is one of [`PUBLISHED`].
pub fn published_as(secret: &[u8]) -> Option<&'static str> {
    let digest = hex::encode(Sha256::digest(secret));
    PUBLISHED
        .iter()
        .find(|(fingerprint, _)| *fingerprint == digest)
        .map(|(_, origin)| *origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_keys_of_this_repository_are_known() {
        let configs = concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs");
        let key = std::fs::read_to_string(format!("{configs}/local-demo.key")).unwrap();
        let bytes = hex::decode(key.trim().trim_start_matches("0x")).unwrap();
        assert!(published_as(&bytes).unwrap().contains("local-demo.key"));
        let secret = std::fs::read_to_string(format!("{configs}/local-demo-bybit.secret")).unwrap();
        assert!(published_as(secret.trim().as_bytes()).is_some());
        assert_eq!(published_as(b"a secret no one has seen"), None);
    }
}
