//! The WebSocket API at `/ws-fapi/v1`: `{id, method, params}` requests,
//! `{id, status, result | error, rateLimits}` replies. Methods:
//! `session.logon` (Ed25519 keys), `session.status`, `session.logout`,
//! `order.place`, `order.modify`, `order.cancel`, `order.status`,
//! `account.balance`, `v2/account.balance`. Signed requests carry `apiKey`,
//! `timestamp` and `signature` over the params sorted by name, or only
//! `timestamp` after a logon.

use std::sync::Arc;

use axum::extract::State;
use std::time::Duration;

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::response::Response;
use binance_core::Lookup;
use serde_json::{Value, json};

use super::errors::ApiError;
use super::faults::Admission;
use super::limits::{self, OrderCount};
use super::params::Params;
use super::streams::STREAM_IDLE_TIMEOUT;
use super::{Binance, KeyKind, auth, shapes, trade};
use crate::account::AccountId;
use crate::session::Handler;
use crate::ws::Out;

/// `GET /ws-fapi/v1`.
pub async fn handler(upgrade: WebSocketUpgrade, State(binance): State<Arc<Binance>>) -> Response {
    upgrade.on_upgrade(move |socket| session(socket, binance))
}

/// One WebSocket API connection: the key it logged on with, if any.
struct Session {
    binance: Arc<Binance>,
    logged_on: Option<(String, AccountId)>,
}

async fn session(socket: WebSocket, binance: Arc<Binance>) {
    let state = Session {
        binance: binance.clone(),
        logged_on: None,
    };
    crate::session::serve(socket, binance.shared.clone(), state).await;
}

impl Handler for Session {
    fn request(&mut self, text: &str, out: &Out) {
        let binance = self.binance.clone();
        request(&binance, &mut self.logged_on, text, out);
    }

    fn idle_timeout(&self, configured: Duration) -> Duration {
        configured.max(STREAM_IDLE_TIMEOUT)
    }
}

/// The account a signed request acts for.
fn authenticate(
    binance: &Binance,
    logged_on: &Option<(String, AccountId)>,
    params: &Params,
    now: u64,
) -> Result<AccountId, ApiError> {
    auth::check_timestamp(params, now)?;
    match (params.text("signature"), logged_on) {
        (None, Some((_, user))) => Ok(*user),
        (None, None) => Err(ApiError::mandatory("signature")),
        (Some(signature), _) => {
            let key = params
                .text("apiKey")
                .and_then(|k| binance.key(k))
                .ok_or_else(ApiError::api_key)?;
            if !key.verifies(auth::ws_signed_text(params).as_bytes(), signature) {
                return Err(ApiError::signature());
            }
            Ok(binance.account(&key.key))
        }
    }
}

fn request(
    binance: &Arc<Binance>,
    logged_on: &mut Option<(String, AccountId)>,
    text: &str,
    out: &Out,
) {
    let now = binance.shared.faults.now_ms();
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        let outcome = admit(binance, 1, now).and(Err(ApiError::new(-1100, "Malformed request.")));
        return out.send(reply(binance, Value::Null, outcome, None, now));
    };
    let id = frame.get("id").cloned().unwrap_or(Value::Null);
    let method = frame["method"].as_str().unwrap_or("").to_owned();
    let params = Params::from_object(&frame["params"]);
    let mut orders = None;
    let outcome = admit(binance, weight_of(&method), now)
        .and_then(|()| answer(binance, logged_on, &method, &params, now, &mut orders));
    let reply = reply(binance, id, outcome, orders, now);
    let delivery = if method.starts_with("order.") && method != "order.status" {
        binance.shared.faults.action_delivery()
    } else {
        crate::faults::Delivery::Now
    };
    let (shared, out) = (binance.shared.clone(), out.clone());
    tokio::spawn(async move {
        if shared.wait_for_delivery(delivery).await {
            out.send(reply);
        }
    });
}

/// The request weight of a method: order entry counts on the order
/// limits instead.
fn weight_of(method: &str) -> u32 {
    match method {
        "order.place" | "order.modify" => 0,
        "account.balance" | "v2/account.balance" => 5,
        _ => 1,
    }
}

/// Counts `weight` against the request-weight limit: `-1003` (HTTP 429,
/// or 418 when banned) over it.
fn admit(binance: &Binance, weight: u32, now: u64) -> Result<(), ApiError> {
    match binance.faults.admit(weight, now) {
        Admission::Served(_) => Ok(()),
        Admission::Limited(limit) => Err(ApiError::too_many(limit, false)),
        Admission::Banned(_) => Err(ApiError::too_many(0, true)),
    }
}

/// The reply frame, with `rateLimits` from the counters as they now stand.
fn reply(
    binance: &Binance,
    id: Value,
    outcome: Result<Value, ApiError>,
    orders: Option<OrderCount>,
    now: u64,
) -> String {
    let limits = limits::rate_limits(
        binance.faults.weight_used(now),
        binance.faults.weight_limit(),
        orders,
    );
    match outcome {
        Ok(result) => json!({ "id": id, "status": 200, "result": result, "rateLimits": limits }),
        Err(e) => json!({ "id": id, "status": e.status, "error": { "code": e.code, "msg": e.msg }, "rateLimits": limits }),
    }
    .to_string()
}

/// Answers one method; order entry counts against the account's order
/// limits (`orders`).
fn answer(
    binance: &Binance,
    logged_on: &mut Option<(String, AccountId)>,
    method: &str,
    params: &Params,
    now: u64,
    orders: &mut Option<OrderCount>,
) -> Result<Value, ApiError> {
    let status = |logged_on: &Option<(String, AccountId)>| {
        json!({
            "apiKey": logged_on.as_ref().map(|(k, _)| k.clone()),
            "authorizedSince": logged_on.as_ref().map(|_| now),
            "connectedSince": now, "returnRateLimits": true, "serverTime": now,
        })
    };
    match method {
        "session.logon" => {
            let key = params
                .text("apiKey")
                .and_then(|k| binance.key(k))
                .ok_or_else(ApiError::api_key)?;
            if !matches!(key.kind, KeyKind::Ed25519(_)) {
                return Err(ApiError::new(
                    -4056,
                    "HMAC_SHA256 API key is not supported.",
                ));
            }
            let user = authenticate(binance, &None, params, now)?;
            *logged_on = Some((key.key.clone(), user));
            Ok(status(logged_on))
        }
        "session.status" => Ok(status(logged_on)),
        "session.logout" => {
            *logged_on = None;
            Ok(status(logged_on))
        }
        "order.place" | "order.modify" | "order.cancel" | "order.status" | "account.balance"
        | "v2/account.balance" => {
            let user = authenticate(binance, logged_on, params, now)?;
            if matches!(method, "order.place" | "order.modify" | "order.cancel") {
                *orders = Some(binance.orders.count(user, now));
            }
            let ctx = trade::context(now, binance.shared.faults.post_only_window(), method);
            let (mut engine, mut ids) = binance.lock();
            let (engine, ids) = (&mut *engine, &mut *ids);
            match method {
                "order.place" => {
                    let placed = trade::new_order(engine, ids, user, params, &ctx)?;
                    if binance.faults.unknown_outcome() {
                        return Err(ApiError::unknown_outcome());
                    }
                    Ok(placed)
                }
                "order.modify" => trade::modify_order(engine, ids, user, params, &ctx),
                "order.cancel" => trade::cancel_order(engine, ids, user, params, now),
                "order.status" => trade::query_order(engine, ids, user, params),
                _ => Ok(shapes::balance(engine, user, now)),
            }
        }
        "userDataStream.start" | "userDataStream.ping" | "userDataStream.stop" => {
            let user = match (params.text("apiKey"), logged_on.as_ref()) {
                (Some(key), _) => binance
                    .key(key)
                    .map(|k| binance.account(&k.key))
                    .ok_or_else(ApiError::api_key)?,
                (None, Some((_, user))) => *user,
                (None, None) => return Err(ApiError::mandatory("apiKey")),
            };
            let verb = match method {
                "userDataStream.start" => "POST",
                "userDataStream.ping" => "PUT",
                _ => "DELETE",
            };
            super::rest::listen_key(binance, verb, user, now)
        }
        _ => Err(ApiError::new(-1100, format!("Unknown method {method}"))),
    }
}
