//! The host's side of one exchange's plugin session: the only I/O driver of
//! the venue's protocol state machine.
//!
//! Inputs — frames, connections coming and going, signatures, answers,
//! time — go into the plugin under its lock; what comes out is acted on
//! here: connections opened and written to, events handed to the market and
//! account sinks, and each job's steps (sign, send, done) handed to the task
//! that runs the job ([`Session::run_job`]).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::Poll;
use std::time::Duration;

use abi_stable::std_types::{RBox, RString, RVec, Tuple2};
use plugin_api::{
    Answer, AnswerKind, ConnectionKind, ConnectionSpec, Event, Event_NE, Operation_NE, Output,
    Output_NE, PluginError, PluginInstance, Reply, Request, RequestContext, SESSION_JOB,
    SignRequest,
};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use super::backoff::Backoff;
use super::clock::now_ms;
use super::connection::{
    ConnectionControl, ConnectionDriver, ConnectionEvents, ConnectionSink, Outbound,
};
use super::http::{HttpExecutor, TransportError};
use crate::signer::SignerClient;

/// What became of a job.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// The venue answered; the plugin classified the answer.
    Answered(Box<Reply>),
    /// The plugin could not build it: nothing left the host.
    Refused(PluginError),
    /// It never left the host (signing failed, say).
    NotSent(String),
    /// The transport proved it never reached the venue.
    NotDelivered(String),
    /// It may or may not have reached the venue.
    Unknown(String),
}

/// One step of a job, as the plugin asks for it.
enum Step {
    Sign {
        request: SignRequest,
        costs: RVec<Tuple2<RString, u32>>,
    },
    Http(Request),
    Send {
        connection: RString,
        text: RString,
        costs: RVec<Tuple2<RString, u32>>,
    },
    Done(RBox<Reply>),
}

/// Whether a job may go on after paying for its next request.
enum Paid {
    /// Paid (or nothing to pay): go on.
    GoOn,
    /// Paid after a wait before anything of the job left: begin it again,
    /// so that nothing time-stamped goes out stale.
    BeginAgain,
}

/// A connection the session opened.
struct Link {
    kind: ConnectionKind,
    control: ConnectionControl,
}

/// Where a connection's events go: by its kind.
#[derive(Default)]
struct Sinks {
    market: Option<Arc<dyn ConnectionSink>>,
    user: Option<Arc<dyn ConnectionSink>>,
}

/// One exchange's session and the I/O around it.
pub struct Session {
    exchange: String,
    plugin: PluginInstance,
    http: HttpExecutor,
    signer: SignerClient,
    shutdown: watch::Receiver<bool>,
    stream_timeout_ms: Option<u64>,
    me: Weak<Session>,
    links: Mutex<HashMap<String, Link>>,
    sinks: Mutex<Sinks>,
    jobs: Mutex<HashMap<u64, mpsc::UnboundedSender<Step>>>,
    next_job: AtomicU64,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    timer: Notify,
    /// When the timer task next wakes the plugin (ms; `u64::MAX`: never).
    armed: AtomicU64,
}

/// What a session needs besides its plugin.
pub struct SessionParts {
    /// The exchange's configured name.
    pub exchange: String,
    /// Its HTTP executor (rate limits included).
    pub http: HttpExecutor,
    /// Its signer, with its key.
    pub signer: SignerClient,
    /// The host's shutdown signal.
    pub shutdown: watch::Receiver<bool>,
    /// The configured silence timeout of its connections, if any.
    pub stream_timeout_ms: Option<u64>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Session {
    /// A session around a configured plugin instance. Its timer runs from
    /// the first call that asks for one.
    pub fn new(plugin: PluginInstance, parts: SessionParts) -> Arc<Session> {
        let session = Arc::new_cyclic(|me| Session {
            exchange: parts.exchange,
            plugin,
            http: parts.http,
            signer: parts.signer,
            shutdown: parts.shutdown,
            stream_timeout_ms: parts.stream_timeout_ms,
            me: me.clone(),
            links: Mutex::new(HashMap::new()),
            sinks: Mutex::new(Sinks::default()),
            jobs: Mutex::new(HashMap::new()),
            next_job: AtomicU64::new(1),
            tasks: Mutex::new(Vec::new()),
            timer: Notify::new(),
            armed: AtomicU64::new(u64::MAX),
        });
        let timer = tokio::spawn(Arc::clone(&session).keep_time());
        lock(&session.tasks).push(timer);
        session
    }

    /// The plugin instance.
    pub fn plugin(&self) -> &PluginInstance {
        &self.plugin
    }

    /// The HTTP executor.
    pub fn http(&self) -> &HttpExecutor {
        &self.http
    }

    /// Sends market connections' events to `sink`.
    pub fn set_market_sink(&self, sink: Arc<dyn ConnectionSink>) {
        lock(&self.sinks).market = Some(sink);
    }

    /// Sends account and order-entry connections' events to `sink`.
    pub fn set_user_sink(&self, sink: Arc<dyn ConnectionSink>) {
        lock(&self.sinks).user = Some(sink);
    }

    /// Asks for `streams` (or stops asking, with `subscribe == false`).
    pub fn subscribe(&self, streams: &[plugin_api::Stream], subscribe: bool) {
        if streams.is_empty() {
            return;
        }
        match self.plugin.subscribe(streams, subscribe, now_ms()) {
            Ok(outputs) => self.act(None, outputs),
            Err(error) => warn!(exchange = %self.exchange, "plugin cannot subscribe: {error}"),
        }
    }

    /// Waits for the connection and timer tasks to end (after shutdown).
    pub async fn join(&self) {
        lock(&self.links).clear();
        let tasks: Vec<JoinHandle<()>> = lock(&self.tasks).drain(..).collect();
        for task in tasks {
            let _ = task.await;
        }
    }

    /// Runs one job for `operation`: begins it with a context from
    /// `context`, signs and sends what the plugin asks for, until the plugin
    /// finishes it or the transport proves something.
    ///
    /// Rate-limit capacity is paid before signing; if that had to wait
    /// before anything of the job left, the job is begun once more with a
    /// fresh context, so that a wait never leaves a signed action stale. A
    /// later call of a job (the next page, the second half of a read) is
    /// signed after its wait: beginning again would repeat what left.
    /// `while_waiting` runs once, at the first wait (or before the request
    /// leaves at the latest), so that its work delays nothing; `on_send`
    /// runs once, as the request leaves — both before the answer is
    /// applied. Whatever the plugin asks to have signed (an action, or a
    /// read on a venue that signs reads) the session's signer signs.
    pub async fn run_job(
        &self,
        operation: &Operation_NE,
        context: impl Fn() -> Result<RequestContext, String>,
        while_waiting: impl FnOnce(),
        on_send: impl FnOnce(),
    ) -> Delivery {
        let mut while_waiting = Some(while_waiting);
        let mut on_send = Some(on_send);
        // Capacity paid before a job was begun again pays for its next try.
        let mut prepaid = false;
        'begin: loop {
            let context = match context() {
                Ok(context) => context,
                Err(reason) => return Delivery::NotSent(reason),
            };
            let job = self.next_job.fetch_add(1, Ordering::Relaxed);
            let (steps_tx, mut steps) = mpsc::unbounded_channel();
            lock(&self.jobs).insert(job, steps_tx);
            let _forget = ForgetJob { session: self, job };
            match self.plugin.begin(job, operation, &context) {
                Ok(outputs) => self.act(None, outputs),
                Err(error) => return Delivery::Refused(error),
            }
            let mut paid = false;
            // Whether a call of this job has left.
            let mut left = false;
            loop {
                let Ok(Some(step)) =
                    tokio::time::timeout(self.http.timeout() * 2, steps.recv()).await
                else {
                    self.give_up(
                        job,
                        AnswerKind::UNKNOWN,
                        "the plugin did not finish the job",
                    );
                    return Delivery::Unknown("the plugin did not finish the job".to_owned());
                };
                match step {
                    Step::Sign { request, costs } => {
                        let paying = self.pay(job, &costs, &mut prepaid, left, &mut while_waiting);
                        if let Paid::BeginAgain = paying.await {
                            continue 'begin;
                        }
                        paid = true;
                        let signing = self.signer.sign(&request.scheme, &request.payload);
                        let signature = match on_first_wait(signing, &mut while_waiting).await {
                            Ok(signature) => signature,
                            Err(error) => {
                                self.give_up(job, AnswerKind::NOT_SENT, "not signed");
                                return Delivery::NotSent(format!("signing: {error}"));
                            }
                        };
                        match self.plugin.on_signed(job, &signature, now_ms()) {
                            Ok(outputs) => self.act(None, outputs),
                            Err(error) => {
                                self.give_up(job, AnswerKind::NOT_SENT, "not built");
                                return Delivery::Refused(error);
                            }
                        }
                    }
                    Step::Http(request) => {
                        run_hook(&mut while_waiting);
                        if !paid {
                            self.http.acquire(&request.costs).await;
                        }
                        paid = false;
                        let sent = on_first_wait(self.http.send(&request), &mut on_send).await;
                        run_hook(&mut on_send);
                        let response = match sent {
                            Ok(response) => response,
                            Err(TransportError::NotSent(reason)) => {
                                self.give_up(job, AnswerKind::NOT_SENT, &reason);
                                return Delivery::NotDelivered(reason);
                            }
                            Err(TransportError::Unknown(reason)) => {
                                self.give_up(job, AnswerKind::UNKNOWN, &reason);
                                return Delivery::Unknown(reason);
                            }
                        };
                        left = true;
                        match self
                            .plugin
                            .on_answer(job, &Answer::answered(response), now_ms())
                        {
                            Ok(outputs) => self.act(None, outputs),
                            Err(error) => {
                                return Delivery::Unknown(format!("unreadable answer ({error})"));
                            }
                        }
                    }
                    Step::Send {
                        connection,
                        text,
                        costs,
                    } => {
                        let paying = self.pay(job, &costs, &mut prepaid, left, &mut while_waiting);
                        if let Paid::BeginAgain = paying.await {
                            continue 'begin;
                        }
                        run_hook(&mut while_waiting);
                        let written =
                            on_first_wait(self.write(&connection, text.into()), &mut on_send).await;
                        run_hook(&mut on_send);
                        if let Err(reason) = written {
                            self.give_up(job, AnswerKind::NOT_SENT, &reason);
                            return Delivery::NotDelivered(reason);
                        }
                        // The answer comes back as a frame; the plugin then
                        // finishes the job.
                        match tokio::time::timeout(self.http.timeout(), steps.recv()).await {
                            Ok(Some(Step::Done(reply))) => {
                                self.http.observe(&reply);
                                return Delivery::Answered(Box::new(RBox::into_inner(reply)));
                            }
                            Ok(Some(_)) => {
                                self.give_up(job, AnswerKind::UNKNOWN, "unexpected step");
                                return Delivery::Unknown(
                                    "the plugin asked for more after a socket request".to_owned(),
                                );
                            }
                            Ok(None) | Err(_) => {
                                let reason = format!(
                                    "no answer on {connection} within {:?}",
                                    self.http.timeout()
                                );
                                self.give_up(job, AnswerKind::UNKNOWN, &reason);
                                return Delivery::Unknown(reason);
                            }
                        }
                    }
                    Step::Done(reply) => {
                        run_hook(&mut while_waiting);
                        run_hook(&mut on_send);
                        self.http.observe(&reply);
                        return Delivery::Answered(Box::new(RBox::into_inner(reply)));
                    }
                }
            }
        }
    }

    /// Pays `costs` for the next request of `job`, unless a wait before
    /// the job was begun again paid already (`prepaid`). After a wait
    /// before any of the job has `left`, the plugin is told the job is
    /// given up, to be begun again (once a call has left, beginning again
    /// would repeat it: a later call is built after its wait).
    async fn pay(
        &self,
        job: u64,
        costs: &[Tuple2<RString, u32>],
        prepaid: &mut bool,
        left: bool,
        while_waiting: &mut Option<impl FnOnce()>,
    ) -> Paid {
        // Even a request without costs waits out the venue's pause.
        if std::mem::take(prepaid) {
            return Paid::GoOn;
        }
        let waited = on_first_wait(self.http.acquire(costs), while_waiting).await;
        if !waited.is_zero() && !left {
            *prepaid = true;
            self.give_up(
                job,
                AnswerKind::NOT_SENT,
                "begun again after a rate-limit wait",
            );
            return Paid::BeginAgain;
        }
        Paid::GoOn
    }

    /// Tells the plugin a job is over without an answer.
    fn give_up(&self, job: u64, kind: AnswerKind, reason: &str) {
        match self
            .plugin
            .on_answer(job, &Answer::failed(kind, reason), now_ms())
        {
            Ok(outputs) => self.act(None, outputs),
            Err(error) => {
                debug!(exchange = %self.exchange, job, "plugin on a job given up: {error}")
            }
        }
    }

    /// Writes a frame on a connection and waits until it is written.
    async fn write(&self, connection: &str, frame: String) -> Result<(), String> {
        let outbound = lock(&self.links)
            .get(connection)
            .map(|link| link.control.outbound.clone())
            .ok_or_else(|| format!("connection {connection} is not open"))?;
        let (written, result) = oneshot::channel();
        outbound
            .send(Outbound { frame, written })
            .await
            .map_err(|_| format!("connection {connection} is closed"))?;
        result
            .await
            .map_err(|_| format!("connection {connection} closed before writing"))?
    }

    /// Acts on a plugin's outputs, in order. `origin` is the connection they
    /// came from, if any.
    fn act(&self, origin: Option<&str>, outputs: RVec<Output_NE>) {
        let mut market = RVec::new();
        let mut user = RVec::new();
        for output in outputs {
            let output = match output.into_enum() {
                Ok(output) => output,
                Err(_) => {
                    warn!(exchange = %self.exchange, "an output of a newer plugin ABI was ignored");
                    continue;
                }
            };
            match output {
                Output::Open(spec) => self.open(spec),
                Output::Close(connection) => {
                    lock(&self.links).remove(connection.as_str());
                }
                Output::Send {
                    connection,
                    text,
                    job,
                    costs,
                } => match job.into_option() {
                    Some(job) => self.step(
                        job,
                        Step::Send {
                            connection,
                            text,
                            costs,
                        },
                    ),
                    None => {
                        self.send_now(&connection, text.into());
                        self.count(costs);
                    }
                },
                Output::Sign {
                    job,
                    request,
                    costs,
                } => self.step(job, Step::Sign { request, costs }),
                Output::Http { job, request } => self.step(job, Step::Http(request)),
                Output::Event(event) => {
                    if is_market_event(&event) {
                        market.push(event);
                    } else {
                        user.push(event);
                    }
                }
                Output::Done { job, reply } => self.step(job, Step::Done(reply)),
                _ => {
                    warn!(exchange = %self.exchange, "an output this host does not know was ignored")
                }
            }
        }
        let connection = origin.unwrap_or("session");
        let (market_sink, user_sink) = {
            let sinks = lock(&self.sinks);
            (sinks.market.clone(), sinks.user.clone())
        };
        for (events, sink) in [(market, market_sink), (user, user_sink)] {
            if let (false, Some(sink)) = (events.is_empty(), sink) {
                sink.on_events(connection, events);
            }
        }
        // Wake the timer task only when the plugin wants waking sooner
        // than it is armed for.
        if self
            .plugin
            .next_wakeup()
            .is_some_and(|at| at < self.armed.load(Ordering::Relaxed))
        {
            self.timer.notify_one();
        }
    }

    /// Hands a job's step to the task that runs it; runs the session's own
    /// jobs itself.
    fn step(&self, job: u64, step: Step) {
        if job & SESSION_JOB != 0 {
            if let Some(session) = self.me.upgrade() {
                tokio::spawn(async move { session.session_step(job, step).await });
            }
            return;
        }
        let sender = lock(&self.jobs).get(&job).cloned();
        match sender {
            Some(sender) => {
                let _ = sender.send(step);
            }
            None => debug!(exchange = %self.exchange, job, "a step of a job no longer waited for"),
        }
    }

    /// One step of a job the session started for itself (a snapshot, a
    /// token, an authentication): its results go back into the session.
    async fn session_step(&self, job: u64, step: Step) {
        let outputs = match step {
            Step::Sign { request, costs } => {
                self.http.acquire(&costs).await;
                match self.signer.sign(&request.scheme, &request.payload).await {
                    Ok(signature) => self.plugin.on_signed(job, &signature, now_ms()),
                    Err(error) => self.plugin.on_answer(
                        job,
                        &Answer::failed(AnswerKind::NOT_SENT, format!("signing: {error}")),
                        now_ms(),
                    ),
                }
            }
            Step::Http(request) => {
                let answer = match self.http.execute(&request).await {
                    Ok(response) => Answer::answered(response),
                    Err(TransportError::NotSent(reason)) => {
                        Answer::failed(AnswerKind::NOT_SENT, reason)
                    }
                    Err(TransportError::Unknown(reason)) => {
                        Answer::failed(AnswerKind::UNKNOWN, reason)
                    }
                };
                self.plugin.on_answer(job, &answer, now_ms())
            }
            Step::Send {
                connection,
                text,
                costs,
            } => {
                self.http.acquire(&costs).await;
                let answer = match self.write(&connection, text.into()).await {
                    Ok(()) => return,
                    Err(reason) => Answer::failed(AnswerKind::NOT_SENT, reason),
                };
                self.plugin.on_answer(job, &answer, now_ms())
            }
            Step::Done(reply) => {
                self.http.observe(&reply);
                let events = RBox::into_inner(reply)
                    .events
                    .into_iter()
                    .map(|event| Output_NE::new(Output::Event(event)))
                    .collect();
                self.act(None, events);
                return;
            }
        };
        match outputs {
            Ok(outputs) => self.act(None, outputs),
            Err(error) => warn!(exchange = %self.exchange, job, "plugin: {error}"),
        }
    }

    /// Counts the costs of a frame already written against the buckets
    /// (later requests wait for them).
    fn count(&self, costs: RVec<Tuple2<RString, u32>>) {
        if costs.is_empty() {
            return;
        }
        if let Some(session) = self.me.upgrade() {
            tokio::spawn(async move {
                session.http.acquire(&costs).await;
            });
        }
    }

    /// Writes a frame that is no job's request, without waiting.
    fn send_now(&self, connection: &str, frame: String) {
        let outbound = lock(&self.links)
            .get(connection)
            .map(|link| link.control.outbound.clone());
        let Some(outbound) = outbound else {
            warn!(exchange = %self.exchange, connection, "frame for a connection that is not open dropped");
            return;
        };
        let (written, _) = oneshot::channel();
        if outbound.try_send(Outbound { frame, written }).is_err() {
            warn!(exchange = %self.exchange, connection, "connection queue full; frame dropped");
        }
    }

    /// Opens (and keeps open) a connection the plugin asked for.
    fn open(&self, spec: ConnectionSpec) {
        let mut links = lock(&self.links);
        if links.contains_key(spec.id.as_str()) {
            return;
        }
        let Some(session) = self.me.upgrade() else {
            return;
        };
        let mut spec = spec;
        if let Some(timeout) = self.stream_timeout_ms {
            spec.idle_timeout_ms = timeout;
            spec.ping_interval_ms = spec.ping_interval_ms.min(timeout / 3);
        }
        let (driver, control) = ConnectionDriver::new(
            spec.clone(),
            session as Arc<dyn ConnectionEvents>,
            self.shutdown.clone(),
            Backoff::new(
                Duration::from_millis(250),
                Duration::from_secs(30),
                seed(&spec.id),
            ),
        );
        links.insert(
            spec.id.to_string(),
            Link {
                kind: spec.kind,
                control,
            },
        );
        drop(links);
        lock(&self.tasks).push(tokio::spawn(driver.run()));
    }

    fn sink_of(&self, connection: &str) -> Option<Arc<dyn ConnectionSink>> {
        let kind = lock(&self.links).get(connection).map(|link| link.kind)?;
        let sinks = lock(&self.sinks);
        if kind == ConnectionKind::MARKET {
            sinks.market.clone()
        } else {
            sinks.user.clone()
        }
    }

    /// Wakes the plugin whenever it asked to be.
    async fn keep_time(self: Arc<Self>) {
        let mut shutdown = self.shutdown.clone();
        loop {
            let wakeup = self.plugin.next_wakeup();
            self.armed
                .store(wakeup.unwrap_or(u64::MAX), Ordering::Relaxed);
            let sleep = match wakeup {
                Some(at) => Duration::from_millis(at.saturating_sub(now_ms())),
                None => Duration::from_secs(3600),
            };
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {
                    if wakeup.is_some_and(|at| at <= now_ms()) {
                        match self.plugin.on_timer(now_ms()) {
                            Ok(outputs) => self.act(None, outputs),
                            Err(error) => warn!(exchange = %self.exchange, "plugin timer: {error}"),
                        }
                    }
                }
                _ = self.timer.notified() => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

impl ConnectionEvents for Session {
    fn on_frame(&self, connection: &str, frame: &str) {
        match self.plugin.on_frame(connection, frame, now_ms()) {
            Ok(outputs) if outputs.is_empty() => {}
            Ok(outputs) => self.act(Some(connection), outputs),
            Err(error) => {
                if let Some(sink) = self.sink_of(connection) {
                    sink.on_parse_error(connection, frame, error);
                }
            }
        }
    }

    fn on_up(&self, connection: &str) {
        match self.plugin.on_connection(connection, true, "", now_ms()) {
            Ok(outputs) => self.act(Some(connection), outputs),
            Err(error) => report(&self.exchange, connection, &error),
        }
        if let Some(sink) = self.sink_of(connection) {
            sink.on_up(connection);
        }
    }

    fn on_down(&self, connection: &str, reason: &str) {
        if let Some(sink) = self.sink_of(connection) {
            sink.on_down(connection, reason);
        }
        match self
            .plugin
            .on_connection(connection, false, reason, now_ms())
        {
            Ok(outputs) => self.act(Some(connection), outputs),
            Err(error) => report(&self.exchange, connection, &error),
        }
    }
}

fn report(exchange: &str, connection: &str, error: &PluginError) {
    warn!(exchange, connection, "plugin: {error}");
}

/// Book, staleness, trade, best-bid-and-offer and funding events go to the
/// market sink; everything else to the account's.
fn is_market_event(event: &Event_NE) -> bool {
    matches!(
        event.as_enum(),
        Ok(Event::Book(_)
            | Event::BookStale { .. }
            | Event::Trade(_)
            | Event::Bbo(_)
            | Event::Funding(_))
    )
}

/// Removes a job's step channel when its runner is done with it.
struct ForgetJob<'a> {
    session: &'a Session,
    job: u64,
}

impl Drop for ForgetJob<'_> {
    fn drop(&mut self) {
        lock(&self.session.jobs).remove(&self.job);
    }
}

/// Runs `hook` if it is still there.
pub fn run_hook(hook: &mut Option<impl FnOnce()>) {
    if let Some(hook) = hook.take() {
        hook();
    }
}

/// Runs `future`; if it has to wait, `hook` (when still there) runs
/// first, so that its work overlaps the wait instead of delaying what
/// `future` started (a request written, say).
pub async fn on_first_wait<F: Future>(future: F, hook: &mut Option<impl FnOnce()>) -> F::Output {
    let mut future = std::pin::pin!(future);
    match futures_util::poll!(future.as_mut()) {
        Poll::Ready(output) => output,
        Poll::Pending => {
            run_hook(hook);
            future.await
        }
    }
}

/// A per-name seed so that hosts and connections spread their reconnects.
pub fn seed(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    }) ^ u64::from(std::process::id())
}
