//! The window of signed actions under way.
//!
//! Some venues keep only a signer's highest nonces and refuse an action
//! whose nonce is below all of them (a venue may keep 100). Actions are
//! sent concurrently, so one that stalls can be overtaken; if enough later
//! ones arrive first, it is refused. The window lets action `i` start only
//! once every action before `i - size` has finished, so while one is under
//! way only `size - 1` later and `size - 1` earlier ones can be (and take
//! a higher nonce): with `2 × (size − 1)` below what the venue keeps, no
//! action is refused for its nonce, however a burst is scheduled. The
//! plugin's manifest gives the size (`action_window`).

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

use tokio::sync::Notify;

/// Tickets for actions, admitted in order.
#[derive(Debug)]
pub struct ActionWindow {
    size: u64,
    state: Mutex<WindowState>,
    advanced: Notify,
}

#[derive(Debug, Default)]
struct WindowState {
    /// The next ticket to hand out.
    next: u64,
    /// Every ticket below this one has finished.
    finished_below: u64,
    /// Finished tickets at or above `finished_below`.
    finished: BTreeSet<u64>,
}

/// An admitted action's place in the window; finishing it (dropping it)
/// lets later actions in.
#[derive(Debug)]
pub struct Ticket<'a> {
    window: &'a ActionWindow,
    number: u64,
}

impl ActionWindow {
    /// A window of `size` actions; zero for no bound.
    pub fn new(size: u32) -> ActionWindow {
        ActionWindow {
            size: if size == 0 { u64::MAX } else { u64::from(size) },
            state: Mutex::new(WindowState::default()),
            advanced: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, WindowState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the next ticket and waits until it is inside the window.
    pub async fn enter(&self) -> Ticket<'_> {
        let number = {
            let mut state = self.state();
            state.next += 1;
            state.next - 1
        };
        loop {
            let advanced = self.advanced.notified();
            tokio::pin!(advanced);
            advanced.as_mut().enable();
            if number < self.state().finished_below.saturating_add(self.size) {
                return Ticket {
                    window: self,
                    number,
                };
            }
            advanced.await;
        }
    }

    fn finish(&self, number: u64) {
        let mut state = self.state();
        state.finished.insert(number);
        let before = state.finished_below;
        while let Some(&lowest) = state.finished.first()
            && lowest == state.finished_below
        {
            state.finished.pop_first();
            state.finished_below += 1;
        }
        if state.finished_below != before {
            drop(state);
            self.advanced.notify_waiters();
        }
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.window.finish(self.number);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_stalled_action_holds_back_those_beyond_the_window() {
        let window = Arc::new(ActionWindow::new(3));
        let stalled = window.enter().await;
        let second = window.enter().await;
        let third = window.enter().await;
        drop((second, third));
        // Ticket 3 is `size` after the stalled ticket 0: it must wait,
        // however many others have finished.
        let waiting = tokio::spawn({
            let window = Arc::clone(&window);
            async move {
                let _ticket = window.enter().await;
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        drop(stalled);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("admitted once the stalled one finished")
            .unwrap();
    }

    #[tokio::test]
    async fn tickets_finishing_out_of_order_advance_the_window_once_contiguous() {
        let window = ActionWindow::new(2);
        let first = window.enter().await;
        let second = window.enter().await;
        drop(second);
        assert_eq!(window.state().finished_below, 0);
        drop(first);
        assert_eq!(window.state().finished_below, 2);
        assert!(window.state().finished.is_empty());
    }
}
