//! Per-signer nonce rules: unique, within (now − 2 days, now + 1 day), and
//! above the smallest of the 100 highest nonces kept.

use std::collections::BTreeSet;

/// How many of a signer's highest nonces are kept.
pub const KEPT_NONCES: usize = 100;
/// How far behind the current time a nonce may be.
pub const MAX_AGE_MS: u64 = 2 * 24 * 60 * 60 * 1000;
/// How far ahead of the current time a nonce may be.
pub const MAX_LEAD_MS: u64 = 24 * 60 * 60 * 1000;

/// The highest nonces one signer used.
#[derive(Debug, Clone, Default)]
pub struct NonceSet {
    kept: BTreeSet<u64>,
}

impl NonceSet {
    /// Checks `nonce` at time `now_ms` without recording it; the error is the
    /// exchange's text.
    pub fn check(&self, nonce: u64, now_ms: u64) -> Result<(), String> {
        let oldest = now_ms.saturating_sub(MAX_AGE_MS);
        let newest = now_ms.saturating_add(MAX_LEAD_MS);
        if nonce <= oldest {
            return Err(format!("Invalid nonce: nonce too low {nonce} < {oldest}"));
        }
        if nonce >= newest {
            return Err(format!("Invalid nonce: nonce too high {nonce} > {newest}"));
        }
        if self.kept.contains(&nonce) {
            return Err(format!("Invalid nonce: duplicate nonce {nonce}"));
        }
        if self.kept.len() >= KEPT_NONCES
            && let Some(&smallest) = self.kept.first()
            && nonce <= smallest
        {
            return Err(format!("Invalid nonce: nonce too low {nonce} < {smallest}"));
        }
        Ok(())
    }

    /// Records a nonce that passed [`NonceSet::check`].
    pub fn record(&mut self, nonce: u64) {
        self.kept.insert(nonce);
        while self.kept.len() > KEPT_NONCES {
            self.kept.pop_first();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;

    #[test]
    fn window_duplicates_and_the_hundred_highest() {
        let mut set = NonceSet::default();
        assert!(
            set.check(NOW - MAX_AGE_MS, NOW)
                .unwrap_err()
                .contains("too low")
        );
        assert!(
            set.check(NOW + MAX_LEAD_MS, NOW)
                .unwrap_err()
                .contains("too high")
        );
        set.check(NOW, NOW).unwrap();
        set.record(NOW);
        assert_eq!(
            set.check(NOW, NOW).unwrap_err(),
            format!("Invalid nonce: duplicate nonce {NOW}")
        );
        // Below the highest but unused: fine while fewer than 100 are kept.
        set.check(NOW - 5, NOW).unwrap();
        for n in 1..=100 {
            set.record(NOW + n);
        }
        assert_eq!(
            set.check(NOW - 5, NOW).unwrap_err(),
            format!("Invalid nonce: nonce too low {} < {}", NOW - 5, NOW + 1)
        );
        set.check(NOW + 101, NOW).unwrap();
    }
}
