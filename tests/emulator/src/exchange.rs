//! `/exchange` (and WebSocket `post` of type `action`): body parsing,
//! signature recovery, signer resolution, expiry, nonces, and dispatch of each
//! action to the engine, answered in the exchange's shapes.
//!
//! Work is split in two so the costly part runs outside the engine lock:
//! [`prepare`] parses and recovers the signer, [`apply`] does the rest.

use hyperliquid_core::{
    Action, Address, B256, ExchangeRequest, Grouping, Network, OrderRef, l1_hashes,
    recover_address, signing_digest,
};
use serde_json::{Value, json};

use crate::engine::{ActionContext, Engine};

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
        Ok(signer) => signer,
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
        Action::Order(action) if action.grouping != Grouping::Na => err(format!(
            "Grouping {:?} is not supported by the emulator; use \"na\".",
            action.grouping
        )),
        Action::Order(action) => {
            ok_statuses("order", engine.place_orders(user, &action.orders, &ctx))
        }
        Action::Cancel(action) => {
            let targets: Vec<_> = action
                .cancels
                .iter()
                .map(|c| (c.asset, OrderRef::Oid(c.oid)))
                .collect();
            ok_statuses("cancel", engine.cancel_orders(user, &targets, now))
        }
        Action::CancelByCloid(action) => {
            let targets: Vec<_> = action
                .cancels
                .iter()
                .map(|c| (c.asset, OrderRef::Cloid(c.cloid)))
                .collect();
            ok_statuses("cancel", engine.cancel_orders(user, &targets, now))
        }
        Action::Modify(modify) => {
            let statuses = engine.modify_orders(user, std::slice::from_ref(modify), &ctx);
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
            ok_statuses("order", engine.modify_orders(user, &action.modifies, &ctx))
        }
        Action::ScheduleCancel(action) => {
            default_or_err(engine.schedule_cancel(user, action.time, now))
        }
        Action::UpdateLeverage(action) => default_or_err(engine.update_leverage(user, action)),
        Action::UpdateIsolatedMargin(action) => {
            default_or_err(engine.update_isolated_margin(user, action))
        }
        Action::Noop => ok_default(),
        Action::ApproveAgent(action) => default_or_err(engine.approve_agent(
            user,
            action.agent_address,
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
    user: Address,
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
