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
use serde::Deserialize;
use serde_json::{Value, json};

use crate::public::{PING_MS, control};
use crate::records::{self, ExecutionRecord, OrderRecord};
use crate::socket_auth::SocketAuth;

/// The private connection's id.
pub const CONNECTION: &str = "private";

/// The topics subscribed after `auth`.
const TOPICS: [&str; 4] = ["order", "execution", "position", "wallet"];

/// How an `order` and an `execution` frame name their topic.
const ORDER_TOPIC: &str = r#""topic":"order""#;
const EXECUTION_TOPIC: &str = r#""topic":"execution""#;

/// A topic frame's records.
#[derive(Deserialize)]
struct Topic<T> {
    data: Vec<T>,
}

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

    /// An `order` or `execution` frame read straight into its records (the
    /// bulk of the account traffic); `None` for any other frame, or one
    /// that does not read so, which goes the general way.
    pub fn on_record_text(&self, frame: &str) -> Option<Result<Vec<Output_NE>, PluginError>> {
        let events: Result<Vec<Option<Event>>, PluginError> = if frame.contains(ORDER_TOPIC) {
            let frame: Topic<OrderRecord> = serde_json::from_str(frame).ok()?;
            frame
                .data
                .iter()
                .map(|record| records::order(record, false).map(Some))
                .collect()
        } else if frame.contains(EXECUTION_TOPIC) {
            let frame: Topic<ExecutionRecord> = serde_json::from_str(frame).ok()?;
            frame
                .data
                .iter()
                .map(|record| records::fill(record, false))
                .collect()
        } else {
            return None;
        };
        Some(events.map(|events| events.into_iter().flatten().map(event).collect()))
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
                let orders: Vec<OrderRecord> = records::read_list(&message["data"], "order")?;
                for record in &orders {
                    events.push(records::order(record, false)?);
                }
            }
            "execution" => {
                let executions: Vec<ExecutionRecord> =
                    records::read_list(&message["data"], "execution")?;
                for record in &executions {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed path gives what the general path gives, and leaves a frame
    /// it cannot read to the general path.
    #[test]
    fn account_frames_read_the_same_either_way() {
        let private = Private::new("ws://venue", "key");
        let mut general_reader = Private::new("ws://venue", "key");
        let order = r#"{"topic":"order","id":"1","creationTime":1700000000000,"data":[{"orderId":"o1","orderLinkId":"0x01","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","price":"100","qty":"0.01","leavesQty":"0","cumExecQty":"0.01","orderStatus":"Filled","rejectReason":"EC_NoError","cancelType":"UNKNOWN","updatedTime":"1700000000001"}]}"#;
        let execution = r#"{"topic":"execution","id":"2","creationTime":1700000000000,"data":[{"execId":"e1","orderId":"o1","orderLinkId":"0x01","symbol":"BTCUSDT","side":"Buy","execPrice":"100","execQty":"0.01","execFee":"0.0006","feeCurrency":"USDT","isMaker":false,"execType":"Trade","execTime":"1700000000001"}]}"#;
        for frame in [order, execution] {
            let typed = private.on_record_text(frame).expect("typed").unwrap();
            let general = general_reader
                .on_frame(&serde_json::from_str(frame).unwrap())
                .unwrap();
            assert_eq!(typed, general, "{frame}");
            assert_eq!(typed.len(), 1);
        }
        let broken = r#"{"topic":"order","data":[{"orderId":"o1"}]}"#;
        assert!(private.on_record_text(broken).is_none());
        assert!(private.on_record_text(r#"{"op":"pong"}"#).is_none());
    }
}
