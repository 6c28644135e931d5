//! The REST dispatcher: faults, authentication, per-key rate limits with
//! Bybit's `X-Bapi-Limit*` headers, parameters, and the
//! `{retCode, retMsg, result, retExtInfo, time}` envelope (HTTP 200 for
//! every business error, as Bybit answers).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use super::params::{Params, RATE_LIMIT, Reject};
use super::trade::BatchKind;
use super::{Bybit, auth, market, queries, trade};
use crate::account::AccountId;
use crate::clock;
use crate::server::text_response;

/// Per key and endpoint request counts in the current second.
#[derive(Debug)]
pub struct RateLimits {
    per_sec: u32,
    windows: Mutex<HashMap<(String, String), (u64, u32)>>,
}

/// What the limiter says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitStatus {
    /// `X-Bapi-Limit`.
    pub limit: u32,
    /// `X-Bapi-Limit-Status` (requests left).
    pub remaining: u32,
    /// `X-Bapi-Limit-Reset-Timestamp` (ms).
    pub reset: u64,
    /// Whether the request is over the limit.
    pub exceeded: bool,
}

impl RateLimits {
    /// A limiter allowing `per_sec` requests per second per key and endpoint.
    pub fn new(per_sec: u32) -> Self {
        Self {
            per_sec,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// What a request not yet counted has: the whole allowance of the
    /// second of `now`.
    pub fn allowance(&self, now: u64) -> LimitStatus {
        LimitStatus {
            limit: self.per_sec,
            remaining: self.per_sec,
            reset: (now / 1000 + 1) * 1000,
            exceeded: false,
        }
    }

    /// Counts one request of `key` on `path` at `now`.
    pub fn count(&self, key: &str, path: &str, now: u64) -> LimitStatus {
        let second = now / 1000;
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let window = windows
            .entry((key.to_owned(), path.to_owned()))
            .or_insert((second, 0));
        if window.0 != second {
            *window = (second, 0);
        }
        window.1 = window.1.saturating_add(1);
        LimitStatus {
            limit: self.per_sec,
            remaining: self.per_sec.saturating_sub(window.1),
            reset: (second + 1) * 1000,
            exceeded: window.1 > self.per_sec,
        }
    }
}

/// The JSON envelope.
pub fn envelope(outcome: Result<(Value, Value), Reject>, now: u64) -> Value {
    match outcome {
        Ok((result, ext)) => json!({
            "retCode": 0,
            "retMsg": "OK",
            "result": result,
            "retExtInfo": ext,
            "time": now,
        }),
        Err(reject) => json!({
            "retCode": reject.code,
            "retMsg": reject.msg,
            "result": {},
            "retExtInfo": {},
            "time": now,
        }),
    }
}

fn reply(body: &Value, limit: Option<LimitStatus>) -> Response {
    let mut response = crate::server::json_response(body);
    let headers = response.headers_mut();
    if let Some(limit) = limit {
        for (name, value) in [
            ("X-Bapi-Limit", limit.limit.to_string()),
            ("X-Bapi-Limit-Status", limit.remaining.to_string()),
            ("X-Bapi-Limit-Reset-Timestamp", limit.reset.to_string()),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
    }
    if let Ok(value) = HeaderValue::from_str(&clock::now_ms().to_string()) {
        headers.insert("Timenow", value);
    }
    response
}

/// Whether a request enters, changes or cancels orders (subject to the
/// order-entry faults).
fn is_order_entry(method: &Method, path: &str) -> bool {
    method == Method::POST && path.starts_with("/v5/order/")
}

fn query_params(uri: &Uri) -> Result<Params, Reject> {
    Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|Query(pairs)| Params::from_pairs(pairs))
        .map_err(|_| Reject::params("params error: query string invalid"))
}

fn body_params(body: &[u8]) -> Result<Params, Reject> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Params::default());
    }
    serde_json::from_slice::<Value>(body)
        .map_err(|_| Reject::params("params error: body is not JSON"))
        .and_then(Params::from_value)
}

/// Every REST request under `/v5/`.
pub async fn handler(
    State(bybit): State<Arc<Bybit>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    if !path.starts_with("/v5/") {
        return text_response(StatusCode::NOT_FOUND, "Not Found");
    }
    let entry = is_order_entry(&method, &path);
    let now = bybit.shared.faults.now_ms();
    let served = bybit
        .shared
        .serve_http(
            entry,
            || Ok(serve(&bybit, &method, &uri, &headers, &body, now)),
            crate::server::fault_response,
        )
        .await;
    match served {
        Ok((answer, limit)) => reply(&answer, limit),
        Err(response) => *response,
    }
}

/// Authenticates and answers one `/v5/` request: the envelope, and the
/// rate-limit count of a private one.
fn serve(
    bybit: &Bybit,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    now: u64,
) -> (Value, Option<LimitStatus>) {
    let path = uri.path();
    if path.starts_with("/v5/market/") {
        let outcome = if method == Method::GET {
            query_params(uri).and_then(|p| public(bybit, path, &p, now))
        } else {
            Err(Reject::params("params error: GET only"))
        };
        return (envelope(outcome.map(|r| (r, json!({}))), now), None);
    }
    let payload: &[u8] = if method == Method::GET {
        uri.query().unwrap_or("").as_bytes()
    } else {
        body
    };
    match auth::authenticate(bybit, headers, payload, now) {
        Err(reject) => (envelope(Err(reject), now), None),
        Ok(key) => {
            let limit = bybit.limits.count(&key.key, path, now);
            let outcome = if limit.exceeded {
                Err(Reject::new(RATE_LIMIT, "Too many visits!"))
            } else {
                let params = if method == Method::GET {
                    query_params(uri)
                } else {
                    body_params(body)
                };
                params.and_then(|p| private(bybit, method, path, bybit.account(&key.key), &p, now))
            };
            (envelope(outcome, now), Some(limit))
        }
    }
}

/// Public endpoints.
fn public(bybit: &Bybit, path: &str, p: &Params, now: u64) -> Result<Value, Reject> {
    let engine = bybit.shared.engine();
    match path {
        "/v5/market/time" => Ok(market::time(now)),
        "/v5/market/instruments-info" => market::instruments(&engine, p),
        "/v5/market/orderbook" => market::orderbook(&engine, p, now),
        "/v5/market/tickers" => market::tickers(&engine, p, now),
        "/v5/market/recent-trade" => market::recent_trades(&engine, p),
        "/v5/market/funding/history" => market::funding_history(&engine, p, now),
        _ => Err(Reject::new(10_404, format!("unknown path {path}"))),
    }
}

/// Private endpoints; `(result, retExtInfo)`.
fn private(
    bybit: &Bybit,
    method: &Method,
    path: &str,
    user: AccountId,
    p: &Params,
    now: u64,
) -> Result<(Value, Value), Reject> {
    let post_only = bybit.shared.faults.post_only_window();
    let ctx = trade::context(now, post_only, path);
    let (mut engine, mut ids) = bybit.lock();
    let (engine, ids) = (&mut *engine, &mut *ids);
    let plain = |result: Result<Value, Reject>| result.map(|r| (r, json!({})));
    let get = *method == Method::GET;
    match (get, path) {
        (false, "/v5/order/create") => plain(trade::create(engine, ids, user, p, &ctx)),
        (false, "/v5/order/amend") => plain(trade::amend(engine, ids, user, p, &ctx)),
        (false, "/v5/order/cancel") => plain(trade::cancel(engine, ids, user, p, now)),
        (false, "/v5/order/cancel-all") => plain(trade::cancel_all(engine, ids, user, p, now)),
        (false, "/v5/order/create-batch") => {
            trade::batch(engine, ids, user, p, BatchKind::Create, &ctx)
        }
        (false, "/v5/order/amend-batch") => {
            trade::batch(engine, ids, user, p, BatchKind::Amend, &ctx)
        }
        (false, "/v5/order/cancel-batch") => {
            trade::batch(engine, ids, user, p, BatchKind::Cancel, &ctx)
        }
        (false, "/v5/order/disconnected-cancel-all") => plain(set_dcp(bybit, user, p)),
        (true, "/v5/order/realtime") => plain(queries::realtime(engine, ids, user, p)),
        (true, "/v5/order/history") => plain(queries::history(engine, ids, user, p)),
        (true, "/v5/execution/list") => plain(queries::executions(engine, ids, user, p)),
        (true, "/v5/position/list") => plain(queries::positions(engine, user, p)),
        (false, "/v5/position/set-leverage") => plain(trade::set_leverage(engine, user, p)),
        (false, "/v5/position/switch-isolated") => plain(trade::switch_isolated(engine, user, p)),
        (false, "/v5/account/set-margin-mode") => plain(trade::set_margin_mode(engine, user, p)),
        (true, "/v5/account/wallet-balance") => plain(queries::wallet(engine, user, p)),
        (true, "/v5/account/dcp-info") => plain(Ok(dcp_info(bybit, user))),
        (true, "/v5/account/info") => plain(Ok(json!({
            "unifiedMarginStatus": 5, "marginMode": "REGULAR_MARGIN", "isMasterTrader": false,
            "spotHedgingStatus": "OFF", "updatedTime": now.to_string(), "dcpStatus": "OFF",
            "timeWindow": 10, "smpGroup": 0,
        }))),
        (true, "/v5/user/query-api") => plain(Ok(json!({
            "id": "1", "note": "bybit-emulator", "apiKey": "", "readOnly": 0, "secret": "",
            "permissions": { "ContractTrade": ["Order", "Position"], "Spot": [], "Wallet": ["AccountTransfer"],
                "Options": [], "Derivatives": [], "CopyTrading": [], "BlockTrade": [], "Exchange": [], "NFT": [] },
            "ips": ["*"], "type": 1, "deadlineDay": -1, "expiredAt": "", "createdAt": "",
            "unified": 0, "uta": 1, "userID": 1, "inviterID": 0, "vipLevel": "No VIP",
            "mktMakerLevel": "0", "affiliateID": 0, "rsaPublicKey": "", "isMaster": true,
        }))),
        (true, "/v5/asset/coin/query-info") => plain(Ok(json!({ "rows": [] }))),
        _ => Err(Reject::new(10_404, format!("unknown path {path}"))),
    }
}

/// `POST /v5/order/disconnected-cancel-all`: arms DCP with `timeWindow` seconds (3–300).
fn set_dcp(bybit: &Bybit, user: AccountId, p: &Params) -> Result<Value, Reject> {
    let window = p
        .integer("timeWindow")?
        .filter(|w| (3..=300).contains(w))
        .ok_or_else(|| Reject::params("params error: timeWindow must be 3 to 300"))?;
    bybit.set_dcp_window(user, window as u64);
    Ok(json!({}))
}

fn dcp_info(bybit: &Bybit, user: AccountId) -> Value {
    let list: Vec<Value> = bybit
        .dcp_window(user)
        .map(
            |w| json!({ "product": "DERIVATIVES", "dcpStatus": "ON", "timeWindow": w.to_string() }),
        )
        .into_iter()
        .collect();
    json!({ "dcpInfos": list })
}
