//! Which tracker changes become which `orders.<exchange>.*` topics.

use crate::order::{OrderEvent, OrderState};

/// The seed's order topics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEventKind {
    /// `created`: the order is tracked.
    Created,
    /// `partial_fill`: a fill that leaves part of the order open.
    PartialFill,
    /// `filled`: the fill that completes the order.
    Filled,
    /// `cancelled`: cancelled or expired.
    Cancelled,
    /// `failed`: proven never to have reached the book.
    Failed,
    /// `update`: any other change (submitted, open, pending cancel, outcome
    /// unknown, filled by the exchange's word before its fills arrived).
    Update,
    /// `triggered`: a stop or take-profit order's trigger fired.
    Triggered,
}

impl OrderEventKind {
    /// The last topic segment and the `event_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderEventKind::Created => "created",
            OrderEventKind::PartialFill => "partial_fill",
            OrderEventKind::Filled => "filled",
            OrderEventKind::Cancelled => "cancelled",
            OrderEventKind::Failed => "failed",
            OrderEventKind::Update => "update",
            OrderEventKind::Triggered => "triggered",
        }
    }
}

/// The topic a tracker change is published under, or `None` when another
/// event of the same change already says it (the state change to
/// `PARTIALLY_FILLED` or `FILLED` that follows a published fill).
pub fn order_event_kind(event: &OrderEvent<'_>) -> Option<OrderEventKind> {
    match event {
        OrderEvent::Created(_) => Some(OrderEventKind::Created),
        OrderEvent::Filled { order, .. } => Some(if order.filled_amount >= order.spec.amount {
            OrderEventKind::Filled
        } else {
            OrderEventKind::PartialFill
        }),
        OrderEvent::StateChanged { order, .. } => match order.state {
            OrderState::PartiallyFilled => None,
            OrderState::Filled if order.filled_amount >= order.spec.amount => None,
            OrderState::Cancelled | OrderState::Expired => Some(OrderEventKind::Cancelled),
            OrderState::Failed => Some(OrderEventKind::Failed),
            _ => Some(OrderEventKind::Update),
        },
        OrderEvent::OutcomeUnknown(_) | OrderEvent::Amended(_) => Some(OrderEventKind::Update),
        OrderEvent::Triggered(_) => Some(OrderEventKind::Triggered),
    }
}
