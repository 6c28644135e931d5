//! What the signer signs, per scheme: each module reads its scheme's fields
//! strictly, tells the policy what the request would do, and builds the
//! bytes to sign itself (never an opaque digest or string it cannot judge).
//!
//! * [`hyperliquid`] — `hyperliquid-l1`: an L1 action, msgpack-hashed and
//!   signed with EIP-712 (secp256k1).
//! * [`binance`] — `binance-rest` and `binance-ws-api`: USDⓈ-M futures
//!   requests signed with HMAC-SHA256 or Ed25519.
//! * [`bybit`] — `bybit-rest` and `bybit-ws-auth`: v5 requests and socket
//!   authentication signed with HMAC-SHA256.
//! * [`form`] — the query-string encoding the API-key venues sign.

pub mod binance;
pub mod bybit;
pub mod form;
pub mod hyperliquid;

use std::fmt;

/// A venue a key belongs to; its schemes are the only ones the key signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
pub enum Venue {
    /// Hyperliquid (secp256k1 keys).
    #[serde(rename = "hyperliquid")]
    Hyperliquid,
    /// Binance USDⓈ-M futures (HMAC-SHA256 or Ed25519 keys).
    #[serde(rename = "binance-usdm")]
    BinanceUsdm,
    /// Bybit v5 (HMAC-SHA256 keys).
    #[serde(rename = "bybit")]
    Bybit,
}

impl Venue {
    /// The name used in keyring files.
    pub fn as_str(self) -> &'static str {
        match self {
            Venue::Hyperliquid => "hyperliquid",
            Venue::BinanceUsdm => "binance-usdm",
            Venue::Bybit => "bybit",
        }
    }
}

impl fmt::Display for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scheme: what a request's fields mean and which bytes are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `hyperliquid-l1`.
    HyperliquidL1,
    /// `binance-rest`: a signed REST request (query and form body).
    BinanceRest,
    /// `binance-ws-api`: a WebSocket API request (parameters sorted).
    BinanceWsApi,
    /// `bybit-rest`: a v5 REST request.
    BybitRest,
    /// `bybit-ws-auth`: the `auth` op of a private or trade socket.
    BybitWsAuth,
}

impl Scheme {
    /// Every scheme.
    pub const ALL: [Scheme; 5] = [
        Scheme::HyperliquidL1,
        Scheme::BinanceRest,
        Scheme::BinanceWsApi,
        Scheme::BybitRest,
        Scheme::BybitWsAuth,
    ];

    /// The scheme with this wire name.
    pub fn from_name(name: &str) -> Option<Scheme> {
        Scheme::ALL.into_iter().find(|scheme| scheme.name() == name)
    }

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::HyperliquidL1 => "hyperliquid-l1",
            Scheme::BinanceRest => "binance-rest",
            Scheme::BinanceWsApi => "binance-ws-api",
            Scheme::BybitRest => "bybit-rest",
            Scheme::BybitWsAuth => "bybit-ws-auth",
        }
    }

    /// The venue whose keys sign it.
    pub fn venue(self) -> Venue {
        match self {
            Scheme::HyperliquidL1 => Venue::Hyperliquid,
            Scheme::BinanceRest | Scheme::BinanceWsApi => Venue::BinanceUsdm,
            Scheme::BybitRest | Scheme::BybitWsAuth => Venue::Bybit,
        }
    }
}

/// The wire names of every scheme, for error messages.
pub fn scheme_names() -> String {
    Scheme::ALL.map(Scheme::name).join(", ")
}

/// Why one request was not signed.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Malformed: fix the request.
    #[error("{0}")]
    BadRequest(String),
    /// A Hyperliquid key's policy refused it.
    #[error(transparent)]
    Hyperliquid(#[from] crate::policy::hyperliquid::PolicyViolation),
    /// An API key's policy refused it.
    #[error(transparent)]
    Api(#[from] crate::policy::api::PolicyViolation),
    /// The named key does not sign this scheme.
    #[error("key {key:?} is a {venue} key and does not sign {scheme} (rule: key venue)")]
    WrongVenue {
        /// The key's name.
        key: String,
        /// The key's venue.
        venue: Venue,
        /// The scheme asked for.
        scheme: &'static str,
    },
    /// The signer failed.
    #[error("{0}")]
    Internal(String),
}

impl Refusal {
    /// The protocol's error code for it.
    pub fn code(&self) -> crate::protocol::ErrorCode {
        use crate::protocol::ErrorCode;
        match self {
            Refusal::BadRequest(_) => ErrorCode::BadRequest,
            Refusal::Hyperliquid(_) | Refusal::Api(_) | Refusal::WrongVenue { .. } => {
                ErrorCode::PolicyDenied
            }
            Refusal::Internal(_) => ErrorCode::Internal,
        }
    }
}

/// Reads a scheme's fields strictly (unknown keys refused).
fn read_fields<T: serde::de::DeserializeOwned>(fields: serde_json::Value) -> Result<T, Refusal> {
    serde_json::from_value(fields)
        .map_err(|error| Refusal::BadRequest(format!("invalid request: {error}")))
}

/// One REST endpoint a venue module signs: method, path, and the kind of
/// request it is.
type Endpoint = (&'static str, &'static str, crate::policy::api::RequestKind);

/// The kind of the request `method path`, or the refusal of an endpoint the
/// venue module does not know.
fn endpoint_kind(
    endpoints: &[Endpoint],
    method: &str,
    path: &str,
    venue: &'static str,
) -> Result<crate::policy::api::RequestKind, Refusal> {
    endpoints
        .iter()
        .find(|(known_method, known_path, _)| *known_method == method && *known_path == path)
        .map(|(_, _, kind)| *kind)
        .ok_or_else(|| unknown(format!("{method} {path}"), venue))
}

/// The refusal of a request a venue module does not know.
fn unknown(what: String, venue: &'static str) -> Refusal {
    crate::policy::api::PolicyViolation::Unknown { what, venue }.into()
}

/// A request field that must be a decimal number.
fn decimal(name: &str, text: &str) -> Result<rust_decimal::Decimal, Refusal> {
    text.parse()
        .map_err(|_| Refusal::BadRequest(format!("`{name}` {text:?} is not a decimal number")))
}

/// A parameter that must be a non-negative integer (a time in ms).
fn integer(name: &str, text: &str) -> Result<u64, Refusal> {
    text.parse().map_err(|_| {
        Refusal::BadRequest(format!("`{name}` {text:?} is not a non-negative integer"))
    })
}
