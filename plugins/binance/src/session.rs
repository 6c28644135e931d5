//! The session: routes the host's calls to the market data, the account
//! stream and the jobs, and knows which markets the account trades (for
//! the requests Binance wants one symbol at a time).

use std::collections::{BTreeSet, HashMap};

use abi_stable::std_types::RBox;
use binance_core::Meaning;
use plugin_api::venue_clock::VenueClock;
use plugin_api::{
    Answer, AnswerKind, Event, Event_NE, Exchange, Manifest, Operation, Outcome, OutcomeKind,
    Output, Output_NE, PluginError, Reply, RequestContext, Response, Stream,
};

use crate::clock;
use crate::config::Config;
use crate::jobs::Job;
use crate::market::MarketData;
use crate::user::UserStream;
use crate::wsapi::{self, ApiFrame, WsApi};

/// One configured Binance USDⓈ-M account.
pub struct Binance {
    config: Config,
    market: MarketData,
    user: UserStream,
    socket: WsApi,
    jobs: HashMap<u64, Job>,
    clock: VenueClock,
    /// Symbols of the markets the host streams or trades: the dead man's
    /// switch is armed, and fills are fetched, for each.
    markets: BTreeSet<String>,
}

fn out(output: Output) -> Output_NE {
    Output_NE::new(output)
}

/// Whether Binance refused a request for its timestamp (`-1021`): the
/// clock offset is to be measured again.
fn stamped_outside_the_window(response: &Response) -> bool {
    matches!(
        binance_core::classify(response.status, &response.body).meaning,
        Meaning::NotProcessed { resign: true }
    )
}

impl Binance {
    /// The symbols the account trades.
    pub fn markets(&self) -> impl Iterator<Item = &str> {
        self.markets.iter().map(String::as_str)
    }

    fn learn_markets(&mut self, operation: &Operation) {
        let symbols: Vec<String> = match operation {
            Operation::PlaceOrders(orders) => orders
                .iter()
                .map(|order| order.market.venue_symbol.to_string())
                .collect(),
            Operation::ModifyOrders(modifies) => modifies
                .iter()
                .map(|modify| modify.target.market.venue_symbol.to_string())
                .collect(),
            _ => Vec::new(),
        };
        self.markets.extend(symbols);
    }

    /// The job's next output; a finished job is forgotten.
    fn advance(&mut self, job: u64, now_ms: u64) -> Result<Vec<Output_NE>, PluginError> {
        let Some(pending) = self.jobs.get_mut(&job) else {
            return Err(PluginError::invalid(format!("no job {job} under way")));
        };
        let mut outputs = Vec::new();
        let socket = if pending.prefers_socket() {
            outputs.extend(self.socket.open(&self.config).map(out));
            Some(&mut self.socket)
        } else {
            None
        };
        let times = (now_ms, self.clock.venue_time(now_ms));
        let output = pending.next(job, &self.config, times, socket);
        if matches!(output, Output::Done { .. }) {
            self.jobs.remove(&job);
        }
        outputs.push(out(output));
        Ok(outputs)
    }

    /// The venue's answer to the job's call under way (over REST or the
    /// WebSocket API): the job goes on, or is done.
    fn answered(
        &mut self,
        job: u64,
        response: &Response,
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        let Some(pending) = self.jobs.get_mut(&job) else {
            return Err(PluginError::invalid(format!("no job {job} under way")));
        };
        if stamped_outside_the_window(response) {
            self.clock.resync_soon(now_ms);
        }
        if let Err(error) = pending.answered(response) {
            self.jobs.remove(&job);
            return Err(error);
        }
        let seen: Vec<String> = pending.markets_seen().map(str::to_owned).collect();
        self.markets.extend(seen);
        self.advance(job, now_ms)
    }

    /// The WebSocket API came up (its logon to sign) or went down: the
    /// requests it had not answered end unknown, those not yet signed end
    /// not sent.
    fn socket_connection(&mut self, up: bool, now_ms: u64) -> Vec<Output_NE> {
        let venue_ms = self.clock.venue_time(now_ms);
        let (logon, lost) = self.socket.on_connection(&self.config, up, venue_ms);
        let mut outputs: Vec<Output_NE> = logon.into_iter().map(out).collect();
        let endings = [
            (
                lost.sent,
                OutcomeKind::UNKNOWN,
                "the WebSocket API closed before the answer",
            ),
            (
                lost.unsent,
                OutcomeKind::NOT_PROCESSED,
                "the WebSocket API closed before the request left",
            ),
        ];
        for (jobs, kind, why) in endings {
            for job in jobs {
                if self.jobs.remove(&job).is_some() {
                    outputs.push(out(Output::Done {
                        job,
                        reply: RBox::new(Reply::only(Outcome::new(kind, why))),
                    }));
                }
            }
        }
        outputs
    }

    /// A frame of the WebSocket API.
    fn socket_frame(&mut self, frame: &str, now_ms: u64) -> Result<Vec<Output_NE>, PluginError> {
        match self.socket.on_frame(frame)? {
            ApiFrame::Answer { job, response } => self.answered(job, &response, now_ms),
            ApiFrame::LogonRefused(said) => {
                Ok(vec![out(Output::Event(Event_NE::new(Event::Notice {
                    text: format!("binance session.logon refused ({said}): each request is signed")
                        .into(),
                    fatal: false,
                })))])
            }
            ApiFrame::Nothing => Ok(Vec::new()),
        }
    }
}

impl Exchange for Binance {
    fn mark_source(&self) -> Option<String> {
        Some(self.config.api_url.clone())
    }

    fn manifest() -> Manifest {
        crate::manifest::manifest()
    }

    fn new(config: &str) -> Result<Self, PluginError> {
        Ok(Binance {
            config: Config::parse(config)?,
            market: MarketData::default(),
            user: UserStream::default(),
            socket: WsApi::default(),
            jobs: HashMap::new(),
            clock: clock::clock(),
            markets: BTreeSet::new(),
        })
    }

    fn subscribe(
        &mut self,
        streams: &[Stream],
        subscribe: bool,
        _now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        if subscribe {
            self.markets.extend(
                streams
                    .iter()
                    .filter(|stream| !stream.market.is_empty())
                    .map(|stream| stream.market.to_ascii_uppercase()),
            );
        }
        let mut outputs = self.market.subscribe(&self.config, streams, subscribe);
        outputs.extend(self.user.subscribe(&self.config, streams, subscribe));
        Ok(outputs)
    }

    fn on_connection(
        &mut self,
        connection: &str,
        up: bool,
        reason: &str,
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        if self.market.owns_connection(connection) {
            Ok(self.market.on_connection(connection, up, reason))
        } else if UserStream::owns_connection(connection) {
            // The key is in the URL: nothing to send.
            Ok(Vec::new())
        } else if connection == wsapi::CONNECTION {
            Ok(self.socket_connection(up, now_ms))
        } else {
            Err(PluginError::invalid(format!(
                "no connection `{connection}` was opened"
            )))
        }
    }

    fn on_frame(
        &mut self,
        connection: &str,
        frame: &str,
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        if UserStream::owns_connection(connection) {
            self.user.on_frame(&self.config, connection, frame)
        } else if connection == wsapi::CONNECTION {
            self.socket_frame(frame, now_ms)
        } else {
            self.market.on_frame(&self.config, frame, now_ms)
        }
    }

    fn begin(
        &mut self,
        job: u64,
        operation: &Operation,
        context: &RequestContext,
    ) -> Result<Vec<Output_NE>, PluginError> {
        self.learn_markets(operation);
        let markets: Vec<String> = self.markets.iter().cloned().collect();
        self.jobs
            .insert(job, Job::new(operation, context, &markets)?);
        self.advance(job, context.now_ms)
    }

    fn on_signed(
        &mut self,
        job: u64,
        signature: &[u8],
        _now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        if self.socket.owns(job) || self.socket.signs(job) {
            let output = self.socket.on_signed(&self.config, job, signature)?;
            return Ok(output.into_iter().map(out).collect());
        }
        let Some(pending) = self.jobs.get_mut(&job) else {
            return Err(PluginError::invalid(format!("no job {job} under way")));
        };
        Ok(vec![out(pending.signed(job, &self.config, signature)?)])
    }

    fn on_answer(
        &mut self,
        job: u64,
        answer: &Answer,
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        if self.market.owns(job) {
            return self.market.on_answer(&self.config, job, answer, now_ms);
        }
        if self.user.owns(job) {
            return self.user.on_answer(&self.config, job, answer, now_ms);
        }
        if self.clock.owns(job) {
            self.clock.on_answer(answer, now_ms, clock::server_time);
            return Ok(Vec::new());
        }
        if self.socket.owns(job) {
            // The logon was not signed: each request will be.
            self.socket.not_signed(job);
            return Ok(Vec::new());
        }
        let response = match (answer.kind, answer.response.as_ref().into_option()) {
            (AnswerKind::ANSWERED, Some(response)) => response,
            _ => {
                // Not sent, or given up on: the job is over.
                self.jobs.remove(&job);
                self.socket.forget(job);
                return Ok(Vec::new());
            }
        };
        self.answered(job, response, now_ms)
    }

    fn on_timer(&mut self, now_ms: u64) -> Result<Vec<Output_NE>, PluginError> {
        let mut outputs = self.market.on_timer(&self.config, now_ms);
        outputs.extend(self.user.on_timer(&self.config, now_ms));
        let config = &self.config;
        outputs.extend(self.clock.on_timer(now_ms, || clock::time_request(config)));
        Ok(outputs)
    }

    fn next_wakeup(&self) -> Option<u64> {
        [
            self.market.next_wakeup(),
            self.user.next_wakeup(),
            self.clock.next_wakeup(),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}
