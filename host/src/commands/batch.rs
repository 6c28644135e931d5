//! `batch`: several places, cancels and modifies for one exchange in one
//! command, each answered on its own (one element's refusal never fails
//! the others). The places go out together as the venue's batches (one
//! signed request per `max_batch` orders), and so do the cancels.

use serde_json::{Value, json};

use super::protocol::{Command, ModifyFields, Reply};
use crate::order::{ClientOrderId, TradeType};
use crate::trading::{Begun, CommandError, PendingOrder, Trading};

/// The most elements one `batch` takes.
pub const MAX_BATCH_COMMANDS: usize = 100;

/// The reply's `result` for a new order that is tracked.
pub(super) fn placed(trading: &Trading, id: ClientOrderId) -> Value {
    json!({"client_order_id": id, "exchange": trading.exchange(), "order_state": "PENDING_CREATE"})
}

/// The reply's `result` for a cancel asked for.
pub(super) fn cancel_requested(id: ClientOrderId) -> Value {
    json!({"client_order_id": id, "cancel": "requested"})
}

/// Asks for a modify; the reply's `result`.
pub(super) fn modify(trading: &Trading, fields: &ModifyFields) -> Result<Value, CommandError> {
    let begun = trading.modify(
        fields.client_order_id,
        fields.price.map(|p| p.0),
        fields.amount.map(|a| a.0),
    )?;
    let modify = match begun {
        Begun::Now => "requested",
        Begun::Held => "queued",
    };
    Ok(json!({"client_order_id": fields.client_order_id, "modify": modify}))
}

/// What one element came to, as a reply without an id.
fn answer(result: Result<Value, (&str, String)>) -> Value {
    let reply = match result {
        Ok(result) => Reply::ok(Value::Null, result),
        Err((code, message)) => Reply::error(Value::Null, code, message),
    };
    let mut answer = serde_json::to_value(reply).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut answer {
        fields.remove("id");
    }
    answer
}

fn refused(error: CommandError) -> (&'static str, String) {
    (error.code(), error.to_string())
}

/// Carries out the elements of a batch for `trading`: each is read as a
/// command (`buy`, `sell`, `cancel`, `modify`, without `exchange` or
/// naming this one); the new orders are tracked in order and returned to
/// be launched once the reply is sent. The answers are in element order.
pub(super) fn carry_out(trading: &Trading, elements: Vec<Value>) -> (Value, PendingOrder) {
    enum Slot {
        Done(Result<Value, (&'static str, String)>),
        Place(usize),
        Cancel(usize),
    }
    let (mut slots, mut orders, mut cancels) = (Vec::new(), Vec::new(), Vec::new());
    for (index, element) in elements.into_iter().enumerate() {
        let slot = match read(trading.exchange(), element) {
            Err(error) => Slot::Done(Err(("bad_request", format!("element {index}: {error}")))),
            Ok(Element::Place(side, fields)) => match fields.order_command(side) {
                Ok(command) => {
                    orders.push(command);
                    Slot::Place(orders.len() - 1)
                }
                Err(error) => Slot::Done(Err(refused(error))),
            },
            Ok(Element::Cancel(id)) => {
                cancels.push(id);
                Slot::Cancel(cancels.len() - 1)
            }
            Ok(Element::Modify(fields)) => Slot::Done(modify(trading, &fields).map_err(refused)),
        };
        slots.push(slot);
    }
    let (placed_ids, pending) = trading.accept_batch(&orders);
    let cancelled = trading.cancel_batch(&cancels);
    let answers: Vec<Value> = slots
        .into_iter()
        .map(|slot| {
            answer(match slot {
                Slot::Done(result) => result,
                Slot::Place(index) => match &placed_ids[index] {
                    Ok(id) => Ok(placed(trading, *id)),
                    Err(error) => Err(refused(error.clone())),
                },
                Slot::Cancel(index) => match &cancelled[index] {
                    Ok(()) => Ok(cancel_requested(cancels[index])),
                    Err(error) => Err(refused(error.clone())),
                },
            })
        })
        .collect();
    (
        json!({"exchange": trading.exchange(), "results": answers}),
        pending,
    )
}

/// One element of a batch.
enum Element {
    Place(TradeType, super::protocol::NewOrderFields),
    Cancel(ClientOrderId),
    Modify(ModifyFields),
}

/// Reads an element; what is wrong with it otherwise.
fn read(exchange: &str, element: Value) -> Result<Element, String> {
    let command: Command = serde_json::from_value(element).map_err(|error| error.to_string())?;
    let named = |other: &Option<String>| match other {
        Some(other) if other != exchange => Err(format!(
            "`exchange`: a batch is for one exchange ({exchange}), not {other}"
        )),
        _ => Ok(()),
    };
    match command {
        Command::Buy(fields) => {
            named(&fields.exchange).map(|()| Element::Place(TradeType::Buy, fields))
        }
        Command::Sell(fields) => {
            named(&fields.exchange).map(|()| Element::Place(TradeType::Sell, fields))
        }
        Command::Cancel(fields) => {
            named(&fields.exchange).map(|()| Element::Cancel(fields.client_order_id))
        }
        Command::Modify(fields) => named(&fields.exchange).map(|()| Element::Modify(fields)),
        other => Err(format!(
            "`{}` cannot be in a batch (buy, sell, cancel and modify can)",
            other.name()
        )),
    }
}
