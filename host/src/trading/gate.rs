//! Whether the order path takes new orders: open, stopped (shutdown or a
//! halt) or held shut by the kill switch until it is released.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::command::CommandError;

/// The gate new orders and modifies pass.
#[derive(Debug)]
pub(super) struct Gate {
    accepting: AtomicBool,
    /// Why it was stopped, once it is.
    halted: Mutex<Option<String>>,
    /// Why the kill switch is engaged, while it is.
    killed: Mutex<Option<String>>,
}

impl Default for Gate {
    fn default() -> Gate {
        Gate {
            accepting: AtomicBool::new(true),
            halted: Mutex::new(None),
            killed: Mutex::new(None),
        }
    }
}

impl Gate {
    /// Shuts it for good (shutdown, a halt).
    pub(super) fn stop(&self, reason: &str) {
        self.accepting.store(false, Ordering::SeqCst);
        *lock(&self.halted) = Some(reason.to_owned());
    }

    /// True until [`stop`](Gate::stop).
    pub(super) fn is_accepting(&self) -> bool {
        self.accepting.load(Ordering::SeqCst)
    }

    /// Holds it shut until [`release`](Gate::release).
    pub(super) fn engage_kill_switch(&self, reason: &str) {
        *lock(&self.killed) = Some(reason.to_owned());
    }

    /// Why the kill switch is engaged, while it is.
    pub(super) fn kill_switch(&self) -> Option<String> {
        lock(&self.killed).clone()
    }

    /// Lifts the kill switch; true if it was engaged.
    pub(super) fn release(&self) -> bool {
        lock(&self.killed).take().is_some()
    }

    /// Why a new order or modify is refused now, if it is.
    pub(super) fn check(&self) -> Result<(), CommandError> {
        if let Some(reason) = lock(&self.killed).as_ref() {
            return Err(CommandError::NotAccepting(format!(
                "kill switch engaged: {reason}"
            )));
        }
        if self.is_accepting() {
            return Ok(());
        }
        let reason = lock(&self.halted).clone().unwrap_or_default();
        Err(CommandError::NotAccepting(reason))
    }
}

fn lock(reason: &Mutex<Option<String>>) -> MutexGuard<'_, Option<String>> {
    reason.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(gate: &Gate) -> String {
        gate.check().expect_err("refused").to_string()
    }

    #[test]
    fn the_kill_switch_refuses_until_released() {
        let gate = Gate::default();
        assert!(gate.check().is_ok());
        gate.engage_kill_switch("risk desk");
        assert_eq!(
            refusal(&gate),
            "not accepting orders: kill switch engaged: risk desk"
        );
        assert!(gate.is_accepting(), "a kill switch is not a stop");
        assert!(gate.release());
        assert!(!gate.release(), "released once");
        assert!(gate.check().is_ok());
    }

    #[test]
    fn a_stop_is_for_good_and_says_why() {
        let gate = Gate::default();
        gate.stop("shutting down");
        assert!(!gate.is_accepting());
        assert_eq!(refusal(&gate), "not accepting orders: shutting down");
        gate.engage_kill_switch("after the stop");
        assert!(
            refusal(&gate).contains("kill switch"),
            "the switch is named first"
        );
        gate.release();
        assert_eq!(refusal(&gate), "not accepting orders: shutting down");
    }
}
