//! Plugin pinning: `host.plugin_sha256` names plugin files and the SHA-256
//! each must have. With any pin set, a file is loaded only when it is
//! pinned and its digest matches, checked before the file is opened as a
//! library — a plugin dropped in the folder, or one changed since it was
//! pinned, never runs.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};

/// A SHA-256 digest, written as 64 hexadecimal digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sha256Digest([u8; 32]);

impl Sha256Digest {
    /// The digest of the file at `path`.
    pub fn of_file(path: &Path) -> std::io::Result<Sha256Digest> {
        let mut file = std::fs::File::open(path)?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
        }
        Ok(Sha256Digest(hasher.finalize().into()))
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl FromStr for Sha256Digest {
    type Err = String;

    fn from_str(text: &str) -> Result<Sha256Digest, String> {
        let mut digest = [0u8; 32];
        match hex::decode_to_slice(text, &mut digest) {
            Ok(()) => Ok(Sha256Digest(digest)),
            Err(_) => Err(format!(
                "`{text}` is not a SHA-256 digest (64 hexadecimal digits)"
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Sha256Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The pins of a configuration, by file name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pins(BTreeMap<String, Sha256Digest>);

impl Pins {
    /// Pins from `host.plugin_sha256`.
    pub fn new(pins: BTreeMap<String, Sha256Digest>) -> Pins {
        Pins(pins)
    }

    /// Why `path` may not be loaded under these pins; `None` when it may
    /// (no pins at all, or its digest is the pinned one).
    pub fn refusal(&self, path: &Path) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        let digest = match Sha256Digest::of_file(path) {
            Ok(digest) => digest,
            Err(error) => return Some(format!("cannot read it to check its pin: {error}")),
        };
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        match self.0.get(&name) {
            Some(pinned) if *pinned == digest => None,
            Some(pinned) => Some(format!(
                "its SHA-256 is {digest}, not the {pinned} host.plugin_sha256 pins for `{name}`"
            )),
            None => Some(format!(
                "host.plugin_sha256 pins other files, not `{name}` (its SHA-256 is {digest})"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SHA-256 of "abc" (FIPS 180-2, appendix B.1).
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn a_file_is_loaded_only_when_pinned_and_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("venue.so");
        std::fs::write(&file, b"abc").unwrap();
        assert_eq!(Sha256Digest::of_file(&file).unwrap().to_string(), ABC);

        assert_eq!(Pins::default().refusal(&file), None, "no pins: no check");
        let pinned = |name: &str, digest: &str| {
            Pins::new(BTreeMap::from([(name.to_owned(), digest.parse().unwrap())]))
        };
        assert_eq!(pinned("venue.so", ABC).refusal(&file), None);
        let other = "00".repeat(32);
        let changed = pinned("venue.so", &other).refusal(&file).unwrap();
        assert!(
            changed.contains(ABC) && changed.contains(&other),
            "{changed}"
        );
        let unpinned = pinned("another.so", ABC).refusal(&file).unwrap();
        assert!(unpinned.contains("not `venue.so`"), "{unpinned}");
    }

    #[test]
    fn a_digest_is_64_hex_digits() {
        assert_eq!(
            ABC.to_uppercase()
                .parse::<Sha256Digest>()
                .unwrap()
                .to_string(),
            ABC
        );
        for bad in ["", "abc", &"g".repeat(64), &"0".repeat(66)] {
            let error = bad.parse::<Sha256Digest>().unwrap_err();
            assert!(error.contains("64 hexadecimal digits"), "{error}");
        }
    }
}
