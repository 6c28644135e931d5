//! Order events in the seed schema: the tracker's changes, published on
//! `orders.<exchange>.created|filled|partial_fill|cancelled|failed|update`.

use serde::Serialize;

use super::{Family, JsonDecimal, Publisher, order_event_kind};
use crate::order::{
    Exit, Fill, InFlightOrder, OrderEvent, OrderListener, OrderState, OrderType, TradeType,
    TradeUpdate, TriggerReference,
};
use crate::runtime::clock::now_ns;

const NS_PER_MS: u64 = 1_000_000;

/// The fill that caused a `partial_fill` or `filled` event.
#[derive(Serialize)]
struct TradeData<'a> {
    trade_id: &'a str,
    fill_price: JsonDecimal,
    fill_amount: JsonDecimal,
    fee: JsonDecimal,
    fee_asset: &'a str,
    timestamp: u64,
}

impl<'a> TradeData<'a> {
    /// A fill's data from its id, `[price, amount, fee]`, fee asset and
    /// time (ms).
    fn new(
        trade_id: &'a str,
        [price, amount, fee]: [rust_decimal::Decimal; 3],
        fee_asset: &'a str,
        timestamp_ms: u64,
    ) -> TradeData<'a> {
        TradeData {
            trade_id,
            fill_price: price.into(),
            fill_amount: amount.into(),
            fee: fee.into(),
            fee_asset,
            timestamp: timestamp_ms.saturating_mul(NS_PER_MS),
        }
    }
}

/// The seed's `data` object, with two additions: `reason` (why it failed
/// or was cancelled) and `outcome_unknown`, plus `trade` on fill events.
#[derive(Serialize)]
struct OrderEventData<'a> {
    client_order_id: String,
    exchange_order_id: Option<&'a str>,
    trading_pair: &'a str,
    order_type: OrderType,
    trade_type: TradeType,
    price: JsonDecimal,
    amount: JsonDecimal,
    filled_amount: JsonDecimal,
    average_executed_price: Option<JsonDecimal>,
    order_state: OrderState,
    creation_timestamp: u64,
    last_update_timestamp: u64,
    fee_paid: JsonDecimal,
    fee_asset: Option<&'a str>,
    reason: Option<&'a str>,
    outcome_unknown: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    trade: Option<TradeData<'a>>,
    /// Stop and take-profit orders only.
    #[serde(skip_serializing_if = "Option::is_none")]
    trigger: Option<TriggerData>,
    /// An entry's attached take-profit and stop-loss.
    #[serde(skip_serializing_if = "Option::is_none")]
    exits: Option<ExitsData>,
    /// An exit: the entry it closes.
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_client_order_id: Option<String>,
}

/// An entry's exits, as events write decimals.
#[derive(Serialize)]
struct ExitsData {
    #[serde(skip_serializing_if = "Option::is_none")]
    take_profit: Option<ExitData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_loss: Option<ExitData>,
    /// `exchange` (sent with the entry, held by the venue) or `host`.
    held_by: &'static str,
}

/// One exit: its trigger, the price it watches, its limit (none: market).
#[derive(Serialize)]
struct ExitData {
    trigger_price: JsonDecimal,
    reference: TriggerReference,
    price: Option<JsonDecimal>,
}

impl ExitData {
    fn new(exit: &Exit) -> ExitData {
        ExitData {
            trigger_price: exit.trigger_price.into(),
            reference: exit.trigger_reference.unwrap_or_default(),
            price: exit.price.map(JsonDecimal::from),
        }
    }
}

/// A trigger order's trigger: its price, the price it watches, and
/// whether it fired.
#[derive(Serialize)]
struct TriggerData {
    trigger_price: JsonDecimal,
    reference: TriggerReference,
    triggered: bool,
}

impl<'a> OrderEventData<'a> {
    fn new(order: &'a InFlightOrder, trade: Option<&'a TradeUpdate>) -> OrderEventData<'a> {
        OrderEventData {
            client_order_id: order.spec.client_order_id.to_string(),
            exchange_order_id: order.exchange_order_id.as_deref(),
            trading_pair: &order.spec.trading_pair,
            order_type: order.spec.order_type,
            trade_type: order.spec.trade_type,
            price: order.spec.price.into(),
            amount: order.spec.amount.into(),
            filled_amount: order.filled_amount.into(),
            average_executed_price: order.average_executed_price().map(JsonDecimal::from),
            order_state: order.state,
            creation_timestamp: order.spec.creation_timestamp_ms.saturating_mul(NS_PER_MS),
            last_update_timestamp: order.last_update_timestamp_ms.saturating_mul(NS_PER_MS),
            fee_paid: order.fee_paid().into(),
            fee_asset: order.fee_asset.as_deref(),
            reason: order.reason.as_deref(),
            outcome_unknown: order.outcome_unknown.is_some(),
            trigger: order.spec.trigger_price.map(|price| TriggerData {
                trigger_price: price.into(),
                reference: order.spec.trigger_reference.unwrap_or_default(),
                triggered: order.triggered,
            }),
            exits: order.spec.exits.map(|exits| ExitsData {
                take_profit: exits.take_profit.as_ref().map(ExitData::new),
                stop_loss: exits.stop_loss.as_ref().map(ExitData::new),
                held_by: if exits.held_by_exchange {
                    "exchange"
                } else {
                    "host"
                },
            }),
            parent_client_order_id: order.spec.parent.map(|parent| parent.to_string()),
            trade: trade.map(|trade| {
                TradeData::new(
                    &trade.trade_id,
                    [trade.fill_price, trade.fill_amount, trade.fee],
                    &trade.fee_asset,
                    trade.timestamp_ms,
                )
            }),
        }
    }
}

/// One fill of an order, as the `fills` command lists it: the order's
/// identity and the `trade` object of its fill event.
#[derive(Serialize)]
struct FillRow<'a> {
    exchange: &'a str,
    client_order_id: String,
    exchange_order_id: Option<&'a str>,
    trading_pair: &'a str,
    trade_type: TradeType,
    #[serde(flatten)]
    trade: TradeData<'a>,
}

/// A fill of `order` in the `fills` command's shape.
pub fn fill_json(order: &InFlightOrder, fill: &Fill) -> serde_json::Value {
    serde_json::to_value(FillRow {
        exchange: &order.spec.exchange,
        client_order_id: order.spec.client_order_id.to_string(),
        exchange_order_id: order.exchange_order_id.as_deref(),
        trading_pair: &order.spec.trading_pair,
        trade_type: order.spec.trade_type,
        trade: TradeData::new(
            &fill.trade_id,
            [fill.price, fill.amount, fill.fee],
            &fill.fee_asset,
            fill.timestamp_ms,
        ),
    })
    .unwrap_or(serde_json::Value::Null)
}

/// An order in the seed schema's `data` shape (for command replies).
pub fn order_json(order: &InFlightOrder) -> serde_json::Value {
    serde_json::to_value(OrderEventData::new(order, None)).unwrap_or(serde_json::Value::Null)
}

/// Publishes every change of one exchange's tracker.
pub struct OrderEventPublisher {
    publisher: Publisher,
    family: Family,
    exchange: String,
}

impl OrderEventPublisher {
    /// A listener publishing on `orders.<exchange>.*`.
    pub fn new(publisher: Publisher, exchange: &str) -> OrderEventPublisher {
        OrderEventPublisher {
            family: publisher.family(&format!("orders.{exchange}")),
            publisher,
            exchange: exchange.to_owned(),
        }
    }
}

impl OrderListener for OrderEventPublisher {
    fn on_event(&self, event: &OrderEvent<'_>) {
        let Some(kind) = order_event_kind(event) else {
            return;
        };
        let (order, trade) = match event {
            OrderEvent::Created(order)
            | OrderEvent::OutcomeUnknown(order)
            | OrderEvent::Amended(order)
            | OrderEvent::StateChanged { order, .. }
            | OrderEvent::Triggered(order) => (*order, None),
            OrderEvent::Filled { order, trade } => (*order, Some(*trade)),
        };
        self.publisher.publish(
            &self.family,
            format!("orders.{}.{}", self.exchange, kind.as_str()),
            kind.as_str(),
            now_ns(),
            &OrderEventData::new(order, trade),
        );
    }
}
