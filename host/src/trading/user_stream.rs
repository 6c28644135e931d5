//! The account's stream: order updates and fills drive the tracker,
//! balances and positions the account; every (re)connect is followed by a
//! refill, and so is a frame that could not be read, because the exchange
//! replays nothing.

use std::sync::Arc;

use abi_stable::std_types::RVec;
use plugin_api::{Event, Event_NE, PluginError};
use tracing::warn;

use super::Inner;
use super::outcomes::FillApplied;
use super::resolve::Gap;
use crate::runtime::{ConnectionSink, log_dropped_frame};

/// The sink of a user connection.
pub struct UserSink(pub(super) Arc<Inner>);

impl ConnectionSink for UserSink {
    fn on_events(&self, _connection: &str, events: RVec<Event_NE>) {
        for event in events.iter() {
            match event.as_enum() {
                Ok(Event::Order(update)) => self.0.apply_venue_order(update),
                Ok(Event::Fill(fill)) if self.0.apply_fill(fill) == FillApplied::OrderUnknown => {
                    self.0.spawn_adopt_then_fill(fill.clone());
                }
                Ok(account @ (Event::Balance(_) | Event::Positions(_))) => {
                    self.0.account.apply(account)
                }
                Ok(Event::Notice { text, .. }) => {
                    warn!(exchange = %self.0.exchange, "exchange says: {text}")
                }
                _ => {}
            }
        }
    }

    fn on_parse_error(&self, connection: &str, frame: &str, error: PluginError) {
        log_dropped_frame(&self.0.exchange, connection, frame, &error);
        self.0.request_reconcile();
    }

    fn on_up(&self, connection: &str) {
        self.0
            .status
            .connection(&self.0.exchange, connection, true, None);
        let inner = Arc::clone(&self.0);
        self.0
            .runtime
            .spawn(async move { inner.reconcile(Gap::Reconnected).await });
    }

    fn on_down(&self, connection: &str, reason: &str) {
        self.0
            .status
            .connection(&self.0.exchange, connection, false, Some(reason));
    }
}
