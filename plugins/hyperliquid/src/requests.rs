//! Building requests: `/info` queries directly; signed actions in two
//! phases (the signer's request, then the `/exchange` body or socket
//! `post` frame), with what lies between kept by the session.

use abi_stable::std_types::{RString, RVec, Tuple2};
use hyperliquid_core::{
    Action, B256, BatchModifyAction, CancelAction, CancelByCloidAction, CancelByCloidWire,
    CancelWire, Cloid, Grouping, MarketKind, Modify, Network, OrderAction, OrderKind,
    OrderRef as CoreOrderRef, OrderRequest as CoreOrder, Rounding, ScheduleCancelAction, Signature,
    SignedBody, SigningContext, Tif, Tpsl, UpdateLeverageAction, check_price, l1_hashes,
    normalize_size, recover_address, slippage_price,
};
use plugin_api::{
    Market, ModifyRequest, Operation, OrderKind as Kind, OrderRef, OrderRequest, PluginError,
    Request, RequestContext, Side, SignRequest, TimeInForce,
};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::value::{RawValue, to_raw_value};
use serde_json::{Value, json};

use crate::config::Config;
use crate::manifest::{ADDRESS, ADDRESS_CANCEL, IP_WEIGHT};

/// Market orders are IOC limits this far from the reference price unless
/// the order says otherwise (the SDK's default).
const DEFAULT_SLIPPAGE: Decimal = Decimal::from_parts(5, 0, 0, false, 2);

/// What [`finish`] needs, kept by the session between the phases.
#[derive(Debug)]
pub struct Continuation {
    /// The `/info` body, or the action to post once signed, as JSON text:
    /// it is written once and never read back into a tree.
    body: Box<RawValue>,
    signed: bool,
    nonce: u64,
    expires_after: Option<u64>,
    /// What the signature must sign, when the `signer` setting asks for
    /// each signature to be checked.
    digest: Option<B256>,
    /// Rate-limit costs: (bucket, units).
    costs: Vec<(String, u32)>,
}

/// Phase one's result.
#[derive(Debug)]
pub struct Prepared {
    /// What the signer must sign, for actions.
    pub sign: Option<SignRequest>,
    /// What the request costs against the rate-limit buckets.
    pub costs: RVec<Tuple2<RString, u32>>,
    /// What phase two needs.
    pub continuation: Continuation,
}

/// Phase two's result.
#[derive(Debug)]
pub enum Built {
    /// An HTTP request.
    Http(Request),
    /// A `post` frame for the socket.
    Post(String),
}

/// The asset id and szDecimals of a market the host got from this plugin.
struct Asset {
    id: u32,
    sz_decimals: u32,
    kind: MarketKind,
}

fn asset(market: &Market) -> Result<Asset, PluginError> {
    let id = u32::try_from(market.venue_id)
        .map_err(|_| PluginError::invalid(format!("{}: asset id out of range", market.symbol)))?;
    let step = market.rule.size_step;
    if step.mantissa != 1 {
        return Err(PluginError::invalid(format!(
            "{}: size step {step} is not a power of ten",
            market.symbol
        )));
    }
    let kind = match market.kind {
        plugin_api::MarketKind::PERPETUAL => MarketKind::Perp,
        plugin_api::MarketKind::SPOT => MarketKind::Spot,
        other => {
            return Err(PluginError::invalid(format!(
                "{}: Hyperliquid has no {other} markets",
                market.symbol
            )));
        }
    };
    Ok(Asset {
        id,
        sz_decimals: step.scale,
        kind,
    })
}

fn cloid(text: &str) -> Result<Cloid, PluginError> {
    text.parse::<Cloid>()
        .map_err(|error| PluginError::invalid(format!("client id `{text}`: {error}")))
}

/// One order in the core's terms. Prices and sizes must already be valid:
/// the host quantizes; this refuses rather than rounds.
fn order(request: &OrderRequest) -> Result<CoreOrder, PluginError> {
    let asset = asset(&request.market)?;
    let is_buy = match request.side {
        Side::BUY => true,
        Side::SELL => false,
        other => return Err(PluginError::invalid(format!("side {other}"))),
    };
    let invalid = |what: &str, error: &dyn std::fmt::Display| {
        PluginError::invalid(format!("{} {what}: {error}", request.market.symbol))
    };
    let size = normalize_size(
        request.size.to_decimal(),
        asset.sz_decimals,
        Rounding::Exact,
    )
    .map_err(|e| invalid("size", &e))?;
    let limit_tif = |tif: TimeInForce| match tif {
        TimeInForce::GTC => Ok(Tif::Gtc),
        TimeInForce::IOC => Ok(Tif::Ioc),
        TimeInForce::POST_ONLY => Ok(Tif::Alo),
        other => Err(PluginError::unsupported(format!("time in force {other}"))),
    };
    let trigger = |tpsl: Tpsl, is_market: bool| -> Result<OrderKind, PluginError> {
        let price = request
            .trigger_price
            .into_option()
            .ok_or_else(|| PluginError::invalid("a trigger order needs a trigger price"))?
            .to_decimal();
        check_price(price, asset.sz_decimals, asset.kind)
            .map_err(|e| invalid("trigger price", &e))?;
        Ok(OrderKind::Trigger {
            trigger_price: price,
            is_market,
            tpsl,
        })
    };
    let (kind, price) = match request.kind {
        Kind::MARKET => {
            let slippage = request
                .max_slippage
                .into_option()
                .map_or(DEFAULT_SLIPPAGE, |s| s.to_decimal());
            let price = slippage_price(
                request.price.to_decimal(),
                is_buy,
                slippage,
                asset.sz_decimals,
                asset.kind,
            )
            .map_err(|e| invalid("market price", &e))?;
            (OrderKind::Limit(Tif::Ioc), price)
        }
        Kind::LIMIT => (
            OrderKind::Limit(limit_tif(request.time_in_force)?),
            request.price.to_decimal(),
        ),
        Kind::LIMIT_MAKER => (OrderKind::Limit(Tif::Alo), request.price.to_decimal()),
        Kind::STOP_MARKET => (trigger(Tpsl::Sl, true)?, request.price.to_decimal()),
        Kind::STOP_LIMIT => (trigger(Tpsl::Sl, false)?, request.price.to_decimal()),
        Kind::TAKE_PROFIT_MARKET => (trigger(Tpsl::Tp, true)?, request.price.to_decimal()),
        Kind::TAKE_PROFIT_LIMIT => (trigger(Tpsl::Tp, false)?, request.price.to_decimal()),
        other => return Err(PluginError::unsupported(format!("order kind {other}"))),
    };
    check_price(price, asset.sz_decimals, asset.kind).map_err(|e| invalid("price", &e))?;
    Ok(CoreOrder {
        asset: asset.id,
        is_buy,
        price,
        size,
        reduce_only: request.reduce_only,
        kind,
        cloid: if request.client_id.is_empty() {
            None
        } else {
            Some(cloid(&request.client_id)?)
        },
    })
}

fn order_action(orders: &[OrderRequest], grouping: Grouping) -> Result<Action, PluginError> {
    let orders = orders.iter().map(order).collect::<Result<Vec<_>, _>>()?;
    OrderAction::from_requests(&orders, grouping, None)
        .map(Action::Order)
        .map_err(|error| PluginError::invalid(error.to_string()))
}

/// A `normalTpsl` group: an entry, then one to two exits, each a
/// reduce-only trigger order on the other side (the venue refuses a TP/SL
/// that is not reduce-only).
fn check_exits(orders: &[OrderRequest]) -> Result<(), PluginError> {
    let Some((entry, exits)) = orders.split_first() else {
        return Err(PluginError::invalid("an entry with exits needs an entry"));
    };
    if exits.is_empty() || exits.len() > 2 {
        return Err(PluginError::invalid(format!(
            "an entry takes one or two exits, not {}",
            exits.len()
        )));
    }
    match exits
        .iter()
        .find(|exit| !exit.kind.is_trigger() || !exit.reduce_only || exit.side == entry.side)
    {
        Some(exit) => Err(PluginError::invalid(format!(
            "exit {} is not a reduce-only trigger order on the other side of its entry",
            exit.client_id
        ))),
        None => Ok(()),
    }
}

fn exchange_oid(target: &OrderRef) -> Option<Result<u64, PluginError>> {
    target.exchange_order_id.as_ref().into_option().map(|oid| {
        oid.parse::<u64>()
            .map_err(|_| PluginError::invalid(format!("exchange order id `{oid}` is not a number")))
    })
}

/// Cancels by cloid when every target has one (our own orders always do),
/// otherwise by exchange id.
fn cancel_action(targets: &[OrderRef]) -> Result<Action, PluginError> {
    if targets.is_empty() {
        return Err(PluginError::invalid("nothing to cancel"));
    }
    if targets.iter().all(|t| !t.client_id.is_empty()) {
        let cancels = targets
            .iter()
            .map(|t| {
                Ok(CancelByCloidWire {
                    asset: asset(&t.market)?.id,
                    cloid: cloid(&t.client_id)?,
                })
            })
            .collect::<Result<_, PluginError>>()?;
        return Ok(Action::CancelByCloid(CancelByCloidAction { cancels }));
    }
    let cancels = targets
        .iter()
        .map(|t| {
            let oid = exchange_oid(t).ok_or_else(|| {
                PluginError::invalid(
                    "an order without client id or exchange id cannot be cancelled",
                )
            })??;
            Ok(CancelWire {
                asset: asset(&t.market)?.id,
                oid,
            })
        })
        .collect::<Result<_, PluginError>>()?;
    Ok(Action::Cancel(CancelAction { cancels }))
}

fn modify_action(modifies: &[ModifyRequest]) -> Result<Action, PluginError> {
    if modifies.is_empty() {
        return Err(PluginError::invalid("nothing to modify"));
    }
    let modifies = modifies
        .iter()
        .map(|m| {
            let oid = match exchange_oid(&m.target) {
                Some(oid) => CoreOrderRef::Oid(oid?),
                None => CoreOrderRef::Cloid(cloid(&m.target.client_id)?),
            };
            let wire = order(&m.order)?
                .to_wire()
                .map_err(|error| PluginError::invalid(error.to_string()))?;
            Ok(Modify { oid, order: wire })
        })
        .collect::<Result<_, PluginError>>()?;
    Ok(Action::BatchModify(BatchModifyAction { modifies }))
}

/// `/info` weights: 2 for the light queries, 20 for the rest.
type Phase1 = (Box<RawValue>, bool, Vec<(String, u32)>);

fn info(body: Value, weight: u32) -> Result<Phase1, PluginError> {
    let text =
        to_raw_value(&body).map_err(|error| PluginError::invalid(format!("info body: {error}")))?;
    Ok((text, false, vec![(IP_WEIGHT.to_owned(), weight)]))
}

/// Costs in the plugin API's shape.
fn rate_limit_costs(costs: &[(String, u32)]) -> RVec<Tuple2<RString, u32>> {
    costs
        .iter()
        .map(|(bucket, units)| Tuple2(RString::from(bucket.as_str()), *units))
        .collect()
}

/// What an action costs: IP weight `1 + floor(n / 40)` for a batch of `n`;
/// `n` from the address limits — only the cancel limit for cancels.
fn action_costs(batch: usize, is_cancel: bool) -> Vec<(String, u32)> {
    let items = u32::try_from(batch.max(1)).unwrap_or(u32::MAX);
    let mut costs = vec![(IP_WEIGHT.to_owned(), 1 + items / 40)];
    if !is_cancel {
        costs.push((ADDRESS.to_owned(), items));
    }
    costs.push((ADDRESS_CANCEL.to_owned(), items));
    costs
}

/// Phase one.
pub fn prepare(
    config: &Config,
    operation: &Operation,
    context: &RequestContext,
) -> Result<Prepared, PluginError> {
    let user = config.account.to_string();
    let signing = SigningContext {
        network: config.network,
        nonce: context.nonce,
        vault_address: config.vault,
        expires_after: context.valid_until_ms.into_option(),
    };
    let mut digest = None;
    let mut signed = |action: Action, batch: usize| -> Result<_, PluginError> {
        let is_cancel = matches!(action, Action::Cancel(_) | Action::CancelByCloid(_));
        if config.signer.is_some() {
            digest = Some(
                l1_hashes(&action, &signing)
                    .map_err(|error| PluginError::invalid(format!("action digest: {error}")))?
                    .digest,
            );
        }
        let text = to_raw_value(&action)
            .map_err(|error| PluginError::invalid(format!("action: {error}")))?;
        Ok((text, true, action_costs(batch, is_cancel)))
    };
    let (body, is_signed, costs) = match operation {
        Operation::PlaceOrders(orders) => {
            signed(order_action(orders, Grouping::Na)?, orders.len())?
        }
        Operation::PlaceWithExits(orders) => {
            check_exits(orders)?;
            signed(order_action(orders, Grouping::NormalTpsl)?, orders.len())?
        }
        Operation::CancelOrders(targets) => signed(cancel_action(targets)?, targets.len())?,
        Operation::ModifyOrders(modifies) => signed(modify_action(modifies)?, modifies.len())?,
        Operation::ArmDeadManSwitch(at) => signed(
            Action::ScheduleCancel(ScheduleCancelAction {
                time: at.into_option(),
            }),
            1,
        )?,
        Operation::SetLeverage {
            market,
            leverage,
            cross,
        } => signed(
            Action::UpdateLeverage(UpdateLeverageAction {
                asset: asset(market)?.id,
                is_cross: *cross,
                leverage: *leverage,
            }),
            1,
        )?,
        Operation::FetchMarkets { cursor } => match cursor.as_str() {
            "" => info(json!({"type": "meta"}), 20)?,
            "spot" => info(json!({"type": "spotMeta"}), 20)?,
            other => return Err(PluginError::invalid(format!("market page `{other}`"))),
        },
        Operation::FetchOpenOrders => info(json!({"type": "openOrders", "user": user}), 20)?,
        Operation::FetchOrder(target) => {
            let id = match exchange_oid(target) {
                _ if !target.client_id.is_empty() => json!(target.client_id.as_str()),
                Some(oid) => json!(oid?),
                None => return Err(PluginError::invalid("an order query needs an id")),
            };
            info(json!({"type": "orderStatus", "user": user, "oid": id}), 2)?
        }
        Operation::FetchFills { since_ms } => info(
            json!({"type": "userFillsByTime", "user": user, "startTime": since_ms}),
            20,
        )?,
        Operation::FetchAccount => info(json!({"type": "clearinghouseState", "user": user}), 2)?,
        Operation::FetchRateLimits => info(json!({"type": "userRateLimit", "user": user}), 20)?,
        other => {
            return Err(PluginError::unsupported(format!(
                "Hyperliquid has no use for {other:?}"
            )));
        }
    };
    let continuation = Continuation {
        body,
        signed: is_signed,
        nonce: signing.nonce,
        expires_after: signing.expires_after,
        digest,
        costs,
    };
    let sign = if is_signed {
        let payload = SignPayload {
            action: &continuation.body,
            nonce: continuation.nonce,
            vault_address: config.vault.map(|v| v.to_string()),
            expires_after: continuation.expires_after,
            network: network_name(config.network),
        };
        let payload = serde_json::to_string(&payload)
            .map_err(|error| PluginError::invalid(format!("signer payload: {error}")))?;
        Some(SignRequest {
            scheme: "hyperliquid-l1".into(),
            payload: payload.into(),
        })
    } else {
        None
    };
    Ok(Prepared {
        sign,
        costs: rate_limit_costs(&continuation.costs),
        continuation,
    })
}

/// With the `signer` setting: refuses a signature that is not that
/// address's over this request's digest — another key's (a process that
/// took the signer's socket), or one over other bytes than those asked for.
fn check_signer(
    config: &Config,
    continuation: &Continuation,
    signature: &Signature,
) -> Result<(), PluginError> {
    let (Some(expected), Some(digest)) = (config.signer, continuation.digest.as_ref()) else {
        return Ok(());
    };
    match recover_address(digest, signature) {
        Ok(signer) if signer == expected => Ok(()),
        Ok(signer) => Err(PluginError::invalid(format!(
            "the signature is by {}, not by the configured signer {}: not sent",
            signer.to_checksum(),
            expected.to_checksum()
        ))),
        Err(error) => Err(PluginError::invalid(format!(
            "the signature recovers to no key ({error}): not sent"
        ))),
    }
}

/// What the signer is asked to sign (see the signer's protocol).
#[derive(Serialize)]
struct SignPayload<'a> {
    action: &'a RawValue,
    nonce: u64,
    vault_address: Option<String>,
    expires_after: Option<u64>,
    network: &'static str,
}

fn network_name(network: Network) -> &'static str {
    match network {
        Network::Mainnet => "mainnet",
        Network::Testnet => "testnet",
    }
}

/// Phase two: the `/exchange` (or `/info`) request, or, with `post_id`, the
/// socket `post` frame carrying it.
pub fn finish(
    config: &Config,
    continuation: &Continuation,
    signature: &[u8],
    post_id: Option<u64>,
) -> Result<Built, PluginError> {
    let (kind, body) = if continuation.signed {
        let bytes: &[u8; 65] = signature.try_into().map_err(|_| {
            PluginError::invalid(format!(
                "a secp256k1 signature is 65 bytes (r, s, v), not {}",
                signature.len()
            ))
        })?;
        let signature = Signature::from_hex65(&format!("0x{}", hex::encode(bytes)))
            .map_err(|error| PluginError::invalid(format!("signature: {error}")))?;
        check_signer(config, continuation, &signature)?;
        let body = SignedBody {
            action: &continuation.body,
            nonce: continuation.nonce,
            signature: &signature,
            vault_address: config.vault,
            expires_after: continuation.expires_after,
        }
        .to_json()
        .map_err(|error| PluginError::invalid(format!("request body: {error}")))?;
        ("action", body)
    } else {
        ("info", continuation.body.get().to_owned())
    };
    Ok(match post_id {
        Some(id) => Built::Post(format!(
            r#"{{"method":"post","id":{id},"request":{{"type":"{kind}","payload":{body}}}}}"#
        )),
        None => Built::Http(Request {
            method: "POST".into(),
            url: format!(
                "{}/{}",
                config.rest_url,
                if kind == "action" { "exchange" } else { "info" }
            )
            .into(),
            headers: RVec::from(vec![Tuple2(
                "Content-Type".into(),
                "application/json".into(),
            )]),
            body: body.into(),
            costs: rate_limit_costs(&continuation.costs),
        }),
    })
}
