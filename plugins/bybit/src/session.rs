//! The session: the sockets, and each job between its phases (a call
//! waiting for its signature, or for its answer over REST or the trade
//! socket; the calls still to make and the events read so far).

use std::collections::{HashMap, VecDeque};

use abi_stable::std_types::RBox;
use bybit_core::codes;
use bybit_core::envelope::Envelope;
use plugin_api::venue_clock::VenueClock;
use plugin_api::{
    Answer, AnswerKind, Event_NE, Exchange, Manifest, Operation, Outcome, OutcomeKind, Output,
    Output_NE, PluginError, PluginErrorKind, RejectReason, Reply, RequestContext, Stream,
};
use serde_json::Value;

use crate::clock;
use crate::config::Config;
use crate::dcp::Dcp;
use crate::manifest;
use crate::private::{self, Private};
use crate::public::{self, Public};
use crate::replies::{self, Read};
use crate::rest::{self, Call};
use crate::trade::{self, Trade, TradeFrame};

/// The longest receive window Bybit takes, ms.
const MAX_RECV_WINDOW_MS: u64 = 60_000;

/// One configured Bybit account.
pub struct Bybit {
    config: Config,
    public: Public,
    private: Private,
    trade: Trade,
    dcp: Dcp,
    clock: VenueClock,
    jobs: HashMap<u64, Job>,
}

/// A job between its phases.
struct Job {
    operation: Operation,
    /// Calls still to make.
    pending: VecDeque<Call>,
    /// The call under way, and the timestamp and window it is signed with.
    current: Option<(Call, u64, u64)>,
    /// Events read from earlier answers.
    events: Vec<Event_NE>,
    /// Until when the venue may act on it (actions).
    valid_until_ms: Option<u64>,
    /// The host prefers the trade socket to REST for it.
    prefer_socket: bool,
}

fn out(output: Output) -> Output_NE {
    Output_NE::new(output)
}

/// Whether Bybit refused a request for its timestamp (`10002`): the clock
/// offset is to be measured again.
fn stamped_outside_the_window(response: &plugin_api::Response) -> bool {
    Envelope::parse(&response.body).is_ok_and(|envelope| envelope.ret_code == codes::TIMESTAMP)
}

fn done(job: u64, reply: Reply) -> Output_NE {
    out(Output::Done {
        job,
        reply: RBox::new(reply),
    })
}

impl Bybit {
    /// Makes the job's next call (signed, or sent as it is), or finishes
    /// it with what was read when none is left.
    fn next_call(&mut self, id: u64, next: Option<Call>, now_ms: u64) -> Vec<Output_NE> {
        let Some(job) = self.jobs.get_mut(&id) else {
            return Vec::new();
        };
        let Some(call) = next.or_else(|| job.pending.pop_front()) else {
            let events = std::mem::take(&mut job.events);
            self.jobs.remove(&id);
            let mut reply = Reply::only(Outcome::new(plugin_api::OutcomeKind::ACCEPTED, "ok"));
            reply.events.extend(events);
            return vec![done(id, reply)];
        };
        if !call.signed {
            let request = call.request(&self.config, None);
            job.current = Some((call, 0, 0));
            return vec![out(Output::Http { job: id, request })];
        }
        let recv_window = job
            .valid_until_ms
            .map_or(self.config.recv_window_ms, |until| {
                until.saturating_sub(now_ms).clamp(1, MAX_RECV_WINDOW_MS)
            });
        let timestamp = self.clock.venue_time(now_ms);
        let mut outputs = Vec::new();
        if job.prefer_socket {
            outputs.extend(self.trade.open());
            if let Some(send) = self.trade.request(id, &call, timestamp, recv_window) {
                job.current = Some((call, timestamp, recv_window));
                outputs.push(send);
                return outputs;
            }
        }
        let request = call.sign_request(&self.config, timestamp, recv_window);
        let costs = call.sign_costs();
        job.current = Some((call, timestamp, recv_window));
        outputs.push(out(Output::Sign {
            job: id,
            request,
            costs,
        }));
        outputs
    }

    /// The venue's answer to the job's call under way (over REST or the
    /// trade socket): the job goes on with its next call, or is done.
    fn answered(
        &mut self,
        job: u64,
        response: &plugin_api::Response,
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        let Some(pending) = self.jobs.get_mut(&job) else {
            return Err(PluginError::invalid(format!("no job {job} under way")));
        };
        let Some((call, _, _)) = pending.current.take() else {
            return Err(PluginError::invalid(format!("job {job} sent nothing")));
        };
        if stamped_outside_the_window(response) {
            self.clock.resync_soon(now_ms);
        }
        match replies::read(&pending.operation, &call, response)? {
            Read::Finished(mut reply) => {
                let mut events = std::mem::take(&mut pending.events);
                events.extend(reply.events);
                reply.events = events.into();
                self.jobs.remove(&job);
                let mut outputs = Vec::new();
                if self.dcp.arms(job) {
                    let accepted = reply.outcome.kind == OutcomeKind::ACCEPTED;
                    if self.dcp.armed(job, accepted) {
                        outputs.extend(self.private.set_dcp(true));
                    }
                }
                outputs.push(done(job, *reply));
                Ok(outputs)
            }
            Read::More { events, next } => {
                pending.events.extend(events);
                Ok(self.next_call(job, next, now_ms))
            }
        }
    }

    /// The trade socket came up (its `auth` to sign) or went down: the
    /// requests it had not answered end with an unknown outcome.
    fn trade_connection(&mut self, up: bool, now_ms: u64) -> Vec<Output_NE> {
        let (auth, lost) = self.trade.on_connection(up, self.clock.venue_time(now_ms));
        let mut outputs: Vec<Output_NE> = auth.into_iter().collect();
        for job in lost {
            if self.jobs.remove(&job).is_some() {
                self.dcp.armed(job, false);
                let outcome = Outcome::new(
                    OutcomeKind::UNKNOWN,
                    "the trade socket closed before the answer",
                );
                outputs.push(done(job, Reply::only(outcome)));
            }
        }
        outputs
    }

    /// A frame of the trade socket.
    fn trade_frame(&mut self, message: &Value, now_ms: u64) -> Result<Vec<Output_NE>, PluginError> {
        match self.trade.on_frame(message) {
            TradeFrame::Answer { job, response } => self.answered(job, &response, now_ms),
            TradeFrame::Auth(Err(said)) => Ok(vec![out(Output::Event(Event_NE::new(
                plugin_api::Event::Notice {
                    text: format!(
                        "bybit trade socket not authenticated ({said}): orders go over REST"
                    )
                    .into(),
                    fatal: false,
                },
            )))]),
            TradeFrame::Auth(Ok(())) | TradeFrame::Nothing => Ok(Vec::new()),
        }
    }
}

impl Exchange for Bybit {
    fn mark_source(&self) -> Option<String> {
        Some(self.config.api_url.clone())
    }

    fn manifest() -> Manifest {
        manifest::manifest()
    }

    fn new(config: &str) -> Result<Self, PluginError> {
        let config = Config::parse(config)?;
        Ok(Bybit {
            public: Public::new(&config.stream_url),
            private: Private::new(&config.stream_url, &config.api_key),
            trade: Trade::new(&config.stream_url, &config.api_key),
            config,
            dcp: Dcp::default(),
            clock: clock::clock(),
            jobs: HashMap::new(),
        })
    }

    fn subscribe(
        &mut self,
        streams: &[Stream],
        subscribe: bool,
        _now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        let mut outputs = self.public.subscribe(streams, subscribe);
        outputs.extend(self.private.subscribe(streams, subscribe));
        Ok(outputs)
    }

    fn on_connection(
        &mut self,
        connection: &str,
        up: bool,
        reason: &str,
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        match connection {
            public::CONNECTION => Ok(self.public.on_connection(up, reason)),
            // `auth`'s expiry is on Bybit's clock.
            private::CONNECTION => Ok(self
                .private
                .on_connection(up, self.clock.venue_time(now_ms))),
            trade::CONNECTION => Ok(self.trade_connection(up, now_ms)),
            other => Err(PluginError::invalid(format!(
                "bybit opens no connection `{other}`"
            ))),
        }
    }

    fn on_frame(
        &mut self,
        connection: &str,
        frame: &str,
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        // Books and account records first, read without a generic parse
        // (the bulk of the traffic); anything else, or a frame that does
        // not read so, through the general path.
        if connection == public::CONNECTION
            && let Some(outputs) = self.public.on_book_text(frame)
        {
            return Ok(outputs);
        }
        if connection == private::CONNECTION
            && let Some(outputs) = self.private.on_record_text(frame)
        {
            return outputs;
        }
        let message: Value = serde_json::from_str(frame)
            .map_err(|error| PluginError::malformed(format!("bybit frame: {error}")))?;
        match connection {
            public::CONNECTION => self.public.on_frame(&message),
            private::CONNECTION => self.private.on_frame(&message),
            trade::CONNECTION => self.trade_frame(&message, now_ms),
            other => Err(PluginError::invalid(format!(
                "bybit opens no connection `{other}`"
            ))),
        }
    }

    fn begin(
        &mut self,
        job: u64,
        operation: &Operation,
        context: &RequestContext,
    ) -> Result<Vec<Output_NE>, PluginError> {
        let calls = match operation {
            Operation::ArmDeadManSwitch(deadline) => self
                .dcp
                .arm(job, deadline.into_option(), context.now_ms)
                .map(|call| vec![call])
                .map_err(PluginError::invalid),
            operation => rest::calls(operation),
        };
        let calls = match calls {
            Ok(calls) => calls,
            Err(error) if error.kind == PluginErrorKind::UNSUPPORTED => return Err(error),
            // Nothing was sent: the request is refused as it stands.
            Err(error) => {
                let outcome =
                    Outcome::rejected(RejectReason::INVALID_REQUEST, error.message.as_str());
                return Ok(vec![done(job, Reply::only(outcome))]);
            }
        };
        self.jobs.insert(
            job,
            Job {
                operation: operation.clone(),
                pending: calls.into(),
                current: None,
                events: Vec::new(),
                valid_until_ms: context.valid_until_ms.into_option(),
                prefer_socket: context.prefer_socket,
            },
        );
        Ok(self.next_call(job, None, context.now_ms))
    }

    fn on_signed(
        &mut self,
        job: u64,
        signature: &[u8],
        _now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        if self.private.owns(job) {
            return Ok(self.private.on_signed(job, signature));
        }
        if self.trade.owns(job) {
            return Ok(self.trade.on_signed(job, signature).into_iter().collect());
        }
        let (call, timestamp, recv_window) = self
            .jobs
            .get(&job)
            .and_then(|job| job.current.as_ref())
            .ok_or_else(|| PluginError::invalid(format!("job {job} waits for no signature")))?;
        let request = call.request(&self.config, Some((*timestamp, *recv_window, signature)));
        Ok(vec![out(Output::Http { job, request })])
    }

    fn on_answer(
        &mut self,
        job: u64,
        answer: &Answer,
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        if self.private.owns(job) {
            return Ok(self.private.auth_failed(answer.reason.as_str()));
        }
        if self.trade.owns(job) {
            // Orders go over REST until the next connection.
            self.trade.auth_failed();
            return Ok(Vec::new());
        }
        if self.clock.owns(job) {
            self.clock.on_answer(answer, now_ms, clock::server_time);
            return Ok(Vec::new());
        }
        let response = match (answer.kind, answer.response.as_ref().into_option()) {
            (AnswerKind::ANSWERED, Some(response)) => response,
            // Not sent, or no answer: the host settles the job itself.
            _ => {
                self.jobs.remove(&job);
                self.trade.forget(job);
                self.dcp.armed(job, false);
                return Ok(Vec::new());
            }
        };
        self.answered(job, response, now_ms)
    }

    fn on_timer(&mut self, now_ms: u64) -> Result<Vec<Output_NE>, PluginError> {
        let config = &self.config;
        let mut outputs = self.clock.on_timer(now_ms, || clock::time_request(config));
        // No refresh of the dead man's switch came in time: let it fire.
        if self.dcp.on_timer(now_ms) {
            outputs.extend(self.private.set_dcp(false));
        }
        Ok(outputs)
    }

    fn next_wakeup(&self) -> Option<u64> {
        [self.dcp.next_wakeup(), self.clock.next_wakeup()]
            .into_iter()
            .flatten()
            .min()
    }
}
