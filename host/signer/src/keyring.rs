//! The signer's keys, each named, of one venue, with its own policy.
//!
//! A keyring file (TOML) lists them:
//!
//! ```toml
//! [[key]]
//! name = "hyperliquid"
//! venue = "hyperliquid"          # secp256k1: the file holds 0x + 64 hex
//! file = "agent.key"             # relative to the keyring's folder
//! [key.policy]                   # optional; the venue's policy keys
//! allowed_assets = [0, 1]
//!
//! [[key]]
//! name = "binance"
//! venue = "binance-usdm"
//! algorithm = "ed25519"          # or "hmac-sha256"
//! api_key = "…"                  # public: the venue's key id
//! file = "binance.pem"
//! ```
//!
//! A key `file` is a keystore (encrypted; see [`crate::keystore`]) or, for
//! local emulators only, plain text ([`crate::key`]).
//!
//! A single Hyperliquid key file (`--key-file`) is a keyring of one key
//! named `default`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ed25519_dalek::Signer as _;
use ed25519_dalek::SigningKey;
use hmac::{Hmac, KeyInit, Mac};
use hyperliquid_core::PrivateKey;
use serde::Deserialize;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::hardening::lock_in_memory;
use crate::key::{KeyFileError, Unlock, load_ed25519, load_hmac_secret, load_key};
use crate::marks::{DefaultMarks, MarkSource};
use crate::policy::{KeyPolicy, api, hyperliquid};
use crate::protocol::Signed;
use crate::schemes::{Refusal, Scheme, Venue};

/// The secret of an API-key venue.
pub enum ApiSecret {
    /// An HMAC-SHA256 secret.
    Hmac(Zeroizing<Vec<u8>>),
    /// An Ed25519 private key (Binance).
    Ed25519(Box<SigningKey>),
}

impl ApiSecret {
    /// An HMAC secret from its bytes.
    pub fn hmac(secret: &[u8]) -> ApiSecret {
        ApiSecret::Hmac(Zeroizing::new(secret.to_vec()))
    }
}

impl std::fmt::Debug for ApiSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiSecret::Hmac(_) => f.write_str("ApiSecret::Hmac(…)"),
            ApiSecret::Ed25519(_) => f.write_str("ApiSecret::Ed25519(…)"),
        }
    }
}

/// An API key: the venue's public key id and its secret.
#[derive(Debug)]
pub struct ApiKey {
    api_key: String,
    secret: ApiSecret,
}

impl ApiKey {
    /// A key named `api_key` at the venue.
    pub fn new(api_key: &str, secret: ApiSecret) -> ApiKey {
        ApiKey {
            api_key: api_key.to_owned(),
            secret,
        }
    }

    /// Whether the secret is an Ed25519 key.
    pub fn is_ed25519(&self) -> bool {
        matches!(self.secret, ApiSecret::Ed25519(_))
    }

    /// Refuses a request made out for another API key.
    pub fn check_api_key(&self, api_key: &str) -> Result<(), Refusal> {
        if api_key == self.api_key {
            Ok(())
        } else {
            Err(Refusal::BadRequest(format!(
                "api_key {api_key:?} is not this key's ({:?})",
                self.api_key
            )))
        }
    }

    /// Signs `message`: its HMAC-SHA256 (32 bytes) or Ed25519 signature (64).
    pub fn sign(&self, message: &[u8]) -> Result<Signed, Refusal> {
        let signature = match &self.secret {
            ApiSecret::Hmac(secret) => {
                let mut mac = Hmac::<Sha256>::new_from_slice(secret)
                    .map_err(|error| Refusal::Internal(format!("HMAC key: {error}")))?;
                mac.update(message);
                mac.finalize().into_bytes().to_vec()
            }
            ApiSecret::Ed25519(key) => key.sign(message).to_bytes().to_vec(),
        };
        Ok(Signed {
            signature,
            signer: self.api_key.clone(),
            action_hash: None,
        })
    }
}

/// A key's material.
#[derive(Debug)]
pub enum Material {
    /// A Hyperliquid secp256k1 key.
    Secp256k1(PrivateKey),
    /// A Binance or Bybit API key.
    Api(ApiKey),
}

/// One named key.
#[derive(Debug)]
pub struct Key {
    /// Its name, as requests give it in `key`.
    pub name: String,
    /// Its venue.
    pub venue: Venue,
    /// The key itself.
    pub material: Material,
    /// What it may sign.
    pub policy: KeyPolicy,
}

impl Key {
    /// Who signs: the address (secp256k1) or the API key.
    pub fn identity(&self) -> String {
        match &self.material {
            Material::Secp256k1(key) => key.address().to_checksum(),
            Material::Api(key) => key.api_key.clone(),
        }
    }
}

/// Every key of a signer.
#[derive(Debug)]
pub struct Keyring {
    keys: Vec<Key>,
}

/// Why a keyring could not be loaded. Never contains key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// The keyring file could not be read.
    #[error("cannot read keyring {path}: {source}")]
    Io {
        /// The keyring file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, or keys missing, unknown or of the wrong type.
    #[error("keyring {path}: {source}")]
    Toml {
        /// The keyring file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: toml::de::Error,
    },
    /// One key's entry is wrong.
    #[error("keyring {path}: key {name:?}: {reason}")]
    Entry {
        /// The keyring file.
        path: PathBuf,
        /// The key's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A key file.
    #[error(transparent)]
    File(#[from] KeyFileError),
}

/// The keyring file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyringFile {
    key: Vec<KeyEntry>,
}

/// One `[[key]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    name: String,
    venue: Venue,
    file: PathBuf,
    #[serde(default)]
    algorithm: Option<String>,
    #[serde(default)]
    api_key: Option<String>,
    #[serde(default)]
    policy: Option<toml::Table>,
}

impl Keyring {
    /// A keyring of keys already loaded; names must be unique.
    pub fn new(keys: Vec<Key>) -> Result<Keyring, String> {
        for (index, key) in keys.iter().enumerate() {
            if keys[..index].iter().any(|other| other.name == key.name) {
                return Err(format!("two keys are named {:?}", key.name));
            }
        }
        if keys.is_empty() {
            return Err("a keyring needs at least one key".to_owned());
        }
        Ok(Keyring { keys })
    }

    /// One Hyperliquid key named `default` with `policy`.
    pub fn single(key: PrivateKey, policy: hyperliquid::Policy) -> Keyring {
        Keyring {
            keys: vec![Key {
                name: "default".to_owned(),
                venue: Venue::Hyperliquid,
                material: Material::Secp256k1(key),
                policy: KeyPolicy::Hyperliquid(policy),
            }],
        }
    }

    /// Reads a keyring file and every key file it names, opened as `unlock`
    /// allows.
    pub fn load(path: &Path, unlock: &Unlock) -> Result<Keyring, KeyringError> {
        let text = crate::files::read_trusted(path).map_err(|source| KeyringError::Io {
            path: path.to_owned(),
            source,
        })?;
        let file: KeyringFile = toml::from_str(&text).map_err(|source| KeyringError::Toml {
            path: path.to_owned(),
            source,
        })?;
        let folder = path.parent().unwrap_or(Path::new("."));
        let keys = file
            .key
            .into_iter()
            .map(|entry| load_entry(path, folder, entry, unlock))
            .collect::<Result<Vec<_>, _>>()?;
        Keyring::new(keys).map_err(|reason| KeyringError::Entry {
            path: path.to_owned(),
            name: String::new(),
            reason,
        })
    }

    /// Locks the memory that holds every key's material, so that it is
    /// never written to swap ([`crate::hardening`]).
    pub fn lock_in_memory(&self) -> std::io::Result<()> {
        lock_in_memory(self.keys.as_slice())?;
        for key in &self.keys {
            if let Material::Api(api) = &key.material {
                match &api.secret {
                    ApiSecret::Hmac(secret) => lock_in_memory(secret.as_slice())?,
                    ApiSecret::Ed25519(secret) => lock_in_memory(&**secret)?,
                }
            }
        }
        Ok(())
    }

    /// Caps at `max` the notional of every key whose policy sets no
    /// `max_order_notional`.
    pub fn default_max_order_notional(&mut self, max: rust_decimal::Decimal) {
        for key in &mut self.keys {
            key.policy.default_max_order_notional(max);
        }
    }

    /// Values at the mark the orders of each key a default names (by name,
    /// or the only key of its scheme's venue) whose policy caps the notional
    /// and names no `[mark_prices]` of its own. A key two defaults give
    /// different sources is an error; a default naming no key here is left
    /// unused.
    pub fn default_mark_prices(&mut self, defaults: &[DefaultMarks]) -> Result<(), String> {
        let mut chosen: BTreeMap<String, &MarkSource> = BTreeMap::new();
        for default in defaults {
            let Ok(key) = self.find(default.key.as_deref(), default.scheme) else {
                continue;
            };
            match chosen.get(&key.name) {
                Some(source) if **source != default.source => {
                    return Err(format!(
                        "key {:?} is given two default mark sources: {} and {}",
                        key.name, source.url, default.source.url
                    ));
                }
                Some(_) => {}
                None => {
                    chosen.insert(key.name.clone(), &default.source);
                }
            }
        }
        for key in &mut self.keys {
            if let Some(source) = chosen.get(&key.name) {
                key.policy.default_mark_prices(source);
            }
        }
        Ok(())
    }

    /// Every key.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// The key a request for `scheme` names, or the only key of its venue.
    pub fn find(&self, name: Option<&str>, scheme: Scheme) -> Result<&Key, Refusal> {
        let key = match name {
            Some(name) => self
                .keys
                .iter()
                .find(|key| key.name == name)
                .ok_or_else(|| {
                    Refusal::BadRequest(format!(
                        "no key named {name:?} (keys: {})",
                        self.names(|_| true)
                    ))
                })?,
            None => {
                let mut of_venue = self.keys.iter().filter(|key| key.venue == scheme.venue());
                match (of_venue.next(), of_venue.next()) {
                    (Some(key), None) => key,
                    (None, _) => {
                        return Err(Refusal::BadRequest(format!(
                            "no {} key for scheme {}",
                            scheme.venue(),
                            scheme.name()
                        )));
                    }
                    (Some(_), Some(_)) => {
                        return Err(Refusal::BadRequest(format!(
                            "several keys sign {} ({}): name one with `key`",
                            scheme.name(),
                            self.names(|key| key.venue == scheme.venue())
                        )));
                    }
                }
            }
        };
        if key.venue != scheme.venue() {
            return Err(Refusal::WrongVenue {
                key: key.name.clone(),
                venue: key.venue,
                scheme: scheme.name(),
            });
        }
        Ok(key)
    }

    fn names(&self, filter: impl Fn(&Key) -> bool) -> String {
        let names: Vec<&str> = self
            .keys
            .iter()
            .filter(|key| filter(key))
            .map(|key| key.name.as_str())
            .collect();
        names.join(", ")
    }
}

fn load_entry(
    path: &Path,
    folder: &Path,
    entry: KeyEntry,
    unlock: &Unlock,
) -> Result<Key, KeyringError> {
    let wrong = |reason: String| KeyringError::Entry {
        path: path.to_owned(),
        name: entry.name.clone(),
        reason,
    };
    let file = folder.join(&entry.file);
    let table = entry.policy.clone().unwrap_or_default();
    let (material, policy) = match entry.venue {
        Venue::Hyperliquid => {
            if entry.api_key.is_some() || entry.algorithm.is_some() {
                return Err(wrong(
                    "a hyperliquid key has no `api_key` or `algorithm` (it is secp256k1)"
                        .to_owned(),
                ));
            }
            let policy = hyperliquid::Policy::from_table(table)
                .map_err(|error| wrong(format!("policy: {error}")))?;
            (
                Material::Secp256k1(load_key(&file, unlock)?),
                KeyPolicy::Hyperliquid(policy),
            )
        }
        Venue::BinanceUsdm | Venue::Bybit => {
            let api_key = entry
                .api_key
                .clone()
                .filter(|api_key| !api_key.trim().is_empty())
                .ok_or_else(|| wrong("`api_key` is required (the venue's key id)".to_owned()))?;
            let secret = match (entry.venue, entry.algorithm.as_deref()) {
                (_, Some("hmac-sha256")) => ApiSecret::Hmac(load_hmac_secret(&file, unlock)?),
                (Venue::BinanceUsdm, Some("ed25519")) => {
                    ApiSecret::Ed25519(Box::new(load_ed25519(&file, unlock)?))
                }
                (venue, algorithm) => {
                    let allowed = if venue == Venue::Bybit {
                        "\"hmac-sha256\""
                    } else {
                        "\"hmac-sha256\" or \"ed25519\""
                    };
                    return Err(wrong(format!(
                        "algorithm {algorithm:?}: a {venue} key's algorithm is {allowed}"
                    )));
                }
            };
            let policy = api::Policy::from_table(table)
                .map_err(|error| wrong(format!("policy: {error}")))?;
            (
                Material::Api(ApiKey::new(&api_key, secret)),
                KeyPolicy::Api(policy),
            )
        }
    };
    Ok(Key {
        name: entry.name,
        venue: entry.venue,
        material,
        policy,
    })
}
