//! `binance-rest` and `binance-ws-api`: Binance USDⓈ-M futures requests,
//! signed with the key's HMAC-SHA256 secret (32 raw bytes; the plugin writes
//! them as hex) or Ed25519 key (64 raw bytes; the plugin writes them as
//! base64). Only the trading, account-reading and session endpoints below
//! are signed; withdrawals, transfers, sub-account and API-key requests are
//! unknown here and refused.

use binance_core::endpoints::{self, Purpose};
use binance_core::signing::{self, DEFAULT_RECV_WINDOW_MS};
use binance_core::{Lookup, Params};
use serde::Deserialize;
use serde_json::Value;

use super::Refusal;
use super::form::Pair;
use crate::keyring::ApiKey;
use crate::policy::api::{Facts, OrderFacts, Policy, RequestKind};
use crate::protocol::Signed;

const VENUE: &str = "binance-usdm";

/// The policy's kind of a request that does `purpose`.
fn kind_of(purpose: Purpose) -> RequestKind {
    match purpose {
        Purpose::Order => RequestKind::Order,
        Purpose::Modify => RequestKind::Modify,
        Purpose::Cancel => RequestKind::Cancel,
        Purpose::CancelAll => RequestKind::CancelAll,
        Purpose::DeadManSwitch => RequestKind::DeadManSwitch,
        Purpose::Leverage => RequestKind::Leverage,
        Purpose::Read => RequestKind::Read,
    }
}

/// The pairs as Binance parameters, in order.
fn params(pairs: &[Pair]) -> Params {
    Params::from_pairs(
        pairs
            .iter()
            .map(|Pair(key, value)| (key.as_str(), value.as_str())),
    )
}

/// `binance-rest` fields: the request as the plugin will send it. The signed
/// text is the encoded `query` followed directly by the encoded `body`
/// (Binance's "totalParams"), which must include `timestamp`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RestRequest {
    api_key: String,
    method: String,
    path: String,
    #[serde(default)]
    query: Vec<Pair>,
    #[serde(default)]
    body: Vec<Pair>,
}

/// `binance-ws-api` fields: a WebSocket API request's method and parameters
/// without `apiKey` and `signature`; the signed text is every parameter plus
/// `apiKey`, sorted by name and encoded.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SocketRequest {
    api_key: String,
    method: String,
    params: serde_json::Map<String, Value>,
}

/// Reads, checks and signs a `binance-rest` request.
pub fn sign_rest(
    key: &ApiKey,
    policy: &Policy,
    fields: Value,
    now_ms: u64,
) -> Result<Signed, Refusal> {
    let request: RestRequest = super::read_fields(fields)?;
    key.check_api_key(&request.api_key)?;
    let kind = endpoints::signed_purpose(&request.method, &request.path)
        .map(kind_of)
        .ok_or_else(|| super::unknown(format!("{} {}", request.method, request.path), VENUE))?;
    let (query, body) = (params(&request.query), params(&request.body));
    let all = params(&[request.query, request.body].concat());
    let facts = facts(kind, &|name| all.param(name).map(str::to_owned))?;
    policy.check(&facts, now_ms)?;
    key.sign(signing::rest_payload(&query, &body).as_bytes())
}

/// Reads, checks and signs a `binance-ws-api` request.
pub fn sign_socket(
    key: &ApiKey,
    policy: &Policy,
    fields: Value,
    now_ms: u64,
) -> Result<Signed, Refusal> {
    let request: SocketRequest = super::read_fields(fields)?;
    key.check_api_key(&request.api_key)?;
    let kind = endpoints::SIGNED_SOCKET_METHODS
        .iter()
        .find(|(method, _)| *method == request.method)
        .map(|(_, purpose)| purpose.map_or(RequestKind::Login, kind_of))
        .ok_or_else(|| super::unknown(format!("socket method {:?}", request.method), VENUE))?;
    if kind == RequestKind::Login && !key.is_ed25519() {
        return Err(Refusal::BadRequest(
            "session.logon needs an Ed25519 key; this key is HMAC".to_owned(),
        ));
    }
    let mut pairs = Params::new();
    pairs.push("apiKey", request.api_key.as_str());
    for (name, value) in &request.params {
        if name == "apiKey" || name == "signature" {
            return Err(Refusal::BadRequest(format!(
                "params: `{name}` is added by the signer or the plugin, not sent to be signed"
            )));
        }
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            Value::Bool(flag) => flag.to_string(),
            _ => {
                return Err(Refusal::BadRequest(format!(
                    "params: `{name}` must be a string, a number or a boolean"
                )));
            }
        };
        pairs.push(name.as_str(), text);
    }
    let facts = facts(kind, &|name| pairs.param(name).map(str::to_owned))?;
    policy.check(&facts, now_ms)?;
    key.sign(signing::socket_payload(&pairs).as_bytes())
}

/// What a request with these parameters would do.
fn facts(kind: RequestKind, param: &dyn Fn(&str) -> Option<String>) -> Result<Facts, Refusal> {
    let timestamp = param("timestamp")
        .ok_or_else(|| Refusal::BadRequest("a signed request needs `timestamp`".to_owned()))
        .and_then(|text| super::integer("timestamp", &text))?;
    let recv_window = match param("recvWindow") {
        Some(text) => super::integer("recvWindow", &text)?,
        None => DEFAULT_RECV_WINDOW_MS,
    };
    let mut orders = Vec::new();
    let mut markets: Vec<String> = param("symbol").into_iter().collect();
    if let Some(batch) = param("batchOrders") {
        let items: Vec<serde_json::Map<String, Value>> = serde_json::from_str(&batch)
            .map_err(|error| Refusal::BadRequest(format!("batchOrders: {error}")))?;
        for item in &items {
            let field = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_owned);
            markets.extend(field("symbol"));
            if matches!(kind, RequestKind::Order | RequestKind::Modify) {
                orders.push(order(&field)?);
            }
        }
    } else if matches!(kind, RequestKind::Order | RequestKind::Modify) {
        orders.push(order(param)?);
    }
    let leverage = match param("leverage") {
        Some(text) if kind == RequestKind::Leverage => Some(super::decimal("leverage", &text)?),
        _ => None,
    };
    Ok(Facts {
        kind,
        markets,
        orders,
        valid_from_ms: Some(timestamp),
        valid_until_ms: Some(timestamp.saturating_add(recv_window)),
        leverage,
    })
}

/// One order's market, price (the limit, else the trigger) and quantity.
fn order(field: &dyn Fn(&str) -> Option<String>) -> Result<OrderFacts, Refusal> {
    let market =
        field("symbol").ok_or_else(|| Refusal::BadRequest("an order needs `symbol`".to_owned()))?;
    let price = field("price")
        .or_else(|| field("triggerPrice"))
        .or_else(|| field("stopPrice"));
    Ok(OrderFacts {
        market,
        price: price
            .map(|text| super::decimal("price", &text))
            .transpose()?,
        size: field("quantity")
            .map(|text| super::decimal("quantity", &text))
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyring::ApiSecret;
    use serde_json::json;

    /// Binance's documented HMAC example (general-info, "SIGNED endpoint
    /// examples"): this secret over this text gives this signature.
    const SECRET: &str = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
    const API_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
    const SIGNATURE: &str = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9";
    const NOW: u64 = 1_591_702_613_943;

    fn hmac_key() -> ApiKey {
        ApiKey::new(API_KEY, ApiSecret::hmac(SECRET.as_bytes()))
    }

    fn pairs(text: &str) -> Value {
        Value::Array(
            text.split('&')
                .map(|pair| {
                    let (key, value) = pair.split_once('=').unwrap();
                    json!([key, value])
                })
                .collect(),
        )
    }

    const ORDER: &str = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943";

    #[test]
    fn the_documented_example_signs_as_query_or_as_body() {
        for (query, body) in [(pairs(ORDER), json!([])), (json!([]), pairs(ORDER))] {
            let fields = json!({"api_key": API_KEY, "method": "POST", "path": "/fapi/v1/order", "query": query, "body": body});
            let signed = sign_rest(&hmac_key(), &Policy::default(), fields, NOW).unwrap();
            assert_eq!(hex::encode(&signed.signature), SIGNATURE);
            assert_eq!(signed.signer, API_KEY);
        }
    }

    #[test]
    fn query_and_body_are_signed_back_to_back() {
        // The split of the documented mixed example, with its timestamp
        // written correctly.
        let fields = json!({
            "api_key": API_KEY, "method": "POST", "path": "/fapi/v1/order",
            "query": pairs("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"),
            "body": pairs("quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943"),
        });
        let signed = sign_rest(&hmac_key(), &Policy::default(), fields, NOW).unwrap();
        assert_eq!(
            hex::encode(&signed.signature),
            "30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4"
        );
    }

    #[test]
    fn unknown_endpoints_and_policy_rules_are_refused() {
        let policy = Policy::from_table(
            toml::from_str("allowed_markets = [\"ETHUSDT\"]\nmax_order_notional = \"5000\"")
                .unwrap(),
        )
        .unwrap();
        let refusal = |method: &str, path: &str, params: &str| {
            let fields =
                json!({"api_key": API_KEY, "method": method, "path": path, "query": pairs(params)});
            sign_rest(&hmac_key(), &policy, fields, NOW)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            refusal(
                "POST",
                "/sapi/v1/capital/withdraw/apply",
                "coin=USDT&amount=1&timestamp=1591702613943"
            ),
            "POST /sapi/v1/capital/withdraw/apply is not a request this signer signs for binance-usdm (rule: known requests)"
        );
        assert_eq!(
            refusal("POST", "/fapi/v1/order", ORDER),
            "market \"BTCUSDT\" is not allowed (rule: allowed_markets)"
        );
        let eth = ORDER.replace("BTCUSDT", "ETHUSDT");
        assert!(refusal("POST", "/fapi/v1/order", &eth).contains("9000 × 1 = 9000 exceeds 5000"));
        let batch = format!(
            "batchOrders={}&timestamp=1591702613943",
            r#"[{"symbol":"ETHUSDT","price":"10","quantity":"1"},{"symbol":"BTCUSDT","price":"1","quantity":"1"}]"#
        );
        assert_eq!(
            refusal("POST", "/fapi/v1/batchOrders", &batch),
            "market \"BTCUSDT\" is not allowed (rule: allowed_markets)"
        );
        assert!(refusal("POST", "/fapi/v1/order", "symbol=ETHUSDT").contains("needs `timestamp`"));
        let stale = eth
            .replace("recvWindow=5000", "recvWindow=600000")
            .replace("quantity=1", "quantity=0.1");
        assert!(refusal("POST", "/fapi/v1/order", &stale).contains("rule: max_validity_ms"));
    }

    #[test]
    fn leverage_is_read_from_the_request_and_capped() {
        let policy = Policy::from_table(toml::from_str("max_leverage = 10").unwrap()).unwrap();
        let set = |leverage: &str| {
            let fields = json!({"api_key": API_KEY, "method": "POST", "path": "/fapi/v1/leverage",
                "query": pairs(&format!("symbol=BTCUSDT&leverage={leverage}&timestamp={NOW}"))});
            sign_rest(&hmac_key(), &policy, fields, NOW)
        };
        assert!(set("10").is_ok());
        assert_eq!(
            set("20").unwrap_err().to_string(),
            "leverage 20 exceeds 10 (rule: max_leverage = 10)"
        );
    }

    #[test]
    fn ed25519_keys_sign_the_same_text_and_may_log_on() {
        use ed25519_dalek::pkcs8::DecodePrivateKey;
        use ed25519_dalek::{Signature, SigningKey, Verifier};
        let secret = SigningKey::from_pkcs8_pem(crate::key::tests::ED25519_PEM).unwrap();
        let public = secret.verifying_key();
        let key = ApiKey::new(API_KEY, ApiSecret::Ed25519(Box::new(secret)));
        let fields = json!({"api_key": API_KEY, "method": "POST", "path": "/fapi/v1/order", "query": pairs(ORDER)});
        let signed = sign_rest(&key, &Policy::default(), fields, NOW).unwrap();
        let signature = Signature::from_slice(&signed.signature).unwrap();
        assert!(public.verify(ORDER.as_bytes(), &signature).is_ok());

        let logon =
            json!({"api_key": API_KEY, "method": "session.logon", "params": {"timestamp": NOW}});
        let signed = sign_socket(&key, &Policy::default(), logon, NOW).unwrap();
        let signature = Signature::from_slice(&signed.signature).unwrap();
        let text = format!("apiKey={API_KEY}&timestamp={NOW}");
        assert!(public.verify(text.as_bytes(), &signature).is_ok());
    }

    #[test]
    fn socket_requests_sign_sorted_parameters_with_the_api_key() {
        let fields = json!({"api_key": API_KEY, "method": "order.place", "params": {
            "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "9000",
            "timeInForce": "GTC", "recvWindow": 5000, "timestamp": 1591702613943u64,
        }});
        let signed = sign_socket(&hmac_key(), &Policy::default(), fields, NOW).unwrap();
        let text = format!(
            "apiKey={API_KEY}&price=9000&quantity=1&recvWindow=5000&side=BUY&symbol=BTCUSDT&timeInForce=GTC&timestamp=1591702613943&type=LIMIT"
        );
        assert_eq!(
            signed.signature,
            hmac_key().sign(text.as_bytes()).unwrap().signature
        );

        let logon =
            json!({"api_key": API_KEY, "method": "session.logon", "params": {"timestamp": NOW}});
        let error = sign_socket(&hmac_key(), &Policy::default(), logon, NOW).unwrap_err();
        assert!(
            error.to_string().contains("needs an Ed25519 key"),
            "{error}"
        );
        let nested = json!({"api_key": API_KEY, "method": "order.status", "params": {"timestamp": NOW, "x": [1]}});
        assert!(sign_socket(&hmac_key(), &Policy::default(), nested, NOW).is_err());
        let foreign =
            json!({"api_key": "other", "method": "order.status", "params": {"timestamp": NOW}});
        let error = sign_socket(&hmac_key(), &Policy::default(), foreign, NOW).unwrap_err();
        assert!(error.to_string().contains("api_key"), "{error}");
    }
}
