//! The host's own threads — the command socket, the publisher, the
//! journal's syncing. If one dies (a panic, or its loop ends while nobody
//! asked it to stop), the host can no longer keep its promises: it says so
//! and exits with [`EXIT_CORE_THREAD_DIED`], so that its supervisor starts
//! it again. A crash is what the journal and the reconciliation at
//! start-up are built for; a half-alive host that answers no command while
//! its orders rest on the exchange is not.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::thread::JoinHandle;

use tracing::error;

/// The exit status of a host whose core thread died (`EX_SOFTWARE`).
pub const EXIT_CORE_THREAD_DIED: i32 = 70;

/// What a dying core thread does: log, then exit the process.
pub type OnDeath = fn(thread: &str, why: &str);

/// Runs `body` on a thread named `name`. `body` returns `Ok` when it was
/// asked to stop, `Err(why)` when it cannot go on; that, or a panic, ends
/// the process.
pub fn spawn(
    name: &str,
    body: impl FnOnce() -> Result<(), String> + Send + 'static,
) -> std::io::Result<JoinHandle<()>> {
    spawn_with(name, body, exit_process)
}

/// [`spawn`] with what to do when the thread dies (tests).
pub fn spawn_with(
    name: &str,
    body: impl FnOnce() -> Result<(), String> + Send + 'static,
    on_death: OnDeath,
) -> std::io::Result<JoinHandle<()>> {
    let thread = name.to_owned();
    std::thread::Builder::new()
        .name(thread.clone())
        .spawn(
            move || match std::panic::catch_unwind(AssertUnwindSafe(body)) {
                Ok(Ok(())) => {}
                Ok(Err(why)) => on_death(&thread, &why),
                Err(panic) => on_death(&thread, &format!("panicked: {}", panic_message(&*panic))),
            },
        )
}

/// The text a panic carried.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

fn exit_process(thread: &str, why: &str) {
    error!(
        thread,
        why, "a core thread of the host died; exiting so that the supervisor restarts the host"
    );
    eprintln!(
        "connector-host: core thread `{thread}` died ({why}); exiting with status {EXIT_CORE_THREAD_DIED}"
    );
    std::process::exit(EXIT_CORE_THREAD_DIED);
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    static DEATHS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

    fn record(thread: &str, why: &str) {
        DEATHS
            .lock()
            .unwrap()
            .push((thread.to_owned(), why.to_owned()));
    }

    fn deaths_of(thread: &str) -> Vec<String> {
        DEATHS
            .lock()
            .unwrap()
            .iter()
            .filter(|(name, _)| name == thread)
            .map(|(_, why)| why.clone())
            .collect()
    }

    #[test]
    fn a_panic_or_a_failed_loop_is_a_death_a_stop_is_not() {
        spawn_with("t-panics", || panic!("boom"), record)
            .unwrap()
            .join()
            .unwrap();
        spawn_with("t-fails", || Err("socket gone".into()), record)
            .unwrap()
            .join()
            .unwrap();
        spawn_with("t-stops", || Ok(()), record)
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(deaths_of("t-panics"), ["panicked: boom"]);
        assert_eq!(deaths_of("t-fails"), ["socket gone"]);
        assert!(deaths_of("t-stops").is_empty());
    }

    #[test]
    fn a_panic_message_is_read_from_either_kind_of_payload() {
        let text: Box<dyn Any + Send> = Box::new("static");
        let owned: Box<dyn Any + Send> = Box::new(String::from("owned"));
        let other: Box<dyn Any + Send> = Box::new(7);
        assert_eq!(panic_message(&*text), "static");
        assert_eq!(panic_message(&*owned), "owned");
        assert_eq!(panic_message(&*other), "a panic without a message");
    }
}
