//! The live runtime: the I/O drivers around the sans-IO plugins.

mod account;
mod backoff;
pub mod clock;
mod connection;
mod exchange;
mod host;
mod http;
mod market_data;
mod query;
mod ratelimit;
mod relay;
pub mod reload;
mod session;

pub use account::{ACCOUNT_REFRESH, Account};
pub use backoff::Backoff;
pub use connection::{
    ConnectionControl, ConnectionDriver, ConnectionEvents, ConnectionSink, Outbound,
    log_dropped_frame,
};
pub use exchange::{ExchangeRuntime, HostServices, StartError};
pub use host::{HostError, run};
pub use http::{HttpExecutor, TransportError};
pub use market_data::{BOOK_DEPTH, MarketData, MarketSink, Top, levels_from_json};
pub use query::{Querier, QueryError};
pub use ratelimit::RateLimiter;
pub use session::{Delivery, Session, SessionParts, on_first_wait, run_hook};
