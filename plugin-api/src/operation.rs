//! Operations: what the host asks a plugin to turn into a request, and the
//! two-phase build (what to sign, then the finished request).

use abi_stable::StableAbi;
use abi_stable::std_types::{ROption, RString, RVec, Tuple2};

use crate::{Market, ModifyRequest, OrderRef, OrderRequest};

/// Something the host wants done or fetched. Built by
/// [`prepare`](crate::ExchangePlugin::prepare), answered by
/// [`parse_reply`](crate::ExchangePlugin::parse_reply).
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
#[sabi(kind(WithNonExhaustive(size = [u64; 48], traits(Debug, Clone, PartialEq))))]
#[non_exhaustive]
pub enum Operation {
    /// Place one or more orders in one request.
    PlaceOrders(RVec<OrderRequest>),
    /// Cancel one or more orders.
    CancelOrders(RVec<OrderRef>),
    /// Modify one or more orders.
    ModifyOrders(RVec<ModifyRequest>),
    /// Arm the venue's dead man's switch to cancel every order at the given
    /// time (ms), or disarm it with `None`.
    ScheduleCancelAll(ROption<u64>),
    /// Set a market's leverage.
    SetLeverage {
        /// The market.
        market: Market,
        /// The leverage.
        leverage: u32,
        /// Cross margin (true) or isolated (false).
        cross: bool,
    },
    /// List the venue's markets. `cursor` is empty for the first page; a
    /// reply names the next page in [`Reply::next`].
    FetchMarkets {
        /// Which page.
        cursor: RString,
    },
    /// A snapshot of one order book.
    FetchBook(Market),
    /// Every open order of the account.
    FetchOpenOrders,
    /// One order's state, by client order id.
    FetchOrder(OrderRef),
    /// The account's fills since a time (ms).
    FetchFills {
        /// Start time, ms, inclusive.
        since_ms: u64,
    },
    /// Balances and positions.
    FetchAccount,
    /// Authenticate a connection after it opened (Bybit `auth`).
    AuthenticateConnection(RString),
    /// Create or extend the user-stream token (Binance listenKey).
    KeepAliveUserStream,
    /// What is left of the account's rate limits as the venue counts them
    /// (Hyperliquid `userRateLimit`), answered with
    /// [`Event::RateLimit`](crate::Event::RateLimit) events.
    FetchRateLimits,
}

/// What the host knows when it asks for a request to be built.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct RequestContext {
    /// The host's clock, ms since the Unix epoch.
    pub now_ms: u64,
    /// A nonce from the host's per-signer source: never repeated, also across
    /// restarts. Venues that sign with a timestamp use `now_ms` instead.
    pub nonce: u64,
    /// The request must not take effect after this time (ms), where the
    /// venue supports it (Hyperliquid `expiresAfter`).
    pub expires_after_ms: ROption<u64>,
    /// A correlation id, for requests sent over a WebSocket.
    pub request_id: u64,
    /// Send over this WebSocket connection instead of HTTP, if the plugin
    /// supports it for this operation.
    pub via_socket: ROption<RString>,
}

/// A request for a signature, handed to the signer as is.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct SignRequest {
    /// The signing scheme, e.g. `hyperliquid-l1` or `hmac-sha256`.
    pub scheme: RString,
    /// The scheme's fields as one JSON object, for example
    /// `{"action": …, "nonce": …, "vault_address": null, "expires_after": …,
    /// "network": "mainnet"}`. The signer recomputes what it signs from these.
    pub payload: RString,
}

/// Phase one of building a request.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Prepared {
    /// What must be signed first, if anything.
    pub sign: ROption<SignRequest>,
    /// The plugin's own continuation, handed back to
    /// [`finish`](crate::ExchangePlugin::finish) unchanged.
    pub state: RVec<u8>,
    /// What the finished request will cost against the manifest's
    /// rate-limit buckets (the same as its `costs`): the host waits for
    /// this capacity before it signs, so that waiting never leaves a signed
    /// action stale.
    pub costs: RVec<Tuple2<RString, u32>>,
}

crate::abi_code! {
    /// How a finished request travels.
    Transport {
        /// An HTTP request.
        HTTP = 1 => "http",
        /// A text frame on an open WebSocket.
        WEBSOCKET = 2 => "websocket",
    }
}

/// A finished request, ready to send.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Request {
    /// HTTP or WebSocket.
    pub transport: Transport,
    /// HTTP method (`POST`, `GET`, …); empty for WebSocket.
    pub method: RString,
    /// HTTP: the absolute URL. WebSocket: the id of the connection to send
    /// on.
    pub target: RString,
    /// HTTP headers.
    pub headers: RVec<Tuple2<RString, RString>>,
    /// The body or frame text.
    pub body: RString,
    /// Costs against the manifest's rate-limit buckets: (bucket id, weight).
    pub costs: RVec<Tuple2<RString, u32>>,
    /// For WebSocket requests: the id the answer will carry.
    pub request_id: u64,
}

/// A response to a request.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Response {
    /// HTTP status (or the status of a [`SocketReply`](crate::SocketReply)).
    pub status: u16,
    /// The response body.
    pub body: RString,
    /// Response headers that may matter (rate-limit usage, retry-after).
    pub headers: RVec<Tuple2<RString, RString>>,
}
