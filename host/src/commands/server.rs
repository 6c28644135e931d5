//! The command socket: a ZeroMQ ROUTER on its own thread. REQ and DEALER
//! clients both work: the reply carries back every frame before the body.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use tracing::{info, warn};

use super::dispatch::Dispatcher;
use super::protocol::{Reply, parse_request};

/// How often the thread looks at the stop flag while idle, ms.
const POLL_MS: i32 = 100;

/// The largest command taken: ZeroMQ closes the connection of a peer that
/// sends a bigger message before the host reads any of it.
pub const MAX_COMMAND_BYTES: i64 = 1 << 20;

/// Why the command socket could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot take commands on {endpoint}: {source}")]
pub struct CommandSocketError {
    /// The endpoint.
    pub endpoint: String,
    /// ZeroMQ's error.
    pub source: zmq::Error,
}

/// A running command socket.
pub struct CommandServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CommandServer {
    /// Binds `endpoint` and serves commands on a thread.
    pub fn start(
        endpoint: &str,
        dispatcher: Dispatcher,
    ) -> Result<CommandServer, CommandSocketError> {
        let error = |source| CommandSocketError {
            endpoint: endpoint.to_owned(),
            source,
        };
        let context = zmq::Context::new();
        let socket = context.socket(zmq::ROUTER).map_err(error)?;
        socket.set_rcvtimeo(POLL_MS).map_err(error)?;
        socket.set_linger(500).map_err(error)?;
        socket.set_maxmsgsize(MAX_COMMAND_BYTES).map_err(error)?;
        socket.bind(endpoint).map_err(error)?;
        info!(endpoint, "taking commands");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("commands".into())
            .spawn(move || serve(&socket, &dispatcher, &stopped))
            .map_err(|e| error(zmq::Error::from_raw(e.raw_os_error().unwrap_or(0))))?;
        Ok(CommandServer {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops taking commands and waits for the thread.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            warn!("the command thread panicked");
        }
    }
}

fn serve(socket: &zmq::Socket, dispatcher: &Dispatcher, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        let mut frames = match socket.recv_multipart(0) {
            Ok(frames) => frames,
            Err(zmq::Error::EAGAIN) => continue,
            Err(error) => {
                warn!("command socket failed: {error}");
                return;
            }
        };
        let Some(body) = frames.pop() else { continue };
        // A new order is journaled before its reply; its event and sending
        // start once the reply is on its way, so that they do not compete
        // with it.
        let (reply, pending) = match parse_request(&body) {
            Ok(request) => dispatcher.handle_deferred(request),
            Err(reply) => (*reply, None),
        };
        let reply = serde_json::to_vec(&reply).unwrap_or_else(|_| {
            serde_json::to_vec(&Reply::error(
                serde_json::Value::Null,
                "internal",
                "reply not serializable",
            ))
            .unwrap_or_default()
        });
        frames.push(reply);
        if let Err(error) = socket.send_multipart(frames, 0) {
            warn!("reply not sent: {error}");
        }
        if let Some(order) = pending {
            order.launch();
        }
    }
}
