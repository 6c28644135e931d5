//! Commands that wait — for files (`replay`, `history`, `fills`) or for
//! the exchange's answer (`set_leverage`, `set_margin_mode`) — run on a
//! thread of their own, one at a time, so that the command thread — the
//! order path — never waits for a disk or a venue. Their replies come back to the command
//! thread over an in-process socket, which it polls beside the command
//! socket and forwards to the client.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use tracing::{error, warn};

use super::dispatch::Later;
use super::protocol::Reply;
use crate::core_thread;
use crate::publisher::StatusPublisher;

/// Queries waiting for the thread at most; more are answered `busy`.
pub const QUEUE: usize = 16;

/// A query and the routing frames of the client that sent it.
type Job = (Vec<Vec<u8>>, Later);

/// The query thread and the socket its replies come back on.
pub struct Background {
    jobs: Option<SyncSender<Job>>,
    replies: zmq::Socket,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    /// Starts the thread; replies come back through `context` (the command
    /// socket's).
    pub fn start(
        context: &zmq::Context,
        status: Option<StatusPublisher>,
    ) -> Result<Background, zmq::Error> {
        let replies = context.socket(zmq::PULL)?;
        let endpoint = format!("inproc://command-queries-{:p}", &replies);
        replies.bind(&endpoint)?;
        let sender = context.socket(zmq::PUSH)?;
        sender.set_linger(0)?;
        sender.connect(&endpoint)?;
        let (jobs, queue) = sync_channel(QUEUE);
        let thread = core_thread::spawn("command-queries", move || {
            answer(&queue, &sender, status.as_ref());
            Ok(())
        })
        .map_err(|e| zmq::Error::from_raw(e.raw_os_error().unwrap_or(0)))?;
        Ok(Background {
            jobs: Some(jobs),
            replies,
            thread: Some(thread),
        })
    }

    /// Queues a query from the client of `frames`; when the queue is full
    /// it is answered `busy` on `commands` at once, and `false` returned.
    pub fn submit(&self, commands: &zmq::Socket, frames: Vec<Vec<u8>>, later: Later) -> bool {
        let (mut frames, later) = match &self.jobs {
            Some(jobs) => match jobs.try_send((frames, later)) {
                Ok(()) => return true,
                Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => job,
            },
            None => (frames, later),
        };
        frames.push(super::server::serialize(&busy(later)));
        if let Err(error) = commands.send_multipart(frames, 0) {
            warn!("reply not sent: {error}");
        }
        false
    }

    /// The socket the replies come back on, to poll.
    pub fn replies(&self) -> &zmq::Socket {
        &self.replies
    }

    /// Sends every reply that has come back on `commands`.
    pub fn forward(&self, commands: &zmq::Socket) {
        while let Ok(frames) = self.replies.recv_multipart(zmq::DONTWAIT) {
            if let Err(error) = commands.send_multipart(frames, 0) {
                warn!("reply not sent: {error}");
            }
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            error!("the command query thread panicked");
        }
    }
}

/// The thread: runs each query and sends its frames and reply back.
fn answer(queue: &Receiver<Job>, replies: &zmq::Socket, status: Option<&StatusPublisher>) {
    for (mut frames, later) in queue {
        let (id, command) = (later.id.clone(), later.command);
        let reply = super::server::guarded(|| later.run()).unwrap_or_else(|message| {
            error!(command, "a command panicked: {message}");
            if let Some(status) = status {
                status.internal_error("commands", command, &message);
            }
            super::server::internal_reply(id, command, &message)
        });
        frames.push(super::server::serialize(&reply));
        if let Err(error) = replies.send_multipart(frames, 0) {
            warn!("reply of `{command}` not handed back: {error}");
        }
    }
}

/// The reply to a query the queue has no room for.
fn busy(later: Later) -> Reply {
    Reply::error(
        later.id,
        "busy",
        format!(
            "{QUEUE} commands that wait (for files or the exchange) are queued already; `{}` was not run, try again",
            later.command
        ),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    #[test]
    fn queries_run_in_turn_and_one_too_many_is_busy() {
        let context = zmq::Context::new();
        let background = Background::start(&context, None).unwrap();
        // Stands in for the command socket: what is sent on it arrives here.
        let commands = context.socket(zmq::PAIR).unwrap();
        commands.bind("inproc://test-commands").unwrap();
        let client = context.socket(zmq::PAIR).unwrap();
        client.connect("inproc://test-commands").unwrap();
        client.set_rcvtimeo(5_000).unwrap();

        // The first query holds the thread; QUEUE more wait; one more is busy.
        let (started, running) = std::sync::mpsc::channel();
        let release = Arc::new(Barrier::new(2));
        let held = Arc::clone(&release);
        let first = Later::new(json!(0), "history", move || {
            started.send(()).unwrap();
            held.wait();
            Ok(Ok(json!("first")))
        });
        assert!(background.submit(&commands, vec![b"c0".to_vec()], first));
        running.recv_timeout(Duration::from_secs(5)).unwrap();
        for i in 1..=QUEUE {
            let later = Later::new(json!(i), "fills", move || Ok(Ok(json!(i))));
            assert!(background.submit(&commands, vec![format!("c{i}").into_bytes()], later));
        }
        let extra = Later::new(json!("x"), "replay", || Ok(Ok(json!("never"))));
        assert!(!background.submit(&commands, vec![b"cx".to_vec()], extra));
        let busy = client.recv_multipart(0).unwrap();
        assert_eq!(busy[0], b"cx");
        let reply: serde_json::Value = serde_json::from_slice(&busy[1]).unwrap();
        assert_eq!(reply["error"]["code"], "busy", "{reply}");

        // Released: every queued one is answered, in order, with its frames.
        release.wait();
        let mut answered = Vec::new();
        while answered.len() < QUEUE + 1 {
            let mut items = [background.replies().as_poll_item(zmq::POLLIN)];
            zmq::poll(&mut items, 5_000).unwrap();
            background.forward(&commands);
            while let Ok(frames) = client.recv_multipart(zmq::DONTWAIT) {
                let reply: serde_json::Value = serde_json::from_slice(&frames[1]).unwrap();
                answered.push((
                    String::from_utf8(frames[0].clone()).unwrap(),
                    reply["result"].clone(),
                ));
            }
        }
        assert_eq!(answered[0], ("c0".to_owned(), json!("first")));
        assert_eq!(answered[QUEUE], (format!("c{QUEUE}"), json!(QUEUE)));
    }

    #[test]
    fn a_query_that_panics_is_answered_internal() {
        let context = zmq::Context::new();
        let background = Background::start(&context, None).unwrap();
        let commands = context.socket(zmq::PAIR).unwrap();
        commands.bind("inproc://test-panics").unwrap();
        let client = context.socket(zmq::PAIR).unwrap();
        client.connect("inproc://test-panics").unwrap();
        client.set_rcvtimeo(5_000).unwrap();
        let later = Later::new(json!(9), "history", || panic!("a bug"));
        assert!(background.submit(&commands, vec![b"c".to_vec()], later));
        let mut items = [background.replies().as_poll_item(zmq::POLLIN)];
        zmq::poll(&mut items, 5_000).unwrap();
        background.forward(&commands);
        let frames = client.recv_multipart(0).unwrap();
        let reply: serde_json::Value = serde_json::from_slice(&frames[1]).unwrap();
        assert_eq!(
            (reply["id"].clone(), reply["error"]["code"].clone()),
            (json!(9), json!("internal"))
        );
    }
}
