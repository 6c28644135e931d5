//! `/exchange` (and WebSocket `post` of type `action`): body parsing,
//! signature recovery, signer resolution, expiry, nonces, and dispatch of each
//! action to the engine, answered in the exchange's shapes.
//!
//! Work is split in two so the costly part runs outside the engine lock:
//! [`prepare`] parses and recovers the signer, [`apply`] does the rest.

use hyperliquid_core::{
    Action, Address, B256, Cloid, ExchangeRequest, Grouping, Network, OrderRef, OrderType,
    OrderWire, Tif, Tpsl, l1_hashes, recover_address, signing_digest,
};
use serde_json::{Value, json};

use crate::account::AccountId;
use crate::accounts::Leverage;
use crate::engine::{ActionContext, Engine};
use crate::entry::{
    ClientId, EntryKind, OrderEntry, OrderTarget, Placement, TimeInForce, TriggerKind, TriggerSpec,
};
use crate::grouping::{ExitPlacement, check_group};
use crate::validation::NOT_OPEN;

/// Plain-text answer (HTTP 422) to a body that is not a valid request.
pub const DESERIALIZE_ERROR: &str = "Failed to deserialize the JSON body into the target type";

/// A parsed request with its recovered signer.
#[derive(Debug)]
pub struct Prepared {
    request: ExchangeRequest,
    /// The recovered signer, or the error text when recovery failed.
    signer: Result<Address, String>,
    /// Transaction hash reported in fills (the L1 connection id).
    hash: B256,
}

/// Parses an `/exchange` body. `Err` carries the 422 text.
pub fn parse(body: &[u8]) -> Result<ExchangeRequest, &'static str> {
    serde_json::from_slice(body).map_err(|_| DESERIALIZE_ERROR)
}

/// Recovers the signer of a request for `network` (pure; no engine state).
pub fn prepare(request: ExchangeRequest, network: Network) -> Prepared {
    let context = request.context(network);
    let digests = match &request.action {
        Action::ApproveAgent(_) => {
            signing_digest(&request.action, &context).map(|digest| (digest, digest))
        }
        _ => {
            l1_hashes(&request.action, &context).map(|hashes| (hashes.digest, hashes.connection_id))
        }
    };
    let (signer, hash) = match digests {
        Err(error) => (Err(digest_error_text(&error)), B256([0; 32])),
        Ok((digest, hash)) => (
            recover_address(&digest, &request.signature)
                .map_err(|_| "Unable to recover signer.".to_owned()),
            hash,
        ),
    };
    Prepared {
        request,
        signer,
        hash,
    }
}

fn digest_error_text(error: &hyperliquid_core::DigestError) -> String {
    match error {
        hyperliquid_core::DigestError::NetworkMismatch { .. } => {
            "Mainnet and testnet require different signature.".to_owned()
        }
        hyperliquid_core::DigestError::NonceMismatch { .. } => "Nonce mismatch.".to_owned(),
        other => other.to_string(),
    }
}

/// `{"status":"err","response": text}`.
pub fn err(text: impl Into<String>) -> Value {
    json!({ "status": "err", "response": text.into() })
}

fn ok_default() -> Value {
    json!({ "status": "ok", "response": { "type": "default" } })
}

fn ok_statuses(kind: &str, statuses: Vec<Value>) -> Value {
    json!({ "status": "ok", "response": { "type": kind, "data": { "statuses": statuses } } })
}

/// Authenticates and applies a prepared request at time `now`; returns the
/// JSON answer (always HTTP 200).
pub fn apply(engine: &mut Engine, prepared: Prepared, now: u64, post_only_window: bool) -> Value {
    let Prepared {
        request,
        signer,
        hash,
    } = prepared;
    let signer = match signer {
        Ok(signer) => AccountId::from(signer),
        Err(text) => return err(text),
    };
    let user = match &request.action {
        Action::ApproveAgent(_) if engine.is_user(signer) => signer,
        Action::ApproveAgent(_) => {
            return err(format!(
                "Must deposit before performing actions. User: {signer}"
            ));
        }
        _ => match engine.account_for_signer(signer) {
            Some(user) => user,
            None => return err(format!("User or API Wallet {signer} does not exist.")),
        },
    };
    if let Some(vault) = request.vault_address {
        return err(format!("Vault not registered: {vault}"));
    }
    if let Some(expires_after) = request.expires_after
        && expires_after < now
    {
        return err(format!(
            "Action already expired: expiresAfter {expires_after} < now {now}"
        ));
    }
    if let Err(text) = engine.use_nonce(signer, request.nonce, now) {
        return err(text);
    }
    let ctx = ActionContext {
        now,
        hash,
        post_only_window,
    };
    if let Err(text) = spend_requests(engine, user, &request.action, now) {
        return err(text);
    }
    match &request.action {
        Action::Order(action) => match action.grouping {
            Grouping::Na => ok_statuses("order", place(engine, user, &action.orders, &ctx)),
            Grouping::NormalTpsl => match place_with_exits(engine, user, &action.orders, &ctx) {
                Ok(statuses) => ok_statuses("order", statuses),
                Err(text) => err(text),
            },
            Grouping::PositionTpsl => err(
                "Grouping PositionTpsl is not supported by the emulator; use \"na\" or \"normalTpsl\".",
            ),
        },
        Action::Cancel(action) => {
            let targets: Vec<_> = action
                .cancels
                .iter()
                .map(|c| (c.asset, OrderRef::Oid(c.oid)))
                .collect();
            ok_statuses("cancel", cancel(engine, user, &targets, now))
        }
        Action::CancelByCloid(action) => {
            let targets: Vec<_> = action
                .cancels
                .iter()
                .map(|c| (c.asset, OrderRef::Cloid(c.cloid)))
                .collect();
            ok_statuses("cancel", cancel(engine, user, &targets, now))
        }
        Action::Modify(modify) => {
            let statuses = replace(engine, user, std::slice::from_ref(modify), &ctx);
            match statuses
                .first()
                .and_then(|s| s.get("error"))
                .and_then(Value::as_str)
            {
                Some(text) => err(text),
                None => ok_default(),
            }
        }
        Action::BatchModify(action) => {
            ok_statuses("order", replace(engine, user, &action.modifies, &ctx))
        }
        Action::ScheduleCancel(action) => {
            default_or_err(engine.schedule_cancel(user, action.time, now))
        }
        Action::UpdateLeverage(action) => default_or_err(engine.update_leverage(
            user,
            action.asset,
            Leverage {
                is_cross: action.is_cross,
                value: action.leverage,
            },
        )),
        Action::UpdateIsolatedMargin(action) => default_or_err(engine.update_isolated_margin(
            user,
            action.asset,
            rust_decimal::Decimal::new(action.ntli, 6),
        )),
        Action::Noop => ok_default(),
        Action::ApproveAgent(action) => default_or_err(engine.approve_agent(
            user,
            action.agent_address.into(),
            action.agent_name.clone(),
        )),
    }
}

fn default_or_err(result: Result<(), String>) -> Value {
    match result {
        Ok(()) => ok_default(),
        Err(text) => err(text),
    }
}

/// Counts an action against the account's address rate limit (a batch
/// counts per item), or refuses it when the limit is spent.
fn spend_requests(
    engine: &mut Engine,
    user: AccountId,
    action: &Action,
    now: u64,
) -> Result<(), String> {
    let (items, is_cancel) = match action {
        Action::Order(a) => (a.orders.len(), false),
        Action::Cancel(a) => (a.cancels.len(), true),
        Action::CancelByCloid(a) => (a.cancels.len(), true),
        Action::BatchModify(a) => (a.modifies.len(), false),
        _ => (1, false),
    };
    let buffer = engine.limits.address_request_buffer;
    match engine.accounts.get_mut(&user) {
        Some(account) => account.spend_requests(items.max(1) as u64, is_cancel, buffer, now),
        None => Ok(()),
    }
}

/// The core's entry for a Hyperliquid order (`Asset N does not exist.` when
/// no market has its asset id).
pub fn entry_of(engine: &Engine, wire: &OrderWire) -> Result<OrderEntry, String> {
    let market = engine
        .market_of_asset(wire.asset)
        .ok_or_else(|| format!("Asset {} does not exist.", wire.asset))?;
    let kind = match &wire.order_type {
        OrderType::Limit(limit) => EntryKind::Limit(match limit.tif {
            Tif::Gtc => TimeInForce::GoodTillCancel,
            Tif::Ioc => TimeInForce::ImmediateOrCancel,
            Tif::Alo => TimeInForce::PostOnly,
        }),
        OrderType::Trigger(trigger) => EntryKind::Trigger(TriggerSpec {
            price: trigger.trigger_px.value(),
            is_market: trigger.is_market,
            kind: match trigger.tpsl {
                Tpsl::Tp => TriggerKind::TakeProfit,
                Tpsl::Sl => TriggerKind::StopLoss,
            },
            // Hyperliquid's triggers watch the mark.
            on_last_trade: false,
        }),
    };
    Ok(OrderEntry {
        market,
        is_buy: wire.is_buy,
        price: wire.price.value(),
        size: wire.size.value(),
        reduce_only: wire.reduce_only,
        kind,
        client_id: wire.cloid.map(|c| ClientId(c.0)),
        good_till: None,
    })
}

/// `{"error": text}`.
fn error_status(text: impl Into<String>) -> Value {
    json!({ "error": text.into() })
}

/// The order status of a placement: `resting`, `filled` or `error`, with the
/// order's `cloid` when it has one.
pub fn status_of(placement: &Placement, cloid: Option<Cloid>) -> Value {
    let (kind, mut inner) = match placement {
        Placement::Resting { oid } => ("resting", json!({ "oid": oid })),
        Placement::Filled { oid, total, avg_px } => (
            "filled",
            json!({
                "totalSz": total.normalize().to_string(),
                "avgPx": avg_px.normalize().to_string(),
                "oid": oid,
            }),
        ),
        Placement::Refused { message, .. } => return error_status(message.clone()),
    };
    if let (Some(cloid), Some(object)) = (cloid, inner.as_object_mut()) {
        object.insert("cloid".to_owned(), json!(cloid));
    }
    json!({ kind: inner })
}

/// Places the orders of one `order` action; one status per order.
fn place(
    engine: &mut Engine,
    user: AccountId,
    wires: &[OrderWire],
    ctx: &ActionContext,
) -> Vec<Value> {
    let mut statuses = vec![Value::Null; wires.len()];
    let mut entries = Vec::new();
    let mut slots = Vec::new();
    for (i, wire) in wires.iter().enumerate() {
        match entry_of(engine, wire) {
            Ok(entry) => {
                entries.push(entry);
                slots.push(i);
            }
            Err(text) => statuses[i] = error_status(text),
        }
    }
    let placements = engine.place_orders(user, &entries, ctx);
    for (slot, placement) in slots.into_iter().zip(placements) {
        statuses[slot] = status_of(&placement, wires[slot].cloid);
    }
    statuses
}

/// Places a `normalTpsl` order action: the entry, then its TP/SL, which
/// wait for it to fill (`waitingForFill`) or, when it filled at once, for
/// their trigger (`waitingForTrigger`). A group that is not an entry with
/// one or two reduce-only TP/SL closing it is refused whole.
fn place_with_exits(
    engine: &mut Engine,
    user: AccountId,
    wires: &[OrderWire],
    ctx: &ActionContext,
) -> Result<Vec<Value>, String> {
    let entries = wires
        .iter()
        .map(|wire| entry_of(engine, wire))
        .collect::<Result<Vec<_>, _>>()?;
    let Some((entry, exits)) = entries.split_first() else {
        return Err("Invalid TP/SL grouping: no orders.".into());
    };
    check_group(entry, exits)?;
    let (placement, exits) = engine.place_with_exits(user, entry, exits.to_vec(), ctx);
    let mut statuses = vec![status_of(&placement, wires[0].cloid)];
    statuses.extend(exits.into_iter().map(|exit| match exit {
        ExitPlacement::WaitingForFill => json!("waitingForFill"),
        ExitPlacement::WaitingForTrigger => json!("waitingForTrigger"),
        ExitPlacement::Refused(text) => error_status(text),
    }));
    Ok(statuses)
}

fn target_of(target: &OrderRef) -> OrderTarget {
    match target {
        OrderRef::Oid(oid) => OrderTarget::Oid(*oid),
        OrderRef::Cloid(cloid) => OrderTarget::Client(ClientId(cloid.0)),
    }
}

/// Cancels by oid or cloid; `"success"` or an error status per cancel.
fn cancel(
    engine: &mut Engine,
    user: AccountId,
    targets: &[(u32, OrderRef)],
    now: u64,
) -> Vec<Value> {
    let resolved: Vec<(usize, OrderTarget)> = targets
        .iter()
        .map(|(asset, target)| {
            // An unknown asset names no market: nothing matches it.
            let market = engine.market_of_asset(*asset).unwrap_or(usize::MAX);
            (market, target_of(target))
        })
        .collect();
    engine
        .cancel_orders(user, &resolved, now)
        .into_iter()
        .zip(targets)
        .map(|(cancelled, (asset, _))| match cancelled {
            true => json!("success"),
            false => error_status(format!("{NOT_OPEN} asset={asset}")),
        })
        .collect()
}

/// Modifies (cancel, then place with a new oid); one order status per
/// modification.
fn replace(
    engine: &mut Engine,
    user: AccountId,
    modifies: &[hyperliquid_core::Modify],
    ctx: &ActionContext,
) -> Vec<Value> {
    let not_open = |asset: u32| {
        error_status(format!(
            "Cannot modify canceled or filled order. asset={asset}"
        ))
    };
    let mut statuses: Vec<Value> = modifies.iter().map(|m| not_open(m.order.asset)).collect();
    let mut replacements = Vec::new();
    let mut slots = Vec::new();
    for (i, modify) in modifies.iter().enumerate() {
        if let Ok(entry) = entry_of(engine, &modify.order) {
            replacements.push((target_of(&modify.oid), entry));
            slots.push(i);
        }
    }
    let placements = engine.replace_orders(user, &replacements, ctx);
    for (slot, placement) in slots.into_iter().zip(placements) {
        if let Some(placement) = placement {
            statuses[slot] = status_of(&placement, modifies[slot].order.cloid);
        }
    }
    statuses
}
