//! Unsigned requests through the plugin (`/info`-style queries): prepare,
//! send, classify, and follow pagination.

use std::sync::Arc;

use abi_stable::std_types::ROption;
use plugin_api::{
    Event, Market, Operation, Operation_NE, OutcomeKind, PluginError, PluginInstance, Reply,
    RequestContext,
};

use super::clock::now_ms;
use super::http::{HttpExecutor, TransportError};

/// Why a query gave no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    /// The plugin could not build or read it.
    #[error("plugin: {0}")]
    Plugin(#[from] PluginError),
    /// It could not be sent, or no answer came.
    #[error("transport: {0}")]
    Transport(#[from] TransportError),
    /// The exchange answered with something other than the data.
    #[error("{kind}: {message}")]
    Refused {
        /// The outcome.
        kind: OutcomeKind,
        /// The exchange's words.
        message: String,
    },
}

/// Runs unsigned operations for one exchange connection.
#[derive(Clone)]
pub struct Querier {
    plugin: Arc<PluginInstance>,
    http: HttpExecutor,
}

impl Querier {
    /// A querier over a plugin instance and an HTTP executor.
    pub fn new(plugin: Arc<PluginInstance>, http: HttpExecutor) -> Querier {
        Querier { plugin, http }
    }

    /// One request and its classified reply (whatever the outcome).
    pub async fn reply(&self, operation: &Operation_NE) -> Result<Reply, QueryError> {
        let context = RequestContext {
            now_ms: now_ms(),
            nonce: 0,
            expires_after_ms: ROption::RNone,
            request_id: 0,
            via_socket: ROption::RNone,
        };
        let prepared = self.plugin.prepare(operation, &context)?;
        if prepared.sign.is_some() {
            return Err(QueryError::Plugin(PluginError::invalid(
                "a query that needs a signature is not a query",
            )));
        }
        let request = self.plugin.finish(&prepared, &[])?;
        let response = self.http.execute(&request).await?;
        let reply = self.plugin.parse_reply(operation, &response)?;
        self.http.observe(&reply);
        Ok(reply)
    }

    /// The events of an operation and of every page after it; an outcome
    /// other than accepted is an error.
    pub async fn events(&self, operation: Operation) -> Result<Vec<Event>, QueryError> {
        let mut next = Some(Operation_NE::new(operation));
        let mut events = Vec::new();
        while let Some(operation) = next.take() {
            let reply = self.reply(&operation).await?;
            if reply.outcome.kind != OutcomeKind::ACCEPTED {
                return Err(QueryError::Refused {
                    kind: reply.outcome.kind,
                    message: reply.outcome.message.to_string(),
                });
            }
            for event in reply.events.iter() {
                if let Ok(event) = event.as_enum() {
                    events.push(event.clone());
                }
            }
            next = reply.next.into_option();
        }
        Ok(events)
    }

    /// Every market the venue lists.
    pub async fn markets(&self) -> Result<Vec<Market>, QueryError> {
        let events = self
            .events(Operation::FetchMarkets { cursor: "".into() })
            .await?;
        Ok(events
            .into_iter()
            .filter_map(|event| match event {
                Event::Markets(markets) => Some(markets.into_iter()),
                _ => None,
            })
            .flatten()
            .collect())
    }
}
