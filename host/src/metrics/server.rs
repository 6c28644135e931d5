//! `/metrics` (Prometheus text) and `/healthz` over HTTP/1.1 on a loopback
//! address: one request per connection, read within a few seconds and a
//! few kilobytes, answered and closed.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::{registry, render};
use crate::commands::{CommandStats, Exchanges};
use crate::publisher::Publisher;

/// The longest request head read.
const MAX_REQUEST_BYTES: usize = 8 << 10;

/// How long a client may take to send its request.
const READ_WITHIN: Duration = Duration::from_secs(5);

/// Requests answered at once; more connections are closed as they come, so
/// that a flood cannot take the descriptors the order path needs.
const MAX_CONNECTIONS: usize = 16;

/// What the endpoints read.
#[derive(Clone)]
pub struct Sources {
    /// The exchanges, for orders and health.
    pub exchanges: Exchanges,
    /// The command socket's counters.
    pub commands: Arc<CommandStats>,
    /// The publisher's counters.
    pub publisher: Publisher,
}

/// Why `listen` may not serve metrics, as a sentence; `None` when it may.
pub fn refusal(listen: &str) -> Option<String> {
    match listen.parse::<SocketAddr>() {
        Err(_) => Some(format!(
            "`{listen}` is not an address and port (such as 127.0.0.1:9464)"
        )),
        Ok(address) if !address.ip().is_loopback() => Some(format!(
            "`{listen}` is not a loopback address: metrics name the account's orders and \
             venues, and are not authenticated (put a proxy with authentication in front)"
        )),
        Ok(_) => None,
    }
}

/// Binds `listen` and serves until `shutdown`.
pub async fn start(
    listen: &str,
    sources: Sources,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<JoinHandle<()>> {
    let listener = TcpListener::bind(listen).await?;
    info!(address = %listener.local_addr()?, "serving /metrics and /healthz");
    let room = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    Ok(tokio::spawn(async move {
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => match Arc::clone(&room).try_acquire_owned() {
                        Ok(permit) => {
                            let sources = sources.clone();
                            tokio::spawn(async move {
                                answer(stream, sources).await;
                                drop(permit);
                            });
                        }
                        Err(_) => drop(stream),
                    },
                    Err(error) => warn!("metrics connection not accepted: {error}"),
                },
                _ = shutdown.changed() => return,
            }
        }
    }))
}

/// Reads one request and answers it.
async fn answer(mut stream: TcpStream, sources: Sources) {
    let (status, content_type, body) =
        match tokio::time::timeout(READ_WITHIN, request_line(&mut stream)).await {
            Ok(Some(line)) => route(&line, &sources),
            Ok(None) => (400, "text/plain", "bad request\n".to_owned()),
            Err(_) => (408, "text/plain", "request timeout\n".to_owned()),
        };
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        _ => "Service Unavailable",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The request line, once the whole head has arrived; `None` for a head
/// that is too long or not HTTP.
async fn request_line(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 || head.len() + read > MAX_REQUEST_BYTES {
            return None;
        }
        head.extend_from_slice(&chunk[..read]);
    }
    let line = head.split(|byte| *byte == b'\r').next()?;
    String::from_utf8(line.to_vec()).ok()
}

fn route(line: &str, sources: &Sources) -> (u16, &'static str, String) {
    let mut parts = line.split(' ');
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" {
        return (405, "text/plain", "only GET\n".to_owned());
    }
    match path.split('?').next().unwrap_or("") {
        "/metrics" => (
            200,
            "text/plain; version=0.0.4",
            render(&sources.exchanges, &sources.commands, &sources.publisher),
        ),
        "/healthz" => match problems(&sources.exchanges) {
            problems if problems.is_empty() => (200, "text/plain", "ok\n".to_owned()),
            problems => (503, "text/plain", problems),
        },
        _ => (
            404,
            "text/plain",
            "not found: try /metrics or /healthz\n".to_owned(),
        ),
    }
}

/// What keeps the host from trading, one line each: a connection of a
/// running exchange that is down (or not up yet), a signer that exited.
fn problems(exchanges: &Exchanges) -> String {
    let connections = registry().connections();
    let mut problems = String::new();
    for name in exchanges
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .keys()
    {
        let own: Vec<_> = connections
            .iter()
            .filter(|((exchange, _), _)| exchange == name)
            .collect();
        if own.is_empty() {
            let _ = writeln!(problems, "exchange {name}: no connection up yet");
        }
        for ((_, connection), state) in own {
            if !state.up {
                let _ = writeln!(problems, "exchange {name}: connection {connection} down");
            }
        }
    }
    if registry().signer_up() == Some(false) {
        problems.push_str("the signer exited\n");
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_loopback_address_and_port_may_serve() {
        assert_eq!(refusal("127.0.0.1:9464"), None);
        assert_eq!(refusal("[::1]:0"), None);
        assert!(refusal("0.0.0.0:9464").is_some_and(|why| why.contains("not a loopback")));
        assert!(refusal("localhost").is_some_and(|why| why.contains("not an address")));
    }
}
