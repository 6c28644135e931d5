//! The state queries' answers: `status`, `balances`, `positions`,
//! `markets` (from memory), and `history` and `fills` (from the journals).

use plugin_api::{Dec, Manifest, Market, ModifySize, TimeInForce as Tif};
use serde_json::{Map, Value, json};

use super::PAGE;
use super::protocol::WindowFields;
use crate::journal::query::{self, Window};
use crate::order::{OrderType, TimeInForce, TriggerReference};
use crate::publisher::{JsonDecimal, fill_json, order_json};
use crate::trading::{Trading, order_kind, trigger_reference};

/// An error of a query: its code and message.
pub(super) type Refusal = (&'static str, String);

/// `status` of one exchange: orders, connections, books, the kill switch
/// and the dead man's switch.
pub(super) fn status(trading: &Trading) -> Value {
    let exchange = trading.exchange();
    let board = trading.status().board().exchange(exchange);
    json!({
        "exchange": exchange,
        "open_orders": trading.open_orders(None).len(),
        "tracked_orders": trading.tracker().len(),
        "connections": board.connections.into_values().collect::<Vec<_>>(),
        "books": trading.market_data().sync_states(),
        "kill_switch": trading.kill_switch_reason(),
        "dead_man_switch": board.dead_man_switch,
    })
}

/// Rows of one part of each exchange's account snapshot (`balances` or
/// `positions`), each with its exchange, of `pair` only when given.
fn account_rows(exchanges: &[Trading], part: &str, pair: Option<&str>) -> Vec<Value> {
    exchanges
        .iter()
        .flat_map(|trading| {
            let snapshot = trading.account().snapshot();
            let rows = match snapshot.get(part) {
                Some(Value::Array(rows)) => rows.clone(),
                _ => Vec::new(),
            };
            rows.into_iter().filter_map(move |row| {
                let Value::Object(fields) = row else {
                    return None;
                };
                if pair
                    .is_some_and(|pair| fields.get("symbol").and_then(Value::as_str) != Some(pair))
                {
                    return None;
                }
                let mut with_exchange = Map::new();
                with_exchange.insert("exchange".into(), trading.exchange().into());
                with_exchange.extend(fields);
                Some(Value::Object(with_exchange))
            })
        })
        .collect()
}

/// `balances`.
pub(super) fn balances(exchanges: &[Trading]) -> Value {
    json!({"balances": account_rows(exchanges, "balances", None)})
}

/// `positions`: of `pair` only when given.
pub(super) fn positions(exchanges: &[Trading], pair: Option<&str>) -> Result<Value, Refusal> {
    known_pair(exchanges, pair)?;
    Ok(json!({"positions": account_rows(exchanges, "positions", pair)}))
}

/// `markets`: each exchange's capabilities and its configured markets'
/// rules (of `pair` only when given).
pub(super) fn markets(exchanges: &[Trading], pair: Option<&str>) -> Result<Value, Refusal> {
    known_pair(exchanges, pair)?;
    let exchanges: Vec<Value> = exchanges
        .iter()
        .map(|trading| {
            let books = trading.market_data().sync_states();
            let markets: Vec<Value> = trading
                .markets()
                .iter()
                .filter(|market| pair.is_none_or(|pair| market.symbol.as_str() == pair))
                .map(|market| {
                    let book = books
                        .iter()
                        .find(|book| book["symbol"] == market.symbol.as_str())
                        .map(|book| book["state"].clone());
                    market_json(market, book.unwrap_or(Value::Null))
                })
                .collect();
            json!({
                "exchange": trading.exchange(),
                "plugin": trading.manifest().exchange.as_str(),
                "plugin_version": trading.manifest().plugin_version.as_str(),
                "capabilities": capabilities(trading.manifest()),
                "markets": markets,
            })
        })
        .collect();
    Ok(json!({"exchanges": exchanges}))
}

/// `unknown_market` when `pair` is given and no exchange has it.
fn known_pair(exchanges: &[Trading], pair: Option<&str>) -> Result<(), Refusal> {
    match pair {
        Some(pair) if !exchanges.iter().any(|t| t.market_of(pair).is_some()) => Err((
            "unknown_market",
            format!("`trading_pair`: {pair} is not configured"),
        )),
        _ => Ok(()),
    }
}

/// A number of a rule, or null where the venue sets none (zero).
fn limit(value: &Dec) -> Value {
    let value = value.to_decimal();
    if value.is_zero() {
        Value::Null
    } else {
        json!(JsonDecimal::from(value))
    }
}

fn market_json(market: &Market, book: Value) -> Value {
    let rule = &market.rule;
    json!({
        "symbol": market.symbol.as_str(),
        "venue_symbol": market.venue_symbol.as_str(),
        "kind": market.kind.name(),
        "base": market.base.as_str(),
        "quote": market.quote.as_str(),
        "tick": limit(&rule.price.tick),
        "price_significant_figures": (rule.price.max_significant_figures > 0)
            .then_some(rule.price.max_significant_figures),
        "price_decimals": rule.price.max_decimals.into_option(),
        "min_price": limit(&rule.price.min_price),
        "max_price": limit(&rule.price.max_price),
        "size_step": limit(&rule.size_step),
        "min_size": limit(&rule.min_size),
        "max_size": limit(&rule.max_size),
        "min_notional": limit(&rule.min_notional),
        "reduce_only_exempt_from_min_notional": rule.reduce_only_exempt_from_min_notional,
        "max_leverage": (market.max_leverage > 0).then_some(market.max_leverage),
        "book": book,
    })
}

/// What the venue lets the host do, in the command protocol's words.
fn capabilities(manifest: &Manifest) -> Value {
    let order_types: Vec<OrderType> = OrderType::ALL
        .into_iter()
        .filter(|order_type| manifest.order_kinds.contains(&order_kind(*order_type)))
        .collect();
    let trigger_references: Vec<TriggerReference> = TriggerReference::ALL
        .into_iter()
        .filter(|reference| {
            manifest
                .trigger_references
                .contains(&trigger_reference(*reference))
        })
        .collect();
    let time_in_force: Vec<TimeInForce> = [
        (TimeInForce::Gtc, Tif::GTC),
        (TimeInForce::Ioc, Tif::IOC),
        (TimeInForce::Fok, Tif::FOK),
    ]
    .into_iter()
    .filter(|(_, tif)| manifest.time_in_force.contains(tif))
    .map(|(tif, _)| tif)
    .collect();
    json!({
        "order_types": order_types,
        "trigger_references": trigger_references,
        "time_in_force": time_in_force,
        "max_batch": manifest.max_batch,
        "modify": if manifest.modify_size == ModifySize::TOTAL { "amend_in_place" } else { "cancel_and_place" },
        "dead_man_switch": manifest.dead_man_switch.name(),
        "attached_exits": if manifest.attached_exits { "exchange" } else { "host" },
        "modify_triggers": manifest.modify_triggers,
    })
}

/// The journal window a `history` or `fills` command asks for, and the
/// most items it takes.
fn window(fields: &WindowFields) -> Result<(Window, usize), Refusal> {
    if let (Some(since), Some(until)) = (fields.since_ms, fields.until_ms)
        && until <= since
    {
        return Err((
            "bad_request",
            format!("`until_ms` ({until}) must be after `since_ms` ({since})"),
        ));
    }
    let window = Window {
        trading_pair: fields.trading_pair.clone(),
        since_ms: fields.since_ms,
        until_ms: fields.until_ms,
    };
    Ok((window, fields.limit.unwrap_or(PAGE).clamp(1, PAGE)))
}

/// Reads each exchange's journal with `read` and keeps the newest
/// `limit` items of all of them by `time`, oldest first, and whether that
/// is all of them.
fn from_journals<T>(
    exchanges: &[Trading],
    fields: &WindowFields,
    read: impl Fn(&std::path::Path, &Window) -> std::io::Result<Vec<T>>,
    time: impl Fn(&T) -> u64,
    json: impl Fn(&T) -> Value,
) -> Result<(Vec<Value>, bool), Refusal> {
    let (window, limit) = window(fields)?;
    let mut items = Vec::new();
    for trading in exchanges {
        let found = read(trading.journal_path(), &window).map_err(|error| {
            (
                "internal",
                format!("{}'s journal cannot be read: {error}", trading.exchange()),
            )
        })?;
        items.extend(found);
    }
    items.sort_by_key(|item| time(item));
    let complete = items.len() <= limit;
    let newest = items.split_off(items.len().saturating_sub(limit));
    Ok((newest.iter().map(json).collect(), complete))
}

/// `history`: the orders alive during the window, oldest first.
pub(super) fn history(exchanges: &[Trading], fields: &WindowFields) -> Result<Value, Refusal> {
    let (orders, complete) = from_journals(
        exchanges,
        fields,
        query::orders,
        |order| order.spec.creation_timestamp_ms,
        order_json,
    )?;
    Ok(json!({"orders": orders, "complete": complete}))
}

/// `fills`: the fills in the window, oldest first.
pub(super) fn fills(exchanges: &[Trading], fields: &WindowFields) -> Result<Value, Refusal> {
    let (fills, complete) = from_journals(
        exchanges,
        fields,
        query::fills,
        |(_, fill)| fill.timestamp_ms,
        |(order, fill)| fill_json(order, fill),
    )?;
    Ok(json!({"fills": fills, "complete": complete}))
}
