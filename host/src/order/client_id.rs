//! Client order ids: 128 bits, unique per account, recognisable by the host
//! instance that made them.
//!
//! Layout (big-endian): 4 bytes of instance prefix (a hash of the configured
//! host id, stable across restarts) ‖ 8 bytes of a strictly increasing
//! microsecond counter ‖ 4 bytes of per-process salt (so that two runs never
//! collide even if the clock steps back). The host writes it `0x` + 32
//! lower-case hex digits, in events, commands and to its plugins; each
//! plugin writes it in its venue's form and reads it back.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 128-bit client order id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientOrderId(pub u128);

/// Text that is not a client order id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a client order id (expected 0x and 32 hex digits)")]
pub struct ClientOrderIdError(pub String);

impl ClientOrderId {
    /// The instance prefix (the top 32 bits).
    pub fn prefix(self) -> u32 {
        (self.0 >> 96) as u32
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:032x}", self.0)
    }
}

impl fmt::Debug for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for ClientOrderId {
    type Err = ClientOrderIdError;

    /// Accepts `0x` + 32 hex digits or the 32 digits alone, any case.
    fn from_str(text: &str) -> Result<ClientOrderId, ClientOrderIdError> {
        let digits = text.strip_prefix("0x").unwrap_or(text);
        if digits.len() != 32 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ClientOrderIdError(text.to_owned()));
        }
        u128::from_str_radix(digits, 16)
            .map(ClientOrderId)
            .map_err(|_| ClientOrderIdError(text.to_owned()))
    }
}

impl Serialize for ClientOrderId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClientOrderId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ClientOrderId, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Makes client order ids for one host instance. Thread-safe.
#[derive(Debug)]
pub struct ClientIdGenerator {
    prefix: u32,
    salt: u32,
    last_micros: AtomicU64,
}

impl ClientIdGenerator {
    /// A generator for the host instance named `host_id`, with a salt that
    /// differs from run to run.
    pub fn new(host_id: &str) -> ClientIdGenerator {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        ClientIdGenerator::with_salt(host_id, nanos ^ std::process::id().rotate_left(16))
    }

    /// A generator with a fixed salt (for tests).
    pub fn with_salt(host_id: &str, salt: u32) -> ClientIdGenerator {
        ClientIdGenerator {
            prefix: instance_prefix(host_id),
            salt,
            last_micros: AtomicU64::new(0),
        }
    }

    /// The prefix every id of this instance carries.
    pub fn prefix(&self) -> u32 {
        self.prefix
    }

    /// True when `id` was made by an instance with this host id (this run
    /// or an earlier one).
    pub fn is_own(&self, id: ClientOrderId) -> bool {
        id.prefix() == self.prefix
    }

    /// A new id, never equal to any earlier one of this generator.
    pub fn next(&self) -> ClientOrderId {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        let mut last = self.last_micros.load(Ordering::Relaxed);
        let micros = loop {
            let candidate = now.max(last + 1);
            match self.last_micros.compare_exchange_weak(
                last,
                candidate,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break candidate,
                Err(current) => last = current,
            }
        };
        ClientOrderId(
            (u128::from(self.prefix) << 96) | (u128::from(micros) << 32) | u128::from(self.salt),
        )
    }
}

/// FNV-1a over the host id: stable across runs and builds.
fn instance_prefix(host_id: &str) -> u32 {
    host_id.bytes().fold(0x811c_9dc5u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use super::*;

    #[test]
    fn ids_are_written_as_0x_and_32_hex_digits() {
        let id = ClientIdGenerator::with_salt("desk-1", 7).next();
        let text = id.to_string();
        assert_eq!(text.len(), 34);
        assert!(text.starts_with("0x"));
        assert!(
            text[2..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_eq!(text.parse::<ClientOrderId>().unwrap(), id);
        assert_eq!(
            text[2..].parse::<ClientOrderId>().unwrap(),
            id,
            "0x optional"
        );
    }

    #[test]
    fn a_restarted_instance_recognises_its_ids_and_others_do_not() {
        let first_run = ClientIdGenerator::with_salt("desk-1", 1);
        let second_run = ClientIdGenerator::with_salt("desk-1", 2);
        let other_host = ClientIdGenerator::with_salt("desk-2", 1);
        let id = first_run.next();
        assert!(second_run.is_own(id));
        assert!(!other_host.is_own(id));
    }

    #[test]
    fn ids_never_repeat_across_threads() {
        let generator = Arc::new(ClientIdGenerator::with_salt("desk-1", 3));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let generator = Arc::clone(&generator);
                std::thread::spawn(move || (0..5_000).map(|_| generator.next()).collect::<Vec<_>>())
            })
            .collect();
        let mut seen = HashSet::new();
        for handle in handles {
            for id in handle.join().unwrap() {
                assert!(seen.insert(id), "duplicate id {id}");
            }
        }
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in ["", "0x", "0x123", "zz", &format!("0x{}", "g".repeat(32))] {
            assert!(bad.parse::<ClientOrderId>().is_err(), "{bad:?}");
        }
    }
}
