//! The wire protocol between a signer and its clients: one JSON object per line
//! each way. Shared by the signer process and by clients such as the host; it
//! does no I/O. `docs/signer-protocol.md` is the full specification.
//!
//! The protocol is the same for every scheme: a request names its `scheme`
//! (and, when the signer holds several keys, its `key`), and carries the
//! scheme's fields; a response carries the raw signature bytes. What each
//! scheme signs lives in the signer's `schemes` module. No signing code is
//! needed to use this module.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest request line accepted, in bytes, not counting the newline. A longer
/// line gets a `bad_request` response and the connection is closed.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The exit code of `connector-signer serve` when another process already
/// serves on its socket (BSD's `EX_TEMPFAIL`): the one start-up failure a
/// parent should retry, as a signer left by a killed host exits within a
/// moment. Every other failure exits 1.
pub const EXIT_SOCKET_IN_USE: u8 = 75;

/// How `connector-signer` begins the one line on standard error that says
/// why it stopped (a parent that started it reports that line itself).
pub const FATAL_LINE_PREFIX: &str = "connector-signer: ";

/// A request id: any JSON number or string, echoed back as is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// A JSON number.
    Number(serde_json::Number),
    /// A JSON string.
    Text(String),
}

impl RequestId {
    /// The id of a parsed request object, if it has a readable one (a number or
    /// a string under `"id"`).
    pub fn of_request(request: &Value) -> Option<Self> {
        match request.get("id")? {
            Value::Number(number) => Some(RequestId::Number(number.clone())),
            Value::String(text) => Some(RequestId::Text(text.clone())),
            _ => None,
        }
    }
}

impl From<u64> for RequestId {
    fn from(id: u64) -> Self {
        RequestId::Number(id.into())
    }
}

impl From<String> for RequestId {
    fn from(id: String) -> Self {
        RequestId::Text(id)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(number) => write!(f, "{number}"),
            RequestId::Text(text) => write!(f, "{text:?}"),
        }
    }
}

/// A request as every scheme shares it: `id`, the optional `key` name and
/// the `scheme`, plus the scheme's own fields, which the scheme reads
/// strictly (`docs/signer-protocol.md`, section 2).
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Echoed in the response.
    pub id: RequestId,
    /// The name of the key to sign with; `None` when the signer has one key
    /// for the scheme.
    pub key: Option<String>,
    /// What is signed, e.g. `hyperliquid-l1` or `binance-rest`.
    pub scheme: String,
    /// The scheme's fields: everything but `id`, `key` and `scheme`.
    pub fields: Value,
}

impl Envelope {
    /// Splits a request object into the shared fields and the scheme's.
    pub fn from_value(value: Value) -> Result<Envelope, String> {
        let Value::Object(mut fields) = value else {
            return Err("a request is a JSON object".to_owned());
        };
        let id = fields
            .remove("id")
            .ok_or("missing field `id`")
            .and_then(|id| {
                serde_json::from_value(id).map_err(|_| "`id` must be a number or a string")
            })?;
        let key = match fields.remove("key") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name),
            Some(_) => return Err("`key` must be a string".to_owned()),
        };
        let scheme = match fields.remove("scheme") {
            Some(Value::String(scheme)) => scheme,
            Some(_) => return Err("`scheme` must be a string".to_owned()),
            None => return Err("missing field `scheme`".to_owned()),
        };
        Ok(Envelope {
            id,
            key,
            scheme,
            fields: Value::Object(fields),
        })
    }
}

/// What a successful response carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The signature's raw bytes: `r ‖ s ‖ v` (65 bytes) for secp256k1, the
    /// 32-byte MAC for HMAC-SHA256, 64 bytes for Ed25519. Written as `0x` +
    /// lower-case hex.
    pub signature: Vec<u8>,
    /// Who signed: the key's address (secp256k1) or its API key.
    pub signer: String,
    /// For schemes that hash an action first (`hyperliquid-l1`: the L1
    /// connection id), that hash, `0x` + 64 hex digits, so that a client can
    /// check the signer hashed what it meant to send.
    pub action_hash: Option<String>,
}

/// Why a request was not signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Malformed JSON, missing, unknown or ill-typed fields, an unknown scheme,
    /// an unparseable action, or a line over [`MAX_LINE_BYTES`].
    BadRequest,
    /// A well-formed request the policy does not allow; the message names the rule.
    PolicyDenied,
    /// The signer failed; the request may be retried.
    Internal,
    /// The connecting user (its uid) may not use this signer; sent once,
    /// with no id, before the connection is closed.
    NotAllowed,
}

impl ErrorCode {
    /// The wire name (`"bad_request"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::PolicyDenied => "policy_denied",
            ErrorCode::Internal => "internal",
            ErrorCode::NotAllowed => "not_allowed",
        }
    }
}

/// The `error` object of a failed response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// Machine-readable reason.
    pub code: ErrorCode,
    /// Human-readable detail.
    pub message: String,
}

/// One response line: `{"id", "ok": true, "signature", "signer"}` (and
/// `action_hash` where the scheme has one) or `{"id", "ok": false, "error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The request's id; `None` (JSON `null`) when it could not be read.
    pub id: Option<RequestId>,
    /// The signature, or why there is none.
    pub result: Result<Signed, ErrorBody>,
}

impl Response {
    /// A failed response.
    pub fn failure(id: Option<RequestId>, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            id,
            result: Err(ErrorBody {
                code,
                message: message.into(),
            }),
        }
    }

    /// The response as one line of JSON, newline included.
    pub fn to_json_line(&self) -> Vec<u8> {
        // Serializing these types into memory cannot fail; the fallback keeps the
        // one-response-per-request promise even so.
        let mut line = serde_json::to_vec(self).unwrap_or_else(|_| {
            br#"{"id":null,"ok":false,"error":{"code":"internal","message":"response encoding failed"}}"#
                .to_vec()
        });
        line.push(b'\n');
        line
    }
}

/// Field-by-field wire form of [`Response`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseWire {
    id: Option<RequestId>,
    ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    action_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<ErrorBody>,
}

impl Serialize for Response {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let wire = match &self.result {
            Ok(signed) => ResponseWire {
                id: self.id.clone(),
                ok: true,
                signature: Some(format!("0x{}", hex::encode(&signed.signature))),
                signer: Some(signed.signer.clone()),
                action_hash: signed.action_hash.clone(),
                error: None,
            },
            Err(error) => ResponseWire {
                id: self.id.clone(),
                ok: false,
                signature: None,
                signer: None,
                action_hash: None,
                error: Some(error.clone()),
            },
        };
        wire.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Response {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = ResponseWire::deserialize(deserializer)?;
        let result = match wire {
            ResponseWire {
                ok: true,
                signature: Some(signature),
                signer: Some(signer),
                action_hash,
                error: None,
                ..
            } => {
                let signature = signature
                    .strip_prefix("0x")
                    .and_then(|digits| hex::decode(digits).ok())
                    .ok_or_else(|| de::Error::custom("`signature` is not 0x-prefixed hex"))?;
                Ok(Signed {
                    signature,
                    signer,
                    action_hash,
                })
            }
            ResponseWire {
                ok: false,
                signature: None,
                signer: None,
                action_hash: None,
                error: Some(error),
                ..
            } => Err(error),
            _ => {
                return Err(de::Error::custom(
                    "a response has `ok: true` with `signature` and `signer`, \
                     or `ok: false` with `error`",
                ));
            }
        };
        Ok(Response {
            id: wire.id,
            result,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_split_shared_fields_from_the_schemes() {
        let value =
            serde_json::json!({"id": 1, "key": "hl", "scheme": "hyperliquid-l1", "nonce": 5});
        let envelope = Envelope::from_value(value).unwrap();
        assert_eq!(envelope.id, RequestId::from(1));
        assert_eq!(envelope.key.as_deref(), Some("hl"));
        assert_eq!(envelope.scheme, "hyperliquid-l1");
        assert_eq!(envelope.fields, serde_json::json!({"nonce": 5}));

        for (bad, expected) in [
            ("[1]", "a request is a JSON object"),
            (r#"{"scheme":"x"}"#, "missing field `id`"),
            (
                r#"{"id":[],"scheme":"x"}"#,
                "`id` must be a number or a string",
            ),
            (r#"{"id":1}"#, "missing field `scheme`"),
            (r#"{"id":1,"scheme":2}"#, "`scheme` must be a string"),
            (r#"{"id":1,"scheme":"x","key":3}"#, "`key` must be a string"),
        ] {
            let value = serde_json::from_str(bad).unwrap();
            assert_eq!(Envelope::from_value(value).unwrap_err(), expected, "{bad}");
        }
    }

    #[test]
    fn responses_round_trip_and_refuse_mixed_shapes() {
        let failure = Response::failure(None, ErrorCode::PolicyDenied, "no");
        let line = failure.to_json_line();
        assert_eq!(
            line,
            b"{\"id\":null,\"ok\":false,\"error\":{\"code\":\"policy_denied\",\"message\":\"no\"}}\n"
        );
        assert_eq!(serde_json::from_slice::<Response>(&line).unwrap(), failure);

        let signed = Response {
            id: Some(RequestId::from("x".to_owned())),
            result: Ok(Signed {
                signature: vec![1, 2, 255],
                signer: "0x04".to_owned(),
                action_hash: Some(format!("0x{}", "03".repeat(32))),
            }),
        };
        let line = signed.to_json_line();
        let text = String::from_utf8(line.clone()).unwrap();
        assert_eq!(
            text,
            format!(
                "{{\"id\":\"x\",\"ok\":true,\"signature\":\"0x0102ff\",\"signer\":\"0x04\",\"action_hash\":\"0x{}\"}}\n",
                "03".repeat(32)
            )
        );
        assert_eq!(serde_json::from_slice::<Response>(&line).unwrap(), signed);

        for bad in [
            r#"{"id":1,"ok":true}"#,
            r#"{"id":1,"ok":true,"signature":"0102","signer":"a"}"#,
            r#"{"id":1,"ok":false}"#,
            r#"{"id":1,"ok":false,"error":{"code":"nope","message":""}}"#,
        ] {
            assert!(serde_json::from_str::<Response>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_are_read_only_from_numbers_and_strings() {
        let id = |text: &str| RequestId::of_request(&serde_json::from_str(text).unwrap());
        assert_eq!(id(r#"{"id":-1.5}"#).unwrap().to_string(), "-1.5");
        assert_eq!(id(r#"{"id":"7"}"#), Some(RequestId::Text("7".into())));
        assert_eq!(id(r#"{"id":[1]}"#), None);
        assert_eq!(id(r#"{"x":1}"#), None);
        assert_eq!(id("[1]"), None);
    }
}
