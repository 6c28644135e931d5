//! The WebSocket session loop every front end shares: reads client frames,
//! receives the core's events, runs a timer, and ends the session when the
//! client closes, goes silent, falls too far behind the events, is cut by a
//! fault, or the emulator stops. Frames go out through the faulty writer
//! ([`crate::ws::write_frames`]), so every WebSocket fault applies to every
//! venue. What a session does with frames and events is its [`Handler`].

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use futures_util::StreamExt;
use tokio::sync::broadcast;
use tokio::time::Instant;

use crate::feed::FeedMessage;
use crate::server::Shared;
use crate::ws::{Out, write_frames};

/// A timer period long enough to mean "never".
const NO_TIMER: Duration = Duration::from_secs(24 * 60 * 60);

/// What one kind of session does.
pub(crate) trait Handler: Send {
    /// Frames to send as the connection opens.
    fn open(&mut self, _out: &Out) {}

    /// One text frame from the client.
    fn request(&mut self, text: &str, out: &Out);

    /// One event of the core.
    fn event(&mut self, _message: &FeedMessage, _out: &Out) {}

    /// How often [`Handler::tick`] runs (`None`: never).
    fn tick_period(&self) -> Option<Duration> {
        None
    }

    /// The timer fired.
    fn tick(&mut self, _out: &Out) {}

    /// How long the client may stay silent, given the emulator's setting.
    fn idle_timeout(&self, configured: Duration) -> Duration {
        configured
    }

    /// The session ended.
    fn close(&mut self) {}
}

/// Serves one connection with `handler` until it ends.
pub(crate) async fn serve(socket: WebSocket, shared: Arc<Shared>, mut handler: impl Handler) {
    let (sink, mut stream) = socket.split();
    let (out, queue) = Out::channel();
    let mut writer = tokio::spawn(write_frames(sink, queue, shared.clone()));
    handler.open(&out);
    let mut feed = shared.feed.subscribe();
    let mut drops = shared.faults.drop_signal();
    drops.borrow_and_update();
    let mut shutdown = shared.shutdown.clone();
    let mut timer = tokio::time::interval(handler.tick_period().unwrap_or(NO_TIMER));
    timer.tick().await;
    let idle_timeout = handler.idle_timeout(shared.ws_idle_timeout);
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    last_heard = Instant::now();
                    handler.request(text.as_str(), &out);
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => last_heard = Instant::now(),
            },
            message = feed.recv() => match message {
                Ok(message) => handler.event(&message, &out),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "dropping a WebSocket that fell behind");
                    break;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = timer.tick() => handler.tick(&out),
            _ = drops.changed() => break,
            _ = shutdown.wait_for(|stop| *stop) => break,
            _ = tokio::time::sleep_until(last_heard + idle_timeout) => break,
            _ = &mut writer => break,
        }
    }
    writer.abort();
    handler.close();
}
