//! The `auth` op of Bybit's private and trade sockets: an expiry on
//! Bybit's clock signed by the signer (`GET/realtime` + expiry), sent as
//! `{"op":"auth","args":[api key, expiry, signature]}`.

use abi_stable::std_types::RVec;
use plugin_api::{Output, Output_NE, SESSION_JOB, SignRequest};
use serde_json::json;

use crate::manifest::AUTH_SCHEME;

/// How long an `auth` signature stays valid, ms.
const AUTH_VALIDITY_MS: u64 = 10_000;

/// One socket's authentication: the signing job under way, if any.
pub struct SocketAuth {
    api_key: String,
    /// Set in this socket's job ids besides `SESSION_JOB`.
    job_bit: u64,
    next_job: u64,
    /// The job under way: its id and expiry.
    pending: Option<(u64, u64)>,
}

impl SocketAuth {
    /// The authentication of a socket of `api_key`, its jobs marked
    /// `job_bit` (no other job of the plugin has it).
    pub fn new(api_key: &str, job_bit: u64) -> SocketAuth {
        SocketAuth {
            api_key: api_key.to_owned(),
            job_bit,
            next_job: 0,
            pending: None,
        }
    }

    /// Whether `job` is the signing under way.
    pub fn owns(&self, job: u64) -> bool {
        self.pending.is_some_and(|(id, _)| id == job)
    }

    /// The socket is up: have an expiry `venue_now_ms` + 10 s signed.
    pub fn start(&mut self, venue_now_ms: u64) -> Output_NE {
        self.next_job += 1;
        let job = SESSION_JOB | self.job_bit | self.next_job;
        let expires = venue_now_ms + AUTH_VALIDITY_MS;
        self.pending = Some((job, expires));
        Output_NE::new(Output::Sign {
            job,
            request: SignRequest {
                scheme: AUTH_SCHEME.into(),
                payload: json!({"api_key": self.api_key, "expires": expires})
                    .to_string()
                    .into(),
            },
            costs: RVec::new(),
        })
    }

    /// The `auth` frame of the signing `job`, if it is the one under way.
    pub fn frame(&self, job: u64, signature: &[u8]) -> Option<String> {
        let (id, expires) = self.pending?;
        (id == job).then(|| {
            json!({"op": "auth", "args": [self.api_key, expires, hex::encode(signature)]})
                .to_string()
        })
    }

    /// The socket went down, or the signing failed: a later `auth` starts
    /// over.
    pub fn reset(&mut self) {
        self.pending = None;
    }
}
