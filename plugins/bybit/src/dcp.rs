//! Bybit's disconnection protection (DCP) as the host's dead man's switch.
//!
//! DCP cancels every derivatives order once no private connection of the
//! account has subscribed the `dcp` topic for `timeWindow` seconds (3 to
//! 300; accounts Bybit enabled it for only). The host's switch is a
//! deadline it keeps pushing ahead, so each `ArmDeadManSwitch(deadline)`
//! sets the window to a third of the lead (`POST
//! /v5/order/disconnected-cancel-all`) and keeps `dcp` subscribed; if no
//! refresh comes before `deadline − window`, the session unsubscribes, and
//! Bybit cancels at about the deadline. A host that dies or freezes loses
//! its connection, which fires it too. DCP cannot be switched off: a host
//! that stops has its orders cancelled a window after its connection
//! closes, so disarming is refused as such.

use std::collections::HashMap;

use serde_json::json;

use crate::rest::Call;

/// The shortest lead the host may ask for, ms: a third of it is DCP's
/// shortest window, 3 s.
pub const MIN_LEAD_MS: u64 = 9_000;

/// DCP's window bounds, s.
const WINDOW_S: (u64, u64) = (3, 300);

/// The switch as the session keeps it.
#[derive(Default)]
pub struct Dcp {
    /// Arming jobs under way: their deadline and window.
    arming: HashMap<u64, (u64, u64)>,
    /// The last deadline Bybit took, and its window (s).
    armed: Option<(u64, u64)>,
    /// Whether `dcp` is to be subscribed (armed and not let go).
    wanted: bool,
}

impl Dcp {
    /// The call arming the switch for `deadline` (job `job`, at `now_ms`),
    /// or why the request is invalid.
    pub fn arm(&mut self, job: u64, deadline: Option<u64>, now_ms: u64) -> Result<Call, String> {
        let Some(deadline) = deadline else {
            return Err(
                "Bybit's DCP cannot be disarmed: it cancels every order a window after \
                 the host's connections close"
                    .to_owned(),
            );
        };
        let window = (deadline.saturating_sub(now_ms) / 3 / 1_000).clamp(WINDOW_S.0, WINDOW_S.1);
        let body = json!({"product": "DERIVATIVES", "timeWindow": window});
        let call = Call::post(
            "/v5/order/disconnected-cancel-all",
            &body,
            crate::manifest::QUERY,
            1,
        )
        .map_err(|error| error.message.to_string())?;
        self.arming.insert(job, (deadline, window));
        Ok(call)
    }

    /// Whether `job` arms the switch.
    pub fn arms(&self, job: u64) -> bool {
        self.arming.contains_key(&job)
    }

    /// The arming job ended; `accepted` when Bybit took it. True when
    /// `dcp` is now to be subscribed (it was not).
    pub fn armed(&mut self, job: u64, accepted: bool) -> bool {
        let Some(armed) = self.arming.remove(&job) else {
            return false;
        };
        if !accepted {
            return false;
        }
        self.armed = Some(armed);
        !std::mem::replace(&mut self.wanted, true)
    }

    /// When `dcp` is let go unless refreshed before.
    pub fn next_wakeup(&self) -> Option<u64> {
        let (deadline, window) = self.armed.filter(|_| self.wanted)?;
        Some(deadline.saturating_sub(window * 1_000))
    }

    /// True when, at `now_ms`, `dcp` is to be let go: no refresh came.
    pub fn on_timer(&mut self, now_ms: u64) -> bool {
        if self.next_wakeup().is_some_and(|at| at <= now_ms) {
            self.wanted = false;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_a_third_of_the_lead_and_dcp_is_let_go_without_refresh() {
        let mut dcp = Dcp::default();
        let call = dcp.arm(1, Some(12_000), 0).unwrap();
        assert_eq!(call.path, "/v5/order/disconnected-cancel-all");
        assert_eq!(
            call.body.as_deref(),
            Some(r#"{"product":"DERIVATIVES","timeWindow":4}"#)
        );
        assert!(dcp.arms(1));
        assert_eq!(dcp.next_wakeup(), None, "not armed before Bybit says so");
        assert!(dcp.armed(1, true), "subscribe `dcp`");
        assert_eq!(dcp.next_wakeup(), Some(8_000));
        // Refreshed: later, and no second subscription.
        dcp.arm(2, Some(16_000), 4_000).unwrap();
        assert!(!dcp.armed(2, true));
        assert!(!dcp.on_timer(8_000));
        assert_eq!(dcp.next_wakeup(), Some(12_000));
        // No refresh: let go at deadline − window.
        assert!(dcp.on_timer(12_000));
        assert_eq!(dcp.next_wakeup(), None, "let go");
        // A refresh after that subscribes again.
        dcp.arm(3, Some(30_000), 18_000).unwrap();
        assert!(dcp.armed(3, true));
    }

    #[test]
    fn bounds_refusals_and_disarming() {
        let mut dcp = Dcp::default();
        let short = dcp.arm(1, Some(1_000), 0).unwrap();
        assert!(short.body.unwrap().contains(r#""timeWindow":3"#));
        let long = dcp.arm(2, Some(10_000_000), 0).unwrap();
        assert!(long.body.unwrap().contains(r#""timeWindow":300"#));
        assert!(!dcp.armed(1, false), "refused by Bybit");
        assert_eq!(dcp.next_wakeup(), None);
        let refused = dcp.arm(3, None, 0).unwrap_err();
        assert!(refused.contains("cannot be disarmed"));
    }
}
