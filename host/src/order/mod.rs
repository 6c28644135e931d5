//! Orders: the model, the state machine and the tracker.

mod client_id;
mod fills;
mod in_flight;
mod state;
mod tracker;
mod types;
mod updates;

pub use client_id::{ClientIdGenerator, ClientOrderId, ClientOrderIdError};
pub use fills::{Fill, Fills};
pub use in_flight::InFlightOrder;
pub use state::TransitionError;
pub use tracker::{ClientOrderTracker, FillResult, OrderEvent, OrderListener, TrackerError};
pub use types::{
    Exit, Exits, OrderState, OrderType, PositionAction, TimeInForce, TradeType, TriggerReference,
};
pub use updates::{FailureCause, NewOrder, OrderUpdate, TradeUpdate, UnknownOutcome};
