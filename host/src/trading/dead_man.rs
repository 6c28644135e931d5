//! The exchange's dead man's switch (`Operation::ArmDeadManSwitch`, which
//! each plugin maps to its venue's switch): the host keeps it armed a
//! little ahead while it is healthy and strategies
//! send heartbeats (if the configuration asks for them). If the host
//! freezes or dies, or the heartbeats stop, the refreshes stop and the
//! exchange cancels every order at the deadline.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use abi_stable::std_types::ROption;
use plugin_api::{Operation, OutcomeKind};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::{Delivery, Trading};
use crate::config::DeadManSwitchConfig;
use crate::runtime::clock::now_ms;

const DAY_MS: u64 = 86_400_000;

/// Added to the venue's minimum lead: the request's time on the way there.
const LEAD_MARGIN_MS: u64 = 1_000;

/// Times the switch fired, per UTC day (the venue's limit counts them).
#[derive(Debug, Default)]
struct Triggers {
    day: u64,
    count: u32,
}

impl Triggers {
    fn today(&mut self, now_ms: u64) -> u32 {
        if self.day != now_ms / DAY_MS {
            *self = Triggers {
                day: now_ms / DAY_MS,
                count: 0,
            };
        }
        self.count
    }

    fn fired(&mut self, at_ms: u64) {
        self.today(at_ms);
        self.count += 1;
    }
}

/// The last strategy heartbeat.
#[derive(Debug, Default)]
pub(super) struct Heartbeat {
    last_ms: AtomicU64,
}

impl Heartbeat {
    /// A heartbeat at `now`.
    fn beat(&self, now: u64) {
        self.last_ms.fetch_max(now, Ordering::SeqCst);
    }

    /// Whether the last one came at most `timeout` ms before `now`.
    fn fresh(&self, now: u64, timeout: u64) -> bool {
        now.saturating_sub(self.last_ms.load(Ordering::SeqCst)) <= timeout
    }
}

/// What to do about the switch at one refresh tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Arm it (or refresh it) to fire at this time.
    Arm(u64),
    /// It fired the venue's daily maximum: leave it alone until tomorrow.
    /// `announce` the first time.
    Exhausted { announce: bool },
    /// Heartbeats stopped: let it fire at `deadline`. `announce` the
    /// first time.
    Lapse { deadline: u64, announce: bool },
    /// Nothing to do (unarmed, and heartbeats stale).
    Wait,
}

/// The switch as the host keeps it, decided from the time alone: no
/// requests, no clock, so that every rule is tested without a venue.
#[derive(Debug)]
struct Switch {
    /// How far ahead it is armed, ms.
    lead_ms: u64,
    /// The venue's daily maximum of triggers (0: none).
    max_per_day: u32,
    /// The deadline the venue holds, if armed.
    armed_until: Option<u64>,
    /// Left to fire (stale heartbeats, or the daily maximum reached).
    lapsing: bool,
    triggers: Triggers,
}

impl Switch {
    fn new(lead_ms: u64, max_per_day: u32) -> Switch {
        Switch {
            lead_ms,
            max_per_day,
            armed_until: None,
            lapsing: false,
            triggers: Triggers::default(),
        }
    }

    /// The deadline that passed unrefreshed (the venue has cancelled
    /// every order then), counted against its day.
    fn fired(&mut self, now: u64) -> Option<u64> {
        let deadline = self.armed_until.filter(|deadline| now >= *deadline)?;
        self.triggers.fired(deadline);
        self.armed_until = None;
        Some(deadline)
    }

    /// What to do at `now`, given whether strategies' heartbeats are fresh.
    fn step(&mut self, now: u64, healthy: bool) -> Step {
        let today = self.triggers.today(now);
        if healthy && self.max_per_day > 0 && today >= self.max_per_day {
            let announce = self.armed_until.is_some() || !self.lapsing;
            self.lapsing = true;
            Step::Exhausted { announce }
        } else if healthy {
            Step::Arm(now + self.lead_ms)
        } else if let Some(deadline) = self.armed_until {
            let announce = !self.lapsing;
            self.lapsing = true;
            Step::Lapse { deadline, announce }
        } else {
            Step::Wait
        }
    }

    /// The venue armed it for `deadline`: true when that is news (it was
    /// not armed, or was left to lapse).
    fn armed(&mut self, deadline: u64) -> bool {
        let news = self.armed_until.is_none() || self.lapsing;
        self.armed_until = Some(deadline);
        self.lapsing = false;
        news
    }

    /// Triggers counted today.
    fn today(&mut self, now: u64) -> u32 {
        self.triggers.today(now)
    }

    /// Two triggers or fewer left today.
    fn close_to_limit(&mut self, now: u64) -> bool {
        self.max_per_day > 0 && self.today(now) + 2 >= self.max_per_day
    }

    /// Still armed at `now`: it is to be disarmed at shutdown.
    fn armed_at(&self, now: u64) -> bool {
        self.armed_until.is_some_and(|deadline| deadline > now)
    }
}

impl Trading {
    /// A strategy's heartbeat: the switch may be refreshed for
    /// `heartbeat_timeout_ms` more.
    pub fn heartbeat(&self) {
        self.inner.heartbeat.beat(now_ms());
    }

    fn heartbeats_fresh(&self, config: &DeadManSwitchConfig, now: u64) -> bool {
        config
            .heartbeat_timeout_ms
            .is_none_or(|timeout| self.inner.heartbeat.fresh(now, timeout))
    }

    /// Arms the switch to fire at `at_ms` (or disarms it with `None`);
    /// the venue's refusal, if any.
    async fn arm(&self, at_ms: Option<u64>) -> Result<(), String> {
        let operation = plugin_api::operation(Operation::ArmDeadManSwitch(ROption::from(at_ms)));
        match self.inner.deliver(&operation, || {}, || {}).await.0 {
            Delivery::Answered(reply) if reply.outcome.kind == OutcomeKind::ACCEPTED => Ok(()),
            Delivery::Answered(reply) => {
                Err(format!("{}: {}", reply.outcome.kind, reply.outcome.message))
            }
            Delivery::Refused(error) => Err(format!("plugin: {error}")),
            Delivery::NotSent(reason)
            | Delivery::NotDelivered(reason)
            | Delivery::Unknown(reason) => Err(reason),
        }
    }

    /// Keeps the switch armed `cancel_after_ms` ahead (at least the venue's
    /// minimum lead plus a second for the request's way there), refreshing
    /// it three times per period while the host takes orders and heartbeats are
    /// fresh; disarms it at shutdown (cancelling orders at shutdown is
    /// `cancel_on_shutdown`'s job). Every change is published on
    /// `host.status.dead_man_switch`.
    pub async fn keep_dead_man_switch(
        self,
        config: DeadManSwitchConfig,
        mut shutdown: watch::Receiver<bool>,
    ) {
        self.heartbeat();
        let exchange = self.inner.exchange.clone();
        let status = self.inner.status.clone();
        let lead = config
            .cancel_after_ms
            .max(self.inner.manifest.dead_man_min_lead_ms + LEAD_MARGIN_MS);
        let refresh = Duration::from_millis((lead / 3).max(1));
        let mut switch = Switch::new(lead, self.inner.manifest.dead_man_max_per_day);
        // Until shutdown, which stops the taking of orders first.
        while self.inner.gate.is_accepting() {
            let now = now_ms();
            if let Some(deadline) = switch.fired(now) {
                let today = switch.today(now);
                warn!(%exchange, deadline, today, "dead man's switch fired: the exchange cancelled every order");
                status.dead_man_switch(&exchange, "fired", Some(deadline), today, None);
            }
            let today = switch.today(now);
            match switch.step(now, self.heartbeats_fresh(&config, now)) {
                Step::Arm(deadline) => match self.arm(Some(deadline)).await {
                    Ok(()) => {
                        if switch.armed(deadline) {
                            info!(%exchange, deadline, "dead man's switch armed");
                            status.dead_man_switch(&exchange, "armed", Some(deadline), today, None);
                        } else {
                            debug!(%exchange, deadline, "dead man's switch refreshed");
                        }
                        if switch.close_to_limit(now) {
                            warn!(%exchange, today, "dead man's switch close to the exchange's daily limit of triggers");
                        }
                    }
                    Err(reason) => {
                        warn!(%exchange, %reason, "dead man's switch not refreshed");
                        let armed_until = switch.armed_until;
                        status.dead_man_switch(
                            &exchange,
                            "failed",
                            armed_until,
                            today,
                            Some(&reason),
                        );
                    }
                },
                Step::Exhausted { announce: true } => {
                    warn!(%exchange, today, "dead man's switch fired too often today; the exchange will not arm it again");
                    status.dead_man_switch(&exchange, "exhausted", None, today, None);
                }
                Step::Lapse {
                    deadline,
                    announce: true,
                } => {
                    warn!(%exchange, deadline, "no heartbeat: the dead man's switch will fire");
                    status.dead_man_switch(&exchange, "lapsing", Some(deadline), today, None);
                }
                Step::Exhausted { announce: false } | Step::Lapse { .. } | Step::Wait => {}
            }
            tokio::select! {
                _ = tokio::time::sleep(refresh) => {}
                _ = shutdown.changed() => break,
            }
        }
        if switch.armed_at(now_ms()) {
            match self.arm(None).await {
                Ok(()) => {
                    info!(%exchange, "dead man's switch disarmed");
                    let today = switch.today(now_ms());
                    status.dead_man_switch(&exchange, "disarmed", None, today, None);
                }
                Err(reason) => warn!(%exchange, %reason, "dead man's switch not disarmed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEAD: u64 = 15_000;

    #[test]
    fn healthy_arms_ahead_and_refreshes_quietly() {
        let mut switch = Switch::new(LEAD, 0);
        assert_eq!(switch.step(1_000, true), Step::Arm(16_000));
        assert!(switch.armed(16_000), "first arming is news");
        assert_eq!(switch.step(6_000, true), Step::Arm(21_000));
        assert!(!switch.armed(21_000), "a refresh is not");
        assert_eq!(switch.fired(20_000), None);
        assert!(switch.armed_at(20_000));
    }

    #[test]
    fn stale_heartbeats_lapse_once_then_the_deadline_fires() {
        let mut switch = Switch::new(LEAD, 0);
        switch.step(0, true);
        switch.armed(LEAD);
        assert_eq!(
            switch.step(5_000, false),
            Step::Lapse {
                deadline: LEAD,
                announce: true
            }
        );
        assert_eq!(
            switch.step(10_000, false),
            Step::Lapse {
                deadline: LEAD,
                announce: false
            }
        );
        assert_eq!(switch.fired(LEAD), Some(LEAD));
        assert_eq!(switch.today(LEAD), 1);
        assert_eq!(switch.step(LEAD + 5_000, false), Step::Wait);
        assert!(!switch.armed_at(LEAD + 5_000), "nothing to disarm");
        // Heartbeats back: armed again, and that is news.
        assert_eq!(switch.step(LEAD + 6_000, true), Step::Arm(2 * LEAD + 6_000));
        assert!(switch.armed(2 * LEAD + 6_000));
    }

    #[test]
    fn the_daily_maximum_stops_arming_until_the_next_utc_day() {
        let mut switch = Switch::new(LEAD, 2);
        let mut now = 1_000;
        for fired in 1..=2 {
            let Step::Arm(deadline) = switch.step(now, true) else {
                panic!("arms while under the maximum");
            };
            switch.armed(deadline);
            now = deadline;
            assert_eq!(switch.fired(now), Some(deadline));
            assert_eq!(switch.today(now), fired);
        }
        assert_eq!(switch.step(now, true), Step::Exhausted { announce: true });
        assert_eq!(
            switch.step(now + 5_000, true),
            Step::Exhausted { announce: false }
        );
        let tomorrow = DAY_MS + 1;
        assert_eq!(switch.today(tomorrow), 0);
        assert_eq!(switch.step(tomorrow, true), Step::Arm(tomorrow + LEAD));
        assert!(
            switch.armed(tomorrow + LEAD),
            "armed again after exhaustion: news"
        );
    }

    #[test]
    fn close_to_the_limit_warns_with_two_triggers_left() {
        let mut switch = Switch::new(LEAD, 3);
        assert!(!switch.close_to_limit(0));
        switch.armed(LEAD);
        switch.fired(LEAD);
        assert!(switch.close_to_limit(LEAD));
        let mut unlimited = Switch::new(LEAD, 0);
        assert!(!unlimited.close_to_limit(0));
    }

    #[test]
    fn a_trigger_counts_on_the_day_of_its_deadline() {
        let mut switch = Switch::new(LEAD, 0);
        let deadline = DAY_MS - 1;
        switch.armed(deadline);
        assert_eq!(switch.fired(DAY_MS + 10), Some(deadline));
        assert_eq!(switch.today(DAY_MS + 10), 0, "it fired yesterday");
    }
}
