//! Classifying answers: `/exchange` outcomes (accepted, rejected with a
//! reason, not processed, unknown) and the data `/info` answers carry.

use abi_stable::std_types::{ROption, RVec};
use hyperliquid_core::{
    Ack, CancelStatus, ExchangeOutcome, ExpectedResponse, MarketKind, OrderStatus,
    RejectReason as CoreReason, classify_response, parse_meta, parse_spot_meta,
};
use plugin_api::{
    Dec, Event, Event_NE, Market, Operation, Operation_NE, Outcome, OutcomeKind, PluginError,
    PriceRule, RateLimitState, RejectReason, Reply, Response, TradingRule,
};
use serde::Deserialize;

use crate::manifest::{ADDRESS, ADDRESS_CANCEL, cancel_cap};
use crate::parse::{self, WireClearinghouse, WireFill, WireOrder, WireOrderStatus};

/// Hyperliquid's minimum order value, in USDC (perps) or quote units (spot).
const MIN_NOTIONAL: Dec = Dec::new(10, 0);

fn reason(reason: CoreReason) -> RejectReason {
    match reason {
        CoreReason::PriceTick | CoreReason::BadTriggerPrice => RejectReason::PRICE_TICK,
        CoreReason::MinNotional => RejectReason::MIN_NOTIONAL,
        CoreReason::PostOnlyWouldCross => RejectReason::POST_ONLY_WOULD_CROSS,
        CoreReason::IocNoMatch | CoreReason::NoLiquidity => RejectReason::NO_LIQUIDITY,
        CoreReason::InsufficientMargin | CoreReason::InsufficientSpotBalance => {
            RejectReason::INSUFFICIENT_MARGIN
        }
        CoreReason::ReduceOnly => RejectReason::REDUCE_ONLY,
        CoreReason::OracleDeviation => RejectReason::PRICE_BAND,
        CoreReason::UnknownSigner => RejectReason::AUTHENTICATION,
        CoreReason::Nonce => RejectReason::NONCE,
        CoreReason::BadRequest => RejectReason::INVALID_REQUEST,
        _ => RejectReason::OTHER,
    }
}

fn accepted(message: &str) -> Outcome {
    Outcome::new(OutcomeKind::ACCEPTED, message)
}

fn reply(outcome: Outcome, items: Vec<Outcome>, events: Vec<Event_NE>) -> Reply {
    Reply {
        outcome,
        items: RVec::from(items),
        events: RVec::from(events),
        next: ROption::RNone,
    }
}

fn order_item(status: &OrderStatus) -> Outcome {
    match status {
        OrderStatus::Resting { oid, .. } => Outcome {
            exchange_order_id: ROption::RSome(oid.to_string().into()),
            ..accepted("resting")
        },
        OrderStatus::Filled {
            total_sz,
            avg_px,
            oid,
            ..
        } => Outcome {
            exchange_order_id: ROption::RSome(oid.to_string().into()),
            filled_size: Dec::from_decimal(*total_sz).ok().into(),
            average_price: Dec::from_decimal(*avg_px).ok().into(),
            ..accepted("filled")
        },
        OrderStatus::WaitingForFill => accepted("waitingForFill"),
        OrderStatus::WaitingForTrigger => accepted("waitingForTrigger"),
        OrderStatus::Rejected { reason: r, message } => {
            Outcome::rejected(reason(*r), message.as_str())
        }
        OrderStatus::Unknown { raw } => Outcome::new(
            OutcomeKind::UNKNOWN,
            format!("unfamiliar order status {raw}"),
        ),
    }
}

fn cancel_item(status: &CancelStatus) -> Outcome {
    match status {
        CancelStatus::Success => accepted("success"),
        CancelStatus::Rejected {
            reason: CoreReason::OrderNotFound,
            message,
        } => Outcome::new(OutcomeKind::NOT_FOUND, message.as_str()),
        CancelStatus::Rejected { reason: r, message } => {
            Outcome::rejected(reason(*r), message.as_str())
        }
        CancelStatus::Unknown { raw } => Outcome::new(
            OutcomeKind::UNKNOWN,
            format!("unfamiliar cancel status {raw}"),
        ),
    }
}

/// The classification of an `/exchange` answer of the `expected` shape.
fn action_reply(expected: ExpectedResponse, response: &Response) -> Reply {
    let retry_after = response
        .headers
        .iter()
        .find(|header| header.0.eq_ignore_ascii_case("retry-after"))
        .map(|header| header.1.as_str());
    let outcome = classify_response(
        expected,
        response.status,
        retry_after,
        response.body.as_bytes(),
    );
    match outcome {
        ExchangeOutcome::Accepted(Ack::Default) => reply(accepted("ok"), Vec::new(), Vec::new()),
        ExchangeOutcome::Accepted(Ack::Orders(statuses)) => reply(
            accepted("ok"),
            statuses.iter().map(order_item).collect(),
            Vec::new(),
        ),
        ExchangeOutcome::Accepted(Ack::Cancels(statuses)) => reply(
            accepted("ok"),
            statuses.iter().map(cancel_item).collect(),
            Vec::new(),
        ),
        ExchangeOutcome::Rejected { reason: r, message } => reply(
            Outcome::rejected(reason(r), message),
            Vec::new(),
            Vec::new(),
        ),
        ExchangeOutcome::NotProcessed { retry_after_secs } => reply(
            Outcome {
                retry_after_ms: retry_after_secs.map(|s| s.saturating_mul(1000)).into(),
                ..Outcome::new(
                    OutcomeKind::NOT_PROCESSED,
                    format!("HTTP {}", response.status),
                )
            },
            Vec::new(),
            Vec::new(),
        ),
        ExchangeOutcome::Unknown { reason } => reply(
            Outcome::new(OutcomeKind::UNKNOWN, format!("{reason:?}")),
            Vec::new(),
            Vec::new(),
        ),
    }
}

fn malformed(what: &str, error: impl std::fmt::Display) -> PluginError {
    PluginError::malformed(format!("{what} answer: {error}"))
}

fn plugin_market(market: &hyperliquid_core::Market) -> Market {
    let (kind, max_decimals, base, quote, symbol) = match market.kind {
        MarketKind::Perp => (
            plugin_api::MarketKind::PERPETUAL,
            6,
            market.coin.clone(),
            "USD".to_owned(),
            format!("{}-USD", market.coin),
        ),
        MarketKind::Spot => {
            let (base, quote) = market
                .display_name
                .split_once('/')
                .map(|(b, q)| (b.to_owned(), q.to_owned()))
                .unwrap_or_else(|| (market.display_name.clone(), String::new()));
            let symbol = format!("{base}-{quote}");
            (plugin_api::MarketKind::SPOT, 8, base, quote, symbol)
        }
    };
    let step = Dec::new(1, market.sz_decimals);
    Market {
        symbol: symbol.into(),
        venue_symbol: market.coin.as_str().into(),
        venue_id: u64::from(market.asset),
        kind,
        base: base.into(),
        quote: quote.into(),
        rule: TradingRule {
            price: PriceRule {
                tick: Dec::ZERO,
                max_significant_figures: 5,
                max_decimals: ROption::RSome(max_decimals - market.sz_decimals.min(max_decimals)),
                integers_always_valid: true,
                min_price: Dec::ZERO,
                max_price: Dec::ZERO,
            },
            size_step: step,
            min_size: step,
            max_size: Dec::ZERO,
            min_notional: MIN_NOTIONAL,
            reduce_only_exempt_from_min_notional: false,
        },
        max_leverage: market.max_leverage,
    }
}

fn markets(body: &str, cursor: &str) -> Result<Reply, PluginError> {
    let (parsed, next) = match cursor {
        "" => (parse_meta(body), Some("spot")),
        _ => (parse_spot_meta(body), None),
    };
    let parsed = parsed.map_err(|error| malformed("market", error))?;
    let list: RVec<Market> = parsed
        .iter()
        .filter(|market| !market.delisted)
        .map(plugin_market)
        .collect();
    Ok(Reply {
        next: next
            .map(|cursor| {
                Operation_NE::new(Operation::FetchMarkets {
                    cursor: cursor.into(),
                })
            })
            .into(),
        ..reply(
            accepted("ok"),
            Vec::new(),
            vec![Event_NE::new(Event::Markets(list))],
        )
    })
}

#[derive(Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
enum WireOrderQuery<'a> {
    Order {
        #[serde(borrow)]
        order: WireOrderStatus<'a>,
    },
    UnknownOid,
}

/// `userRateLimit`: the address limit as the venue counts it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRateLimit {
    n_requests_used: u64,
    n_requests_cap: u64,
}

/// The address buckets as `userRateLimit` shows them.
fn rate_limits(limit: &WireRateLimit) -> Vec<Event_NE> {
    let state = |bucket: &str, capacity: u64| {
        Event_NE::new(Event::RateLimit(RateLimitState {
            bucket: bucket.into(),
            remaining: capacity.saturating_sub(limit.n_requests_used),
            capacity,
        }))
    };
    vec![
        state(ADDRESS, limit.n_requests_cap),
        state(ADDRESS_CANCEL, cancel_cap(limit.n_requests_cap)),
    ]
}

/// Fills per `userFillsByTime` answer, at most.
const FILLS_PAGE: usize = 2000;

fn info_reply(operation: &Operation, body: &str) -> Result<Reply, PluginError> {
    let ok = |events: Vec<Event_NE>| Ok(reply(accepted("ok"), Vec::new(), events));
    match operation {
        Operation::FetchMarkets { cursor } => markets(body, cursor),
        Operation::FetchOpenOrders => {
            let orders: Vec<WireOrder<'_>> =
                serde_json::from_str(body).map_err(|e| malformed("openOrders", e))?;
            orders
                .into_iter()
                .map(|order| {
                    let status = WireOrderStatus {
                        status_timestamp: order.timestamp,
                        order,
                        status: "open",
                    };
                    parse::order(&status, true)
                })
                .collect::<Result<_, _>>()
                .and_then(ok)
        }
        Operation::FetchOrder(_) => {
            let query: WireOrderQuery<'_> =
                serde_json::from_str(body).map_err(|e| malformed("orderStatus", e))?;
            match query {
                WireOrderQuery::Order { order } => ok(vec![parse::order(&order, true)?]),
                WireOrderQuery::UnknownOid => Ok(reply(
                    Outcome::new(OutcomeKind::NOT_FOUND, "unknownOid"),
                    Vec::new(),
                    Vec::new(),
                )),
            }
        }
        Operation::FetchFills { .. } => {
            let fills: Vec<WireFill<'_>> =
                serde_json::from_str(body).map_err(|e| malformed("userFillsByTime", e))?;
            let events = fills
                .iter()
                .map(|fill| parse::fill(fill, true))
                .collect::<Result<Vec<_>, _>>()?;
            let next = (fills.len() >= FILLS_PAGE)
                .then(|| fills.iter().map(|f| f.time).max())
                .flatten()
                .map(|since_ms| Operation_NE::new(Operation::FetchFills { since_ms }));
            Ok(Reply {
                next: next.into(),
                ..reply(accepted("ok"), Vec::new(), events)
            })
        }
        Operation::FetchAccount => {
            let state: WireClearinghouse<'_> =
                serde_json::from_str(body).map_err(|e| malformed("clearinghouseState", e))?;
            ok(parse::account(&state)?.into())
        }
        Operation::FetchRateLimits => {
            let limit: WireRateLimit =
                serde_json::from_str(body).map_err(|e| malformed("userRateLimit", e))?;
            ok(rate_limits(&limit))
        }
        other => Err(PluginError::unsupported(format!(
            "no reply parser for {other:?}"
        ))),
    }
}

/// The reply to any operation this plugin builds.
pub fn parse_reply(operation: &Operation, response: &Response) -> Result<Reply, PluginError> {
    let expected = match operation {
        Operation::PlaceOrders(orders) | Operation::PlaceWithExits(orders) => {
            Some(ExpectedResponse::Orders(orders.len()))
        }
        // Modifies are sent as batchModify, answered like orders.
        Operation::ModifyOrders(modifies) => Some(ExpectedResponse::Orders(modifies.len())),
        Operation::CancelOrders(targets) => Some(ExpectedResponse::Cancels(targets.len())),
        Operation::ArmDeadManSwitch(_) | Operation::SetLeverage { .. } => {
            Some(ExpectedResponse::Default)
        }
        _ => None,
    };
    if let Some(expected) = expected {
        return Ok(action_reply(expected, response));
    }
    match response.status {
        200 => info_reply(operation, response.body.as_str()),
        408 | 429 => Ok(reply(
            Outcome::new(
                OutcomeKind::NOT_PROCESSED,
                format!("HTTP {}", response.status),
            ),
            Vec::new(),
            Vec::new(),
        )),
        status => Ok(reply(
            Outcome::new(
                OutcomeKind::UNKNOWN,
                format!("HTTP {status}: {}", response.body),
            ),
            Vec::new(),
            Vec::new(),
        )),
    }
}
