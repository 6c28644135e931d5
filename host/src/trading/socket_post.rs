//! Actions sent over the user WebSocket (`{"method": "post"}`) instead of
//! HTTP: the frame goes out through the connection's driver, and the answer
//! — an `Event::Reply` carrying the request's id — is handed back here.
//! What can be concluded stays as strict as over HTTP: a frame never
//! written was not delivered; one written but not answered (timeout, the
//! socket dropped) has an unknown outcome.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use abi_stable::std_types::RVec;
use plugin_api::{Request, Response, SocketReply};
use tokio::sync::{mpsc, oneshot};

use crate::runtime::{Outbound, TransportError};

/// Posts over one connection, and the answers awaited.
#[derive(Debug)]
pub struct SocketPoster {
    connection: String,
    outbound: OnceLock<mpsc::Sender<Outbound>>,
    up: AtomicBool,
    pending: Mutex<HashMap<u64, oneshot::Sender<SocketReply>>>,
}

impl SocketPoster {
    /// Posts over the connection with id `connection` (attached later).
    pub fn new(connection: &str) -> SocketPoster {
        SocketPoster {
            connection: connection.to_owned(),
            outbound: OnceLock::new(),
            up: AtomicBool::new(false),
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// The connection's id, as requests name it.
    pub fn connection(&self) -> &str {
        &self.connection
    }

    /// Gives the poster the connection's outbound frames.
    pub fn attach(&self, outbound: mpsc::Sender<Outbound>) {
        let _ = self.outbound.set(outbound);
    }

    /// True while the connection is up (posts go over it).
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::SeqCst) && self.outbound.get().is_some()
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<SocketReply>>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The connection came up or went down; answers awaited on a dropped
    /// connection will not come.
    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            self.pending().clear();
        }
    }

    /// An answer arrived.
    pub fn answer(&self, reply: &SocketReply) {
        if let Some(waiting) = self.pending().remove(&reply.request_id) {
            let _ = waiting.send(reply.clone());
        }
    }

    /// Sends `request` (a WebSocket request) and waits up to `timeout` for
    /// its answer, given back in the shape of an HTTP response.
    pub async fn post(
        &self,
        request: &Request,
        timeout: Duration,
    ) -> Result<Response, TransportError> {
        let outbound = self
            .outbound
            .get()
            .ok_or_else(|| TransportError::NotSent("the socket is not attached".into()))?;
        let (answered, answer) = oneshot::channel();
        self.pending().insert(request.request_id, answered);
        let (written, was_written) = oneshot::channel();
        let queued = outbound
            .send(Outbound {
                frame: request.body.to_string(),
                written,
            })
            .await;
        let forget = || {
            self.pending().remove(&request.request_id);
        };
        match (queued, was_written.await) {
            (Ok(()), Ok(Ok(()))) => {}
            (_, Ok(Err(reason))) => {
                forget();
                return Err(TransportError::NotSent(format!("socket: {reason}")));
            }
            _ => {
                forget();
                return Err(TransportError::NotSent(
                    "the socket's driver has stopped".into(),
                ));
            }
        }
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(reply)) => Ok(Response {
                status: reply.status,
                body: reply.body,
                headers: RVec::new(),
            }),
            Ok(Err(_)) => Err(TransportError::Unknown(
                "the socket dropped before the answer".into(),
            )),
            Err(_) => {
                forget();
                Err(TransportError::Unknown(format!(
                    "no answer on the socket within {} ms",
                    timeout.as_millis()
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use abi_stable::std_types::RString;
    use plugin_api::Transport;

    use super::*;

    fn request(id: u64) -> Request {
        Request {
            transport: Transport::WEBSOCKET,
            method: RString::new(),
            target: "user".into(),
            headers: RVec::new(),
            body: format!(r#"{{"method":"post","id":{id}}}"#).into(),
            costs: RVec::new(),
            request_id: id,
        }
    }

    /// A poster whose "socket" writes every frame (or refuses, with
    /// `connected = false`) and hands the frames to the test.
    fn poster(connected: bool) -> (Arc<SocketPoster>, mpsc::Receiver<String>) {
        let poster = Arc::new(SocketPoster::new("user"));
        let (outbound, mut frames) = mpsc::channel::<Outbound>(8);
        let (seen, seen_frames) = mpsc::channel(8);
        poster.attach(outbound);
        poster.set_up(true);
        tokio::spawn(async move {
            while let Some(frame) = frames.recv().await {
                let written = if connected {
                    Ok(())
                } else {
                    Err("no connection".into())
                };
                let _ = frame.written.send(written);
                let _ = seen.send(frame.frame).await;
            }
        });
        (poster, seen_frames)
    }

    #[tokio::test]
    async fn an_answer_with_the_requests_id_is_its_response() {
        let (poster, mut frames) = poster(true);
        let posting = tokio::spawn({
            let poster = Arc::clone(&poster);
            async move { poster.post(&request(7), Duration::from_secs(5)).await }
        });
        assert_eq!(frames.recv().await.unwrap(), r#"{"method":"post","id":7}"#);
        poster.answer(&SocketReply {
            request_id: 8,
            status: 200,
            body: "not mine".into(),
        });
        poster.answer(&SocketReply {
            request_id: 7,
            status: 200,
            body: r#"{"status":"ok"}"#.into(),
        });
        let response = posting.await.unwrap().unwrap();
        assert_eq!(
            (response.status, response.body.as_str()),
            (200, r#"{"status":"ok"}"#)
        );
    }

    #[tokio::test]
    async fn unwritten_is_not_sent_and_unanswered_is_unknown() {
        let (refusing, _frames) = poster(false);
        assert!(matches!(
            refusing.post(&request(1), Duration::from_secs(5)).await,
            Err(TransportError::NotSent(_))
        ));
        let (silent, _frames) = poster(true);
        assert!(matches!(
            silent.post(&request(2), Duration::from_millis(50)).await,
            Err(TransportError::Unknown(_))
        ));
        // The socket drops while an answer is awaited.
        let (dropping, mut frames) = poster(true);
        let posting = tokio::spawn({
            let dropping = Arc::clone(&dropping);
            async move { dropping.post(&request(3), Duration::from_secs(5)).await }
        });
        frames.recv().await.unwrap();
        dropping.set_up(false);
        assert!(matches!(
            posting.await.unwrap(),
            Err(TransportError::Unknown(_))
        ));
        assert!(!dropping.is_up());
    }
}
