//! The REST dispatcher: request weight and bans, the core's faults,
//! `X-MBX-APIKEY` and signatures, the recv window, and Binance's answers
//! (JSON bodies; errors as HTTP 4xx with `{"code","msg"}`), with
//! `X-MBX-USED-WEIGHT-1M` and `X-MBX-ORDER-COUNT-*` headers.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::errors::ApiError;
use super::faults::Admission;
use super::limits::OrderCount;
use super::params::Params;
use super::{Binance, ListenKey, auth, market, shapes, trade};
use crate::account::AccountId;
use crate::faults::HttpFault;
use crate::server::text_response;

/// An error as Binance sends it.
pub fn error_response(error: &ApiError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json!({ "code": error.code, "msg": error.msg }).to_string(),
    )
        .into_response()
}

/// An error as Binance sends it for a request to `path` at `now`: a 503
/// comes from the gateway as `{"timestamp","path","msg"}`, others as
/// [`error_response`].
pub fn error_response_at(error: &ApiError, path: &str, now: u64) -> Response {
    if error.status != 503 {
        return error_response(error);
    }
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json!({ "timestamp": now, "path": path, "msg": error.msg }).to_string(),
    )
        .into_response()
}

/// A core HTTP fault as Binance answers it: a 503 after the request was
/// applied is the gateway's "Unknown error, …" (execution status unknown),
/// never "Service Unavailable", which Binance documents as not processed.
fn fault_response(fault: HttpFault, path: &str, now: u64) -> Response {
    match fault {
        HttpFault::ServerError {
            status: 503,
            after_apply: true,
        } => error_response_at(&ApiError::unknown_error(), path, now),
        _ => crate::server::fault_response(fault),
    }
}

fn header(response: &mut Response, name: &'static str, value: u64) {
    if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
        response.headers_mut().insert(name, value);
    }
}

/// Whether a request enters, changes or cancels orders.
fn is_order_entry(method: &Method, path: &str) -> bool {
    *method != Method::GET
        && matches!(
            path,
            "/fapi/v1/order"
                | "/fapi/v1/batchOrders"
                | "/fapi/v1/algoOrder"
                | "/fapi/v1/allOpenOrders"
        )
}

/// Every REST request.
pub async fn handler(
    State(binance): State<Arc<Binance>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    if !path.starts_with("/fapi/") {
        return text_response(StatusCode::NOT_FOUND, "Not Found");
    }
    let now = binance.shared.faults.now_ms();
    let weight = match path.as_str() {
        "/fapi/v1/depth" | "/fapi/v1/exchangeInfo" => 5,
        _ => 1,
    };
    let used = match binance.faults.admit(weight, now) {
        Admission::Served(used) => used,
        Admission::Limited(limit) => {
            // Every answer carries the weight used, a refusal too, and
            // when to come back: the next minute.
            let mut response = error_response(&ApiError::too_many(limit, false));
            let used = binance.faults.weight_used(now);
            header(&mut response, "X-MBX-USED-WEIGHT-1M", u64::from(used));
            let next_minute = (60_000 - now % 60_000).div_ceil(1_000);
            header(&mut response, "Retry-After", next_minute);
            return response;
        }
        Admission::Banned(secs) => {
            let mut response = error_response(&ApiError::too_many(0, true));
            header(&mut response, "Retry-After", secs);
            return response;
        }
    };
    let entry = is_order_entry(&method, &path);
    let query = uri.query().unwrap_or("");
    let body_text = String::from_utf8_lossy(&body);
    let served = binance
        .shared
        .serve_http(
            entry,
            || {
                Ok(serve(
                    &binance, &method, &path, &headers, query, &body_text, now,
                ))
            },
            |fault| fault_response(fault, &path, now),
        )
        .await;
    let (outcome, orders) = match served {
        Ok(served) => served,
        Err(response) => return *response,
    };
    let mut response = match outcome {
        Ok(value) => crate::server::json_response(&value),
        Err(error) => error_response_at(&error, &path, now),
    };
    header(&mut response, "X-MBX-USED-WEIGHT-1M", u64::from(used));
    if let Some(orders) = orders {
        header(
            &mut response,
            "X-MBX-ORDER-COUNT-10S",
            u64::from(orders.ten_seconds),
        );
        header(
            &mut response,
            "X-MBX-ORDER-COUNT-1M",
            u64::from(orders.minute),
        );
    }
    response
}

fn api_key_header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-mbx-apikey")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty())
}

/// Checks key, signature and timestamp of a signed request; returns the account.
pub fn authenticate(
    binance: &Binance,
    headers: &HeaderMap,
    query: &str,
    body: &str,
    params: &Params,
    now: u64,
) -> Result<AccountId, ApiError> {
    let key = api_key_header(headers)
        .and_then(|k| binance.key(k))
        .ok_or_else(ApiError::api_key)?;
    let (text, signature) = auth::rest_signed_text(query, body)?;
    if !key.verifies(text.as_bytes(), &signature) {
        return Err(ApiError::signature());
    }
    auth::check_timestamp(params, now)?;
    Ok(binance.account(&key.key))
}

/// Answers one request; an authenticated order-entry request also counts
/// against the account's order limits (the counts come back with it).
fn serve(
    binance: &Binance,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    query: &str,
    body: &str,
    now: u64,
) -> (Result<Value, ApiError>, Option<OrderCount>) {
    let params = match Params::from_query_and_body(query, body) {
        Ok(params) => params,
        Err(error) => return (Err(error), None),
    };
    if let Some(answer) = public(binance, method, path, headers, &params, now) {
        return (answer, None);
    }
    let user = match authenticate(binance, headers, query, body, &params, now) {
        Ok(user) => user,
        Err(error) => return (Err(error), None),
    };
    let orders = is_order_entry(method, path).then(|| binance.orders.count(user, now));
    (private(binance, method, path, user, &params, now), orders)
}

/// Public endpoints and the listen key (API key only); `None` for the
/// signed ones.
fn public(
    binance: &Binance,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    params: &Params,
    now: u64,
) -> Option<Result<Value, ApiError>> {
    if *method == Method::GET {
        let engine = binance.shared.engine();
        let answer = match path {
            "/fapi/v1/ping" => Ok(json!({})),
            "/fapi/v1/time" => Ok(market::time(now)),
            "/fapi/v1/exchangeInfo" => Ok(market::exchange_info(&engine, now)),
            "/fapi/v1/depth" => market::depth(&engine, &mut binance.journal(), params, now),
            "/fapi/v1/trades" => market::trades(&engine, params),
            "/fapi/v1/ticker/bookTicker" => market::book_ticker(&engine, params, now),
            "/fapi/v1/premiumIndex" => market::premium_index(&engine, params, now),
            _ => return listen_key_request(binance, method, path, headers, now),
        };
        return Some(answer);
    }
    listen_key_request(binance, method, path, headers, now)
}

/// `/fapi/v1/listenKey` (API key only); `None` for any other path.
fn listen_key_request(
    binance: &Binance,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    now: u64,
) -> Option<Result<Value, ApiError>> {
    (path == "/fapi/v1/listenKey").then(|| {
        let key = api_key_header(headers)
            .and_then(|k| binance.key(k))
            .ok_or_else(ApiError::api_key)?;
        listen_key(binance, method.as_str(), binance.account(&key.key), now)
    })
}

/// The signed endpoints.
fn private(
    binance: &Binance,
    method: &Method,
    path: &str,
    user: AccountId,
    params: &Params,
    now: u64,
) -> Result<Value, ApiError> {
    let post_only = binance.shared.faults.post_only_window();
    let ctx = trade::context(now, post_only, path);
    let (mut engine, mut ids) = binance.lock();
    let (engine, ids) = (&mut *engine, &mut *ids);
    match (method.as_str(), path) {
        ("POST", "/fapi/v1/order") => {
            let placed = trade::new_order(engine, ids, user, params, &ctx)?;
            if binance.faults.unknown_503() {
                return Err(ApiError::unknown_error());
            }
            if binance.faults.unknown_outcome() {
                return Err(ApiError::unknown_outcome());
            }
            Ok(placed)
        }
        ("GET", "/fapi/v1/order") => trade::query_order(engine, ids, user, params),
        ("PUT", "/fapi/v1/order") => trade::modify_order(engine, ids, user, params, &ctx),
        ("DELETE", "/fapi/v1/order") => trade::cancel_order(engine, ids, user, params, now),
        ("GET", "/fapi/v1/openOrder") => trade::query_open_order(engine, ids, user, params),
        ("GET", "/fapi/v1/openOrders") => trade::open_orders(engine, ids, user, params),
        ("GET", "/fapi/v1/allOrders") => trade::all_orders(engine, ids, user, params),
        ("DELETE", "/fapi/v1/allOpenOrders") => trade::cancel_all(engine, ids, user, params, now),
        ("POST", "/fapi/v1/batchOrders") => {
            trade::batch_orders(engine, ids, user, params, &ctx, trade::new_order)
        }
        ("PUT", "/fapi/v1/batchOrders") => {
            trade::batch_orders(engine, ids, user, params, &ctx, trade::modify_order)
        }
        ("DELETE", "/fapi/v1/batchOrders") => trade::batch_cancel(engine, ids, user, params, now),
        ("POST", "/fapi/v1/countdownCancelAll") => {
            trade::countdown(binance, engine, user, params, now)
        }
        ("GET", "/fapi/v1/userTrades") => trade::user_trades(engine, ids, user, params),
        ("GET", "/fapi/v2/positionRisk") => trade::position_risk(engine, user, params, false),
        ("GET", "/fapi/v3/positionRisk") => trade::position_risk(engine, user, params, true),
        ("GET", "/fapi/v2/balance" | "/fapi/v3/balance") => Ok(shapes::balance(engine, user, now)),
        ("GET", "/fapi/v2/account" | "/fapi/v3/account") => Ok(shapes::account(engine, user, now)),
        ("POST", "/fapi/v1/leverage") => trade::leverage(engine, user, params),
        ("POST", "/fapi/v1/marginType") => trade::margin_type(engine, user, params),
        ("GET", "/fapi/v1/leverageBracket") => market::leverage_bracket(engine, params),
        ("GET", "/fapi/v1/positionSide/dual") => Ok(json!({ "dualSidePosition": false })),
        ("GET", "/fapi/v1/multiAssetsMargin") => Ok(json!({ "multiAssetsMargin": false })),
        ("POST", "/fapi/v1/algoOrder") => trade::new_algo_order(engine, ids, user, params, &ctx),
        ("DELETE", "/fapi/v1/algoOrder") => {
            trade::cancel_algo_order(engine, ids, user, params, now)
        }
        ("GET", "/fapi/v1/algoOrder") => trade::query_algo_order(engine, ids, user, params),
        ("GET", "/fapi/v1/openAlgoOrders") => Ok(trade::open_algo_orders(engine, ids, user)),
        _ => {
            Err(ApiError::new(-1000, format!("Unknown endpoint {method} {path}")).with_status(404))
        }
    }
}

/// `POST|PUT|DELETE /fapi/v1/listenKey`: one key per account; POST returns
/// the live one (extended) or a new one.
pub(crate) fn listen_key(
    binance: &Binance,
    method: &str,
    user: AccountId,
    now: u64,
) -> Result<Value, ApiError> {
    let ttl = binance.faults.listen_key_ttl_ms();
    let mut keys = binance.listen_keys();
    let current = keys
        .iter()
        .find(|(_, k)| k.user == user && k.expires > now)
        .map(|(key, _)| key.clone());
    match (method, current) {
        ("POST", Some(key)) | ("PUT", Some(key)) => {
            if let Some(entry) = keys.get_mut(&key) {
                entry.expires = now + ttl;
            }
            Ok(json!({ "listenKey": key }))
        }
        ("POST", None) => {
            let key = hex::encode(
                hyperliquid_core::keccak256(
                    format!("listen key {user} {now} {}", keys.len()).as_bytes(),
                )
                .0,
            );
            keys.insert(
                key.clone(),
                ListenKey {
                    user,
                    expires: now + ttl,
                },
            );
            Ok(json!({ "listenKey": key }))
        }
        ("PUT", None) => Err(ApiError::listen_key()),
        ("DELETE", key) => {
            if let Some(key) = key {
                keys.remove(&key);
            }
            Ok(json!({}))
        }
        _ => Err(ApiError::new(-1000, "Unsupported method").with_status(405)),
    }
}
