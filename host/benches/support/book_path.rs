//! The market path as the host runs it, for benches: an l2Book frame
//! through the plugin `.so`'s parser (across the ABI), the book, the JSON
//! of the published message and the publisher's queue.

use std::time::Duration;

use connector_host::publisher::Publisher;
use connector_host::runtime::{ConnectionSink, MarketData, MarketSink};
use plugin_api::{
    BookSync, Event, LoadedPlugin, Market, Operation, OutcomeKind, PluginInstance, Response,
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
    let reply = plugin
        .parse_reply(
            &plugin_api::operation(Operation::FetchMarkets { cursor: "".into() }),
            &Response {
                status: 200,
                body: r#"{"universe":[{"name":"BTC","szDecimals":5,"maxLeverage":40}]}"#.into(),
                headers: Default::default(),
            },
        )
        .expect("meta");
    assert_eq!(reply.outcome.kind, OutcomeKind::ACCEPTED);
    match reply.events[0].as_enum() {
        Ok(Event::Markets(markets)) => markets[0].clone(),
        other => panic!("{other:?}"),
    }
}

/// A sink publishing BTC's book on `endpoint`, its publisher thread
/// polling an empty queue for `spin` before it sleeps.
pub fn sink(plugin: &PluginInstance, endpoint: &str, spin: Duration) -> MarketSink {
    let (publisher, _thread) =
        Publisher::start_spinning(endpoint, 1 << 20, spin).expect("publisher");
    MarketSink(MarketData::new(
        "hl",
        BookSync::FULL_SNAPSHOTS,
        &[market(plugin)],
        publisher,
        None,
    ))
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
    pub fn push(&mut self, plugin: &PluginInstance, sink: &MarketSink) {
        self.time += 1;
        let time = self.time.to_string();
        self.template
            .replace_range(self.time_at..self.time_at + 13, &time);
        let events = plugin
            .parse_frame("market", &self.template, self.time)
            .expect("parse");
        sink.on_events("market", events);
    }
}
