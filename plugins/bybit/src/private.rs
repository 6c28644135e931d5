//! The private socket (`/v5/private`): once up, an `auth` op signed by
//! the signer (`GET/realtime` + expiry), and only after its success the
//! `order`, `execution`, `position` and `wallet` topics. Every new
//! connection is an account connection to the host, which refills what it
//! may have missed.

use abi_stable::std_types::RVec;
use plugin_api::{
    ConnectionKind, ConnectionSpec, Event, Event_NE, Output, Output_NE, PluginError, Stream,
    StreamKind,
};
use serde_json::{Value, json};

use crate::public::{PING_MS, control};
use crate::records;
use crate::socket_auth::SocketAuth;

/// The private connection's id.
pub const CONNECTION: &str = "private";

/// The topics subscribed after `auth`.
const TOPICS: [&str; 4] = ["order", "execution", "position", "wallet"];

/// The topic whose subscribers keep disconnection protection from firing.
const DCP_TOPIC: &str = "dcp";

/// The private socket and its authentication.
pub struct Private {
    url: String,
    opened: bool,
    auth: SocketAuth,
    /// Whether `auth` succeeded on the connection that is up.
    authed: bool,
    /// Whether `dcp` is subscribed (or is to be, once authenticated).
    dcp: bool,
}

fn out(output: Output) -> Output_NE {
    Output_NE::new(output)
}

fn send(text: String) -> Output_NE {
    out(Output::Send {
        connection: CONNECTION.into(),
        text: text.into(),
        job: None.into(),
        costs: RVec::new(),
    })
}

fn event(event: Event) -> Output_NE {
    out(Output::Event(Event_NE::new(event)))
}

impl Private {
    /// The private socket at `stream_url` for the account `api_key`.
    pub fn new(stream_url: &str, api_key: &str) -> Private {
        Private {
            url: format!("{stream_url}/v5/private"),
            opened: false,
            auth: SocketAuth::new(api_key, 0),
            authed: false,
            dcp: false,
        }
    }

    /// Whether `job` is this socket's (its `auth`).
    pub fn owns(&self, job: u64) -> bool {
        self.auth.owns(job)
    }

    /// The host wants the account streams: the socket opens once.
    pub fn subscribe(&mut self, streams: &[Stream], subscribe: bool) -> Vec<Output_NE> {
        let account = [StreamKind::ORDERS, StreamKind::FILLS, StreamKind::ACCOUNT];
        if !subscribe || self.opened || !streams.iter().any(|s| account.contains(&s.kind)) {
            return Vec::new();
        }
        self.opened = true;
        vec![out(Output::Open(ConnectionSpec {
            id: CONNECTION.into(),
            kind: ConnectionKind::USER,
            url: self.url.as_str().into(),
            ping_frame: Some(r#"{"op":"ping"}"#.into()).into(),
            ping_interval_ms: PING_MS,
            idle_timeout_ms: 3 * PING_MS,
            max_lifetime_ms: None.into(),
        }))]
    }

    /// Up: have the `auth` signed. Down: a later `auth` starts over.
    pub fn on_connection(&mut self, up: bool, now_ms: u64) -> Vec<Output_NE> {
        self.authed = false;
        if !up {
            self.auth.reset();
            return Vec::new();
        }
        vec![self.auth.start(now_ms)]
    }

    /// The `auth` signature: send the op.
    pub fn on_signed(&mut self, job: u64, signature: &[u8]) -> Vec<Output_NE> {
        self.auth
            .frame(job, signature)
            .map(send)
            .into_iter()
            .collect()
    }

    /// The `auth` could not be signed: the socket cannot serve the
    /// account; the host is told to drop and reconnect it.
    pub fn auth_failed(&mut self, reason: &str) -> Vec<Output_NE> {
        self.auth.reset();
        vec![event(Event::Notice {
            text: format!("bybit private socket not authenticated: {reason}").into(),
            fatal: true,
        })]
    }

    /// Subscribes `dcp` (or lets it go): at once when authenticated, else
    /// after the next `auth`.
    pub fn set_dcp(&mut self, on: bool) -> Vec<Output_NE> {
        if std::mem::replace(&mut self.dcp, on) == on || !self.authed {
            return Vec::new();
        }
        let op = if on { "subscribe" } else { "unsubscribe" };
        vec![send(json!({"op": op, "args": [DCP_TOPIC]}).to_string())]
    }

    /// One frame.
    pub fn on_frame(&mut self, message: &Value) -> Result<Vec<Output_NE>, PluginError> {
        let Some(topic) = message.get("topic").and_then(Value::as_str) else {
            if message.get("op").and_then(Value::as_str) == Some("auth") {
                return Ok(
                    if message.get("success").and_then(Value::as_bool) == Some(true) {
                        self.authed = true;
                        let mut topics = TOPICS.to_vec();
                        if self.dcp {
                            topics.push(DCP_TOPIC);
                        }
                        vec![send(json!({"op": "subscribe", "args": topics}).to_string())]
                    } else {
                        let said = message
                            .get("ret_msg")
                            .and_then(Value::as_str)
                            .unwrap_or("refused");
                        self.auth_failed(said)
                    },
                );
            }
            return Ok(control(message).into_iter().map(event).collect());
        };
        let data = message
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                PluginError::malformed(format!("bybit `{topic}` without a data list"))
            })?;
        let time_ms = records::millis(message, "creationTime").unwrap_or(0);
        let mut events = Vec::new();
        match topic.split('.').next().unwrap_or(topic) {
            "order" => {
                for record in data {
                    events.push(records::order(record, false)?);
                }
            }
            "execution" => {
                for record in data {
                    events.extend(records::fill(record, false)?);
                }
            }
            "position" => events.push(records::positions(data, false, time_ms)?),
            "wallet" => {
                for wallet in data {
                    events.extend(records::balances(wallet, time_ms)?);
                }
            }
            other => {
                events.push(Event::Notice {
                    text: format!("bybit topic not asked for: {other}").into(),
                    fatal: false,
                });
            }
        }
        Ok(events.into_iter().map(event).collect())
    }
}
