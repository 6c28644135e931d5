//! One WebSocket the plugin asked for, kept alive by the host.
//!
//! The driver connects, subscribes to the wanted streams, sends the
//! plugin's ping frame on schedule, treats a socket silent past the idle
//! timeout as dead (a half-open socket is replaced, not just reported),
//! reconnects with backoff and jitter, and resubscribes. Every received text
//! frame goes through the plugin's parser and on to the sink, in order.

use std::sync::Arc;
use std::time::Duration;

use abi_stable::std_types::RVec;
use futures_util::{SinkExt, StreamExt};
use plugin_api::{ConnectionSpec, Event_NE, PluginError, PluginInstance, Stream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;
use tracing::{debug, info, warn};

use super::backoff::Backoff;
use super::clock::now_ms;

/// Receives what a connection sees. Called on the connection's task, in
/// order; must not block.
pub trait ConnectionSink: Send + Sync {
    /// Events parsed from one frame.
    fn on_events(&self, connection: &str, events: RVec<Event_NE>);
    /// The plugin could not parse a frame (the frame is dropped, the
    /// connection goes on).
    fn on_parse_error(&self, connection: &str, frame: &str, error: PluginError);
    /// The connection is up and its subscriptions were sent.
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

/// Handles to steer a running driver.
pub struct ConnectionControl {
    /// The streams to be subscribed to (replace to subscribe/unsubscribe).
    pub streams: watch::Sender<Vec<Stream>>,
    /// Frames to send.
    pub outbound: mpsc::Sender<Outbound>,
}

/// A running driver's inputs.
pub struct ConnectionDriver {
    spec: ConnectionSpec,
    url: String,
    plugin: Arc<PluginInstance>,
    sink: Arc<dyn ConnectionSink>,
    streams: watch::Receiver<Vec<Stream>>,
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
    /// A driver for `spec` (with `{token}` already substituted in `url`).
    pub fn new(
        spec: ConnectionSpec,
        url: String,
        plugin: Arc<PluginInstance>,
        sink: Arc<dyn ConnectionSink>,
        shutdown: watch::Receiver<bool>,
        backoff: Backoff,
    ) -> (ConnectionDriver, ConnectionControl) {
        let (streams_tx, streams) = watch::channel(Vec::new());
        let (outbound_tx, outbound) = mpsc::channel(1024);
        (
            ConnectionDriver {
                spec,
                url,
                plugin,
                sink,
                streams,
                outbound,
                shutdown,
                backoff,
            },
            ConnectionControl {
                streams: streams_tx,
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
            let reason = match tokio_tungstenite::connect_async(self.url.as_str()).await {
                Ok((socket, _)) => {
                    info!(connection = %id, url = %self.url, "connected");
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
            self.sink.on_down(&id, &reason);
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
        let mut subscribed: Vec<Stream> = Vec::new();
        let wanted = self.streams.borrow_and_update().clone();
        if let Err(reason) = self.resubscribe(&mut write, &mut subscribed, wanted).await {
            return Ended::Lost(reason);
        }
        self.sink.on_up(&id);

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
                        Some(Ok(Message::Text(text))) => self.deliver(&id, text.as_str()),
                        Some(Ok(Message::Binary(bytes))) => match std::str::from_utf8(&bytes) {
                            Ok(text) => self.deliver(&id, text),
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
                changed = self.streams.changed() => {
                    if changed.is_err() {
                        return Ended::Shutdown;
                    }
                    let wanted = self.streams.borrow_and_update().clone();
                    if let Err(reason) = self.resubscribe(&mut write, &mut subscribed, wanted).await {
                        return Ended::Lost(reason);
                    }
                }
                _ = self.shutdown.changed() => {
                    let _ = write.send(Message::Close(None)).await;
                    return Ended::Shutdown;
                }
            }
        }
    }

    /// Sends the frames that take the subscriptions from `subscribed` to
    /// `wanted`.
    async fn resubscribe<W>(
        &self,
        write: &mut W,
        subscribed: &mut Vec<Stream>,
        wanted: Vec<Stream>,
    ) -> Result<(), String>
    where
        W: futures_util::Sink<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
    {
        let removed: Vec<Stream> = subscribed
            .iter()
            .filter(|s| !wanted.contains(s))
            .cloned()
            .collect();
        let added: Vec<Stream> = wanted
            .iter()
            .filter(|s| !subscribed.contains(s))
            .cloned()
            .collect();
        for (streams, subscribe) in [(removed, false), (added, true)] {
            if streams.is_empty() {
                continue;
            }
            let frames = self
                .plugin
                .stream_frames(&self.spec.id, &streams, subscribe)
                .map_err(|error| format!("plugin cannot write subscription frames: {error}"))?;
            for frame in frames {
                debug!(connection = %self.spec.id, %frame, "subscription");
                write
                    .send(Message::Text(frame.as_str().into()))
                    .await
                    .map_err(|error| format!("subscribing failed: {error}"))?;
            }
        }
        *subscribed = wanted;
        Ok(())
    }

    fn deliver(&self, id: &str, frame: &str) {
        match self.plugin.parse_frame(id, frame, now_ms()) {
            Ok(events) if events.is_empty() => {}
            Ok(events) => self.sink.on_events(id, events),
            Err(error) => self.sink.on_parse_error(id, frame, error),
        }
    }
}
