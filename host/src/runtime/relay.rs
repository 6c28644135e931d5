//! Market data from another host: its `market.<exchange>.book.*` events
//! feed this host's books, so two hosts on one account need one market
//! connection, not two.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::auth::ClientKeys;
use crate::book::MarketData;

/// How often the relay looks at the shutdown signal while waiting.
const POLL: Duration = Duration::from_millis(200);

/// Subscribes to `endpoint` (with CURVE `keys` when that host takes CURVE
/// clients only) for the books of `source_exchange` and applies them until
/// shutdown. Books go stale when nothing arrives for `silence`.
pub fn spawn(
    endpoint: String,
    keys: Option<ClientKeys>,
    source_exchange: String,
    market_data: Arc<MarketData>,
    silence: Duration,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("market-relay".into())
        .spawn(move || {
            run(
                &endpoint,
                keys.as_ref(),
                &source_exchange,
                &market_data,
                silence,
                &shutdown,
            )
        })
}

fn run(
    endpoint: &str,
    keys: Option<&ClientKeys>,
    source_exchange: &str,
    market_data: &Arc<MarketData>,
    silence: Duration,
    shutdown: &watch::Receiver<bool>,
) {
    let prefix = format!("market.{source_exchange}.book.");
    let subscribed = zmq::Context::new().socket(zmq::SUB).and_then(|socket| {
        if let Some(keys) = keys {
            keys.secure(&socket)?;
        }
        socket.connect(endpoint)?;
        socket.set_subscribe(prefix.as_bytes())?;
        socket.set_rcvtimeo(i32::try_from(POLL.as_millis()).unwrap_or(200))?;
        Ok(socket)
    });
    let socket = match subscribed {
        Ok(socket) => socket,
        Err(error) => {
            warn!(
                endpoint,
                "cannot subscribe to the market-data source: {error}"
            );
            return;
        }
    };
    info!(
        endpoint,
        source_exchange, "taking market data from another host"
    );
    let mut last_heard = Instant::now();
    let mut stale = false;
    while !*shutdown.borrow() {
        match socket.recv_multipart(0) {
            Ok(parts) => {
                last_heard = Instant::now();
                stale = false;
                let symbol = parts
                    .first()
                    .and_then(|topic| std::str::from_utf8(topic).ok())
                    .and_then(|topic| topic.strip_prefix(&prefix));
                let body = parts
                    .get(1)
                    .and_then(|body| serde_json::from_slice::<Value>(body).ok());
                match (symbol, body) {
                    (Some(symbol), Some(body)) => {
                        if let Err(reason) = market_data.apply_relayed_book(symbol, &body["data"]) {
                            warn!(symbol, "relayed book dropped: {reason}");
                        }
                    }
                    _ => warn!("unreadable relayed book message dropped"),
                }
            }
            Err(zmq::Error::EAGAIN) => {
                if !stale && last_heard.elapsed() > silence {
                    stale = true;
                    market_data.mark_all_stale(&format!("no book from {endpoint} for {silence:?}"));
                }
            }
            Err(error) => {
                warn!(endpoint, "market-data source failed: {error}");
                return;
            }
        }
    }
}
