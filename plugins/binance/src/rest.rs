//! REST calls: public ones, API-key ones (the listen key) and signed ones
//! (a `binance-rest` signature over the encoded query, which is sent as
//! signed), their costs, and what an answer proves.

use abi_stable::std_types::{ROption, RString, RVec, Tuple2};
use binance_core::{Meaning, Params, Reject, signing};
use plugin_api::{
    Event, Outcome, OutcomeKind, PluginError, RateLimitState, RejectReason, Request, Response,
    SignRequest,
};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::config::Config;
use crate::manifest::{BUCKETS, ORDERS_1M, ORDERS_10S, REQUEST_WEIGHT, SCHEME};

/// How a call is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// Not at all (market data).
    Public,
    /// The `X-MBX-APIKEY` header only (the listen key).
    ApiKey,
    /// The header, a timestamp and a signature.
    Signed,
}

/// One REST call before its timestamp and signature.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) method: &'static str,
    pub(crate) path: &'static str,
    pub(crate) params: Params,
    /// Its request weight.
    pub(crate) weight: u32,
    /// How many orders it counts against the account's order limits.
    pub(crate) orders: u32,
    pub(crate) auth: Auth,
}

impl Call {
    /// A call with no parameters yet.
    pub(crate) fn new(method: &'static str, path: &'static str, weight: u32, auth: Auth) -> Call {
        Call {
            method,
            path,
            params: Params::new(),
            weight,
            orders: 0,
            auth,
        }
    }

    /// What it costs against the manifest's buckets.
    pub(crate) fn costs(&self) -> RVec<Tuple2<RString, u32>> {
        let mut costs = vec![Tuple2(REQUEST_WEIGHT.into(), self.weight)];
        if self.orders > 0 {
            costs.push(Tuple2(ORDERS_10S.into(), self.orders));
            costs.push(Tuple2(ORDERS_1M.into(), self.orders));
        }
        RVec::from(costs)
    }

    fn url(&self, config: &Config, query: &str) -> RString {
        if query.is_empty() {
            format!("{}{}", config.api_url, self.path).into()
        } else {
            format!("{}{}?{query}", config.api_url, self.path).into()
        }
    }

    fn headers(&self, config: &Config) -> RVec<Tuple2<RString, RString>> {
        match self.auth {
            Auth::Public => RVec::new(),
            Auth::ApiKey | Auth::Signed => RVec::from(vec![Tuple2(
                "X-MBX-APIKEY".into(),
                config.api_key.as_str().into(),
            )]),
        }
    }

    /// The request of a call that is not signed.
    pub(crate) fn request(&self, config: &Config) -> Request {
        Request {
            method: self.method.into(),
            url: self.url(config, &self.params.encode()),
            headers: self.headers(config),
            body: RString::new(),
            costs: self.costs(),
        }
    }

    /// Stamps a signed call (`timestamp`, `recvWindow`) and asks for its
    /// signature; returns the request for the signer and the query text
    /// it signs, which is the text sent.
    pub(crate) fn stamp(
        &self,
        config: &Config,
        now_ms: u64,
        recv_window_ms: u64,
    ) -> (SignRequest, String) {
        let mut params = self.params.clone();
        params
            .push("recvWindow", recv_window_ms.to_string())
            .push("timestamp", now_ms.to_string());
        let payload = json!({
            "api_key": config.api_key,
            "method": self.method,
            "path": self.path,
            "query": params.pairs(),
        });
        let request = SignRequest {
            scheme: SCHEME.into(),
            payload: payload.to_string().into(),
        };
        (request, params.encode())
    }

    /// The signed request: the stamped query, then `signature` (hex for an
    /// HMAC key, base64 for an Ed25519 key). Its costs were paid with the
    /// signature.
    pub(crate) fn signed(
        &self,
        config: &Config,
        query: &str,
        signature: &[u8],
    ) -> Result<Request, PluginError> {
        config.check_signature(query, signature)?;
        let text = signing::signature_text(signature).map_err(PluginError::invalid)?;
        let mut query = query.to_owned();
        signing::append_signature(&mut query, &text);
        Ok(Request {
            method: self.method.into(),
            url: self.url(config, &query),
            headers: self.headers(config),
            body: RString::new(),
            costs: RVec::new(),
        })
    }
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response
        .headers
        .iter()
        .find(|header| header.0.eq_ignore_ascii_case(name))
        .map(|header| header.1.as_str().trim())
}

/// The venue's count of the manifest's buckets, from the answer's
/// `X-MBX-USED-WEIGHT-1M` and `X-MBX-ORDER-COUNT-*` headers.
pub(crate) fn rate_limits(response: &Response) -> Vec<Event> {
    BUCKETS
        .iter()
        .filter_map(|(bucket, capacity, _, name)| {
            let used: u64 = header(response, name)?.parse().ok()?;
            let capacity = u64::from(*capacity);
            Some(Event::RateLimit(RateLimitState {
                bucket: (*bucket).into(),
                remaining: capacity.saturating_sub(used),
                capacity,
            }))
        })
        .collect()
}

fn reject_reason(reject: Reject) -> RejectReason {
    match reject {
        Reject::InsufficientMargin => RejectReason::INSUFFICIENT_MARGIN,
        Reject::PriceTick => RejectReason::PRICE_TICK,
        Reject::PriceBand => RejectReason::PRICE_BAND,
        Reject::LotSize => RejectReason::LOT_SIZE,
        Reject::MinNotional => RejectReason::MIN_NOTIONAL,
        Reject::PostOnlyWouldCross => RejectReason::POST_ONLY_WOULD_CROSS,
        Reject::ReduceOnly => RejectReason::REDUCE_ONLY,
        Reject::DuplicateClientId => RejectReason::DUPLICATE_CLIENT_ID,
        Reject::TooManyOpenOrders => RejectReason::TOO_MANY_OPEN_ORDERS,
        Reject::MarketClosed => RejectReason::MARKET_CLOSED,
        Reject::InvalidRequest => RejectReason::INVALID_REQUEST,
        Reject::Authentication => RejectReason::AUTHENTICATION,
        Reject::NoLiquidity => RejectReason::NO_LIQUIDITY,
        Reject::Other => RejectReason::OTHER,
    }
}

/// What an answer proves, as an outcome; `None` for a success, whose data
/// the caller reads.
pub(crate) fn failure(response: &Response) -> Option<Outcome> {
    let answer = binance_core::classify(response.status, &response.body);
    let message = match answer.code {
        Some(code) => format!("{code} {}", answer.message),
        None => format!("HTTP {}: {}", response.status, answer.message),
    };
    Some(match answer.meaning {
        Meaning::Done => return None,
        Meaning::Rejected(reject) => Outcome::rejected(reject_reason(reject), message),
        Meaning::NotFound => Outcome::new(OutcomeKind::NOT_FOUND, message),
        Meaning::Unknown => Outcome::new(OutcomeKind::UNKNOWN, message),
        Meaning::NotProcessed { .. } => Outcome {
            retry_after_ms: header(response, "retry-after")
                .and_then(|seconds| seconds.parse::<u64>().ok())
                .map(|seconds| seconds.saturating_mul(1_000))
                .into(),
            ..Outcome::new(OutcomeKind::NOT_PROCESSED, message)
        },
    })
}

/// A success's body.
pub(crate) fn body<T: DeserializeOwned>(response: &Response, what: &str) -> Result<T, PluginError> {
    serde_json::from_str(&response.body)
        .map_err(|error| PluginError::malformed(format!("{what}: {error}: {}", response.body)))
}

/// An accepted outcome.
pub(crate) fn accepted(message: &str) -> Outcome {
    Outcome::new(OutcomeKind::ACCEPTED, message)
}

/// An outcome naming the exchange's order id.
pub(crate) fn with_order_id(outcome: Outcome, order_id: u64) -> Outcome {
    Outcome {
        exchange_order_id: ROption::RSome(order_id.to_string().into()),
        ..outcome
    }
}
