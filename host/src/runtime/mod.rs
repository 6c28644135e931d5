//! The I/O drivers around the sans-IO plugins: each exchange's session,
//! WebSocket connections, HTTP, rate limits, queries and relayed market
//! data. What starts and wires them is [`crate::app`].

mod backoff;
pub mod clock;
mod connection;
mod http;
mod query;
pub(crate) mod ratelimit;
pub(crate) mod relay;
mod session;

pub use backoff::Backoff;
pub use connection::{
    ConnectionControl, ConnectionDriver, ConnectionEvents, ConnectionSink, Outbound,
    log_dropped_frame,
};
pub use http::{HttpExecutor, TransportError};
pub use query::{Querier, QueryError};
pub use ratelimit::RateLimiter;
pub use session::{Delivery, Session, SessionParts, on_first_wait, run_hook, seed};
