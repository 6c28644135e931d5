//! One WebSocket the plugin asked for, kept alive by the host.
//!
//! The driver connects, reports the connection up (the session then
//! subscribes), sends the plugin's ping frame on schedule, treats a socket
//! silent past the idle timeout as dead (a half-open socket is replaced, not
//! just reported), and reconnects with backoff and jitter. Every received
//! text frame goes to the session, in order; frames to send come from it.

use std::sync::Arc;
use std::time::Duration;

use abi_stable::std_types::RVec;
use futures_util::{SinkExt, StreamExt};
use plugin_api::{ConnectionSpec, Event_NE, PluginError};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;
use tracing::{info, warn};

use super::backoff::Backoff;

/// What a connection's driver reports, on its task, in order; must not
/// block (the session).
pub trait ConnectionEvents: Send + Sync {
    /// One text frame received.
    fn on_frame(&self, connection: &str, frame: &str);
    /// The connection is up.
    fn on_up(&self, connection: &str);
    /// The connection is down; the driver will reconnect.
    fn on_down(&self, connection: &str, reason: &str);
}

/// Receives the events of a kind of connection (market data, or the
/// account). Called on the connection's task, in order; must not block.
pub trait ConnectionSink: Send + Sync {
    /// Events parsed from one frame.
    fn on_events(&self, connection: &str, events: RVec<Event_NE>);
    /// The plugin could not parse a frame (the frame is dropped, the
    /// connection goes on).
    fn on_parse_error(&self, connection: &str, frame: &str, error: PluginError);
    /// The connection is up and its subscriptions were asked for.
    fn on_up(&self, connection: &str);
    /// The connection is down; the driver will reconnect.
    fn on_down(&self, connection: &str, reason: &str);
}

/// Logs a frame the plugin could not parse (shortened): the frame is
/// dropped and the connection goes on.
pub fn log_dropped_frame(exchange: &str, connection: &str, frame: &str, error: &PluginError) {
    let shown: String = frame.chars().take(200).collect();
    warn!(
        exchange,
        connection, "frame dropped: {error}; frame: {shown}"
    );
}

/// A text frame to send, and where to report whether it was written.
pub struct Outbound {
    /// The frame.
    pub frame: String,
    /// `Ok` once written to the socket; `Err` when there was no connection.
    pub written: oneshot::Sender<Result<(), String>>,
}

/// The handle that steers a running driver: dropping it closes the
/// connection for good.
pub struct ConnectionControl {
    /// Frames to send.
    pub outbound: mpsc::Sender<Outbound>,
}

/// A running driver's inputs.
pub struct ConnectionDriver {
    spec: ConnectionSpec,
    events: Arc<dyn ConnectionEvents>,
    outbound: mpsc::Receiver<Outbound>,
    shutdown: watch::Receiver<bool>,
    backoff: Backoff,
}

/// Why a session ended.
enum Ended {
    Shutdown,
    Lost(String),
}

impl ConnectionDriver {
    /// A driver for `spec`, reporting to `events`.
    pub fn new(
        spec: ConnectionSpec,
        events: Arc<dyn ConnectionEvents>,
        shutdown: watch::Receiver<bool>,
        backoff: Backoff,
    ) -> (ConnectionDriver, ConnectionControl) {
        let (outbound_tx, outbound) = mpsc::channel(1024);
        (
            ConnectionDriver {
                spec,
                events,
                outbound,
                shutdown,
                backoff,
            },
            ConnectionControl {
                outbound: outbound_tx,
            },
        )
    }

    /// Runs until shutdown.
    pub async fn run(mut self) {
        let id = self.spec.id.to_string();
        loop {
            if *self.shutdown.borrow() {
                return;
            }
            let url = self.spec.url.to_string();
            let reason = match tokio_tungstenite::connect_async(url.as_str()).await {
                Ok((socket, _)) => {
                    info!(connection = %id, %url, "connected");
                    let started = Instant::now();
                    match self.session(socket).await {
                        Ended::Shutdown => return,
                        Ended::Lost(reason) => {
                            if started.elapsed() > Duration::from_secs(30) {
                                self.backoff.reset();
                            }
                            reason
                        }
                    }
                }
                Err(error) => format!("connect failed: {error}"),
            };
            warn!(connection = %id, %reason, "connection down");
            self.events.on_down(&id, &reason);
            let delay = self.backoff.next_delay();
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = self.shutdown.changed() => return,
            }
        }
    }

    async fn session<S>(&mut self, socket: tokio_tungstenite::WebSocketStream<S>) -> Ended
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let id = self.spec.id.to_string();
        let (mut write, mut read) = socket.split();
        self.events.on_up(&id);

        let idle = Duration::from_millis(self.spec.idle_timeout_ms.max(1));
        let ping_every = Duration::from_millis(self.spec.ping_interval_ms.max(1));
        let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let born = Instant::now();
        let max_age = self
            .spec
            .max_lifetime_ms
            .into_option()
            .map(Duration::from_millis);
        let mut last_heard = Instant::now();
        loop {
            let deadline = last_heard + idle;
            tokio::select! {
                message = read.next() => {
                    last_heard = Instant::now();
                    match message {
                        Some(Ok(Message::Text(text))) => self.events.on_frame(&id, text.as_str()),
                        Some(Ok(Message::Binary(bytes))) => match std::str::from_utf8(&bytes) {
                            Ok(text) => self.events.on_frame(&id, text),
                            Err(_) => warn!(connection = %id, "binary frame that is not UTF-8 dropped"),
                        },
                        Some(Ok(Message::Ping(payload))) => {
                            if write.send(Message::Pong(payload)).await.is_err() {
                                return Ended::Lost("cannot answer a ping".into());
                            }
                        }
                        Some(Ok(Message::Close(frame))) => {
                            return Ended::Lost(format!("closed by the server: {frame:?}"));
                        }
                        Some(Ok(_)) => {}
                        Some(Err(error)) => return Ended::Lost(error.to_string()),
                        None => return Ended::Lost("stream ended".into()),
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    return Ended::Lost(format!("silent for {idle:?}; treating the socket as dead"));
                }
                _ = ping.tick() => {
                    if let Some(frame) = self.spec.ping_frame.as_ref().into_option()
                        && let Err(error) = write.send(Message::Text(frame.as_str().into())).await
                    {
                        return Ended::Lost(format!("ping failed: {error}"));
                    }
                    if max_age.is_some_and(|age| born.elapsed() >= age) {
                        return Ended::Lost("maximum connection age reached; rotating".into());
                    }
                }
                outbound = self.outbound.recv() => {
                    let Some(outbound) = outbound else { return Ended::Shutdown };
                    let result = write.send(Message::Text(outbound.frame.into())).await;
                    let failed = result.as_ref().err().map(ToString::to_string);
                    let _ = outbound.written.send(result.map_err(|e| e.to_string()));
                    if let Some(error) = failed {
                        return Ended::Lost(format!("send failed: {error}"));
                    }
                }
                _ = self.shutdown.changed() => {
                    let _ = write.send(Message::Close(None)).await;
                    return Ended::Shutdown;
                }
            }
        }
    }
}
