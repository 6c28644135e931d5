//! The market path as the host runs it, for benches: an l2Book frame
//! through the plugin session (the `.so`, across the ABI), the book, the
//! JSON of the published message and the publisher's queue.

use std::sync::Arc;
use std::time::Duration;

use connector_host::book::{MarketData, MarketSink};
use connector_host::publisher::Publisher;
use connector_host::runtime::{ConnectionEvents, HttpExecutor, RateLimiter, Session, SessionParts};
use connector_host::signer::SignerClient;
use plugin_api::{
    Answer, Event, LoadedPlugin, Market, Operation, OutcomeKind, Output, PluginInstance,
    RequestContext, Response,
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
    let context = RequestContext {
        now_ms: 0,
        nonce: 0,
        valid_until_ms: Default::default(),
        prefer_socket: false,
    };
    let operation = plugin_api::operation(Operation::FetchMarkets { cursor: "".into() });
    plugin.begin(1, &operation, &context).expect("meta job");
    let response = Response {
        status: 200,
        body: r#"{"universe":[{"name":"BTC","szDecimals":5,"maxLeverage":40}]}"#.into(),
        headers: Default::default(),
    };
    let outputs = plugin
        .on_answer(1, &Answer::answered(response), 0)
        .expect("meta");
    let reply = match outputs.first().map(|output| output.as_enum()) {
        Some(Ok(Output::Done { reply, .. })) => (**reply).clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(reply.outcome.kind, OutcomeKind::ACCEPTED);
    match reply.events[0].as_enum() {
        Ok(Event::Markets(markets)) => markets[0].clone(),
        other => panic!("{other:?}"),
    }
}

/// The market path of one exchange: a plugin session whose market sink
/// publishes BTC's book on `endpoint`, its publisher thread polling an
/// empty queue for `spin` before it sleeps.
pub struct MarketPath {
    session: Arc<Session>,
    _runtime: tokio::runtime::Runtime,
    _loaded: LoadedPlugin,
}

impl MarketPath {
    /// The path, with its own plugin session.
    pub fn new(endpoint: &str, spin: Duration) -> MarketPath {
        let (loaded, plugin) = plugin();
        let btc = market(&plugin);
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
                exchange: "hl".into(),
                http,
                signer: SignerClient::new(
                    std::path::Path::new("/nonexistent"),
                    Duration::from_secs(1),
                ),
                shutdown: shutdown_rx,
                stream_timeout_ms: None,
            },
        );
        session.set_market_sink(Arc::new(MarketSink(MarketData::new(
            "hl",
            &[btc],
            publisher,
        ))));
        MarketPath {
            session,
            _runtime: runtime,
            _loaded: loaded,
        }
    }

    /// One received frame, as the market connection hands it on.
    pub fn frame(&self, frame: &str) {
        self.session.on_frame("market", frame);
    }
}

/// One frame whose 13-digit time is rewritten for every push, so that
/// every snapshot is newer than the last.
pub struct Frames {
    template: String,
    time_at: usize,
    time: u64,
}

impl Default for Frames {
    fn default() -> Self {
        let template = frame(1_700_000_000_000);
        let time_at = template.find("1700000000000").expect("time in the frame");
        Frames {
            template,
            time_at,
            time: 1_700_000_000_000,
        }
    }
}

impl Frames {
    /// The next frame through the whole path: parse, book, publish.
    pub fn push(&mut self, path: &MarketPath) {
        self.time += 1;
        let time = self.time.to_string();
        self.template
            .replace_range(self.time_at..self.time_at + 13, &time);
        path.frame(&self.template);
    }
}
