//! The exchange's dead man's switch (`Operation::ArmDeadManSwitch`, which
//! each plugin maps to its venue's switch): the host keeps it armed a
//! little ahead while it is healthy and strategies
//! send heartbeats (if the configuration asks for them). If the host
//! freezes or dies, or the heartbeats stop, the refreshes stop and the
//! exchange cancels every order at the deadline.

use std::sync::atomic::Ordering;
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

impl Trading {
    /// A strategy's heartbeat: the switch may be refreshed for
    /// `heartbeat_timeout_ms` more.
    pub fn heartbeat(&self) {
        self.inner.heartbeat_ms.store(now_ms(), Ordering::SeqCst);
    }

    fn heartbeats_fresh(&self, config: &DeadManSwitchConfig, now: u64) -> bool {
        config.heartbeat_timeout_ms.is_none_or(|timeout| {
            now.saturating_sub(self.inner.heartbeat_ms.load(Ordering::SeqCst)) <= timeout
        })
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
        let max_per_day = self.inner.manifest.dead_man_max_per_day;
        let lead = config
            .cancel_after_ms
            .max(self.inner.manifest.dead_man_min_lead_ms + LEAD_MARGIN_MS);
        let refresh = Duration::from_millis((lead / 3).max(1));
        let mut armed_until: Option<u64> = None;
        let mut lapsing = false;
        let mut triggers = Triggers::default();
        // Until shutdown, which stops the taking of orders first.
        while self.inner.accepting.load(Ordering::SeqCst) {
            let now = now_ms();
            if let Some(deadline) = armed_until
                && now >= deadline
            {
                // Not refreshed in time: the venue has cancelled every order.
                triggers.fired(deadline);
                let today = triggers.today(now);
                warn!(%exchange, deadline, today, "dead man's switch fired: the exchange cancelled every order");
                status.dead_man_switch(&exchange, "fired", Some(deadline), today, None);
                armed_until = None;
            }
            let healthy = self.heartbeats_fresh(&config, now);
            let today = triggers.today(now);
            if healthy && max_per_day > 0 && today >= max_per_day {
                if armed_until.is_some() || !lapsing {
                    warn!(%exchange, today, max_per_day, "dead man's switch fired too often today; the exchange will not arm it again");
                    status.dead_man_switch(&exchange, "exhausted", None, today, None);
                }
                lapsing = true;
            } else if healthy {
                let deadline = now + lead;
                match self.arm(Some(deadline)).await {
                    Ok(()) => {
                        if armed_until.is_none() || lapsing {
                            info!(%exchange, deadline, "dead man's switch armed");
                            status.dead_man_switch(&exchange, "armed", Some(deadline), today, None);
                        } else {
                            debug!(%exchange, deadline, "dead man's switch refreshed");
                        }
                        if max_per_day > 0 && today + 2 >= max_per_day {
                            warn!(%exchange, today, max_per_day, "dead man's switch close to the exchange's daily limit of triggers");
                        }
                        armed_until = Some(deadline);
                        lapsing = false;
                    }
                    Err(reason) => {
                        warn!(%exchange, %reason, "dead man's switch not refreshed");
                        status.dead_man_switch(
                            &exchange,
                            "failed",
                            armed_until,
                            today,
                            Some(&reason),
                        );
                    }
                }
            } else if let Some(deadline) = armed_until
                && !lapsing
            {
                warn!(%exchange, deadline, "no heartbeat: the dead man's switch will fire");
                status.dead_man_switch(&exchange, "lapsing", Some(deadline), today, None);
                lapsing = true;
            }
            tokio::select! {
                _ = tokio::time::sleep(refresh) => {}
                _ = shutdown.changed() => break,
            }
        }
        if armed_until.is_some_and(|deadline| deadline > now_ms()) {
            match self.arm(None).await {
                Ok(()) => {
                    info!(%exchange, "dead man's switch disarmed");
                    status.dead_man_switch(
                        &exchange,
                        "disarmed",
                        None,
                        triggers.today(now_ms()),
                        None,
                    );
                }
                Err(reason) => warn!(%exchange, %reason, "dead man's switch not disarmed"),
            }
        }
    }
}
