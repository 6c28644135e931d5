//! A Bybit `orderbook.50` delta and a Binance USDⓈ-M diff-depth event, each
//! changing 20 levels, through the whole market path — the venue's plugin
//! `.so` across the ABI, the book, the JSON of the published message, the
//! publisher's queue — each beside a bare `serde_json::Value` parse of the
//! same frame, measured in the same run.

#[path = "support/book_path.rs"]
mod book_path;
#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::TcpListener;

use book_path::{Frames, MarketPath, market_from};
use connector_host::book::MarketData;
use connector_host::publisher::DEFAULT_SPIN;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use plugin_api::{LoadedPlugin, Stream, StreamKind};

/// `count` levels from `start`, `step` apart, as `[["price","size"],…]`.
fn levels(start: f64, step: f64, count: u32) -> String {
    let level = |i: u32| {
        let price = start + step * f64::from(i);
        format!(r#"["{price:.1}","{:.3}"]"#, 0.1 + f64::from(i) * 0.013)
    };
    let all: Vec<String> = (0..count).map(level).collect();
    format!("[{}]", all.join(","))
}

/// Whether the market data holds a two-sided BTCUSDT book.
fn synced(data: &MarketData) -> bool {
    data.book("BTCUSDT")
        .is_some_and(|book| book.best_bid().is_some() && book.best_ask().is_some())
}

fn book_stream() -> Stream {
    Stream {
        kind: StreamKind::BOOK,
        market: "BTCUSDT".into(),
    }
}

const BYBIT_MARKETS: &str = r#"{"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[{"symbol":"BTCUSDT","contractType":"LinearPerpetual","status":"Trading","baseCoin":"BTC","quoteCoin":"USDT","leverageFilter":{"maxLeverage":"100.00"},"priceFilter":{"minPrice":"0.10","maxPrice":"199999.80","tickSize":"0.10"},"lotSizeFilter":{"maxOrderQty":"100.000","minOrderQty":"0.001","qtyStep":"0.001","minNotionalValue":"5"}}],"nextPageCursor":""},"retExtInfo":{},"time":1700000000000}"#;

/// Bybit's path, synced from a 50-level snapshot, and its deltas (10
/// levels a side, `u` rising by one).
fn bybit(endpoint: &str) -> (MarketPath, Frames) {
    let loaded = LoadedPlugin::load(&common::cdylib("bybit-plugin")).expect("plugin");
    let plugin = loaded
        .instantiate(r#"{"api_key":"bench","api_url":"http://127.0.0.1:9"}"#)
        .expect("instance");
    let btc = market_from(&plugin, BYBIT_MARKETS);
    let path = MarketPath::with(loaded, plugin, btc, "public", endpoint, DEFAULT_SPIN);
    path.subscribe(&[book_stream()]);
    let frame = |kind: &str, bids: String, asks: String, id: &str| {
        format!(
            r#"{{"topic":"orderbook.50.BTCUSDT","type":"{kind}","ts":1700000000000,"data":{{"s":"BTCUSDT","b":{bids},"a":{asks},"u":{id},"seq":{id}}},"cts":1700000000000}}"#
        )
    };
    path.setup_frame(&frame(
        "snapshot",
        levels(100_000.0, -0.1, 50),
        levels(100_000.1, 0.1, 50),
        "1000000000000",
    ));
    path.run_until("the Bybit book synced", synced);
    let delta = frame(
        "delta",
        levels(99_999.5, -0.2, 10),
        levels(100_000.6, 0.2, 10),
        "AAAAAAAAAAAAA",
    )
    .replacen("AAAAAAAAAAAAA", "BBBBBBBBBBBBB", 1);
    // `u` then `seq`: both the count.
    let frames = Frames::new(
        delta,
        1_000_000_000_000,
        &[("BBBBBBBBBBBBB", 0), ("AAAAAAAAAAAAA", 0)],
    );
    (path, frames)
}

const BINANCE_MARKETS: &str = r#"{"timezone":"UTC","serverTime":1700000000000,"rateLimits":[],"exchangeFilters":[],"symbols":[{"symbol":"BTCUSDT","pair":"BTCUSDT","contractType":"PERPETUAL","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","marginAsset":"USDT","pricePrecision":2,"quantityPrecision":3,"filters":[{"filterType":"PRICE_FILTER","maxPrice":"4529764","minPrice":"556.80","tickSize":"0.10"},{"filterType":"LOT_SIZE","maxQty":"1000","minQty":"0.001","stepSize":"0.001"},{"filterType":"MARKET_LOT_SIZE","maxQty":"120","minQty":"0.001","stepSize":"0.001"},{"filterType":"MIN_NOTIONAL","notional":"100"},{"filterType":"PERCENT_PRICE","multiplierUp":"1.0500","multiplierDown":"0.9500","multiplierDecimal":"4"}]}]}"#;

/// The book snapshot's `lastUpdateId`.
const SNAPSHOT_ID: u64 = 1_000_000_000_005;

/// Serves `GET /fapi/v1/depth` on loopback with one 50-level snapshot,
/// for the plugin's own snapshot request; returns the base URL.
fn depth_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let body = format!(
        r#"{{"lastUpdateId":{SNAPSHOT_ID},"E":1700000000000,"T":1700000000000,"bids":{},"asks":{}}}"#,
        levels(100_000.0, -0.1, 50),
        levels(100_000.1, 0.1, 50)
    );
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0; 4096];
            let _ = stream.read(&mut request);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// A loopback listener that takes connections and never answers: the
/// path's market connections wait in their handshake instead of failing
/// (which would drop the book being bridged); returns its URL.
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().flatten().collect();
        drop(held);
    });
    url
}

/// Binance's path, bridged from a REST snapshot, and its diffs (10 levels
/// a side, one update id each, `pu` the last `u`).
fn binance(endpoint: &str) -> (MarketPath, Frames) {
    let loaded = LoadedPlugin::load(&common::cdylib("binance-plugin")).expect("plugin");
    let plugin = loaded
        .instantiate(&format!(
            r#"{{"api_key":"bench","api_url":"{}","ws_url":"{}"}}"#,
            depth_server(),
            silent_server()
        ))
        .expect("instance");
    let btc = market_from(&plugin, BINANCE_MARKETS);
    let path = MarketPath::with(loaded, plugin, btc, "public", endpoint, DEFAULT_SPIN);
    path.subscribe(&[book_stream()]);
    let diff = |first: &str, last: &str, previous: &str| {
        format!(
            r#"{{"e":"depthUpdate","E":1700000000000,"T":1700000000000,"s":"BTCUSDT","U":{first},"u":{last},"pu":{previous},"b":{},"a":{}}}"#,
            levels(99_999.5, -0.2, 10),
            levels(100_000.6, 0.2, 10)
        )
    };
    // The first diff spans the snapshot's id: it bridges once the plugin's
    // own snapshot request is answered.
    path.setup_frame(&diff("1000000000003", "1000000000005", "1000000000002"));
    path.run_until("the Binance book bridged", synced);
    let frames = Frames::new(
        diff("AAAAAAAAAAAAA", "BBBBBBBBBBBBB", "CCCCCCCCCCCCC"),
        SNAPSHOT_ID,
        &[
            ("AAAAAAAAAAAAA", 0),
            ("BBBBBBBBBBBBB", 0),
            ("CCCCCCCCCCCCC", -1),
        ],
    );
    (path, frames)
}

fn venue_market_path(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let endpoint = |name: &str| format!("ipc://{}/{name}.sock", dir.path().display());
    let venues = [
        ("bybit_delta", bybit(&endpoint("bybit"))),
        ("binance_diff", binance(&endpoint("binance"))),
    ];
    let mut group = c.benchmark_group("venue_market_path");
    group.throughput(Throughput::Elements(1));
    for (name, (path, mut frames)) in venues {
        // One push writes the numbers in: the frame the baseline parses.
        frames.push(&path);
        let sample = frames.peek();
        group.bench_function(format!("{name}_bare_json_parse"), |b| {
            b.iter(|| black_box(serde_json::from_str::<serde_json::Value>(&sample).expect("json")))
        });
        group.bench_function(format!("{name}_to_published_book"), |b| {
            b.iter(|| frames.push(&path))
        });
        assert!(path.in_sync("BTCUSDT"), "{name}: the book stayed in sync");
    }
    group.finish();
}

criterion_group!(benches, venue_market_path);
criterion_main!(benches);
