//! What a session asks the host to do, and what the host reports back about
//! a request it sent.

use abi_stable::StableAbi;
use abi_stable::std_types::{RBox, ROption, RString, RVec, Tuple2};

use crate::{ConnectionSpec, Event_NE, Reply, Request, Response, SignRequest};

/// A job id the session chose itself, for work of its own (a book
/// snapshot, a user-stream token, a keep-alive): the high bit is set. Ids
/// the host gives [`begin`](crate::ExchangeSession::begin) never have it.
pub const SESSION_JOB: u64 = 1 << 63;

/// One thing a session wants done, in order.
// `NonExhaustive` keeps every variant in one fixed-size storage whatever the
// variants' sizes; boxing the large ones would only add an allocation per
// event on the market path.
#[allow(clippy::large_enum_variant)]
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
#[sabi(kind(WithNonExhaustive(size = [u64; 40], traits(Debug, Clone, PartialEq))))]
#[non_exhaustive]
pub enum Output {
    /// Open (and keep open) a WebSocket; the host reports it with
    /// [`on_connection`](crate::ExchangeSession::on_connection).
    Open(ConnectionSpec),
    /// Close a connection for good.
    Close(RString),
    /// Write a text frame on an open connection. With a job, the frame is
    /// that job's request: if it cannot be written, the host reports it with
    /// [`on_answer`](crate::ExchangeSession::on_answer) (`NOT_SENT`); its answer comes
    /// back as a frame, and the session finishes the job.
    ///
    /// `costs` are taken from the rate-limit buckets before a job's frame
    /// is written, as for an HTTP request: a frame that needs capacity
    /// waits for it (a job that waited before anything of it left is begun
    /// again, so that nothing time-stamped goes out stale). A frame
    /// without a job is written at once; its costs still count against
    /// the buckets. A frame a [`Sign`](Output::Sign) paid for carries none.
    Send {
        /// The connection.
        connection: RString,
        /// The frame.
        text: RString,
        /// The job it is the request of, if any.
        job: ROption<u64>,
        /// Costs against the manifest's buckets: (bucket id, weight).
        costs: RVec<Tuple2<RString, u32>>,
    },
    /// Ask the signer to sign; the host answers with
    /// [`on_signed`](crate::ExchangeSession::on_signed). `costs` are
    /// taken from the rate-limit buckets before signing and pay for the
    /// job's next request, so that a wait for capacity never leaves a
    /// signature stale.
    Sign {
        /// The job.
        job: u64,
        /// What to sign.
        request: SignRequest,
        /// Costs against the manifest's buckets: (bucket id, weight).
        costs: RVec<Tuple2<RString, u32>>,
    },
    /// Send an HTTP request; the host answers with
    /// [`on_answer`](crate::ExchangeSession::on_answer).
    Http {
        /// The job.
        job: u64,
        /// The request.
        request: Request,
    },
    /// Something happened (market data, an order update, a fill, …).
    Event(Event_NE),
    /// A job is over: what its operation came to.
    Done {
        /// The job.
        job: u64,
        /// The classified outcome and the data it carried (boxed: a reply
        /// is large, and every output takes the largest variant's room).
        reply: RBox<Reply>,
    },
}

crate::abi_code! {
    /// What became of a request the host sent for a job.
    AnswerKind {
        /// The venue answered (`response` holds it).
        ANSWERED = 1 => "answered",
        /// It never left the host: nothing can have happened.
        NOT_SENT = 2 => "not_sent",
        /// It may or may not have reached the venue (a timeout, a
        /// connection lost after writing).
        UNKNOWN = 3 => "unknown",
    }
}

/// The host's report on a job's request.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Answer {
    /// What became of it.
    pub kind: AnswerKind,
    /// The venue's answer, when `kind` is `ANSWERED`.
    pub response: ROption<Response>,
    /// Why, when it was not answered.
    pub reason: RString,
}

impl Answer {
    /// The venue's answer.
    pub fn answered(response: Response) -> Answer {
        Answer {
            kind: AnswerKind::ANSWERED,
            response: ROption::RSome(response),
            reason: RString::new(),
        }
    }

    /// No answer, for `reason`.
    pub fn failed(kind: AnswerKind, reason: impl Into<RString>) -> Answer {
        Answer {
            kind,
            response: ROption::RNone,
            reason: reason.into(),
        }
    }
}
