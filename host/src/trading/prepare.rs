//! From a command to a validated, quantized order: the host's record
//! (`NewOrder`) and the plugin's request (`OrderRequest`). Pure: the caller
//! supplies the mid price and the time.

use plugin_api::rules::{Rounding, RuleViolation};
use plugin_api::{Dec, Manifest, Market, OrderKind, OrderRequest, Side};
use rust_decimal::Decimal;

use super::command::{CommandError, OrderCommand};
use super::exits;
use crate::order::{
    ClientOrderId, NewOrder, OrderType, PositionAction, TimeInForce, TradeType, TriggerReference,
};

fn dec(value: Decimal, what: &str) -> Result<Dec, CommandError> {
    Dec::from_decimal(value).map_err(|e| CommandError::InvalidOrder(format!("{what}: {e}")))
}

fn invalid(error: impl std::fmt::Display) -> CommandError {
    CommandError::InvalidOrder(error.to_string())
}

/// A refusal that names the command's field at fault.
fn invalid_field(field: &str) -> impl Fn(RuleViolation) -> CommandError + '_ {
    move |error| CommandError::InvalidOrder(format!("`{field}`: {error}"))
}

/// How far beyond its trigger price a trigger order at market may fill
/// when neither the command nor the exchange's config says, in percent.
const TRIGGER_SLIPPAGE_PERCENT: Decimal = Decimal::from_parts(5, 0, 0, false, 0);

/// Trigger orders rest until triggered.
const GTC: plugin_api::TimeInForce = plugin_api::TimeInForce::GTC;

fn time_in_force(tif: TimeInForce) -> plugin_api::TimeInForce {
    match tif {
        TimeInForce::Gtc => plugin_api::TimeInForce::GTC,
        TimeInForce::Ioc => plugin_api::TimeInForce::IOC,
        TimeInForce::Fok => plugin_api::TimeInForce::FOK,
    }
}

/// The plugin's order kind of a host order type.
pub fn order_kind(order_type: OrderType) -> OrderKind {
    match order_type {
        OrderType::Limit => OrderKind::LIMIT,
        OrderType::Market => OrderKind::MARKET,
        OrderType::LimitMaker => OrderKind::LIMIT_MAKER,
        OrderType::StopMarket => OrderKind::STOP_MARKET,
        OrderType::StopLimit => OrderKind::STOP_LIMIT,
        OrderType::TakeProfitMarket => OrderKind::TAKE_PROFIT_MARKET,
        OrderType::TakeProfitLimit => OrderKind::TAKE_PROFIT_LIMIT,
    }
}

/// The plugin's word for a trigger reference.
pub fn trigger_reference(reference: TriggerReference) -> plugin_api::TriggerReference {
    match reference {
        TriggerReference::Mark => plugin_api::TriggerReference::MARK,
        TriggerReference::Last => plugin_api::TriggerReference::LAST,
    }
}

/// A slippage in percent as the fraction the plugin takes; it must lie
/// strictly between 0 and 100.
fn slippage_fraction(percent: Option<Decimal>) -> Result<Option<Dec>, CommandError> {
    let Some(percent) = percent else {
        return Ok(None);
    };
    if percent <= Decimal::ZERO || percent >= Decimal::ONE_HUNDRED {
        return Err(invalid(format!(
            "max_slippage_percent must lie between 0 and 100, not {percent}"
        )));
    }
    dec(percent / Decimal::ONE_HUNDRED, "max_slippage_percent").map(Some)
}

/// What a market order is priced from.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarketPricing {
    /// The current mid price, if the book is in sync.
    pub mid: Option<Decimal>,
    /// The slippage (percent) of a command that names none; `None`: the
    /// plugin's default.
    pub default_slippage_percent: Option<Decimal>,
}

/// Validates and quantizes `command` for `market`. Limit prices are
/// rounded toward the passive side (a buy down, a sell up) so that
/// quantizing never makes an order more aggressive; sizes are rounded down
/// and never up past a bound. Market orders are priced by `pricing`.
pub fn prepare_order(
    exchange: &str,
    manifest: &Manifest,
    market: &Market,
    command: &OrderCommand,
    id: ClientOrderId,
    pricing: MarketPricing,
    now_ms: u64,
) -> Result<(NewOrder, OrderRequest), CommandError> {
    let rule = &market.rule;
    let is_buy = command.trade_type == TradeType::Buy;
    let amount = rule
        .quantize_size(command.amount, Rounding::Down)
        .map_err(invalid_field("amount"))?;
    let passive = if is_buy { Rounding::Down } else { Rounding::Up };
    let limit_price = || -> Result<Decimal, CommandError> {
        let price = command.price.ok_or_else(|| {
            CommandError::InvalidOrder(format!("a {:?} order needs a price", command.order_type))
        })?;
        rule.quantize_price(price, passive)
            .map_err(invalid_field("price"))
    };
    // A trigger price is rounded onto the price rule to the nearest side
    // that does not trigger sooner: a buy stop up, a sell stop down (a
    // take-profit the other way).
    let trigger_price = match (command.order_type.is_trigger(), command.trigger_price) {
        (true, Some(trigger)) => {
            let stop = matches!(
                command.order_type,
                OrderType::StopMarket | OrderType::StopLimit
            );
            let later = if is_buy == stop {
                Rounding::Up
            } else {
                Rounding::Down
            };
            Some(
                rule.quantize_price(trigger, later)
                    .map_err(invalid_field("trigger_price"))?,
            )
        }
        (false, Some(_)) => {
            return Err(invalid(format!(
                "`trigger_price`: only stop and take-profit orders have one, not {:?}",
                command.order_type
            )));
        }
        (_, None) => None,
    };
    let reference = match (trigger_price, command.trigger_reference) {
        (Some(_), reference) => Some(reference.unwrap_or_default()),
        (None, Some(_)) => {
            return Err(invalid(format!(
                "`trigger_reference`: only stop and take-profit orders have one, not {:?}",
                command.order_type
            )));
        }
        (None, None) => None,
    };
    if let Some(reference) = reference
        && !manifest
            .trigger_references
            .contains(&trigger_reference(reference))
    {
        return Err(invalid(format!(
            "`trigger_reference`: {exchange} does not trigger on the {} price",
            trigger_reference(reference)
        )));
    }
    if command.order_type.is_trigger() && command.time_in_force != TimeInForce::Gtc {
        return Err(invalid(
            "`time_in_force`: a trigger order rests until triggered (GTC)",
        ));
    }
    // A trigger order at market: `max_slippage_percent` (or the exchange's
    // default) beyond its trigger price, on the price rule inside that bound.
    let worst_price = |trigger: Decimal| -> Result<Decimal, CommandError> {
        let percent = command
            .max_slippage_percent
            .or(pricing.default_slippage_percent)
            .unwrap_or(TRIGGER_SLIPPAGE_PERCENT);
        slippage_fraction(Some(percent))?;
        let shift = trigger * percent / Decimal::ONE_HUNDRED;
        let worst = if is_buy {
            trigger + shift
        } else {
            trigger - shift
        };
        rule.quantize_price(worst, passive)
            .map_err(invalid_field("max_slippage_percent"))
    };
    let kind = order_kind(command.order_type);
    let (tif, price) = match (command.order_type, trigger_price) {
        (OrderType::Market, _) => {
            let mid = pricing
                .mid
                .ok_or_else(|| CommandError::NoMarketPrice(command.trading_pair.clone()))?;
            (plugin_api::TimeInForce::IOC, mid)
        }
        (OrderType::LimitMaker, _) => (plugin_api::TimeInForce::POST_ONLY, limit_price()?),
        (OrderType::Limit, _) => (time_in_force(command.time_in_force), limit_price()?),
        // At market once triggered, no worse than the slippage from the
        // trigger price.
        (OrderType::StopMarket | OrderType::TakeProfitMarket, Some(trigger)) => {
            (GTC, worst_price(trigger)?)
        }
        (OrderType::StopLimit | OrderType::TakeProfitLimit, Some(_)) => (GTC, limit_price()?),
        (other, None) => {
            return Err(invalid(format!(
                "`trigger_price`: a {other:?} order needs a trigger price"
            )));
        }
    };
    if !manifest.order_kinds.contains(&kind) {
        return Err(invalid(format!(
            "{exchange} does not support {kind} orders"
        )));
    }
    if !manifest.time_in_force.contains(&tif) {
        return Err(invalid(format!(
            "{exchange} does not support time in force {tif}"
        )));
    }
    rule.check_notional(price, amount, command.is_reduce_only())
        .map_err(invalid_field("amount"))?;
    // Attached exits: on their side of the entry, and each an order this
    // exchange takes (checked for the whole amount; placed for what fills).
    let attached = exits::of_command(command);
    for (kind, exit) in attached.as_ref().map(exits::listed).unwrap_or_default() {
        exits::check(command, trigger_price.unwrap_or(price), kind, &exit)?;
        let entry = exits::Entry {
            trading_pair: &command.trading_pair,
            trade_type: command.trade_type,
            id,
        };
        let exit_command = exits::exit_command(entry, kind, &exit, amount);
        prepare_order(
            exchange,
            manifest,
            market,
            &exit_command,
            id,
            pricing,
            now_ms,
        )
        .map_err(|error| CommandError::InvalidOrder(format!("`{}`: {error}", kind.field())))?;
    }
    let new_order = NewOrder {
        client_order_id: id,
        exchange: exchange.to_owned(),
        trading_pair: command.trading_pair.clone(),
        order_type: command.order_type,
        trade_type: command.trade_type,
        // One word for reduce-only in the host's record, so that it stays
        // with the order (a modify, a restart).
        position_action: if command.is_reduce_only() {
            Some(PositionAction::Close)
        } else {
            command.position_action
        },
        time_in_force: command.time_in_force,
        price,
        amount,
        trigger_price,
        trigger_reference: reference,
        exits: attached,
        parent: command.parent,
        creation_timestamp_ms: now_ms,
    };
    let request = OrderRequest {
        client_id: id.to_string().into(),
        market: market.clone(),
        side: if is_buy { Side::BUY } else { Side::SELL },
        kind,
        time_in_force: tif,
        price: dec(price, "price")?,
        size: dec(amount, "amount")?,
        reduce_only: command.is_reduce_only(),
        trigger_price: trigger_price
            .map(|trigger| dec(trigger, "trigger_price"))
            .transpose()?
            .into(),
        trigger_reference: trigger_reference(reference.unwrap_or_default()),
        max_slippage: slippage_fraction(
            command
                .max_slippage_percent
                .or(pricing.default_slippage_percent),
        )?
        .into(),
    };
    Ok((new_order, request))
}
