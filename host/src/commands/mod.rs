//! Commands from strategies: a ZeroMQ socket taking JSON commands (buy,
//! sell, cancel, cancel_all, modify, get_order, open_orders, status,
//! snapshot, replay, …) and answering each at once — buy and sell as soon as the order is tracked,
//! never waiting for the exchange. The protocol is in
//! `docs/command-protocol.md`.

mod background;
mod batch;
mod dispatch;
mod protocol;
mod queries;
mod server;
mod stats;
mod throttle;

pub use dispatch::{Dispatcher, Exchanges, Handled, Later, PAGE};
pub use protocol::{
    Command, ErrorBody, ExactDecimal, KillSwitchFields, Reply, Request, parse_request,
};
pub use server::{CommandServer, CommandSocketError, SocketLimits};
pub use stats::{CommandCounters, CommandStats};
