//! The ZAP handler (ZeroMQ RFC 27): libzmq asks it, during each CURVE
//! handshake on a socket of its context, whether the client's public key
//! may connect. Listed keys are admitted with their Z85 key as the
//! connection's `User-Id`; any other key, and any other mechanism, is
//! refused before a single message of the client is read.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use tracing::warn;

use super::clients::Clients;
use super::keys::{KEY_BYTES, PublicKey};

/// Where libzmq sends ZAP requests, in every context.
const ZAP_ENDPOINT: &str = "inproc://zeromq.zap.01";

/// How often the handler looks at its stop flag while idle, ms.
const POLL_MS: i64 = 100;

/// A ZAP handler serving one ZeroMQ context.
pub struct ZapHandler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Handshakes refused, across every handler of the process.
static REFUSED: AtomicU64 = AtomicU64::new(0);

/// What the handler answers one request.
#[derive(Debug, PartialEq, Eq)]
struct Decision {
    status: &'static str,
    text: String,
    user_id: String,
}

impl ZapHandler {
    /// Binds the handler in `context` and serves it on a thread, until
    /// dropped. Call it before any CURVE socket of `context` binds: a
    /// context without a handler lets every key in.
    pub fn start(context: &zmq::Context, clients: Clients) -> Result<ZapHandler, zmq::Error> {
        let socket = context.socket(zmq::REP)?;
        socket.set_linger(0)?;
        socket.bind(ZAP_ENDPOINT)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("zap".into())
            .spawn(move || serve(&socket, &clients, &stopped))
            .map_err(|error| zmq::Error::from_raw(error.raw_os_error().unwrap_or(0)))?;
        Ok(ZapHandler {
            stop,
            thread: Some(thread),
        })
    }

    /// Handshakes refused so far, by every handler.
    pub fn refused() -> u64 {
        REFUSED.load(Ordering::Relaxed)
    }
}

impl Drop for ZapHandler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(socket: &zmq::Socket, clients: &Clients, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match socket.poll(zmq::POLLIN, POLL_MS) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(error) => {
                warn!("the ZAP handler stopped: {error}; no client can connect");
                return;
            }
        }
        let Ok(request) = socket.recv_multipart(0) else {
            continue;
        };
        let decision = decide(&request, clients);
        if decision.status != "200" {
            let before = REFUSED.fetch_add(1, Ordering::Relaxed);
            // Each refusal is counted; a flood of them is not a flood of logs.
            if before.is_power_of_two() || before == 0 {
                warn!(
                    refused = before + 1,
                    "a client was refused at the handshake: {}", decision.text
                );
            }
        }
        let version = request.first().cloned().unwrap_or_else(|| b"1.0".to_vec());
        let request_id = request.get(1).cloned().unwrap_or_default();
        let reply: [Vec<u8>; 6] = [
            version,
            request_id,
            decision.status.as_bytes().to_vec(),
            decision.text.into_bytes(),
            decision.user_id.into_bytes(),
            Vec::new(),
        ];
        if let Err(error) = socket.send_multipart(reply, 0) {
            warn!("the ZAP handler could not answer: {error}");
        }
    }
}

/// Judges one ZAP request: version, request id, domain, address, routing
/// id, mechanism, then the mechanism's credentials.
fn decide(request: &[Vec<u8>], clients: &Clients) -> Decision {
    let refuse = |text: String| Decision {
        status: "400",
        text,
        user_id: String::new(),
    };
    let frame = |index: usize| request.get(index).map(Vec::as_slice).unwrap_or_default();
    let address = String::from_utf8_lossy(frame(3));
    let domain = String::from_utf8_lossy(frame(2));
    if frame(0) != b"1.0" {
        return Decision {
            status: "500",
            text: "unknown ZAP version".to_owned(),
            user_id: String::new(),
        };
    }
    if frame(5) != b"CURVE" {
        return refuse(format!(
            "{address} on {domain}: mechanism {} (only CURVE)",
            String::from_utf8_lossy(frame(5))
        ));
    }
    let Ok(key) = <[u8; KEY_BYTES]>::try_from(frame(6)) else {
        return refuse(format!("{address} on {domain}: no CURVE key"));
    };
    let key = PublicKey(key);
    match clients.get(&key) {
        Some(client) => Decision {
            status: "200",
            text: format!("{} ({})", client.name, client.role.name()),
            user_id: key.z85(),
        },
        None => refuse(format!(
            "{address} on {domain}: key {} is not in zmq.curve.clients",
            key.z85()
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::clients::{Client, Role};
    use super::*;

    fn request(mechanism: &str, credentials: &[u8]) -> Vec<Vec<u8>> {
        [
            b"1.0".as_slice(),
            b"7",
            b"commands",
            b"127.0.0.1",
            b"",
            mechanism.as_bytes(),
            credentials,
        ]
        .iter()
        .map(|frame| frame.to_vec())
        .collect()
    }

    #[test]
    fn only_listed_curve_keys_are_admitted_with_their_key_as_user_id() {
        let listed = PublicKey([1; 32]);
        let clients = Clients::new(HashMap::from([(
            listed,
            Client {
                name: "risk".to_owned(),
                role: Role::Read,
            },
        )]));
        let admitted = decide(&request("CURVE", &listed.0), &clients);
        assert_eq!(admitted.status, "200");
        assert_eq!(admitted.user_id, listed.z85());
        let stranger = decide(&request("CURVE", &[2; 32]), &clients);
        assert_eq!(stranger.status, "400");
        assert!(
            stranger.text.contains("is not in zmq.curve.clients"),
            "{stranger:?}"
        );
        assert_eq!(decide(&request("NULL", b""), &clients).status, "400");
        assert_eq!(decide(&request("CURVE", &[1; 31]), &clients).status, "400");
        let mut old = request("CURVE", &listed.0);
        old[0] = b"0.9".to_vec();
        assert_eq!(decide(&old, &clients).status, "500");
        assert_eq!(decide(&[], &clients).status, "500");
    }
}
