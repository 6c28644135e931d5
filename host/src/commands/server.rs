//! The command socket: a ZeroMQ ROUTER on its own thread. REQ and DEALER
//! clients both work: the reply carries back every frame before the body.
//!
//! With CURVE (`crate::auth`) only allow-listed keys get through the
//! handshake, and each command is judged against its sender's role in the
//! allow-list in force.
//!
//! Nothing a client sends can take the thread down: a command that panics
//! (a bug) is answered `internal`, logged and published on
//! `host.status.internal_error`, and serving goes on. Each connection's
//! command rate is bounded ([`Throttle`]), and so is the number of
//! connections ([`ConnectionCap`]).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

use serde_json::Value;
use tracing::{error, info, warn};

use super::background::Background;
use super::dispatch::{Dispatcher, Handled};
use super::protocol::{Reply, parse_request};
use super::stats::CommandStats;
use super::throttle::Throttle;
use crate::auth::{Clients, Curve, Role, zap::ZapHandler};
use crate::connection_cap::{self, Change, ConnectionCap};
use crate::core_thread;
use crate::publisher::StatusPublisher;

/// How often the thread looks at the stop flag while idle, ms.
const POLL_MS: i64 = 100;

/// The largest command taken: ZeroMQ closes the connection of a peer that
/// sends a bigger message before the host reads any of it.
pub const MAX_COMMAND_BYTES: i64 = 1 << 20;

/// Why the command socket could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot take commands on {endpoint}: {source}")]
pub struct CommandSocketError {
    /// The endpoint.
    pub endpoint: String,
    /// What went wrong.
    pub source: crate::endpoint::BindError,
}

/// How much the command socket takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketLimits {
    /// Connections open at once; more are shut down as they come.
    pub max_connections: u32,
    /// Commands a second from one connection (in bursts of as many); 0 is
    /// no bound.
    pub max_commands_per_second: u32,
}

impl Default for SocketLimits {
    fn default() -> Self {
        SocketLimits {
            max_connections: 256,
            max_commands_per_second: 10_000,
        }
    }
}

/// A running command socket.
pub struct CommandServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    endpoint: String,
}

/// What the serving thread works with.
struct Serving {
    socket: zmq::Socket,
    monitor: zmq::Socket,
    dispatcher: Dispatcher,
    throttle: Throttle,
    cap: ConnectionCap,
    stats: Arc<CommandStats>,
    status: Option<StatusPublisher>,
    background: Background,
    /// The allow-list each command is judged against; `None` without CURVE.
    clients: Option<Clients>,
    /// Judges the handshakes; lives as long as the socket.
    _zap: Option<ZapHandler>,
}

impl CommandServer {
    /// Binds `endpoint` and serves commands on a thread, counting them in
    /// `stats` and publishing internal errors on `status`; with `curve`,
    /// to its clients only.
    pub fn start(
        endpoint: &str,
        dispatcher: Dispatcher,
        limits: SocketLimits,
        stats: Arc<CommandStats>,
        status: Option<StatusPublisher>,
        curve: Option<&Curve>,
    ) -> Result<CommandServer, CommandSocketError> {
        let error = |source: zmq::Error| CommandSocketError {
            endpoint: endpoint.to_owned(),
            source: source.into(),
        };
        let context = zmq::Context::new();
        let zap = curve
            .map(|curve| curve.start_zap(&context))
            .transpose()
            .map_err(error)?;
        let socket = context.socket(zmq::ROUTER).map_err(error)?;
        if let Some(curve) = curve {
            curve.secure_server(&socket, "commands").map_err(error)?;
        }
        socket.set_linger(500).map_err(error)?;
        socket.set_maxmsgsize(MAX_COMMAND_BYTES).map_err(error)?;
        socket
            .set_handshake_ivl(connection_cap::HANDSHAKE_MS)
            .map_err(error)?;
        crate::endpoint::bind(&socket, endpoint).map_err(|source| CommandSocketError {
            endpoint: endpoint.to_owned(),
            source,
        })?;
        let bound = socket
            .get_last_endpoint()
            .map_err(error)?
            .unwrap_or_else(|_| endpoint.to_owned());
        let monitor = connection_cap::monitor(&context, &socket).map_err(error)?;
        let background = Background::start(&context, status.clone()).map_err(error)?;
        info!(endpoint = %bound, "taking commands");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let serving = Serving {
            socket,
            monitor,
            dispatcher,
            throttle: Throttle::new(limits.max_commands_per_second),
            cap: ConnectionCap::new(limits.max_connections as usize, &bound),
            stats,
            status,
            background,
            clients: curve.map(|curve| curve.clients.clone()),
            _zap: zap,
        };
        let thread = core_thread::spawn("commands", move || serving.run(&stopped))
            .map_err(|e| error(zmq::Error::from_raw(e.raw_os_error().unwrap_or(0))))?;
        Ok(CommandServer {
            stop,
            thread: Some(thread),
            endpoint: bound,
        })
    }

    /// The endpoint as bound (a `tcp://…:0` endpoint with its port).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
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

impl Serving {
    /// Serves until `stop`; an error is a socket that cannot go on.
    fn run(mut self, stop: &AtomicBool) -> Result<(), String> {
        while !stop.load(Ordering::SeqCst) {
            let (commands, events, replies) = {
                let mut items = [
                    self.socket.as_poll_item(zmq::POLLIN),
                    self.monitor.as_poll_item(zmq::POLLIN),
                    self.background.replies().as_poll_item(zmq::POLLIN),
                ];
                zmq::poll(&mut items, POLL_MS)
                    .map_err(|error| format!("command socket poll failed: {error}"))?;
                (
                    items[0].is_readable(),
                    items[1].is_readable(),
                    items[2].is_readable(),
                )
            };
            if events {
                self.connection_events();
            }
            if replies {
                self.background.forward(&self.socket);
            }
            if commands {
                self.serve_one()?;
            }
        }
        Ok(())
    }

    /// Applies the monitor's events to the connection cap.
    fn connection_events(&mut self) {
        let stats = &self.stats;
        connection_cap::apply_events(&self.monitor, &mut self.cap, |change, cap| match change {
            Change::Refused => connection_cap::warn_refused(
                "command",
                "max_command_connections",
                stats.connection_refused(),
                cap.max(),
            ),
            Change::Accepted | Change::Closed => stats.set_connections_open(cap.open()),
            Change::None => {}
        });
    }

    /// Reads and answers one command.
    fn serve_one(&mut self) -> Result<(), String> {
        let (mut frames, user_id) = match receive(&self.socket) {
            Ok(Some(received)) => received,
            Ok(None) => return Ok(()),
            Err(error) => return Err(format!("command socket failed: {error}")),
        };
        let Some(body) = frames.pop() else {
            return Ok(());
        };
        let received = Instant::now();
        self.stats.received();
        let client = frames.first().map(Vec::as_slice).unwrap_or_default();
        let (reply, pending) = if self.throttle.admit(client, received) {
            match self.carry_out(&body, user_id.as_deref()) {
                Handled::Now(reply, pending) => (reply, pending),
                Handled::Later(later) => {
                    if !self.background.submit(&self.socket, frames, later) {
                        self.stats.refused("busy");
                    }
                    return Ok(());
                }
            }
        } else {
            let message = format!(
                "more than {} commands a second from this connection; slow down",
                self.throttle.per_second()
            );
            (Reply::error(Value::Null, "rate_limited", message), None)
        };
        if let Some(error) = &reply.error {
            self.stats.refused(&error.code);
        }
        frames.push(serialize(&reply));
        if let Err(error) = self.socket.send_multipart(frames, 0) {
            warn!("reply not sent: {error}");
        }
        crate::metrics::registry()
            .command_latency
            .observe(received.elapsed());
        // A new order is journaled before its reply; its event and sending
        // start once the reply is on its way, so that they do not compete
        // with it.
        if let Some(order) = pending
            && let Err(message) = guarded(|| order.launch())
        {
            self.internal_error("launch", &message);
        }
        Ok(())
    }

    /// Parses and carries out one command from the client whose CURVE key
    /// is `user_id`; a panic on the way is answered `internal`.
    fn carry_out(&self, body: &[u8], user_id: Option<&str>) -> Handled {
        let request = match parse_request(body) {
            Ok(request) => request,
            Err(reply) => return Handled::Now(*reply, None),
        };
        let (id, command) = (request.id.clone(), request.command.name());
        if let Err(message) = self.allowed(user_id, request.command.role()) {
            return Handled::Now(
                Reply::error(id, "forbidden", format!("`{command}`: {message}")),
                None,
            );
        }
        guarded(|| self.dispatcher.handle_deferred(request)).unwrap_or_else(|message| {
            self.internal_error(command, &message);
            Handled::Now(internal_reply(id, command, &message), None)
        })
    }

    /// Whether the sender may send a command needing `needed`: anyone may
    /// without CURVE; with it, a client still listed with that role or a
    /// higher one.
    fn allowed(&self, user_id: Option<&str>, needed: Role) -> Result<(), String> {
        let Some(clients) = &self.clients else {
            return Ok(());
        };
        match user_id.and_then(|user_id| clients.by_user_id(user_id)) {
            Some(client) if client.role >= needed => Ok(()),
            Some(client) => Err(format!(
                "needs the `{}` role; client `{}` has `{}` (zmq.curve.clients)",
                needed.name(),
                client.name,
                client.role.name()
            )),
            None => Err("this connection's key is no longer in zmq.curve.clients".to_owned()),
        }
    }

    fn internal_error(&self, command: &str, message: &str) {
        error!(command, "a command panicked: {message}");
        if let Some(status) = &self.status {
            status.internal_error("commands", command, message);
        }
    }
}

/// A message's frames and the CURVE key its sender connected with.
type Received = (Vec<Vec<u8>>, Option<String>);

/// Reads one whole message without waiting: its frames and the CURVE key
/// its sender connected with (ZeroMQ's `User-Id`, set by the ZAP handler).
fn receive(socket: &zmq::Socket) -> Result<Option<Received>, zmq::Error> {
    let mut frames = Vec::new();
    let mut user_id = None;
    let mut flags = zmq::DONTWAIT;
    loop {
        let mut frame = match socket.recv_msg(flags) {
            Ok(frame) => frame,
            Err(zmq::Error::EAGAIN) if frames.is_empty() => return Ok(None),
            Err(error) => return Err(error),
        };
        if user_id.is_none() {
            user_id = frame.gets("User-Id").map(str::to_owned);
        }
        let more = frame.get_more();
        frames.push(frame.to_vec());
        if !more {
            return Ok(Some((frames, user_id)));
        }
        // The rest of a message arrives with its first frame.
        flags = 0;
    }
}

/// Runs `work`; a panic becomes the panic's message.
pub(super) fn guarded<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(work))
        .map_err(|panic| core_thread::panic_message(&*panic))
}

/// The answer to command `command` of request `id`, which failed inside
/// the host with `message`.
pub(super) fn internal_reply(id: Value, command: &str, message: &str) -> Reply {
    Reply::error(
        id,
        "internal",
        format!("`{command}` failed inside the host ({message}); nothing else is affected"),
    )
}

pub(super) fn serialize(reply: &Reply) -> Vec<u8> {
    serde_json::to_vec(reply).unwrap_or_else(|_| {
        serde_json::to_vec(&Reply::error(
            Value::Null,
            "internal",
            "reply not serializable",
        ))
        .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_that_panics_is_answered_internal_with_its_id() {
        let message =
            guarded(|| -> Reply { panic!("attempt to multiply with overflow") }).unwrap_err();
        assert_eq!(message, "attempt to multiply with overflow");
        let reply = internal_reply(serde_json::json!(7), "buy", &message);
        assert_eq!(reply.id, 7);
        let error = reply.error.expect("an error");
        assert_eq!(error.code, "internal");
        assert!(
            error
                .message
                .contains("`buy` failed inside the host (attempt to multiply"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_command_that_works_is_untouched() {
        assert_eq!(guarded(|| 5), Ok(5));
    }
}
