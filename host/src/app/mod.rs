//! The composition root: starting each configured exchange (its plugin
//! session, books, account, order path and journal, wired together), the
//! running host (signals, the command socket, shutdown) and hot reload.
//! The I/O drivers it wires are in [`crate::runtime`].

mod exchange;
mod host;
pub mod online;
pub mod preflight;
pub mod reload;

pub use exchange::{ExchangeRuntime, HostServices, StartError};
pub use host::{HostError, run};
