//! Reads through the plugin session (markets, open orders, an order, fills,
//! the account): one job each, following pagination. A venue that signs its
//! reads has them signed by the session's signer, as its actions are; they
//! carry no validity bound.

use std::sync::Arc;

use abi_stable::std_types::ROption;
use plugin_api::{
    Event, Market, Operation, Operation_NE, OutcomeKind, PluginError, Reply, RequestContext,
};

use super::clock::now_ms;
use super::session::{Delivery, Session};

/// The most pages one read follows (a plugin that always names a next page
/// would otherwise keep its caller forever).
const MAX_PAGES: usize = 10_000;

/// Why a query gave no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    /// The plugin could not build it.
    #[error("plugin: {0}")]
    Plugin(PluginError),
    /// It was not sent (the transport proved it never left).
    #[error("not sent: {0}")]
    NotSent(String),
    /// No answer came.
    #[error("outcome unknown: {0}")]
    Unknown(String),
    /// The exchange answered with something other than the data.
    #[error("{kind}: {message}")]
    Refused {
        /// The outcome.
        kind: OutcomeKind,
        /// The exchange's words.
        message: String,
    },
}

/// Runs reads for one exchange.
#[derive(Clone)]
pub struct Querier {
    session: Arc<Session>,
}

impl Querier {
    /// A querier over a session.
    pub fn new(session: Arc<Session>) -> Querier {
        Querier { session }
    }

    /// One request and its classified reply (whatever the outcome).
    pub async fn reply(&self, operation: &Operation_NE) -> Result<Reply, QueryError> {
        let context = || {
            Ok(RequestContext {
                now_ms: now_ms(),
                nonce: 0,
                valid_until_ms: ROption::RNone,
                prefer_socket: false,
            })
        };
        match self.session.run_job(operation, context, || {}, || {}).await {
            Delivery::Answered(reply) => Ok(*reply),
            Delivery::Refused(error) => Err(QueryError::Plugin(error)),
            Delivery::NotSent(reason) | Delivery::NotDelivered(reason) => {
                Err(QueryError::NotSent(reason))
            }
            Delivery::Unknown(reason) => Err(QueryError::Unknown(reason)),
        }
    }

    /// The events of an operation and of every page after it; an outcome
    /// other than accepted is an error.
    pub async fn events(&self, operation: Operation) -> Result<Vec<Event>, QueryError> {
        let mut next = Some(Operation_NE::new(operation));
        let mut events = Vec::new();
        let mut pages = 0;
        while let Some(operation) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(QueryError::Plugin(PluginError::invalid(format!(
                    "more than {MAX_PAGES} pages: the plugin keeps asking for the next"
                ))));
            }
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
