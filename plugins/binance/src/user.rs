//! The account's stream: a listen key (`POST /fapi/v1/listenKey`, API key
//! only), kept alive with `PUT` on the session's timer, the `/private`
//! connection named by it (`user-1`, `user-2`, … one per key), and a new
//! key and a new connection when Binance says the key expired or forgets
//! it — the host refills what a new account connection may have missed.
//! `ORDER_TRADE_UPDATE` becomes orders and fills, `ALGO_UPDATE`
//! conditional orders, `ACCOUNT_UPDATE` balances and positions.

use std::collections::HashMap;

use binance_core::endpoints::LISTEN_KEY;
use plugin_api::{
    Answer, AnswerKind, ConnectionKind, Event, Event_NE, OutcomeKind, Output, Output_NE,
    PluginError, SESSION_JOB, Stream, StreamKind,
};
use serde_json::Value;

use crate::config::Config;
use crate::market::{answer_event, connection_spec, read};
use crate::rest::{self, Auth, Call};
use crate::{events, wire};

/// Account connections are named `user-1`, `user-2`, … one per key.
pub const PREFIX: &str = "user-";

/// This module's jobs have this bit set besides `SESSION_JOB`.
const USER_JOB: u64 = 1 << 41;

/// How an order update names its event (the bulk of the account
/// traffic), and how a combined stream's frame starts.
const ORDER_TRADE_UPDATE: &str = r#""e":"ORDER_TRADE_UPDATE""#;
const COMBINED: &str = r#"{"stream""#;

/// After a key request that failed, try again this much later, ms.
const RETRY_MS: u64 = 5_000;

/// A job of this module's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Job {
    Create,
    KeepAlive,
}

/// The listen key, its connection and its keep-alive.
#[derive(Default)]
pub struct UserStream {
    wanted: bool,
    key: Option<String>,
    /// When the next keep-alive (or, without a key, the next key request)
    /// is due.
    due_ms: Option<u64>,
    /// The current connection's number (its id is `user-N`).
    generation: u32,
    jobs: HashMap<u64, Job>,
    next_job: u64,
}

fn out(output: Output) -> Output_NE {
    Output_NE::new(output)
}

fn event(event: Event) -> Output_NE {
    out(Output::Event(Event_NE::new(event)))
}

impl UserStream {
    fn connection(&self) -> String {
        format!("{PREFIX}{}", self.generation)
    }

    fn call(&mut self, config: &Config, job: Job) -> Output_NE {
        self.next_job += 1;
        let id = SESSION_JOB | USER_JOB | self.next_job;
        self.jobs.insert(id, job);
        let method = match job {
            Job::Create => "POST",
            Job::KeepAlive => "PUT",
        };
        out(Output::Http {
            job: id,
            request: Call::new(method, LISTEN_KEY, 1, Auth::ApiKey).request(config),
        })
    }

    fn renew(&mut self, config: &Config) -> Vec<Output_NE> {
        self.key = None;
        self.due_ms = None;
        vec![self.call(config, Job::Create)]
    }

    /// The host wants the account streams: the first time, a key is made.
    pub fn subscribe(
        &mut self,
        config: &Config,
        streams: &[Stream],
        subscribe: bool,
    ) -> Vec<Output_NE> {
        let account = [StreamKind::ORDERS, StreamKind::FILLS, StreamKind::ACCOUNT];
        if !subscribe || self.wanted || !streams.iter().any(|s| account.contains(&s.kind)) {
            return Vec::new();
        }
        self.wanted = true;
        vec![self.call(config, Job::Create)]
    }

    /// Whether `connection` is one of this module's.
    pub fn owns_connection(connection: &str) -> bool {
        connection.starts_with(PREFIX)
    }

    /// Whether `job` is one of this module's.
    pub fn owns(&self, job: u64) -> bool {
        self.jobs.contains_key(&job)
    }

    /// One frame on an account connection (an older connection's are
    /// dropped: its key is gone).
    pub fn on_frame(
        &mut self,
        config: &Config,
        connection: &str,
        frame: &str,
    ) -> Result<Vec<Output_NE>, PluginError> {
        if connection != self.connection() {
            return Ok(Vec::new());
        }
        // Order updates first, read straight into their shape (the bulk of
        // the account traffic); anything else, or an update that does not
        // read so, through the general path.
        if frame.contains(ORDER_TRADE_UPDATE)
            && !frame.starts_with(COMBINED)
            && let Ok(update) = serde_json::from_str::<wire::OrderTradeUpdate>(frame)
        {
            return Ok(events::order_event(&update.order)?
                .into_iter()
                .map(event)
                .collect());
        }
        let mut message: Value = serde_json::from_str(frame)
            .map_err(|error| PluginError::malformed(format!("user frame: {error}: {frame}")))?;
        if message.get("stream").is_some() {
            message = message["data"].take();
        }
        if let Some(id) = message.get("id") {
            return Ok(vec![answer_event(id, &message)]);
        }
        let kind = message["e"].as_str().unwrap_or_default().to_owned();
        Ok(match kind.as_str() {
            "ORDER_TRADE_UPDATE" => {
                let update: wire::OrderTradeUpdate = read(message, frame)?;
                events::order_event(&update.order)?
                    .into_iter()
                    .map(event)
                    .collect()
            }
            "ACCOUNT_UPDATE" => {
                let update: wire::AccountUpdate = read(message, frame)?;
                events::account_update(&update)?
                    .into_iter()
                    .map(event)
                    .collect()
            }
            "ALGO_UPDATE" => {
                let update: wire::AlgoUpdate = read(message, frame)?;
                vec![event(Event::Order(events::algo_order(
                    &update.order,
                    false,
                    update.time,
                )?))]
            }
            "listenKeyExpired" => self.renew(config),
            // TRADE_LITE repeats ORDER_TRADE_UPDATE's fills; leverage
            // changes and margin calls are not followed.
            _ => Vec::new(),
        })
    }

    /// A key request's or a keep-alive's answer.
    pub fn on_answer(
        &mut self,
        config: &Config,
        job: u64,
        answer: &Answer,
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        let Some(job) = self.jobs.remove(&job) else {
            return Ok(Vec::new());
        };
        let response = match (answer.kind, answer.response.as_ref().into_option()) {
            (AnswerKind::ANSWERED, Some(response)) => Some(response),
            _ => None,
        };
        let mut outputs: Vec<Output_NE> = response
            .map(rest::rate_limits)
            .unwrap_or_default()
            .into_iter()
            .map(event)
            .collect();
        let failure = response.and_then(rest::failure);
        match (job, response, failure) {
            (Job::Create, Some(response), None) => {
                let created: wire::ListenKey = rest::body(response, "listen key")?;
                if self.generation > 0 {
                    outputs.push(out(Output::Close(self.connection().into())));
                }
                self.generation += 1;
                self.due_ms = Some(now_ms + config.keepalive_ms);
                let url = format!(
                    "{}/private/ws?listenKey={}",
                    config.ws_url, created.listen_key
                );
                self.key = Some(created.listen_key);
                outputs.push(out(Output::Open(connection_spec(
                    &self.connection(),
                    ConnectionKind::USER,
                    url,
                ))));
            }
            (Job::KeepAlive, Some(_), None) => {
                self.due_ms = Some(now_ms + config.keepalive_ms);
            }
            // Binance no longer knows the key (-1125): a new one.
            (Job::KeepAlive, _, Some(failure)) if failure.kind == OutcomeKind::NOT_FOUND => {
                outputs.extend(self.renew(config));
            }
            (_, _, failure) => {
                let why = failure.map_or_else(|| answer.reason.to_string(), |f| f.message.into());
                outputs.push(event(Event::Notice {
                    text: format!("listen key request failed: {why}").into(),
                    fatal: false,
                }));
                self.due_ms = Some(now_ms + RETRY_MS);
            }
        }
        Ok(outputs)
    }

    /// A keep-alive (or a key request that failed) is due.
    pub fn on_timer(&mut self, config: &Config, now_ms: u64) -> Vec<Output_NE> {
        if self.due_ms.is_none_or(|due| due > now_ms) {
            return Vec::new();
        }
        self.due_ms = None;
        let job = if self.key.is_some() {
            Job::KeepAlive
        } else {
            Job::Create
        };
        vec![self.call(config, job)]
    }

    /// When a keep-alive is due.
    pub fn next_wakeup(&self) -> Option<u64> {
        self.due_ms
    }
}
