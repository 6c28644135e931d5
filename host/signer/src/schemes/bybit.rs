//! `bybit-rest` and `bybit-ws-auth`: Bybit v5 requests and socket
//! authentication, signed with the key's HMAC-SHA256 secret (32 raw bytes;
//! the plugin writes them as lower-case hex). Only the trading,
//! account-reading and dead-man's-switch endpoints below are signed;
//! withdrawals, transfers, sub-account and API-key requests are unknown here
//! and refused.
//!
//! Orders sent on an authenticated trade socket (`/v5/trade`) carry no
//! signature of their own: the policy sees the `auth` only. Allow `login`
//! only where that is acceptable.

use serde::Deserialize;
use serde_json::Value;

use super::Refusal;
use super::form::{self, Pair};
use crate::keyring::ApiKey;
use crate::policy::api::{Facts, OrderFacts, Policy, RequestKind};
use crate::protocol::Signed;

const VENUE: &str = "bybit";

/// The REST endpoints signed, by method and path.
const REST_ENDPOINTS: &[super::Endpoint] = &[
    ("POST", "/v5/order/create", RequestKind::Order),
    ("POST", "/v5/order/amend", RequestKind::Modify),
    ("POST", "/v5/order/cancel", RequestKind::Cancel),
    ("POST", "/v5/order/cancel-all", RequestKind::CancelAll),
    ("POST", "/v5/order/create-batch", RequestKind::Order),
    ("POST", "/v5/order/amend-batch", RequestKind::Modify),
    ("POST", "/v5/order/cancel-batch", RequestKind::Cancel),
    (
        "POST",
        "/v5/order/disconnected-cancel-all",
        RequestKind::DeadManSwitch,
    ),
    ("POST", "/v5/position/set-leverage", RequestKind::Leverage),
    ("POST", "/v5/account/set-margin-mode", RequestKind::Leverage),
    (
        "POST",
        "/v5/position/switch-isolated",
        RequestKind::Leverage,
    ),
    ("GET", "/v5/order/realtime", RequestKind::Read),
    ("GET", "/v5/order/history", RequestKind::Read),
    ("GET", "/v5/execution/list", RequestKind::Read),
    ("GET", "/v5/position/list", RequestKind::Read),
    ("GET", "/v5/account/wallet-balance", RequestKind::Read),
    ("GET", "/v5/account/info", RequestKind::Read),
    ("GET", "/v5/account/fee-rate", RequestKind::Read),
];

/// `bybit-rest` fields. The signed text is `timestamp ‖ api_key ‖
/// recv_window ‖ payload`, where the payload is the encoded `query` of a GET
/// or the JSON `body` of a POST exactly as it will be sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RestRequest {
    api_key: String,
    timestamp: u64,
    recv_window: u64,
    method: String,
    path: String,
    #[serde(default)]
    query: Vec<Pair>,
    #[serde(default)]
    body: Option<String>,
}

/// `bybit-ws-auth` fields: the `auth` op's expiry. The signed text is
/// `GET/realtime` followed by `expires`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthRequest {
    api_key: String,
    expires: u64,
}

/// Reads, checks and signs a `bybit-rest` request.
pub fn sign_rest(
    key: &ApiKey,
    policy: &Policy,
    fields: Value,
    now_ms: u64,
) -> Result<Signed, Refusal> {
    let request: RestRequest = super::read_fields(fields)?;
    key.check_api_key(&request.api_key)?;
    let kind = super::endpoint_kind(REST_ENDPOINTS, &request.method, &request.path, VENUE)?;
    let (payload, mut facts) = match (request.method.as_str(), &request.body) {
        ("GET", None) => {
            let market = form::value(&request.query, "symbol").map(str::to_owned);
            (
                form::encode(&request.query),
                facts_of(kind, market.into_iter().collect(), Vec::new()),
            )
        }
        ("POST", Some(body)) if request.query.is_empty() => (body.clone(), body_facts(kind, body)?),
        _ => {
            return Err(Refusal::BadRequest(
                "a GET carries `query` only and a POST `body` only".to_owned(),
            ));
        }
    };
    facts.valid_from_ms = Some(request.timestamp);
    facts.valid_until_ms = Some(request.timestamp.saturating_add(request.recv_window));
    policy.check(&facts, now_ms)?;
    key.sign(&bybit_core::auth::rest_signing_text(
        request.timestamp,
        &request.api_key,
        request.recv_window,
        payload.as_bytes(),
    ))
}

/// Reads, checks and signs a `bybit-ws-auth` request.
pub fn sign_auth(
    key: &ApiKey,
    policy: &Policy,
    fields: Value,
    now_ms: u64,
) -> Result<Signed, Refusal> {
    let request: AuthRequest = super::read_fields(fields)?;
    key.check_api_key(&request.api_key)?;
    let mut facts = facts_of(RequestKind::Login, Vec::new(), Vec::new());
    facts.valid_until_ms = Some(request.expires);
    policy.check(&facts, now_ms)?;
    key.sign(bybit_core::auth::ws_auth_text(request.expires).as_bytes())
}

fn facts_of(kind: RequestKind, markets: Vec<String>, orders: Vec<OrderFacts>) -> Facts {
    Facts {
        kind,
        markets,
        orders,
        valid_from_ms: None,
        valid_until_ms: None,
        leverage: None,
    }
}

/// What a POST body would do: its `symbol` and order, or those of each item
/// of a batch's `request` list.
fn body_facts(kind: RequestKind, body: &str) -> Result<Facts, Refusal> {
    let body: serde_json::Map<String, Value> = serde_json::from_str(body)
        .map_err(|error| Refusal::BadRequest(format!("body: {error}")))?;
    let items: Vec<&serde_json::Map<String, Value>> = match body.get("request") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        Some(_) => {
            return Err(Refusal::BadRequest(
                "body: `request` must be a list".to_owned(),
            ));
        }
        None => vec![&body],
    };
    let mut markets = Vec::new();
    let mut orders = Vec::new();
    let mut leverage: Option<rust_decimal::Decimal> = None;
    for item in items {
        let field = |name: &str| item.get(name).and_then(Value::as_str);
        markets.extend(field("symbol").map(str::to_owned));
        if kind == RequestKind::Leverage {
            for side in ["buyLeverage", "sellLeverage"] {
                if let Some(text) = field(side) {
                    let value = super::decimal(side, text)?;
                    leverage = Some(leverage.map_or(value, |known| known.max(value)));
                }
            }
        }
        if matches!(kind, RequestKind::Order | RequestKind::Modify) {
            let market = field("symbol")
                .ok_or_else(|| Refusal::BadRequest("an order needs `symbol`".to_owned()))?;
            let price = field("price").or_else(|| field("triggerPrice"));
            orders.push(OrderFacts {
                market: market.to_owned(),
                price: price
                    .map(|text| super::decimal("price", text))
                    .transpose()?,
                size: field("qty")
                    .map(|text| super::decimal("qty", text))
                    .transpose()?,
            });
        }
    }
    let mut facts = facts_of(kind, markets, orders);
    facts.leverage = leverage;
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyring::ApiSecret;
    use serde_json::json;

    const API_KEY: &str = "XXXXXXXXXX";
    const NOW: u64 = 1_658_384_314_791;

    fn key() -> ApiKey {
        ApiKey::new(API_KEY, ApiSecret::hmac(b"test-secret"))
    }

    fn mac(text: &str) -> Vec<u8> {
        key().sign(text.as_bytes()).unwrap().signature
    }

    #[test]
    fn get_signs_timestamp_key_window_and_query() {
        // The signed text of Bybit's documented GET example (guide, "Authentication").
        let fields = json!({"api_key": API_KEY, "timestamp": NOW, "recv_window": 5000, "method": "GET",
            "path": "/v5/order/realtime", "query": [["category", "option"], ["symbol", "BTC-29JUL22-25000-C"]]});
        let signed = sign_rest(&key(), &Policy::default(), fields, NOW).unwrap();
        assert_eq!(
            signed.signature,
            mac("1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C")
        );
    }

    #[test]
    fn post_signs_the_body_exactly_as_sent() {
        let body = r#"{"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.01", "price": "60000"}"#;
        let fields = json!({"api_key": API_KEY, "timestamp": NOW, "recv_window": 5000, "method": "POST",
            "path": "/v5/order/create", "body": body});
        let signed = sign_rest(&key(), &Policy::default(), fields, NOW).unwrap();
        assert_eq!(signed.signature, mac(&format!("{NOW}{API_KEY}5000{body}")));
    }

    #[test]
    fn the_larger_side_of_a_leverage_request_is_capped() {
        let policy = Policy::from_table(toml::from_str("max_leverage = 10").unwrap()).unwrap();
        let set = |buy: &str, sell: &str| {
            let body = format!(
                r#"{{"category":"linear","symbol":"BTCUSDT","buyLeverage":"{buy}","sellLeverage":"{sell}"}}"#
            );
            let fields = json!({"api_key": API_KEY, "timestamp": NOW, "recv_window": 5000,
                "method": "POST", "path": "/v5/position/set-leverage", "body": body});
            sign_rest(&key(), &policy, fields, NOW)
        };
        assert!(set("10", "5").is_ok());
        assert_eq!(
            set("5", "25").unwrap_err().to_string(),
            "leverage 25 exceeds 10 (rule: max_leverage = 10)"
        );
    }

    #[test]
    fn unknown_endpoints_batches_and_auth_are_judged() {
        let policy = Policy::from_table(toml::from_str(
            "allowed_markets = [\"BTCUSDT\"]\nmax_order_notional = \"1000\"\nmax_validity_ms = 10000",
        ).unwrap()).unwrap();
        let post = |path: &str, body: &str| {
            let fields = json!({"api_key": API_KEY, "timestamp": NOW, "recv_window": 5000, "method": "POST", "path": path, "body": body});
            sign_rest(&key(), &policy, fields, NOW)
        };
        assert_eq!(
            post("/v5/asset/withdraw/create", r#"{"coin":"USDT"}"#)
                .unwrap_err()
                .to_string(),
            "POST /v5/asset/withdraw/create is not a request this signer signs for bybit (rule: known requests)"
        );
        let batch = r#"{"category":"linear","request":[{"symbol":"BTCUSDT","qty":"0.01","price":"100"},{"symbol":"BTCUSDT","qty":"1","price":"60000"}]}"#;
        assert!(
            post("/v5/order/create-batch", batch)
                .unwrap_err()
                .to_string()
                .contains("60000 × 1")
        );
        assert!(
            post(
                "/v5/order/cancel",
                r#"{"category":"linear","symbol":"ETHUSDT","orderId":"1"}"#
            )
            .unwrap_err()
            .to_string()
            .contains("\"ETHUSDT\"")
        );
        assert!(
            post("/v5/order/cancel", "not json")
                .unwrap_err()
                .to_string()
                .starts_with("body:")
        );

        let auth = |expires: u64| {
            sign_auth(
                &key(),
                &policy,
                json!({"api_key": API_KEY, "expires": expires}),
                NOW,
            )
        };
        assert_eq!(
            auth(NOW + 5_000).unwrap().signature,
            mac(&format!("GET/realtime{}", NOW + 5_000))
        );
        assert!(
            auth(NOW + 3_600_000)
                .unwrap_err()
                .to_string()
                .contains("rule: max_validity_ms")
        );
    }
}
