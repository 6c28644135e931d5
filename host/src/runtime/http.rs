//! Sending the plugin's HTTP requests: pooled connections, timeouts, the
//! rate limiter, and the distinction that matters for orders — a request
//! that never left the host versus one whose outcome is unknown.

use std::sync::Arc;
use std::time::{Duration, Instant};

use abi_stable::std_types::{ROption, RString, RVec, Tuple2};
use plugin_api::{Event, OutcomeKind, Reply, Request, Response};

use super::ratelimit::{self, RateLimiter, VenueCounts};
use crate::publisher::StatusPublisher;

/// Waits shorter than this are not reported as throttling.
const REPORTED_WAIT: Duration = Duration::from_millis(1);

/// Why no response came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The request never left the host (no connection could be made, or it
    /// could not be built): nothing can have happened.
    #[error("not sent: {0}")]
    NotSent(String),
    /// The request may have reached the exchange (timeout, connection reset
    /// after sending): its outcome is unknown.
    #[error("outcome unknown: {0}")]
    Unknown(String),
}

/// Executes HTTP requests for one exchange connection.
#[derive(Clone)]
pub struct HttpExecutor {
    client: reqwest::Client,
    timeout: Duration,
    limiter: Arc<RateLimiter>,
    status: Option<(StatusPublisher, String)>,
    counts: Arc<VenueCounts>,
}

impl HttpExecutor {
    /// A pooled client with the given request timeout.
    pub fn new(
        limiter: Arc<RateLimiter>,
        timeout: Duration,
    ) -> Result<HttpExecutor, TransportError> {
        // One TLS provider for reqwest and tokio-tungstenite; installing it
        // twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .build()
            .map_err(|error| TransportError::NotSent(format!("HTTP client: {error}")))?;
        Ok(HttpExecutor {
            client,
            timeout,
            limiter,
            status: None,
            counts: Arc::default(),
        })
    }

    /// How long one request may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Publishes for `exchange` `host.status.throttle` whenever a request
    /// waits for rate-limit capacity, and `host.status.rate_limit` whenever
    /// a reply says how much the venue has left.
    pub fn reporting_to(mut self, status: StatusPublisher, exchange: &str) -> HttpExecutor {
        self.status = Some((status, exchange.to_owned()));
        self
    }

    /// Sets the rate limiter's buckets to the venue's counts a reply
    /// carried (`Event::RateLimit`: the answer to a rate-limit query, or
    /// limit headers on any answer), and publishes them — a
    /// count told on every answer at most once a second per bucket, and at
    /// once when the bucket runs low or recovers. A refusal that says when
    /// to come back (a 429's or a ban's `Retry-After`) pauses every request
    /// of the exchange until then.
    pub fn observe(&self, reply: &Reply) {
        if reply.outcome.kind == OutcomeKind::NOT_PROCESSED
            && let ROption::RSome(wait) = reply.outcome.retry_after_ms
        {
            self.limiter
                .pause_until(Instant::now() + Duration::from_millis(wait));
        }
        for event in reply.events.iter() {
            if let Ok(Event::RateLimit(state)) = event.as_enum() {
                let now = Instant::now();
                self.limiter.sync(state, now);
                if let Some((status, exchange)) = &self.status
                    && self.counts.worth_reporting(state, now)
                {
                    status.rate_limit(exchange, state);
                    ratelimit::log_venue_count(exchange, state);
                }
            }
        }
    }

    /// Sends one request after paying its rate-limit costs.
    pub async fn execute(&self, request: &Request) -> Result<Response, TransportError> {
        self.acquire(&request.costs).await;
        self.send(request).await
    }

    /// Waits until the rate limiter can pay `costs`, pays them, and
    /// publishes the wait if there was one. Returns how long it waited.
    pub async fn acquire(&self, costs: &[Tuple2<RString, u32>]) -> Duration {
        let waited = self.limiter.acquire(costs).await;
        if waited.duration >= REPORTED_WAIT
            && let Some((status, exchange)) = &self.status
        {
            status.throttled(
                exchange,
                waited.bucket.as_deref().unwrap_or_default(),
                u64::try_from(waited.duration.as_millis()).unwrap_or(u64::MAX),
            );
        }
        waited.duration
    }

    /// Sends one request whose rate-limit costs were paid with
    /// [`acquire`](HttpExecutor::acquire).
    pub async fn send(&self, request: &Request) -> Result<Response, TransportError> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| TransportError::NotSent(format!("bad method {}", request.method)))?;
        let mut builder = self
            .client
            .request(method, request.url.as_str())
            .body(request.body.to_string());
        for header in request.headers.iter() {
            builder = builder.header(header.0.as_str(), header.1.as_str());
        }
        let sent = std::time::Instant::now();
        let answer = builder.send().await.map_err(|error| {
            if error.is_connect() || error.is_builder() {
                TransportError::NotSent(error.to_string())
            } else {
                TransportError::Unknown(error.to_string())
            }
        })?;
        let status = answer.status().as_u16();
        // Every header: venues put retry times and rate-limit counts there.
        let headers: RVec<Tuple2<_, _>> = answer
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some(Tuple2(name.as_str().into(), value.to_str().ok()?.into()))
            })
            .collect();
        let body = read_body(answer).await?;
        crate::metrics::registry()
            .request_latency
            .observe(sent.elapsed());
        Ok(Response {
            status,
            body: body.into(),
            headers,
        })
    }
}

/// The most of an answer's body the host reads: far above any venue's
/// largest answer, and a bound on what a broken or hostile server can make
/// the host hold.
pub const MAX_ANSWER_BYTES: usize = 64 << 20;

/// Reads an answer's body as text, refusing one larger than
/// [`MAX_ANSWER_BYTES`]. A refused or unreadable answer leaves the outcome
/// unknown: the request was sent.
async fn read_body(mut answer: reqwest::Response) -> Result<String, TransportError> {
    let too_large = || {
        TransportError::Unknown(format!(
            "the answer is larger than {MAX_ANSWER_BYTES} bytes"
        ))
    };
    if answer
        .content_length()
        .is_some_and(|length| length > MAX_ANSWER_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = answer
        .chunk()
        .await
        .map_err(|error| TransportError::Unknown(format!("reading the answer: {error}")))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body)
        .map_err(|error| TransportError::Unknown(format!("the answer is not UTF-8: {error}")))
}
