//! Starting an order's work on the caller's thread.
//!
//! `Handle::spawn` from a thread outside the runtime queues the task and
//! wakes a worker; on a machine whose cores sleep between orders that
//! wake-up (tens of µs on a virtual machine) would come before the order's
//! first byte leaves. [`spawn_eagerly`] instead polls the task once where
//! it is — preparing the request and writing it to the signer, until its
//! first wait — and only then hands it to the runtime, so the worker wakes
//! while the signer signs.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::task::{Context, Waker};

use tokio::runtime::Handle;
use tracing::error;

/// Runs `task` on this thread until it first waits, then on `runtime`.
/// A panic in that first part is logged and ends the task, as it would on
/// the runtime; it never reaches the caller.
pub(super) fn spawn_eagerly<F>(runtime: &Handle, task: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    // Tokio's timers, sockets and spawns need the runtime's context.
    let _context = runtime.enter();
    let mut task = Box::pin(task);
    // A wake-up during this first poll needs no waker: the runtime polls
    // the task as soon as it is spawned, and a future polled again looks
    // at its state afresh.
    let first = std::panic::catch_unwind(AssertUnwindSafe(|| {
        task.as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_pending()
    }));
    match first {
        Ok(true) => drop(runtime.spawn(task)),
        Ok(false) => {}
        Err(_) => error!("an order's task panicked before its first wait"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::thread::{self, ThreadId};
    use std::time::Duration;

    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn a_task_runs_here_until_it_waits_then_on_the_runtime() {
        let runtime = runtime();
        let (threads, seen) = mpsc::channel::<ThreadId>();
        spawn_eagerly(runtime.handle(), async move {
            threads.send(thread::current().id()).unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
            threads.send(thread::current().id()).unwrap();
        });
        let before_wait = seen
            .try_recv()
            .expect("the first part ran before the call returned");
        assert_eq!(before_wait, thread::current().id());
        let after_wait = seen.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_ne!(
            after_wait,
            thread::current().id(),
            "the rest ran on the runtime"
        );
    }

    #[test]
    fn a_panic_before_the_first_wait_stays_in_the_task() {
        let runtime = runtime();
        spawn_eagerly(runtime.handle(), async { panic!("in the first part") });
        let (done, finished) = mpsc::channel();
        spawn_eagerly(runtime.handle(), async move {
            tokio::task::yield_now().await;
            done.send(()).unwrap();
        });
        finished.recv_timeout(Duration::from_secs(5)).unwrap();
    }
}
