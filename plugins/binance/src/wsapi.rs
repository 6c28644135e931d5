//! The WebSocket API (`/ws-fapi/v1`), for an exchange configured with
//! `order_transport = "websocket"`: orders, modifies and cancels as
//! `order.place`, `order.modify` and `order.cancel` requests with the REST
//! call's parameters, each answered under its `id` with the REST answer's
//! status and body and the rate-limit counts in `rateLimits`.
//!
//! When the socket comes up the session asks for a `session.logon`
//! signature: an Ed25519 key logs the connection on, and its requests then
//! go unsigned; the signer refuses an HMAC key (Binance logs only Ed25519
//! keys on), whose requests are then signed one by one. Until that is
//! settled, and while the socket is down, orders go over REST.

use std::collections::{HashMap, HashSet};

use abi_stable::std_types::{RString, RVec, Tuple2};
use binance_core::endpoints::ORDER;
use binance_core::{Params, signing};
use plugin_api::{
    ConnectionKind, ConnectionSpec, Output, PluginError, Response, SESSION_JOB, SignRequest,
};
use serde_json::{Map, Value, json};

use crate::config::Config;
use crate::manifest::{BUCKETS, ORDERS_1M, ORDERS_10S, REQUEST_WEIGHT, SOCKET_SCHEME};
use crate::rest::Call;

/// The connection's id.
pub const CONNECTION: &str = "api";

/// The `session.logon` jobs have this bit set besides `SESSION_JOB`.
const LOGON_JOB: u64 = 1 << 43;

/// Parameters Binance types as integers (JSON numbers); the others are
/// strings.
const INTEGER_PARAMS: [&str; 4] = ["timestamp", "recvWindow", "orderId", "goodTillDate"];

/// Binance's protocol ping comes every 3 minutes; a connection silent for
/// three of them is dead.
const IDLE_TIMEOUT_MS: u64 = 9 * 60 * 1000;
/// Binance closes a connection after 24 h; it is replaced before.
const MAX_LIFETIME_MS: u64 = 23 * 60 * 60 * 1000;

/// How the connection's requests are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logon {
    /// Not settled yet (a `session.logon` under way, or the socket down).
    Pending,
    /// Logged on (Ed25519): requests carry only their timestamp.
    Done,
    /// The key cannot log on (HMAC): every request is signed.
    PerRequest,
}

/// The requests under way when the connection went down.
pub struct Lost {
    /// Written and not answered: they may or may not have been carried
    /// out.
    pub sent: Vec<u64>,
    /// Waiting for their signature: never sent.
    pub unsent: Vec<u64>,
}

/// What a frame of the WebSocket API was.
pub enum ApiFrame {
    /// The answer to the request of `job`, as its REST call would have
    /// been answered.
    Answer {
        /// The job.
        job: u64,
        /// The answer.
        response: Response,
    },
    /// `session.logon` was refused: Binance's words.
    LogonRefused(String),
    /// Nothing for a job (a logon's success, an answer no longer waited
    /// for).
    Nothing,
}

/// The WebSocket API connection.
pub struct WsApi {
    opened: bool,
    up: bool,
    logon: Logon,
    /// The `session.logon` under way: its job and stamped parameters.
    logon_job: Option<(u64, Params)>,
    next_job: u64,
    /// Requests waiting for their signature: method and stamped params.
    unsigned: HashMap<u64, (&'static str, Params)>,
    /// Jobs whose request was written and not answered yet.
    pending: HashSet<u64>,
}

impl Default for WsApi {
    fn default() -> Self {
        WsApi {
            opened: false,
            up: false,
            logon: Logon::Pending,
            logon_job: None,
            next_job: 0,
            unsigned: HashMap::new(),
            pending: HashSet::new(),
        }
    }
}

/// The WebSocket API method of a REST call, for the calls it takes.
fn method_of(call: &Call) -> Option<&'static str> {
    match (call.method, call.path) {
        ("POST", ORDER) => Some("order.place"),
        ("PUT", ORDER) => Some("order.modify"),
        ("DELETE", ORDER) => Some("order.cancel"),
        _ => None,
    }
}

/// Parameters as the JSON object of a request.
fn as_object(params: &Params) -> Map<String, Value> {
    params
        .pairs()
        .iter()
        .map(|(name, value)| {
            let number = INTEGER_PARAMS
                .contains(&name.as_str())
                .then(|| value.parse::<u64>().ok())
                .flatten();
            let value = number.map_or_else(|| json!(value), |number| json!(number));
            (name.clone(), value)
        })
        .collect()
}

fn send(
    id: &str,
    method: &str,
    params: &Params,
    costs: RVec<Tuple2<RString, u32>>,
    job: Option<u64>,
) -> Output {
    let frame = json!({"id": id, "method": method, "params": as_object(params)});
    Output::Send {
        connection: CONNECTION.into(),
        text: frame.to_string().into(),
        job: job.into(),
        costs,
    }
}

fn sign(
    config: &Config,
    job: u64,
    method: &str,
    params: &Params,
    costs: RVec<Tuple2<RString, u32>>,
) -> Output {
    let payload = json!({"api_key": config.api_key, "method": method, "params": as_object(params)});
    Output::Sign {
        job,
        request: SignRequest {
            scheme: SOCKET_SCHEME.into(),
            payload: payload.to_string().into(),
        },
        costs,
    }
}

/// `params` with `apiKey` and the signature's text.
fn signed(config: &Config, mut params: Params, signature: &[u8]) -> Result<Params, PluginError> {
    params.push("apiKey", config.api_key.as_str());
    config.check_signature(&signing::socket_payload(&params), signature)?;
    let text = signing::signature_text(signature).map_err(PluginError::invalid)?;
    params.push(signing::SIGNATURE, text);
    Ok(params)
}

impl WsApi {
    /// The host prefers the socket: open it once.
    pub fn open(&mut self, config: &Config) -> Option<Output> {
        if std::mem::replace(&mut self.opened, true) {
            return None;
        }
        Some(Output::Open(ConnectionSpec {
            id: CONNECTION.into(),
            kind: ConnectionKind::TRADING,
            url: config.ws_api_url.as_str().into(),
            ping_frame: None.into(),
            ping_interval_ms: 0,
            idle_timeout_ms: IDLE_TIMEOUT_MS,
            max_lifetime_ms: Some(MAX_LIFETIME_MS).into(),
        }))
    }

    /// Whether `job` is one of this connection's own (a `session.logon`).
    pub fn owns(&self, job: u64) -> bool {
        self.logon_job.as_ref().is_some_and(|(id, _)| *id == job)
    }

    /// Whether `job` waits for the signature of its socket request.
    pub fn signs(&self, job: u64) -> bool {
        self.unsigned.contains_key(&job)
    }

    /// The request of `job` for `call` over the socket, stamped `venue_ms`
    /// with `recv_window` — if the socket is up, its logon settled, and
    /// the call one it takes: unsigned after a logon, else to be signed.
    pub fn request(
        &mut self,
        config: &Config,
        job: u64,
        call: &Call,
        venue_ms: u64,
        recv_window: u64,
    ) -> Option<Output> {
        let method = method_of(call).filter(|_| self.up)?;
        let mut params = call.params.clone();
        params
            .push("recvWindow", recv_window.to_string())
            .push("timestamp", venue_ms.to_string());
        match self.logon {
            Logon::Pending => None,
            Logon::Done => {
                self.pending.insert(job);
                Some(send(
                    &job.to_string(),
                    method,
                    &params,
                    call.costs(),
                    Some(job),
                ))
            }
            Logon::PerRequest => {
                let output = sign(config, job, method, &params, call.costs());
                self.unsigned.insert(job, (method, params));
                Some(output)
            }
        }
    }

    /// A signature: the `session.logon` to send, or the signed request of
    /// a job (its costs were paid with the signature).
    pub fn on_signed(
        &mut self,
        config: &Config,
        job: u64,
        signature: &[u8],
    ) -> Result<Option<Output>, PluginError> {
        if let Some((id, params)) = self.logon_job.clone().filter(|(id, _)| *id == job) {
            let params = signed(config, params, signature)?;
            let id = format!("logon-{id}");
            return Ok(Some(send(&id, "session.logon", &params, RVec::new(), None)));
        }
        let Some((method, params)) = self.unsigned.remove(&job) else {
            return Ok(None);
        };
        let params = signed(config, params, signature)?;
        self.pending.insert(job);
        Ok(Some(send(
            &job.to_string(),
            method,
            &params,
            RVec::new(),
            Some(job),
        )))
    }

    /// A signature was not given: for the `session.logon`, the key signs
    /// each request instead (the signer logs only Ed25519 keys on).
    pub fn not_signed(&mut self, job: u64) {
        if self.owns(job) {
            self.logon_job = None;
            self.logon = Logon::PerRequest;
        }
        self.forget(job);
    }

    /// The job is over without the socket's answer: a late one is ignored.
    pub fn forget(&mut self, job: u64) {
        self.unsigned.remove(&job);
        self.pending.remove(&job);
    }

    /// Up: ask for a `session.logon` signature (stamped `venue_ms`), unless
    /// the key is known to sign each request. Down: what became of the
    /// requests under way.
    pub fn on_connection(
        &mut self,
        config: &Config,
        up: bool,
        venue_ms: u64,
    ) -> (Option<Output>, Lost) {
        self.up = up;
        let lost = Lost {
            sent: self.pending.drain().collect(),
            unsent: self.unsigned.drain().map(|(job, _)| job).collect(),
        };
        self.logon_job = None;
        if self.logon == Logon::Done {
            self.logon = Logon::Pending;
        }
        if !up || self.logon == Logon::PerRequest {
            return (None, lost);
        }
        self.next_job += 1;
        let job = SESSION_JOB | LOGON_JOB | self.next_job;
        let mut params = Params::new();
        params.push("timestamp", venue_ms.to_string());
        let output = sign(config, job, "session.logon", &params, RVec::new());
        self.logon_job = Some((job, params));
        (Some(output), lost)
    }

    /// One frame.
    pub fn on_frame(&mut self, frame: &str) -> Result<ApiFrame, PluginError> {
        let message: Value = serde_json::from_str(frame)
            .map_err(|error| PluginError::malformed(format!("binance ws-api frame: {error}")))?;
        let id = message
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let Some(logon) = id.strip_prefix("logon-") {
            let ours = self
                .logon_job
                .as_ref()
                .is_some_and(|(job, _)| logon == job.to_string());
            if !ours {
                return Ok(ApiFrame::Nothing);
            }
            self.logon_job = None;
            if message.get("status").and_then(Value::as_u64) == Some(200) {
                self.logon = Logon::Done;
                return Ok(ApiFrame::Nothing);
            }
            self.logon = Logon::PerRequest;
            return Ok(ApiFrame::LogonRefused(message["error"].to_string()));
        }
        let job = id
            .parse::<u64>()
            .ok()
            .filter(|job| self.pending.remove(job));
        let Some(job) = job else {
            return Ok(ApiFrame::Nothing);
        };
        Ok(ApiFrame::Answer {
            job,
            response: as_response(&message),
        })
    }
}

/// A WebSocket API answer as the REST answer of the same call: its status,
/// the `result` (or the `error`) as the body, and `rateLimits` as the
/// `X-MBX-*` headers of the manifest's buckets.
fn as_response(message: &Value) -> Response {
    let status = message
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|status| u16::try_from(status).ok())
        .unwrap_or(0);
    let body = message
        .get("result")
        .or_else(|| message.get("error"))
        .map_or_else(String::new, Value::to_string);
    let headers = message
        .get("rateLimits")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|limit| {
            let bucket = match (
                limit.get("rateLimitType")?.as_str()?,
                limit.get("interval")?.as_str()?,
                limit.get("intervalNum")?.as_u64()?,
            ) {
                ("REQUEST_WEIGHT", "MINUTE", 1) => REQUEST_WEIGHT,
                ("ORDERS", "SECOND", 10) => ORDERS_10S,
                ("ORDERS", "MINUTE", 1) => ORDERS_1M,
                _ => return None,
            };
            let (_, _, _, header) = BUCKETS.iter().find(|(id, ..)| *id == bucket)?;
            Some(Tuple2(
                (*header).into(),
                limit.get("count")?.to_string().into(),
            ))
        })
        .collect();
    Response {
        status,
        body: body.into(),
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::ORDERS_10S;
    use crate::rest::Auth;

    fn config() -> Config {
        Config::parse(
            r#"{"api_key":"key","api_url":"http://127.0.0.1:9","ws_url":"ws://127.0.0.1:9"}"#,
        )
        .unwrap()
    }

    fn place() -> Call {
        let mut call = Call::new("POST", ORDER, 1, Auth::Signed);
        call.orders = 1;
        call.params
            .push("symbol", "BTCUSDT")
            .push("quantity", "0.010");
        call
    }

    fn frame(output: &Output) -> (Value, Option<u64>, usize) {
        let Output::Send {
            text, job, costs, ..
        } = output
        else {
            panic!("not a frame: {output:?}");
        };
        (
            serde_json::from_str(text).unwrap(),
            job.into_option(),
            costs.len(),
        )
    }

    fn up(socket: &mut WsApi) -> u64 {
        let (logon, lost) = socket.on_connection(&config(), true, 1_000);
        assert!(lost.sent.is_empty() && lost.unsent.is_empty());
        let Some(Output::Sign { job, request, .. }) = logon else {
            panic!("no logon to sign");
        };
        assert_eq!(request.scheme.as_str(), SOCKET_SCHEME);
        assert!(request.payload.contains(r#""method":"session.logon""#));
        job
    }

    #[test]
    fn after_a_logon_requests_go_unsigned_and_answers_read_as_rest_answers() {
        let mut socket = WsApi::default();
        assert!(socket.open(&config()).is_some() && socket.open(&config()).is_none());
        let logon = up(&mut socket);
        assert!(
            socket
                .request(&config(), 7, &place(), 1_000, 2_000)
                .is_none(),
            "REST until the logon is settled"
        );
        let sent = socket
            .on_signed(&config(), logon, &[1; 64])
            .unwrap()
            .unwrap();
        let (logon_frame, job, _) = frame(&sent);
        assert_eq!(
            (logon_frame["method"].as_str(), job),
            (Some("session.logon"), None)
        );
        assert_eq!(logon_frame["params"]["apiKey"], "key");
        assert_eq!(logon_frame["params"]["timestamp"], 1_000, "an integer");
        let ok = json!({"id": logon_frame["id"], "status": 200, "result": {}});
        assert!(matches!(
            socket.on_frame(&ok.to_string()).unwrap(),
            ApiFrame::Nothing
        ));

        let request = socket
            .request(&config(), 7, &place(), 1_000, 2_000)
            .unwrap();
        let (order, job, costs) = frame(&request);
        assert_eq!((order["id"].as_str(), job, costs), (Some("7"), Some(7), 3));
        assert_eq!(order["method"], "order.place");
        assert_eq!(order["params"]["quantity"], "0.010", "decimals stay text");
        assert!(order["params"].get("signature").is_none());

        let answer = json!({"id": "7", "status": 400, "error": {"code": -2019, "msg": "Margin is insufficient."},
            "rateLimits": [{"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300, "count": 4}]});
        let ApiFrame::Answer { job, response } = socket.on_frame(&answer.to_string()).unwrap()
        else {
            panic!("not matched");
        };
        assert_eq!((job, response.status), (7, 400));
        assert!(response.body.contains("-2019"));
        let header = BUCKETS.iter().find(|(id, ..)| *id == ORDERS_10S).unwrap().3;
        assert!(
            response
                .headers
                .contains(&Tuple2(header.into(), "4".into()))
        );
    }

    #[test]
    fn an_hmac_key_signs_each_request_and_a_drop_tells_sent_from_unsent() {
        let mut socket = WsApi::default();
        let logon = up(&mut socket);
        socket.not_signed(logon);
        let Output::Sign { request, costs, .. } = socket
            .request(&config(), 7, &place(), 1_000, 2_000)
            .unwrap()
        else {
            panic!("not signed");
        };
        assert!(request.payload.contains(r#""method":"order.place""#));
        assert_eq!(costs.len(), 3, "paid with the signature");
        let sent = socket.on_signed(&config(), 7, &[2; 32]).unwrap().unwrap();
        let (order, job, costs) = frame(&sent);
        assert_eq!((job, costs), (Some(7), 0));
        assert_eq!(order["params"]["signature"], "02".repeat(32));
        assert_eq!(order["params"]["apiKey"], "key");

        socket
            .request(&config(), 8, &place(), 1_000, 2_000)
            .unwrap();
        let (again, lost) = socket.on_connection(&config(), false, 2_000);
        assert!(again.is_none());
        assert_eq!((lost.sent, lost.unsent), (vec![7], vec![8]));
        let (logon, _) = socket.on_connection(&config(), true, 3_000);
        assert!(logon.is_none(), "an HMAC key is not logged on again");
    }
}
