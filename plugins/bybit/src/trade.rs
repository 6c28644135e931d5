//! The trade socket (`/v5/trade`), for an exchange configured with
//! `order_transport = "websocket"`: authenticated as the private socket
//! is, then one order, amend or cancel per request — `order.create`,
//! `order.amend`, `order.cancel` with the REST call's body and its
//! timestamp and window in a `header` — each answered under its `reqId`
//! with the REST envelope's fields (`data` for `result`) and the rate-limit
//! count in a `header`. Batches, cancel-all and reads stay on REST, as does
//! everything while the socket is not authenticated.

use std::collections::HashSet;

use abi_stable::std_types::{RString, RVec, Tuple2};
use bybit_core::auth::{RECV_WINDOW_HEADER, TIMESTAMP_HEADER};
use plugin_api::{ConnectionKind, ConnectionSpec, Output, Output_NE, Response};
use serde_json::{Value, json};

use crate::public::PING_MS;
use crate::rest::Call;
use crate::socket_auth::SocketAuth;

/// The trade connection's id.
pub const CONNECTION: &str = "trade";

/// The trade socket's `auth` jobs have this bit set besides `SESSION_JOB`.
const TRADE_JOB: u64 = 1 << 41;

/// What a frame on the trade socket was.
pub enum TradeFrame {
    /// The answer to `auth`: authenticated, or refused with Bybit's words.
    Auth(Result<(), String>),
    /// The answer to the request of `job`, as its REST call would have
    /// been answered.
    Answer {
        /// The job.
        job: u64,
        /// The answer.
        response: Response,
    },
    /// A pong, or an answer to a request no longer waited for.
    Nothing,
}

/// The trade socket: opened on first use, authenticated, and the
/// requests written on it not yet answered.
pub struct Trade {
    url: String,
    opened: bool,
    auth: SocketAuth,
    authed: bool,
    /// Jobs whose request was written and not answered yet.
    pending: HashSet<u64>,
}

impl Trade {
    /// The trade socket at `stream_url` for the account `api_key`.
    pub fn new(stream_url: &str, api_key: &str) -> Trade {
        Trade {
            url: format!("{stream_url}/v5/trade"),
            opened: false,
            auth: SocketAuth::new(api_key, TRADE_JOB),
            authed: false,
            pending: HashSet::new(),
        }
    }

    /// Whether `job` is this socket's (its `auth`).
    pub fn owns(&self, job: u64) -> bool {
        self.auth.owns(job)
    }

    /// The host prefers the socket: open it once. Until it is
    /// authenticated, requests go over REST.
    pub fn open(&mut self) -> Option<Output_NE> {
        if std::mem::replace(&mut self.opened, true) {
            return None;
        }
        Some(Output_NE::new(Output::Open(ConnectionSpec {
            id: CONNECTION.into(),
            kind: ConnectionKind::TRADING,
            url: self.url.as_str().into(),
            ping_frame: Some(r#"{"op":"ping"}"#.into()).into(),
            ping_interval_ms: PING_MS,
            idle_timeout_ms: 3 * PING_MS,
            max_lifetime_ms: None.into(),
        })))
    }

    /// The request of `job` for `call` over the socket, stamped
    /// `timestamp` and valid `recv_window` ms — if the socket is
    /// authenticated and the call is one it takes.
    pub fn request(
        &mut self,
        job: u64,
        call: &Call,
        timestamp: u64,
        recv_window: u64,
    ) -> Option<Output_NE> {
        let op = call.socket_op().filter(|_| self.authed)?;
        let body: Value = serde_json::from_str(call.body.as_deref()?).ok()?;
        let frame = json!({
            "reqId": job.to_string(),
            "header": {
                TIMESTAMP_HEADER: timestamp.to_string(),
                RECV_WINDOW_HEADER: recv_window.to_string(),
            },
            "op": op,
            "args": [body],
        });
        self.pending.insert(job);
        Some(Output_NE::new(Output::Send {
            connection: CONNECTION.into(),
            text: frame.to_string().into(),
            job: Some(job).into(),
            costs: call.socket_costs(),
        }))
    }

    /// The job is over without the socket's answer (not written, given
    /// up on): a late answer is ignored.
    pub fn forget(&mut self, job: u64) {
        self.pending.remove(&job);
    }

    /// Up: have the `auth` signed. Down: the requests still unanswered
    /// may or may not have been carried out — their jobs, to be finished
    /// as unknown.
    pub fn on_connection(&mut self, up: bool, venue_now_ms: u64) -> (Option<Output_NE>, Vec<u64>) {
        self.authed = false;
        let lost = self.pending.drain().collect();
        if !up {
            self.auth.reset();
            return (None, lost);
        }
        (Some(self.auth.start(venue_now_ms)), lost)
    }

    /// The `auth` signature: the op to send (on no job: its answer comes
    /// back as a frame).
    pub fn on_signed(&mut self, job: u64, signature: &[u8]) -> Option<Output_NE> {
        let frame = self.auth.frame(job, signature)?;
        Some(Output_NE::new(Output::Send {
            connection: CONNECTION.into(),
            text: frame.into(),
            job: None.into(),
            costs: RVec::new(),
        }))
    }

    /// The `auth` could not be signed: requests stay on REST until the
    /// next connection.
    pub fn auth_failed(&mut self) {
        self.auth.reset();
    }

    /// One frame.
    pub fn on_frame(&mut self, message: &Value) -> TradeFrame {
        let code = message.get("retCode").and_then(Value::as_i64);
        let said = || {
            message
                .get("retMsg")
                .and_then(Value::as_str)
                .unwrap_or("refused")
                .to_owned()
        };
        if message.get("op").and_then(Value::as_str) == Some("auth") {
            self.authed = code == Some(0);
            return TradeFrame::Auth(if self.authed { Ok(()) } else { Err(said()) });
        }
        let job = message
            .get("reqId")
            .and_then(Value::as_str)
            .and_then(|id| id.parse::<u64>().ok())
            .filter(|job| self.pending.remove(job));
        let Some(job) = job else {
            return TradeFrame::Nothing;
        };
        TradeFrame::Answer {
            job,
            response: as_response(message),
        }
    }
}

/// A trade-socket answer as the REST answer of the same call: the
/// envelope's fields (`data` for `result`) with the `header`'s entries as
/// headers.
fn as_response(message: &Value) -> Response {
    let field = |name: &str| message.get(name).cloned().unwrap_or(Value::Null);
    let body = json!({
        "retCode": field("retCode"),
        "retMsg": field("retMsg"),
        "result": field("data"),
        "retExtInfo": field("retExtInfo"),
    });
    let headers: RVec<Tuple2<RString, RString>> = message
        .get("header")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(name, value)| Some(Tuple2(name.as_str().into(), value.as_str()?.into())))
        .collect();
    Response {
        status: 200,
        body: body.to_string().into(),
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::CREATE;

    fn authed() -> Trade {
        let mut trade = Trade::new("ws://venue", "key");
        assert!(trade.open().is_some());
        assert!(trade.open().is_none(), "opened once");
        let (auth, lost) = trade.on_connection(true, 1_000);
        assert!(auth.is_some() && lost.is_empty());
        let reply = json!({"retCode": 0, "retMsg": "OK", "op": "auth", "connId": "c"});
        assert!(matches!(trade.on_frame(&reply), TradeFrame::Auth(Ok(()))));
        trade
    }

    fn create() -> Call {
        Call::post("/v5/order/create", &json!({"symbol": "BTCUSDT"}), CREATE, 1).unwrap()
    }

    #[test]
    fn a_request_is_the_rest_body_under_its_op_with_the_stamp_in_a_header() {
        let mut trade = authed();
        let Output::Send {
            connection,
            text,
            job,
            costs,
        } = trade
            .request(7, &create(), 1_000, 2_000)
            .unwrap()
            .into_enum()
            .unwrap()
        else {
            panic!("not a frame");
        };
        assert_eq!(
            (connection.as_str(), job.into_option()),
            (CONNECTION, Some(7))
        );
        let frame: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            frame,
            json!({"reqId": "7", "header": {"X-BAPI-TIMESTAMP": "1000", "X-BAPI-RECV-WINDOW": "2000"},
                   "op": "order.create", "args": [{"symbol": "BTCUSDT"}]})
        );
        assert_eq!(costs.as_slice(), [Tuple2(CREATE.into(), 1)], "no IP weight");
        let batch = Call::post("/v5/order/create-batch", &json!({}), CREATE, 1).unwrap();
        assert!(
            trade.request(8, &batch, 1_000, 2_000).is_none(),
            "batches stay on REST"
        );
    }

    #[test]
    fn an_answer_reads_as_the_rest_answer_and_a_drop_loses_what_is_unanswered() {
        let mut trade = authed();
        trade.request(7, &create(), 1_000, 2_000).unwrap();
        trade.request(8, &create(), 1_000, 2_000).unwrap();
        let answer = json!({"reqId": "7", "retCode": 0, "retMsg": "OK", "op": "order.create",
            "data": {"orderId": "o1", "orderLinkId": "l1"}, "retExtInfo": {},
            "header": {"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "9"}});
        let TradeFrame::Answer { job, response } = trade.on_frame(&answer) else {
            panic!("not matched");
        };
        assert_eq!((job, response.status), (7, 200));
        let body: Value = serde_json::from_str(&response.body).unwrap();
        assert_eq!(body["result"]["orderId"], "o1");
        assert!(
            response
                .headers
                .contains(&Tuple2("X-Bapi-Limit-Status".into(), "9".into()))
        );
        assert!(
            matches!(trade.on_frame(&answer), TradeFrame::Nothing),
            "answered once"
        );
        let (auth, lost) = trade.on_connection(false, 2_000);
        assert!(auth.is_none());
        assert_eq!(lost, [8]);
        assert!(
            trade.request(9, &create(), 1_000, 2_000).is_none(),
            "REST until authed"
        );
    }

    #[test]
    fn a_refused_auth_keeps_orders_on_rest() {
        let mut trade = Trade::new("ws://venue", "key");
        trade.on_connection(true, 1_000);
        let refused = json!({"retCode": 10004, "retMsg": "error sign", "op": "auth"});
        let TradeFrame::Auth(Err(said)) = trade.on_frame(&refused) else {
            panic!("not read as a refusal");
        };
        assert_eq!(said, "error sign");
        assert!(trade.request(1, &create(), 1_000, 2_000).is_none());
    }
}
