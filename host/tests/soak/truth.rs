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

/// How exactly the host's state of an order must match the venue's truth.
#[derive(Clone, Copy)]
pub enum Strictness {
    /// The very state (Hyperliquid: the venue's answers name it).
    Exact,
    /// The same stage of life: open (partly filled or not), filled, or
    /// ended otherwise — which word an order that ended unfilled carries
    /// (cancelled, expired, failed) follows each venue's answers and is
    /// checked by the venue's own tests.
    Lifecycle,
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

/// Whether the host's `state` agrees with the venue's `order`.
fn agrees(state: &str, order: &ExchangeOrder, strictness: Strictness) -> bool {
    let expected = expected_state(order);
    match strictness {
        Strictness::Exact => state == expected,
        Strictness::Lifecycle => match expected {
            "OPEN" | "PARTIALLY_FILLED" | "FILLED" => state == expected,
            _ if order.filled > Decimal::ZERO => matches!(state, "CANCELLED" | "EXPIRED"),
            _ => matches!(state, "CANCELLED" | "EXPIRED" | "FAILED"),
        },
    }
}

/// One client order id on the exchange: a modify on Hyperliquid is a new
/// exchange order with the same cloid, so amounts add up over its records
/// and the state is the newest record's.
#[derive(Default)]
pub struct ExchangeOrder {
    /// Core records (one more per modify).
    pub records: usize,
    /// The newest record's exchange id (Hyperliquid).
    pub newest_oid: u64,
    /// The newest record's status, in Hyperliquid's words.
    pub status: String,
    /// Its time in force (`Gtc`, `Ioc`, `Alo`).
    pub tif: String,
    /// Filled over every record.
    pub filled: Decimal,
    /// Fees over every record.
    pub fees: Decimal,
}

/// The orders of a Hyperliquid account's truth (`/admin/state`), by cloid.
pub fn hyperliquid_orders(truth: &Value) -> BTreeMap<String, ExchangeOrder> {
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

fn host_view(
    commands: &mut Commands,
    exchange: &str,
    journal: &Journal,
    cloid: &str,
) -> Result<HostView, String> {
    let reply = commands
        .ask(&json!({"cmd": "get_order", "exchange": exchange, "client_order_id": cloid}))
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

/// The orders of one exchange of the host to check: its name, its journal,
/// the orders the host accepted for it, and the venue's truth of them.
pub struct Checked<'a> {
    /// The exchange's name in the host.
    pub exchange: &'a str,
    /// Its journal.
    pub journal: &'a Journal,
    /// The client ids of the orders the host accepted.
    pub accepted: &'a [String],
    /// The venue's orders of the host, by client id.
    pub on_exchange: &'a BTreeMap<String, ExchangeOrder>,
    /// How exactly states must match.
    pub strictness: Strictness,
}

/// Every disagreement between the host (`get_order`, or its journal for
/// orders no longer in memory) and the venue's ground truth about the
/// orders the venue has and the orders the host accepted.
pub fn order_violations(commands: &mut Commands, checked: &Checked) -> Vec<String> {
    let mut violations = Vec::new();
    let exchange = checked.exchange;
    for (cloid, order) in checked.on_exchange {
        let host = match host_view(commands, exchange, checked.journal, cloid) {
            Ok(host) => host,
            Err(error) => {
                violations.push(format!(
                    "{exchange} {cloid} ({} on the exchange): {error}",
                    order.status
                ));
                continue;
            }
        };
        if !agrees(&host.state, order, checked.strictness) {
            violations.push(format!(
                "{exchange} {cloid}: host {} / exchange {} (expected {})",
                host.state,
                order.status,
                expected_state(order)
            ));
        }
        if host.filled != order.filled {
            violations.push(format!(
                "{exchange} {cloid}: host filled {} ({}) / exchange {} ({}, tif {})",
                host.filled, host.state, order.filled, order.status, order.tif
            ));
        }
        if host.fees != order.fees {
            violations.push(format!(
                "{exchange} {cloid}: host fees {} / exchange {}",
                host.fees, order.fees
            ));
        }
    }
    let never_there = checked
        .accepted
        .iter()
        .filter(|id| !checked.on_exchange.contains_key(*id));
    for cloid in never_there {
        match host_view(commands, exchange, checked.journal, cloid) {
            Ok(host) if host.state != "FAILED" => violations.push(format!(
                "{exchange} {cloid}: never on the exchange, host says {}",
                host.state
            )),
            Ok(_) => {}
            Err(error) => violations.push(format!("{exchange} {cloid}: accepted, then {error}")),
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
pub fn book_violation(name: &str, host: Option<&Value>, exchange: &Value) -> Option<String> {
    let Some(host) = host else {
        return Some(format!("{name}: the host published no book"));
    };
    let (host_bids, host_asks) = (host_levels(&host["bids"]), host_levels(&host["asks"]));
    let depth = 20;
    let (bids, asks) = (
        exchange_levels(&exchange["levels"][0], depth),
        exchange_levels(&exchange["levels"][1], depth),
    );
    (host_bids != bids || host_asks != asks).then(|| {
        let age_ms = (hl_emulator::clock::now_ms() * 1_000_000)
            .saturating_sub(host["exchange_time"].as_u64().unwrap_or_default())
            / 1_000_000;
        format!(
            "{name} book (host's at seq {}, {age_ms} ms old): host bids {host_bids:?} asks {host_asks:?} / exchange bids {bids:?} asks {asks:?}",
            host["seq"]
        )
    })
}

/// Every live exit the host holds whose size is not what its entry filled
/// (placed for it, and resized as it fills where the venue modifies
/// waiting trigger orders); exits the venue holds, sized by it, and exits
/// already firing are left out. Also how many were checked.
pub fn exit_violations(commands: &mut Commands, exchange: &str) -> (usize, Vec<String>) {
    let Some(open) = commands.ask(&json!({"cmd": "open_orders", "exchange": exchange})) else {
        return (0, vec![format!("{exchange}: open_orders unanswered")]);
    };
    let (mut checked, mut violations) = (0, Vec::new());
    let exits = open["result"]["orders"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|order| order["parent_client_order_id"].is_string());
    for exit in exits {
        let (id, parent) = (&exit["client_order_id"], &exit["parent_client_order_id"]);
        let firing =
            exit["trigger"]["triggered"] == true || !decimal(&exit["filled_amount"]).is_zero();
        let Some(entry) = commands
            .ask(&json!({"cmd": "get_order", "exchange": exchange, "client_order_id": parent}))
        else {
            violations.push(format!(
                "{exchange} exit {id}: its entry {parent} unanswered"
            ));
            continue;
        };
        let entry = &entry["result"];
        if firing || entry["exits"]["held_by"] == "exchange" {
            continue;
        }
        checked += 1;
        let (size, filled) = (decimal(&exit["amount"]), decimal(&entry["filled_amount"]));
        if size != filled {
            violations.push(format!(
                "{exchange} exit {id} ({}): size {size} / its entry {parent} filled {filled} ({})",
                exit["order_state"], entry["order_state"]
            ));
        }
    }
    (checked, violations)
}
