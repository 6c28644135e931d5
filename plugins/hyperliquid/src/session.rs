//! The session: the streams wanted on each connection, which connections
//! are up, and the jobs between their phases (an action waiting for its
//! signature, a `post` waiting for its answer).

use std::collections::{BTreeMap, HashMap, HashSet};

use abi_stable::std_types::{RBox, RVec};

use plugin_api::{
    Answer, AnswerKind, Event, Event_NE, Exchange, Manifest, Operation, Outcome, OutcomeKind,
    Output, Output_NE, PluginError, Reply, RequestContext, Stream, StreamKind,
};

use crate::config::Config;
use crate::parse::Parsed;
use crate::requests::{Built, Continuation};
use crate::{manifest, parse, replies, requests, streams};

/// One configured Hyperliquid account.
pub struct Hyperliquid {
    config: Config,
    /// The streams the host wants, per connection.
    wanted: BTreeMap<&'static str, Vec<Stream>>,
    /// The connections asked for, and whether each is up.
    up: BTreeMap<&'static str, bool>,
    /// Jobs between their phases.
    jobs: HashMap<u64, Job>,
    /// Jobs whose `post` went out on the account socket (the post id is the
    /// job id).
    posted: HashSet<u64>,
}

/// A job between its phases.
struct Job {
    operation: Operation,
    continuation: Continuation,
    /// Post it on the account socket when that is up.
    prefer_socket: bool,
}

fn out(output: Output) -> Output_NE {
    Output_NE::new(output)
}

impl Hyperliquid {
    /// The frames that (un)subscribe `streams` on `connection`, if it is up.
    fn frames(
        &self,
        connection: &'static str,
        streams: &[Stream],
        subscribe: bool,
    ) -> Result<Vec<Output_NE>, PluginError> {
        if self.up.get(connection) != Some(&true) || streams.is_empty() {
            return Ok(Vec::new());
        }
        Ok(streams::frames(&self.config, streams, subscribe)?
            .into_iter()
            .map(|text| {
                out(Output::Send {
                    connection: connection.into(),
                    text,
                    job: None.into(),
                    costs: RVec::new(),
                })
            })
            .collect())
    }

    /// Finishes a job with the venue's answer.
    fn done(
        &mut self,
        job: u64,
        response: &plugin_api::Response,
    ) -> Result<Vec<Output_NE>, PluginError> {
        let Some(pending) = self.jobs.remove(&job) else {
            return Err(PluginError::invalid(format!("no job {job} under way")));
        };
        self.posted.remove(&job);
        let reply = replies::parse_reply(&pending.operation, response)?;
        Ok(vec![out(Output::Done {
            job,
            reply: RBox::new(reply),
        })])
    }
}

impl Exchange for Hyperliquid {
    fn mark_source(&self) -> Option<String> {
        Some(self.config.rest_url.clone())
    }

    fn manifest() -> Manifest {
        manifest::manifest()
    }

    fn new(config: &str) -> Result<Self, PluginError> {
        Ok(Hyperliquid {
            config: Config::parse(config)?,
            wanted: BTreeMap::new(),
            up: BTreeMap::new(),
            jobs: HashMap::new(),
            posted: HashSet::new(),
        })
    }

    fn subscribe(
        &mut self,
        streams: &[Stream],
        subscribe: bool,
        _now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        let mut changed: BTreeMap<&'static str, Vec<Stream>> = BTreeMap::new();
        for stream in streams {
            let connection = streams::route(stream);
            let wanted = self.wanted.entry(connection).or_default();
            let present = wanted.contains(stream);
            if subscribe && !present {
                wanted.push(stream.clone());
            } else if !subscribe && present {
                wanted.retain(|s| s != stream);
            } else {
                continue;
            }
            changed.entry(connection).or_default().push(stream.clone());
        }
        let mut outputs = Vec::new();
        for (connection, streams) in changed {
            if !self.up.contains_key(connection) {
                self.up.insert(connection, false);
                outputs.push(out(Output::Open(streams::connection(
                    &self.config,
                    connection,
                ))));
            }
            outputs.extend(self.frames(connection, &streams, subscribe)?);
        }
        Ok(outputs)
    }

    fn on_connection(
        &mut self,
        connection: &str,
        up: bool,
        reason: &str,
        _now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        let Some((&id, state)) = self.up.iter_mut().find(|(id, _)| **id == connection) else {
            return Err(PluginError::invalid(format!(
                "no connection `{connection}` was opened"
            )));
        };
        *state = up;
        let wanted = self.wanted.get(id).cloned().unwrap_or_default();
        if up {
            return self.frames(id, &wanted, true);
        }
        if id != streams::USER {
            // Every message is a full snapshot: the first after the
            // reconnect makes each book trusted again.
            return Ok(wanted
                .iter()
                .filter(|stream| stream.kind == StreamKind::BOOK)
                .map(|stream| {
                    out(Output::Event(Event_NE::new(Event::BookStale {
                        market: stream.market.clone(),
                        reason: format!("connection {id} down: {reason}").into(),
                    })))
                })
                .collect());
        }
        // Posts in flight on the lost socket may or may not have been
        // applied.
        let lost: Vec<u64> = self.posted.drain().collect();
        Ok(lost
            .into_iter()
            .filter_map(|job| {
                self.jobs.remove(&job)?;
                Some(out(Output::Done {
                    job,
                    reply: RBox::new(Reply::only(Outcome::new(
                        OutcomeKind::UNKNOWN,
                        "the account socket closed before the answer",
                    ))),
                }))
            })
            .collect())
    }

    fn on_frame(
        &mut self,
        _connection: &str,
        frame: &str,
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        match parse::parse_frame(frame, now_ms)? {
            Parsed::Events(events) => Ok(events
                .into_iter()
                .map(|event| out(Output::Event(event)))
                .collect()),
            Parsed::Post { id, response } => {
                if self.posted.contains(&id) {
                    self.done(id, &response)
                } else {
                    // An answer to a post given up on (the host stopped
                    // waiting): the host resolves that job by query.
                    Ok(Vec::new())
                }
            }
        }
    }

    fn begin(
        &mut self,
        job: u64,
        operation: &Operation,
        context: &RequestContext,
    ) -> Result<Vec<Output_NE>, PluginError> {
        let prepared = requests::prepare(&self.config, operation, context)?;
        let output = match prepared.sign {
            Some(request) => Output::Sign {
                job,
                request,
                costs: prepared.costs,
            },
            None => match requests::finish(&self.config, &prepared.continuation, &[], None)? {
                Built::Http(request) => Output::Http { job, request },
                Built::Post(_) => return Err(PluginError::invalid("a query is never posted")),
            },
        };
        self.jobs.insert(
            job,
            Job {
                operation: operation.clone(),
                continuation: prepared.continuation,
                prefer_socket: context.prefer_socket,
            },
        );
        Ok(vec![out(output)])
    }

    fn on_signed(
        &mut self,
        job: u64,
        signature: &[u8],
        _now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        let Some(pending) = self.jobs.get(&job) else {
            return Err(PluginError::invalid(format!("no job {job} under way")));
        };
        let socket_up = self.up.get(streams::USER) == Some(&true);
        let post_id = (pending.prefer_socket && socket_up).then_some(job);
        Ok(vec![
            match requests::finish(&self.config, &pending.continuation, signature, post_id)? {
                Built::Http(request) => out(Output::Http { job, request }),
                Built::Post(text) => {
                    self.posted.insert(job);
                    out(Output::Send {
                        connection: streams::USER.into(),
                        text: text.into(),
                        job: Some(job).into(),
                        costs: RVec::new(),
                    })
                }
            },
        ])
    }

    fn on_answer(
        &mut self,
        job: u64,
        answer: &Answer,
        _now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError> {
        match (answer.kind, answer.response.as_ref().into_option()) {
            (AnswerKind::ANSWERED, Some(response)) => self.done(job, response),
            _ => {
                // Not sent, or given up on: the job is over.
                self.jobs.remove(&job);
                self.posted.remove(&job);
                Ok(Vec::new())
            }
        }
    }
}
