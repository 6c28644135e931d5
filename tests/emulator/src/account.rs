//! The core's account id: opaque to the core, named by each front end in
//! its own terms. Hyperliquid names an account by its 20-byte address, so
//! the id is 20 bytes wide and an address converts to one as it stands; the
//! centralised venues number their funded API keys ([`AccountId::numbered`]).

use std::str::FromStr;

use hyperliquid_core::Address;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One account of the exchange core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct AccountId(pub [u8; 20]);

impl AccountId {
    /// The `n`-th account a venue front end opens (keys of Bybit, Binance).
    pub fn numbered(n: u64) -> Self {
        let mut id = [0u8; 20];
        id[12..].copy_from_slice(&n.to_be_bytes());
        AccountId(id)
    }
}

impl From<Address> for AccountId {
    fn from(address: Address) -> Self {
        AccountId(address.0)
    }
}

impl From<AccountId> for Address {
    fn from(id: AccountId) -> Self {
        Address(id.0)
    }
}

impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl Serialize for AccountId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl FromStr for AccountId {
    type Err = hyperliquid_core::AddressError;

    /// `0x` and 40 hex digits, as an address is written.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse::<Address>().map(AccountId::from)
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Address::deserialize(deserializer).map(AccountId::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_convert_both_ways_and_numbers_differ() {
        let address = Address([7; 20]);
        assert_eq!(Address::from(AccountId::from(address)), address);
        assert_ne!(AccountId::numbered(1), AccountId::numbered(2));
        assert_eq!(
            AccountId::numbered(1).to_string(),
            "0x0000000000000000000000000000000000000001"
        );
    }
}
