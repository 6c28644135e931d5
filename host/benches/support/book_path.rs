//! The market path as the host runs it, for benches: a book frame through
//! the plugin session (the `.so`, across the ABI), the book, the JSON of
//! the published message and the publisher's queue. Hyperliquid's here;
//! other venues' plugins plug into [`MarketPath::with`]. Each bench uses a
//! part of it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use connector_host::book::{BookStatus, MarketData, MarketSink};
use connector_host::publisher::Publisher;
use connector_host::runtime::{ConnectionEvents, HttpExecutor, RateLimiter, Session, SessionParts};
use connector_host::signer::SignerClient;
use plugin_api::{
    Answer, Event, LoadedPlugin, Market, Operation, OutcomeKind, Output, PluginInstance,
    RequestContext, Response, Stream,
};

/// A 20-level-a-side l2Book frame as Hyperliquid sends it.
pub fn frame(time: u64) -> String {
    let side = |start: f64, step: f64| -> String {
        (0..20)
            .map(|i| {
                format!(
                    r#"{{"px":"{:.1}","sz":"{:.5}","n":{}}}"#,
                    start + step * f64::from(i),
                    0.1 + f64::from(i) * 0.013,
                    1 + i % 4
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        r#"{{"channel":"l2Book","data":{{"coin":"BTC","time":{time},"levels":[[{}],[{}]]}}}}"#,
        side(100_000.0, -1.0),
        side(100_001.0, 1.0)
    )
}

/// The Hyperliquid plugin, loaded from its `.so` and configured.
pub fn plugin() -> (LoadedPlugin, PluginInstance) {
    let loaded = LoadedPlugin::load(&crate::common::cdylib("hyperliquid-plugin")).expect("plugin");
    let plugin = loaded
        .instantiate(
            r#"{"network":"mainnet","account":"0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE"}"#,
        )
        .expect("instance");
    (loaded, plugin)
}

/// BTC as the plugin describes it, from a recorded `meta` answer.
pub fn market(plugin: &PluginInstance) -> Market {
    market_from(
        plugin,
        r#"{"universe":[{"name":"BTC","szDecimals":5,"maxLeverage":40}]}"#,
    )
}

/// The first market a plugin reads from its markets answer `body`.
pub fn market_from(plugin: &PluginInstance, body: &str) -> Market {
    let context = RequestContext {
        now_ms: 0,
        nonce: 0,
        valid_until_ms: Default::default(),
        prefer_socket: false,
    };
    let operation = plugin_api::operation(Operation::FetchMarkets { cursor: "".into() });
    let mut outputs = plugin.begin(1, &operation, &context).expect("markets job");
    // Answer every call the job makes (public reads: no signature).
    let reply = loop {
        let output = outputs.first().map(|output| output.as_enum());
        match output {
            Some(Ok(Output::Done { reply, .. })) => break (**reply).clone(),
            Some(Ok(Output::Http { .. })) => {
                let response = Response {
                    status: 200,
                    body: body.into(),
                    headers: Default::default(),
                };
                outputs = plugin
                    .on_answer(1, &Answer::answered(response), 0)
                    .expect("markets");
            }
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(reply.outcome.kind, OutcomeKind::ACCEPTED);
    match reply.events[0].as_enum() {
        Ok(Event::Markets(markets)) => markets[0].clone(),
        other => panic!("{other:?}"),
    }
}

/// The market path of one exchange: a plugin session whose market sink
/// publishes one market's book, its publisher thread polling an empty
/// queue for a while before it sleeps.
pub struct MarketPath {
    session: Arc<Session>,
    market_data: Arc<MarketData>,
    connection: &'static str,
    runtime: tokio::runtime::Runtime,
    _loaded: LoadedPlugin,
}

impl MarketPath {
    /// Hyperliquid's path, with its own plugin session, publishing on
    /// `endpoint` with the publisher spinning for `spin`.
    pub fn new(endpoint: &str, spin: Duration) -> MarketPath {
        let (loaded, plugin) = plugin();
        let btc = market(&plugin);
        MarketPath::with(loaded, plugin, btc, "market", endpoint, spin)
    }

    /// The path of `plugin` (of `loaded`) for `market`, its frames
    /// arriving on `connection`.
    pub fn with(
        loaded: LoadedPlugin,
        plugin: PluginInstance,
        market: Market,
        connection: &'static str,
        endpoint: &str,
        spin: Duration,
    ) -> MarketPath {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let _entered = runtime.enter();
        let (publisher, _thread) =
            Publisher::start_spinning(endpoint, 1 << 20, spin).expect("publisher");
        let limiter = Arc::new(RateLimiter::new(&[]));
        let http = HttpExecutor::new(limiter, Duration::from_secs(1)).expect("http");
        let (_shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let session = Session::new(
            plugin,
            SessionParts {
                exchange: "bench".into(),
                http,
                signer: SignerClient::new(
                    std::path::Path::new("/nonexistent"),
                    Duration::from_secs(1),
                ),
                shutdown: shutdown_rx,
                stream_timeout_ms: None,
            },
        );
        let market_data = MarketData::new("bench", &[market], publisher);
        session.set_market_sink(Arc::new(MarketSink(Arc::clone(&market_data))));
        MarketPath {
            session,
            market_data,
            connection,
            runtime,
            _loaded: loaded,
        }
    }

    /// Asks the plugin for `streams` (its connections are opened, and never
    /// come up: frames are handed in by [`frame`](MarketPath::frame)).
    pub fn subscribe(&self, streams: &[Stream]) {
        let _entered = self.runtime.enter();
        self.session.subscribe(streams, true);
    }

    /// Runs the path's tasks (the plugin's own requests) until `done`.
    pub fn run_until(&self, what: &str, done: impl Fn(&MarketData) -> bool) {
        self.runtime.block_on(async {
            for _ in 0..500 {
                if done(&self.market_data) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("{what} did not happen");
        })
    }

    /// Whether the book of `symbol` is in sync with the exchange.
    pub fn in_sync(&self, symbol: &str) -> bool {
        self.market_data
            .book(symbol)
            .is_some_and(|book| *book.status() == BookStatus::Synced)
    }

    /// A frame during set-up, on the connection as if it had just come
    /// up, inside the path's runtime, so that the plugin's own requests it
    /// causes (a book snapshot) can start.
    pub fn setup_frame(&self, frame: &str) {
        let _entered = self.runtime.enter();
        self.session.on_up(self.connection);
        self.frame(frame);
    }

    /// One received frame, as the market connection hands it on.
    pub fn frame(&self, frame: &str) {
        self.session.on_frame(self.connection, frame);
    }
}

/// One frame whose 13-digit numbers (times, update ids) are rewritten for
/// every push, so that every update follows the last.
pub struct Frames {
    template: String,
    /// Where each number is, and its difference from the count.
    fields: Vec<(usize, i64)>,
    count: u64,
}

impl Default for Frames {
    /// Hyperliquid's l2Book frames, their time rising.
    fn default() -> Self {
        Frames::new(
            frame(1_700_000_000_000),
            1_700_000_000_000,
            &[("1700000000000", 0)],
        )
    }
}

impl Frames {
    /// Frames from `template`, counting from `start`: each `(number,
    /// difference)` names a 13-character number (or marker text) in it,
    /// rewritten as the count plus the difference.
    pub fn new(template: String, start: u64, fields: &[(&str, i64)]) -> Frames {
        let fields = fields
            .iter()
            .map(|(number, difference)| {
                assert_eq!(number.len(), 13, "{number}");
                let at = template.find(number).expect("the number in the frame");
                (at, *difference)
            })
            .collect();
        Frames {
            template,
            fields,
            count: start,
        }
    }

    /// The frame the next push sends (its numbers as the last push left
    /// them).
    pub fn peek(&self) -> String {
        self.template.clone()
    }

    /// The next frame through the whole path: parse, book, publish.
    pub fn push(&mut self, path: &MarketPath) {
        self.count += 1;
        for (at, difference) in &self.fields {
            let number = self.count.saturating_add_signed(*difference).to_string();
            self.template.replace_range(*at..*at + 13, &number);
        }
        path.frame(&self.template);
    }
}
