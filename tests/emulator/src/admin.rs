//! The admin API on the emulator's port: faults, funding, prices and ground
//! truth. Admin requests are never subject to faults.
//!
//! | Route | Body / query | Answer |
//! |---|---|---|
//! | `GET /admin/faults` | — | settings in force and windows left |
//! | `POST /admin/faults` | [`FaultSettings`] JSON | same as GET, after the update |
//! | `POST /admin/fund` | `{"user","usdc"?,"spot"?:{token: amount}}` | the account's ground truth |
//! | `POST /admin/price` | `{"coin","px"}` | `{"coin","mark"}` |
//! | `GET /admin/state` | `?user=0x…` optional | one account, or every account and book |
//! | `GET /admin/venue-orders` | — | Bybit's or Binance's orders by their own ids (empty on Hyperliquid) |

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;

use crate::account::AccountId;
use crate::clock;
use crate::faults::FaultSettings;
use crate::server::Shared;

/// `POST /admin/fund` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FundRequest {
    user: AccountId,
    #[serde(default)]
    usdc: Decimal,
    #[serde(default)]
    spot: BTreeMap<String, Decimal>,
}

/// `POST /admin/price` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceRequest {
    coin: String,
    px: Decimal,
}

/// `GET /admin/state` query.
#[derive(Debug, Deserialize)]
struct StateQuery {
    user: Option<AccountId>,
}

/// The admin routes.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/admin/faults", get(get_faults).post(set_faults))
        .route("/admin/fund", post(fund))
        .route("/admin/price", post(set_price))
        .route("/admin/state", get(state))
        .route("/admin/venue-orders", get(venue_orders))
}

fn bad_request(text: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": text }))).into_response()
}

async fn get_faults(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.faults.snapshot()).into_response()
}

async fn set_faults(
    State(shared): State<Arc<Shared>>,
    Json(update): Json<FaultSettings>,
) -> Response {
    if let Err(text) = update.validate() {
        return bad_request(text);
    }
    shared.faults.apply(&update);
    Json(shared.faults.snapshot()).into_response()
}

async fn fund(State(shared): State<Arc<Shared>>, Json(request): Json<FundRequest>) -> Response {
    let mut engine = shared.engine();
    match engine.fund(request.user, request.usdc, &request.spot) {
        Ok(()) => Json(engine.account_state(request.user)).into_response(),
        Err(error) => bad_request(error.to_string()),
    }
}

async fn set_price(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<PriceRequest>,
) -> Response {
    let mut engine = shared.engine();
    match engine.set_price(&request.coin, request.px, clock::now_ms()) {
        Ok(()) => {
            let mark = engine
                .market_of_coin(&request.coin)
                .map(|m| engine.markets[m].mark.normalize().to_string());
            Json(json!({ "coin": request.coin, "mark": mark })).into_response()
        }
        Err(error) => bad_request(error.to_string()),
    }
}

async fn state(State(shared): State<Arc<Shared>>, Query(query): Query<StateQuery>) -> Response {
    let engine = shared.engine();
    match query.user {
        None => Json(engine.state(clock::now_ms())).into_response(),
        Some(user) => match engine.account_state(user) {
            Some(state) => Json(state).into_response(),
            None => (
                StatusCode::NOT_FOUND,
                Json(json!({ "error": format!("no account {user}") })),
            )
                .into_response(),
        },
    }
}

async fn venue_orders(State(shared): State<Arc<Shared>>) -> Response {
    let (engine, ids) = shared.venue();
    Json(ids.truth(&engine)).into_response()
}
