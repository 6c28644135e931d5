//! Sign and send one operation: nonce, plugin (phase one), signer, plugin
//! (phase two), transport, plugin (classification). What can go wrong is
//! kept apart, because it decides what may be concluded about an order.

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use abi_stable::std_types::ROption;
use plugin_api::{Operation_NE, OutcomeKind, Prepared, Reply, RequestContext, Transport};
use tracing::debug;

use super::Inner;
use crate::runtime::TransportError;
use crate::runtime::clock::now_ms;

/// Resends of a request the exchange proved it did not process (rate
/// limit, maintenance) before giving up.
const NOT_PROCESSED_RETRIES: u32 = 3;
/// Wait before such a resend when the exchange does not say how long.
const NOT_PROCESSED_WAIT: Duration = Duration::from_millis(500);

/// What became of a signed request.
#[derive(Debug)]
pub enum Delivery {
    /// The exchange answered; the plugin classified the answer.
    Answered(Box<Reply>),
    /// It never left the host (building or signing failed).
    NotSent(String),
    /// The transport proved it never reached the exchange.
    NotDelivered(String),
    /// It may or may not have reached the exchange.
    Unknown(String),
}

impl Inner {
    /// Phase one for `operation` with a fresh nonce, valid for the
    /// configured expiry from now. Returns the prepared request and its
    /// `expiresAfter`.
    fn prepare_now(
        &self,
        operation: &Operation_NE,
        via_socket: Option<&str>,
    ) -> Result<(Prepared, u64), Delivery> {
        let now = now_ms();
        let nonce = self
            .nonces
            .next(now)
            .map_err(|error| Delivery::NotSent(format!("nonce: {error}")))?;
        let expires_after_ms = now + self.expiry_ms;
        let context = RequestContext {
            now_ms: now,
            nonce,
            expires_after_ms: ROption::RSome(expires_after_ms),
            request_id: nonce,
            via_socket: via_socket.map(Into::into).into(),
        };
        let prepared = self
            .plugin
            .prepare(operation, &context)
            .map_err(|error| Delivery::NotSent(format!("plugin: {error}")))?;
        Ok((prepared, expires_after_ms))
    }

    /// Signs and sends `operation`, once it is inside the window of
    /// actions under way (see [`super::window`]).
    /// Rate-limit capacity comes first: the
    /// nonce and the expiry are taken once the request may go, so that a
    /// wait never makes a signed action stale. `while_waiting` runs once,
    /// during the first wait (for the window, for rate-limit capacity, or
    /// for the signer; before the request leaves at the latest), so that
    /// its work delays nothing; `on_send` runs once, as the request leaves
    /// the host — both before the answer is read. Returns what became of
    /// it and the `expiresAfter` it was signed with (an unknown outcome is
    /// settled only after that).
    pub(super) async fn deliver(
        &self,
        operation: &Operation_NE,
        while_waiting: impl FnOnce(),
        on_send: impl FnOnce(),
    ) -> (Delivery, u64) {
        let mut while_waiting = Some(while_waiting);
        let _ticket = on_first_wait(self.window.enter(), &mut while_waiting).await;
        // Over the user socket when configured and up; HTTP otherwise.
        let via_socket = self
            .socket
            .as_ref()
            .filter(|socket| socket.is_up())
            .map(|socket| socket.connection().to_owned());
        let via_socket = via_socket.as_deref();
        let (mut prepared, mut expires) = match self.prepare_now(operation, via_socket) {
            Ok(prepared) => prepared,
            Err(delivery) => return (delivery, now_ms() + self.expiry_ms),
        };
        if !on_first_wait(self.http.acquire(&prepared.costs), &mut while_waiting)
            .await
            .is_zero()
        {
            (prepared, expires) = match self.prepare_now(operation, via_socket) {
                Ok(prepared) => prepared,
                Err(delivery) => return (delivery, expires),
            };
        }
        (
            self.sign_and_send(operation, &prepared, while_waiting, on_send)
                .await,
            expires,
        )
    }

    async fn sign_and_send(
        &self,
        operation: &Operation_NE,
        prepared: &Prepared,
        mut while_waiting: Option<impl FnOnce()>,
        on_send: impl FnOnce(),
    ) -> Delivery {
        let signature = match prepared.sign.as_ref().into_option() {
            Some(request) => {
                let signing = self.signer.sign(&request.scheme, &request.payload);
                match on_first_wait(signing, &mut while_waiting).await {
                    Ok(signature) => signature,
                    Err(error) => return Delivery::NotSent(format!("signing: {error}")),
                }
            }
            None => Vec::new(),
        };
        if let Some(hook) = while_waiting.take() {
            hook();
        }
        let request = match self.plugin.finish(prepared, &signature) {
            Ok(request) => request,
            Err(error) => return Delivery::NotSent(format!("plugin: {error}")),
        };
        let mut on_send = Some(on_send);
        let mut attempt = 0;
        loop {
            // The first attempt's capacity was paid before signing.
            if attempt > 0 {
                self.http.acquire(&request.costs).await;
            }
            let sending = async {
                match (&self.socket, request.transport) {
                    (Some(socket), Transport::WEBSOCKET) => {
                        socket.post(&request, self.http.timeout()).await
                    }
                    _ => self.http.send(&request).await,
                }
            };
            let sent = on_first_wait(sending, &mut on_send).await;
            if let Some(hook) = on_send.take() {
                hook();
            }
            let response = match sent {
                Ok(response) => response,
                Err(TransportError::NotSent(reason)) => return Delivery::NotDelivered(reason),
                Err(TransportError::Unknown(reason)) => return Delivery::Unknown(reason),
            };
            let reply = match self.plugin.parse_reply(operation, &response) {
                Ok(reply) => reply,
                Err(error) => {
                    return Delivery::Unknown(format!("unreadable answer ({error})"));
                }
            };
            self.http.observe(&reply);
            if reply.outcome.kind != OutcomeKind::NOT_PROCESSED || attempt >= NOT_PROCESSED_RETRIES
            {
                return Delivery::Answered(Box::new(reply));
            }
            attempt += 1;
            let wait = reply
                .outcome
                .retry_after_ms
                .into_option()
                .map_or(NOT_PROCESSED_WAIT, Duration::from_millis);
            debug!(exchange = %self.exchange, attempt, ?wait, "not processed; sending the same request again");
            tokio::time::sleep(wait).await;
        }
    }
}

/// Runs `future`; if it has to wait, `hook` (when still there) runs
/// first, so that its work overlaps the wait instead of delaying what
/// `future` started (a request written, say).
async fn on_first_wait<F: Future>(future: F, hook: &mut Option<impl FnOnce()>) -> F::Output {
    let mut future = std::pin::pin!(future);
    match futures_util::poll!(future.as_mut()) {
        Poll::Ready(output) => output,
        Poll::Pending => {
            if let Some(hook) = hook.take() {
                hook();
            }
            future.await
        }
    }
}
