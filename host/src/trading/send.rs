//! Sign and send one operation: one job of the plugin session per attempt,
//! each with a fresh nonce and expiry, so that a retry is prepared and
//! signed anew. What can go wrong is kept apart, because it decides what
//! may be concluded about an order.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use abi_stable::std_types::ROption;
use plugin_api::{Operation_NE, OutcomeKind, Reply, RequestContext};
use tracing::debug;

use super::Inner;
use crate::runtime::clock::now_ms;
use crate::runtime::{Delivery, on_first_wait, run_hook};

/// New attempts at a request the exchange proved it did not process (rate
/// limit, maintenance) before giving up.
const NOT_PROCESSED_RETRIES: u32 = 3;
/// Wait before such an attempt when the exchange does not say how long.
const NOT_PROCESSED_WAIT: Duration = Duration::from_millis(500);

/// Whether the exchange processed none of what `reply` answers, so that it
/// may all go again: of orders placed one by one, those it accepted must
/// not be placed twice.
fn none_processed(reply: &Reply) -> bool {
    reply.outcome.kind == OutcomeKind::NOT_PROCESSED
        && reply
            .items
            .iter()
            .all(|item| item.kind == OutcomeKind::NOT_PROCESSED)
}

impl Inner {
    /// Signs and sends `operation`, once it is inside the window of
    /// actions under way (see [`super::window`]); a request the exchange
    /// did not process is tried again as a new job (new nonce, new expiry,
    /// new signature). `while_waiting` runs once, during the first wait
    /// (for the window, for rate-limit capacity, or for the signer; before
    /// the request leaves at the latest), so that its work delays nothing;
    /// `on_send` runs once, as the request leaves the host — both before
    /// the answer is read. Returns what became of it and the validity deadline
    /// of its last attempt (an unknown outcome is settled only after that).
    pub(super) async fn deliver(
        &self,
        operation: &Operation_NE,
        while_waiting: impl FnOnce(),
        on_send: impl FnOnce(),
    ) -> (Delivery, u64) {
        let mut while_waiting = Some(while_waiting);
        let _ticket = on_first_wait(self.window.enter(), &mut while_waiting).await;
        let mut on_send = Some(on_send);
        let mut attempt = 0;
        loop {
            let expires = AtomicU64::new(now_ms() + self.expiry_ms);
            let context = || {
                let now = now_ms();
                let nonce = self
                    .nonces
                    .next(now)
                    .map_err(|error| format!("nonce: {error}"))?;
                let valid_until_ms = now + self.expiry_ms;
                expires.store(valid_until_ms, Ordering::Relaxed);
                Ok(RequestContext {
                    now_ms: now,
                    nonce,
                    valid_until_ms: ROption::RSome(valid_until_ms),
                    prefer_socket: self.prefer_socket,
                })
            };
            let (mut waiting, mut sending) = (while_waiting.take(), on_send.take());
            let delivery = self
                .session
                .run_job(
                    operation,
                    context,
                    move || run_hook(&mut waiting),
                    move || run_hook(&mut sending),
                )
                .await;
            let retry_after = match &delivery {
                Delivery::Answered(reply)
                    if none_processed(reply) && attempt < NOT_PROCESSED_RETRIES =>
                {
                    reply
                        .outcome
                        .retry_after_ms
                        .into_option()
                        .map_or(NOT_PROCESSED_WAIT, Duration::from_millis)
                }
                _ => return (delivery, expires.load(Ordering::Relaxed)),
            };
            attempt += 1;
            debug!(exchange = %self.exchange, attempt, wait = ?retry_after, "not processed; preparing and signing it again");
            tokio::time::sleep(retry_after).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use abi_stable::std_types::RVec;
    use plugin_api::Outcome;

    use super::*;

    fn reply(items: &[OutcomeKind]) -> Reply {
        let outcome = |kind: &OutcomeKind| Outcome::new(*kind, "");
        Reply {
            outcome: items
                .iter()
                .find(|kind| **kind != OutcomeKind::ACCEPTED)
                .map_or(Outcome::new(OutcomeKind::NOT_PROCESSED, "429"), outcome),
            items: items.iter().map(outcome).collect::<RVec<_>>(),
            events: RVec::new(),
            next: ROption::RNone,
        }
    }

    #[test]
    fn only_what_the_exchange_processed_none_of_goes_again() {
        assert!(none_processed(&reply(&[])), "one request, not processed");
        assert!(none_processed(&reply(&[
            OutcomeKind::NOT_PROCESSED,
            OutcomeKind::NOT_PROCESSED
        ])));
        assert!(
            !none_processed(&reply(&[OutcomeKind::ACCEPTED, OutcomeKind::NOT_PROCESSED])),
            "the first order is placed: sending both again would place it twice"
        );
        assert!(!none_processed(&reply(&[OutcomeKind::REJECTED])));
    }
}
