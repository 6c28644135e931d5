//! The end of a soak: the host's view of every order and of the book,
//! compared with the emulator's ground truth.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use connector_host::order::InFlightOrder;

use crate::common::decimal;

use rust_decimal::Decimal;
use serde_json::{Value, json};

/// One REQ socket to the host's command endpoint, made again after a
/// timeout (a REQ socket that missed its reply cannot send again).
pub struct Commands {
    endpoint: String,
    context: zmq::Context,
    socket: Option<zmq::Socket>,
}

impl Commands {
    /// A client for `endpoint`; connects on first use.
    pub fn new(endpoint: &str) -> Commands {
        Commands {
            endpoint: endpoint.to_owned(),
            context: zmq::Context::new(),
            socket: None,
        }
    }

    /// Sends one command; `None` when the host does not answer within 2 s.
    pub fn ask(&mut self, request: &Value) -> Option<Value> {
        let socket = match self.socket.take() {
            Some(socket) => socket,
            None => {
                let socket = self.context.socket(zmq::REQ).ok()?;
                socket.set_rcvtimeo(2_000).ok()?;
                socket.set_linger(0).ok()?;
                socket.connect(&self.endpoint).ok()?;
                socket
            }
        };
        socket.send(request.to_string().as_bytes(), 0).ok()?;
        let reply = serde_json::from_slice(&socket.recv_bytes(0).ok()?).ok()?;
        self.socket = Some(socket);
        Some(reply)
    }
}

/// The host state the exchange's word for an order means: a cancelled IOC
/// order's remainder expired; a rejected replacement (a modify) leaves the
/// order cancelled, not failed, when it had been live.
fn expected_state(order: &ExchangeOrder) -> &'static str {
    let rejected = order.status == "rejected" || order.status.ends_with("Rejected");
    match order.status.as_str() {
        "open" | "triggered" if order.filled > Decimal::ZERO => "PARTIALLY_FILLED",
        "open" | "triggered" => "OPEN",
        "filled" => "FILLED",
        _ if rejected && (order.records > 1 || order.filled > Decimal::ZERO) => "CANCELLED",
        _ if rejected => "FAILED",
        _ if order.tif == "Ioc" => "EXPIRED",
        _ => "CANCELLED",
    }
}

/// One client order id on the exchange: a modify on Hyperliquid is a new
/// exchange order with the same cloid, so amounts add up over its records
/// and the state is the newest record's.
#[derive(Default)]
struct ExchangeOrder {
    records: usize,
    newest_oid: u64,
    status: String,
    tif: String,
    filled: Decimal,
    fees: Decimal,
}

fn exchange_orders(truth: &Value) -> BTreeMap<String, ExchangeOrder> {
    let mut orders: BTreeMap<String, ExchangeOrder> = BTreeMap::new();
    for record in truth["orders"].as_array().into_iter().flatten() {
        let Some(cloid) = record["cloid"].as_str() else {
            continue;
        };
        let order = orders.entry(cloid.to_owned()).or_default();
        let oid = record["oid"].as_u64().unwrap_or_default();
        order.records += 1;
        order.filled += decimal(&record["filledSz"]);
        order.fees += decimal(&record["fees"]);
        if oid >= order.newest_oid {
            order.newest_oid = oid;
            order.status = record["status"].as_str().unwrap_or_default().to_owned();
            order.tif = record["tif"].as_str().unwrap_or_default().to_owned();
        }
    }
    orders
}

/// What the host says of one order: from memory (`get_order`), or from
/// its journal once the order has left memory
/// (`closed_order_retention_ms`).
struct HostView {
    state: String,
    filled: Decimal,
    fees: Decimal,
}

/// The orders a host's journal holds, by client order id.
pub type Journal = HashMap<String, InFlightOrder>;

/// Reads the host's journal (read only; the host may be writing it).
pub fn journal(path: &Path) -> Journal {
    connector_host::journal::read(path)
        .expect("the journal")
        .orders
        .into_iter()
        .map(|order| (order.spec.client_order_id.to_string(), order))
        .collect()
}

fn host_view(commands: &mut Commands, journal: &Journal, cloid: &str) -> Result<HostView, String> {
    let reply = commands
        .ask(&json!({"cmd": "get_order", "client_order_id": cloid}))
        .ok_or("the host did not answer")?;
    if reply["ok"] == true {
        let order = &reply["result"];
        return Ok(HostView {
            state: order["order_state"].as_str().unwrap_or_default().to_owned(),
            filled: decimal(&order["filled_amount"]),
            fees: decimal(&order["fee_paid"]),
        });
    }
    let order = journal
        .get(cloid)
        .ok_or_else(|| format!("unknown to the host and its journal: {reply}"))?;
    Ok(HostView {
        state: order.state.to_string(),
        filled: order.filled_amount,
        fees: order.fee_paid(),
    })
}

/// Every disagreement between the host (`get_order`, or its `journal` for
/// orders no longer in memory) and the exchange's ground truth (`truth`:
/// the account's `/admin/state`) about the orders the exchange has and the
/// orders the host accepted.
pub fn order_violations(
    commands: &mut Commands,
    journal: &Journal,
    truth: &Value,
    accepted: &[String],
) -> Vec<String> {
    let mut violations = Vec::new();
    let on_exchange = exchange_orders(truth);
    for (cloid, order) in &on_exchange {
        let host = match host_view(commands, journal, cloid) {
            Ok(host) => host,
            Err(error) => {
                violations.push(format!(
                    "{cloid} ({} on the exchange): {error}",
                    order.status
                ));
                continue;
            }
        };
        let expected = expected_state(order);
        if host.state != expected {
            violations.push(format!(
                "{cloid}: host {} / exchange {} (expected {expected})",
                host.state, order.status
            ));
        }
        if host.filled != order.filled {
            violations.push(format!(
                "{cloid}: host filled {} / exchange {}",
                host.filled, order.filled
            ));
        }
        if host.fees != order.fees {
            violations.push(format!(
                "{cloid}: host fees {} / exchange {}",
                host.fees, order.fees
            ));
        }
    }
    for cloid in accepted.iter().filter(|id| !on_exchange.contains_key(*id)) {
        match host_view(commands, journal, cloid) {
            Ok(host) if host.state != "FAILED" => violations.push(format!(
                "{cloid}: never on the exchange, host says {}",
                host.state
            )),
            Ok(_) => {}
            Err(error) => violations.push(format!("{cloid}: accepted, then {error}")),
        }
    }
    violations
}

/// `[price, size]` of the top levels of one side.
type Levels = Vec<(Decimal, Decimal)>;

fn host_levels(side: &Value) -> Levels {
    side.as_array()
        .into_iter()
        .flatten()
        .map(|level| (decimal(&level[0]), decimal(&level[1])))
        .collect()
}

fn exchange_levels(side: &Value, depth: usize) -> Levels {
    side.as_array()
        .into_iter()
        .flatten()
        .take(depth)
        .map(|level| (decimal(&level["px"]), decimal(&level["sz"])))
        .collect()
}

/// A disagreement between the host's last published book (`host`, its
/// book event's `data`) and the exchange's (`/admin/state`'s `book`).
pub fn book_violation(host: Option<&Value>, exchange: &Value) -> Option<String> {
    let Some(host) = host else {
        return Some("the host published no book".to_owned());
    };
    let (host_bids, host_asks) = (host_levels(&host["bids"]), host_levels(&host["asks"]));
    let depth = 20;
    let (bids, asks) = (
        exchange_levels(&exchange["levels"][0], depth),
        exchange_levels(&exchange["levels"][1], depth),
    );
    (host_bids != bids || host_asks != asks).then(|| {
        format!("book: host bids {host_bids:?} asks {host_asks:?} / exchange bids {bids:?} asks {asks:?}")
    })
}
