//! Answers: what a Bybit answer proves about the request (from its
//! `retCode`, per item for a batch) and the data it carries.

use abi_stable::std_types::{ROption, RVec};
use bybit_core::codes::{self, Meaning, Refusal};
use bybit_core::envelope::Envelope;
use plugin_api::{
    Dec, Event, Event_NE, Market, MarketKind, Operation, Operation_NE, Outcome, OutcomeKind,
    PluginError, PriceRule, RateLimitState, RejectReason, Reply, Response, TradingRule,
};
use serde_json::Value;

use crate::records::{self, ExecutionRecord, OrderRecord, dec, text};
use crate::rest::{self, Call, PAGE};

/// What one answer of a job came to.
#[derive(Debug)]
pub enum Read {
    /// The job is over.
    Finished(Box<Reply>),
    /// The job goes on: these events so far, and the next call (a page)
    /// if the answer asks for one; otherwise the job's next planned call.
    More {
        /// Events read from this answer.
        events: Vec<Event_NE>,
        /// The next page, if any.
        next: Option<Call>,
    },
}

fn reply(outcome: Outcome, items: Vec<Outcome>, events: Vec<Event_NE>) -> Reply {
    Reply {
        outcome,
        items: RVec::from(items),
        events: RVec::from(events),
        next: ROption::RNone,
    }
}

fn reason(refusal: Refusal) -> RejectReason {
    match refusal {
        Refusal::Parameters => RejectReason::INVALID_REQUEST,
        Refusal::Timestamp => RejectReason::NONCE,
        Refusal::Authentication => RejectReason::AUTHENTICATION,
        Refusal::InsufficientBalance => RejectReason::INSUFFICIENT_MARGIN,
        Refusal::ReduceOnly => RejectReason::REDUCE_ONLY,
        Refusal::MinNotional => RejectReason::MIN_NOTIONAL,
    }
}

/// The outcome a `retCode` proves.
fn outcome(code: i64, message: &str) -> Outcome {
    let message = format!("{code} {message}");
    match codes::meaning(code) {
        Meaning::Done => Outcome::new(OutcomeKind::ACCEPTED, message),
        Meaning::Refused(refusal) => Outcome::rejected(reason(refusal), message),
        Meaning::NotProcessed => Outcome::new(OutcomeKind::NOT_PROCESSED, message),
        Meaning::NotFound => Outcome::new(OutcomeKind::NOT_FOUND, message),
        Meaning::Unknown => Outcome::new(OutcomeKind::UNKNOWN, message),
    }
}

fn with_order_id(mut outcome: Outcome, result: &Value) -> Outcome {
    if outcome.kind == OutcomeKind::ACCEPTED {
        outcome.exchange_order_id = result
            .get("orderId")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(Into::into)
            .into();
    }
    outcome
}

/// The venue's count of the call's bucket, from `X-Bapi-Limit` and
/// `X-Bapi-Limit-Status`.
fn rate_limit(call: &Call, response: &Response) -> Option<Event_NE> {
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|header| header.0.eq_ignore_ascii_case(name))
            .and_then(|header| header.1.trim().parse::<u64>().ok())
    };
    let (capacity, remaining) = (header("X-Bapi-Limit")?, header("X-Bapi-Limit-Status")?);
    Some(Event_NE::new(Event::RateLimit(RateLimitState {
        bucket: call.bucket()?.into(),
        remaining,
        capacity,
    })))
}

/// An answer that is not a readable envelope: HTTP 429 and 403 (Bybit's
/// IP limit) were not processed; anything else may have been.
fn unreadable(response: &Response) -> Outcome {
    let message = format!("HTTP {}: {}", response.status, response.body);
    match response.status {
        403 | 429 => Outcome::new(OutcomeKind::NOT_PROCESSED, message),
        _ => Outcome::new(OutcomeKind::UNKNOWN, message),
    }
}

/// An order action's answer: one item per order, in request order.
fn action(envelope: &Envelope, batch: usize) -> Result<Reply, PluginError> {
    let whole = outcome(envelope.ret_code, &envelope.ret_msg);
    if batch <= 1 {
        let item = with_order_id(whole.clone(), &envelope.result);
        return Ok(reply(item.clone(), vec![item], Vec::new()));
    }
    if whole.kind != OutcomeKind::ACCEPTED {
        return Ok(reply(whole, Vec::new(), Vec::new()));
    }
    let codes = envelope
        .item_codes()
        .map_err(|error| PluginError::malformed(format!("bybit batch codes: {error}")))?;
    let results = envelope.result.get("list").and_then(Value::as_array);
    let items = (0..batch)
        .map(|index| match codes.get(index) {
            Some(code) => {
                let result = results
                    .and_then(|list| list.get(index))
                    .unwrap_or(&Value::Null);
                with_order_id(outcome(code.code, &code.msg), result)
            }
            None => Outcome::new(OutcomeKind::UNKNOWN, "the batch answer has no item for it"),
        })
        .collect();
    Ok(reply(whole, items, Vec::new()))
}

fn list(result: &Value) -> Result<&Vec<Value>, PluginError> {
    result
        .get("list")
        .and_then(Value::as_array)
        .ok_or_else(|| PluginError::malformed(format!("bybit result without `list`: {result}")))
}

/// The next page of a listing, when this one was full and names a cursor.
fn next_page(call: &Call, result: &Value, count: usize) -> Option<Call> {
    let cursor = result
        .get("nextPageCursor")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())?;
    (count >= PAGE).then(|| call.clone().with("cursor", cursor))
}

fn market(record: &Value) -> Result<Option<Market>, PluginError> {
    if text(record, "status")? != "Trading" || text(record, "contractType")? != "LinearPerpetual" {
        return Ok(None);
    }
    let price = record.get("priceFilter").unwrap_or(&Value::Null);
    let lot = record.get("lotSizeFilter").unwrap_or(&Value::Null);
    let (base, quote) = (text(record, "baseCoin")?, text(record, "quoteCoin")?);
    let optional = |filter: &Value, field: &str| match filter.get(field) {
        Some(_) => dec(filter, field),
        None => Ok(Dec::ZERO),
    };
    let max_leverage = record
        .get("leverageFilter")
        .and_then(|filter| filter.get("maxLeverage"))
        .and_then(Value::as_str)
        .and_then(|text| text.parse::<f64>().ok())
        .map_or(0, |leverage| leverage as u32);
    Ok(Some(Market {
        symbol: format!("{base}-{quote}").into(),
        venue_symbol: text(record, "symbol")?.into(),
        venue_id: 0,
        kind: MarketKind::PERPETUAL,
        base: base.into(),
        quote: quote.into(),
        rule: TradingRule {
            price: PriceRule {
                tick: dec(price, "tickSize")?,
                max_significant_figures: 0,
                max_decimals: ROption::RNone,
                integers_always_valid: false,
                min_price: optional(price, "minPrice")?,
                max_price: optional(price, "maxPrice")?,
            },
            size_step: dec(lot, "qtyStep")?,
            min_size: optional(lot, "minOrderQty")?,
            max_size: optional(lot, "maxOrderQty")?,
            min_notional: optional(lot, "minNotionalValue")?,
            reduce_only_exempt_from_min_notional: false,
        },
        max_leverage,
    }))
}

fn events<T>(
    list: &[T],
    read: impl Fn(&T) -> Result<Option<Event>, PluginError>,
) -> Result<Vec<Event_NE>, PluginError> {
    let mut events = Vec::new();
    for record in list {
        events.extend(read(record)?.map(Event_NE::new));
    }
    Ok(events)
}

fn finish(reply: Reply) -> Read {
    Read::Finished(Box::new(reply))
}

fn finished(events: Vec<Event_NE>) -> Read {
    finish(reply(
        Outcome::new(OutcomeKind::ACCEPTED, "ok"),
        Vec::new(),
        events,
    ))
}

/// A read's data.
fn data(operation: &Operation, call: &Call, envelope: &Envelope) -> Result<Read, PluginError> {
    let result = &envelope.result;
    Ok(match operation {
        Operation::FetchMarkets { .. } => {
            let markets = list(result)?
                .iter()
                .map(market)
                .filter_map(Result::transpose)
                .collect::<Result<RVec<_>, _>>()?;
            let next = result
                .get("nextPageCursor")
                .and_then(Value::as_str)
                .filter(|cursor| !cursor.is_empty())
                .map(|cursor| {
                    Operation_NE::new(Operation::FetchMarkets {
                        cursor: cursor.into(),
                    })
                });
            finish(Reply {
                next: next.into(),
                ..reply(
                    Outcome::new(OutcomeKind::ACCEPTED, "ok"),
                    Vec::new(),
                    vec![Event_NE::new(Event::Markets(markets))],
                )
            })
        }
        Operation::FetchOpenOrders | Operation::FetchFills { .. } => {
            let count = list(result)?.len();
            let list = &result["list"];
            let events = if matches!(operation, Operation::FetchOpenOrders) {
                let orders: Vec<OrderRecord> = records::read_list(list, "order")?;
                events(&orders, |record| records::order(record, true).map(Some))?
            } else {
                let executions: Vec<ExecutionRecord> = records::read_list(list, "execution")?;
                events(&executions, |record| records::fill(record, true))?
            };
            match next_page(call, result, count) {
                Some(next) => Read::More {
                    events,
                    next: Some(next),
                },
                None => finished(events),
            }
        }
        Operation::FetchOrder(_) => {
            list(result)?;
            let orders: Vec<OrderRecord> = records::read_list(&result["list"], "order")?;
            let found = events(&orders, |record| records::order(record, true).map(Some))?;
            match (found.is_empty(), call.path) {
                (false, _) => finished(found),
                (true, "/v5/order/realtime") => Read::More {
                    events: found,
                    next: None,
                },
                (true, _) => finish(Reply::only(Outcome::new(
                    OutcomeKind::NOT_FOUND,
                    "no such orderLinkId among open, recent or past orders",
                ))),
            }
        }
        Operation::FetchAccount if call.path == "/v5/account/wallet-balance" => {
            let mut balances = Vec::new();
            for wallet in list(result)? {
                balances.extend(
                    records::balances(wallet, envelope.time)?
                        .into_iter()
                        .map(Event_NE::new),
                );
            }
            Read::More {
                events: balances,
                next: None,
            }
        }
        Operation::ArmDeadManSwitch(_) => finished(Vec::new()),
        Operation::FetchAccount => {
            let positions = records::positions(list(result)?, true, envelope.time)?;
            finished(vec![Event_NE::new(positions)])
        }
        other => return Err(PluginError::unsupported(format!("no reader for {other:?}"))),
    })
}

/// What `response`, the answer to `call` of a job doing `operation`, came
/// to.
pub fn read(operation: &Operation, call: &Call, response: &Response) -> Result<Read, PluginError> {
    let limit = rate_limit(call, response);
    let envelope = match (response.status, Envelope::parse(response.body.as_str())) {
        (200, Ok(envelope)) => envelope,
        _ => {
            return Ok(finish(with_events(
                Reply::only(unreadable(response)),
                limit,
            )));
        }
    };
    let read = match operation {
        Operation::PlaceOrders(items) => finish(action(&envelope, items.len())?),
        Operation::CancelOrders(items) => finish(action(&envelope, items.len())?),
        Operation::ModifyOrders(items) => finish(action(&envelope, items.len())?),
        Operation::SetLeverage { .. }
            if call.path == rest::SET_MARGIN_MODE && envelope.ret_code == codes::OK =>
        {
            Read::More {
                events: Vec::new(),
                next: None,
            }
        }
        Operation::SetLeverage { .. } if envelope.ret_code == codes::LEVERAGE_NOT_MODIFIED => {
            finish(Reply::only(Outcome::new(
                OutcomeKind::ACCEPTED,
                "leverage not modified",
            )))
        }
        Operation::SetLeverage { .. } => {
            finish(Reply::only(outcome(envelope.ret_code, &envelope.ret_msg)))
        }
        _ if envelope.ret_code != codes::OK => {
            finish(Reply::only(outcome(envelope.ret_code, &envelope.ret_msg)))
        }
        _ => data(operation, call, &envelope)?,
    };
    Ok(match read {
        Read::Finished(reply) => finish(with_events(*reply, limit)),
        Read::More { mut events, next } => {
            events.extend(limit);
            Read::More { events, next }
        }
    })
}

fn with_events(mut reply: Reply, events: impl IntoIterator<Item = Event_NE>) -> Reply {
    reply.events.extend(events);
    reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi_stable::std_types::Tuple2;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            body: body.into(),
            headers: RVec::from(vec![
                Tuple2("X-Bapi-Limit".into(), "10".into()),
                Tuple2("X-Bapi-Limit-Status".into(), "7".into()),
            ]),
        }
    }

    fn call(path: &'static str) -> Call {
        Call::get(path, &[], crate::manifest::CREATE)
    }

    #[test]
    fn a_batch_answers_per_item_and_a_failure_proves_what_it_says() {
        let body = r#"{"retCode":0,"retMsg":"OK","result":{"list":[{"orderId":"9","orderLinkId":"a"},{"orderId":"","orderLinkId":"b"}]},
            "retExtInfo":{"list":[{"code":0,"msg":"OK"},{"code":110007,"msg":"ab not enough for new order"}]},"time":1}"#;
        let Read::Finished(reply) = read(
            &Operation::CancelOrders(RVec::from(vec![])),
            &call("/x"),
            &response(200, body),
        )
        .unwrap() else {
            panic!()
        };
        // Zero items asked: the whole outcome only.
        assert_eq!(reply.outcome.kind, OutcomeKind::ACCEPTED);
        let envelope = Envelope::parse(body).unwrap();
        let reply = action(&envelope, 2).unwrap();
        assert_eq!(
            reply.items[0]
                .exchange_order_id
                .as_ref()
                .map(|id| id.as_str())
                .into_option(),
            Some("9")
        );
        assert_eq!(reply.items[1].reason, RejectReason::INSUFFICIENT_MARGIN);
        let timeout = Envelope::parse(
            r#"{"retCode":10000,"retMsg":"Server Timeout","result":{},"retExtInfo":{},"time":1}"#,
        )
        .unwrap();
        assert_eq!(
            action(&timeout, 1).unwrap().items[0].kind,
            OutcomeKind::UNKNOWN
        );
        let gone = Envelope::parse(r#"{"retCode":110001,"retMsg":"order not exists or too late to cancel","result":{},"retExtInfo":{},"time":1}"#).unwrap();
        assert_eq!(
            action(&gone, 1).unwrap().outcome.kind,
            OutcomeKind::NOT_FOUND
        );
    }

    #[test]
    fn unreadable_answers_prove_nothing_but_limits() {
        for (status, kind) in [
            (502, OutcomeKind::UNKNOWN),
            (200, OutcomeKind::UNKNOWN),
            (403, OutcomeKind::NOT_PROCESSED),
        ] {
            let Read::Finished(reply) = read(
                &Operation::PlaceOrders(RVec::new()),
                &call("/v5/order/create"),
                &response(status, "<html>"),
            )
            .unwrap() else {
                panic!()
            };
            assert_eq!(reply.outcome.kind, kind);
            let Event::RateLimit(limit) = reply.events[0].as_enum().unwrap() else {
                panic!()
            };
            assert_eq!((limit.remaining, limit.capacity), (7, 10));
        }
    }

    #[test]
    fn an_order_is_looked_for_in_the_history_before_it_is_not_found() {
        let empty = r#"{"retCode":0,"retMsg":"OK","result":{"list":[],"nextPageCursor":""},"retExtInfo":{},"time":1}"#;
        let target = Operation::FetchOpenOrders;
        let Read::Finished(_) =
            read(&target, &call("/v5/order/realtime"), &response(200, empty)).unwrap()
        else {
            panic!()
        };
        let fetch = Operation::FetchOrder(plugin_api::OrderRef {
            kind: plugin_api::OrderKind::LIMIT,
            triggered: false,
            client_id: "0x01".into(),
            exchange_order_id: ROption::RNone,
            market: Market {
                symbol: "BTC-USDT".into(),
                venue_symbol: "BTCUSDT".into(),
                venue_id: 0,
                kind: MarketKind::PERPETUAL,
                base: "BTC".into(),
                quote: "USDT".into(),
                rule: TradingRule {
                    price: PriceRule {
                        tick: Dec::ZERO,
                        max_significant_figures: 0,
                        max_decimals: ROption::RNone,
                        integers_always_valid: false,
                        min_price: Dec::ZERO,
                        max_price: Dec::ZERO,
                    },
                    size_step: Dec::ZERO,
                    min_size: Dec::ZERO,
                    max_size: Dec::ZERO,
                    min_notional: Dec::ZERO,
                    reduce_only_exempt_from_min_notional: false,
                },
                max_leverage: 0,
            },
        });
        assert!(matches!(
            read(&fetch, &call("/v5/order/realtime"), &response(200, empty)).unwrap(),
            Read::More { next: None, .. }
        ));
        let Read::Finished(reply) =
            read(&fetch, &call("/v5/order/history"), &response(200, empty)).unwrap()
        else {
            panic!()
        };
        assert_eq!(reply.outcome.kind, OutcomeKind::NOT_FOUND);
    }
}
