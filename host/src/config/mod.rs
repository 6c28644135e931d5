//! The configuration: one TOML file, validated whole before anything uses
//! it. Errors name the key path and the line.

mod errors;
mod load;
mod schema;
mod suggest;
mod urls;

pub use errors::{ConfigError, ConfigErrors, KeyPath, KeyPathSegment};
pub use load::{load, locate, parse};
pub use schema::{
    Config, CurveClientConfig, CurveConfig, DeadManSwitchConfig, ExchangeConfig, ExitsHolder,
    HostConfig, Limits, MarketConfig, MarketDataSource, MetricsConfig, OrderTransport,
    RateLimitConfig, SignerConfig, ZmqConfig,
};
pub use suggest::closest;

impl Config {
    /// A one-line description of a valid configuration.
    pub fn summary(&self) -> String {
        let exchanges: Vec<String> = self
            .exchanges
            .iter()
            .map(|exchange| {
                format!(
                    "{} ({}, {} market{})",
                    exchange.name,
                    exchange.plugin,
                    exchange.markets.len(),
                    if exchange.markets.len() == 1 { "" } else { "s" }
                )
            })
            .collect();
        format!(
            "host `{}`, {} exchange{}{}{}, plugins from {}, events on {}",
            self.host.id,
            self.exchanges.len(),
            if self.exchanges.len() == 1 { "" } else { "s" },
            if exchanges.is_empty() { "" } else { ": " },
            exchanges.join(", "),
            self.host.plugins_dir.display(),
            self.zmq.publish,
        )
    }
}

#[cfg(test)]
pub(crate) mod tests;
