//! The Binance USDⓈ-M front end over loopback: signing and its errors,
//! matching, the diff-depth stream bridged from a REST snapshot by `pu`, the
//! user data stream through an order's life and listen-key expiry, and
//! Binance's own faults (`-1007` with the order placed, `pu` breaks, bans).

use std::collections::BTreeMap;
use std::time::Duration;

use hl_emulator::binance::{self, ApiKey, BinanceFaults, BinanceOptions, KeyKind};
use hl_emulator::signing::hmac_sha256_hex;
use hl_emulator::{Config, EmulatorHandle};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::support::{Http, Ws, d};

const KEY_A: (&str, &str) = ("bn-a", "secret-a");
const KEY_B: (&str, &str) = ("bn-b", "secret-b");

fn quiet() -> Config {
    crate::support::quiet(binance::default_config())
}

async fn start(config: Config, faults: BinanceFaults) -> EmulatorHandle {
    let keys = [KEY_A, KEY_B]
        .iter()
        .map(|(key, secret)| {
            let kind = KeyKind::Hmac((*secret).to_owned());
            (
                ApiKey {
                    key: (*key).to_owned(),
                    kind,
                },
                Decimal::from(100_000),
            )
        })
        .collect();
    binance::start(config, BinanceOptions { keys, faults })
        .await
        .expect("binance emulator starts")
}

struct Client {
    http: Http,
    key: String,
    secret: String,
}

impl Client {
    fn new(emulator: &EmulatorHandle, (key, secret): (&str, &str)) -> Client {
        Client {
            http: Http::new(emulator.base_url()),
            key: key.to_owned(),
            secret: secret.to_owned(),
        }
    }

    /// A request with `params` in the query string, signed unless `signed` is false.
    async fn call(&self, method: &str, path: &str, params: &str, signed: bool) -> (u16, Value) {
        let query = if signed {
            let stamped = format!(
                "{params}{}timestamp={}",
                if params.is_empty() { "" } else { "&" },
                hl_emulator::clock::now_ms()
            );
            let signature = hmac_sha256_hex(&self.secret, stamped.as_bytes());
            format!("{stamped}&signature={signature}")
        } else {
            params.to_owned()
        };
        let headers = [("X-MBX-APIKEY", self.key.clone())];
        let (status, _, text) = self
            .http
            .send(method, &format!("{path}?{query}"), &headers, String::new())
            .await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, method: &str, path: &str, params: &str) -> Value {
        let (status, body) = self.call(method, path, params, true).await;
        assert_eq!(status, 200, "{method} {path}: {body}");
        body
    }
}

/// How long a stream may stay silent in these tests.
const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn signing_errors_are_binances_own() {
    let emulator = start(quiet(), BinanceFaults::default()).await;
    let good = Client::new(&emulator, KEY_A);
    let balance = good.ok("GET", "/fapi/v2/balance", "").await;
    assert_eq!(balance[0]["balance"], "100000");
    let wrong = Client::new(&emulator, ("bn-a", "nope"));
    let (status, body) = wrong.call("GET", "/fapi/v2/balance", "", true).await;
    assert_eq!((status, body["code"].clone()), (400, json!(-1022)));
    let unknown = Client::new(&emulator, ("nobody", "secret-a"));
    assert_eq!(
        unknown.call("GET", "/fapi/v2/balance", "", true).await.1["code"],
        -2015
    );
    let old = format!("timestamp={}", hl_emulator::clock::now_ms() - 60_000);
    let signature = hmac_sha256_hex("secret-a", old.as_bytes());
    let (status, body) = good
        .call(
            "GET",
            "/fapi/v2/balance",
            &format!("{old}&signature={signature}"),
            false,
        )
        .await;
    assert_eq!((status, body["code"].clone()), (400, json!(-1021)));
    let stop = good
        .call(
            "POST",
            "/fapi/v1/order",
            "symbol=BTCUSDT&side=BUY&type=STOP_MARKET&quantity=0.001&stopPrice=90000",
            true,
        )
        .await;
    assert_eq!(stop.1["code"], -4120);
    emulator.shutdown().await;
}

#[tokio::test]
async fn user_stream_reports_an_orders_life() {
    let emulator = start(quiet(), BinanceFaults::default()).await;
    let (a, b) = (Client::new(&emulator, KEY_A), Client::new(&emulator, KEY_B));
    let key = a.call("POST", "/fapi/v1/listenKey", "", false).await.1["listenKey"]
        .as_str()
        .expect("listenKey")
        .to_owned();
    let mut ws = Ws::open(&format!(
        "ws://{}/private/ws?listenKey={key}",
        emulator.addr()
    ))
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let maker = a
        .ok(
            "POST",
            "/fapi/v1/order",
            "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.010&price=100000",
        )
        .await;
    let id = maker["orderId"].as_u64().expect("orderId");
    b.ok(
        "POST",
        "/fapi/v1/order",
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.004",
    )
    .await;
    b.ok(
        "POST",
        "/fapi/v1/order",
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.006",
    )
    .await;
    let second = a
        .ok(
            "POST",
            "/fapi/v1/order",
            "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.010&price=100100",
        )
        .await;
    a.ok(
        "DELETE",
        "/fapi/v1/order",
        &format!("symbol=BTCUSDT&orderId={}", second["orderId"]),
    )
    .await;
    let mut seen = Vec::new();
    while seen.len() < 5 {
        let event = ws.next_json(WAIT).await.expect("stream ended");
        if event["e"] == "ORDER_TRADE_UPDATE" {
            let o = &event["o"];
            seen.push((
                o["i"].as_u64().unwrap_or(0) == id,
                o["x"].as_str().unwrap_or("").to_owned(),
                o["X"].as_str().unwrap_or("").to_owned(),
            ));
        }
    }
    let expected = [
        (true, "NEW", "NEW"),
        (true, "TRADE", "PARTIALLY_FILLED"),
        (true, "TRADE", "FILLED"),
        (false, "NEW", "NEW"),
        (false, "CANCELED", "CANCELED"),
    ];
    let seen: Vec<(bool, &str, &str)> = seen
        .iter()
        .map(|(m, x, s)| (*m, x.as_str(), s.as_str()))
        .collect();
    assert_eq!(seen, expected);

    // Listen-key expiry (forced through the admin API).
    let http = Http::new(emulator.base_url());
    http.admin("/admin/binance/expire-listen-keys", json!({}))
        .await;
    loop {
        let event = ws.next_json(WAIT).await.expect("stream ended");
        if event["e"] == "listenKeyExpired" {
            assert_eq!(event["listenKey"], key.as_str());
            break;
        }
    }
    assert_eq!(
        a.call("PUT", "/fapi/v1/listenKey", "", false).await.1["code"],
        -1125
    );
    emulator.shutdown().await;
}

type Side = BTreeMap<Decimal, Decimal>;

fn apply(side: &mut Side, levels: &Value) {
    for level in levels.as_array().into_iter().flatten() {
        let (px, qty) = (
            d(level[0].as_str().unwrap_or("0")),
            d(level[1].as_str().unwrap_or("0")),
        );
        if qty.is_zero() {
            side.remove(&px);
        } else {
            side.insert(px, qty);
        }
    }
}

/// Binance's documented procedure: buffer the stream, take a REST snapshot,
/// drop events with `u` < `lastUpdateId`, start from the event spanning it,
/// then require `pu` = previous `u`. The book so kept equals a later snapshot
/// taken at a matching update id.
#[tokio::test]
async fn diff_depth_bridges_a_rest_snapshot() {
    let mut config = binance::default_config();
    config.block_ms = 20;
    let emulator = start(config, BinanceFaults::default()).await;
    let client = Client::new(&emulator, KEY_A);
    let mut ws = Ws::open(&format!(
        "ws://{}/public/stream?streams=btcusdt@depth@100ms",
        emulator.addr()
    ))
    .await;
    let mut buffered = Vec::new();
    for _ in 0..5 {
        buffered.push(ws.next_json(WAIT).await.expect("stream ended"));
    }
    let snapshot = client
        .call("GET", "/fapi/v1/depth", "symbol=BTCUSDT&limit=1000", false)
        .await
        .1;
    let last_id = snapshot["lastUpdateId"].as_u64().expect("lastUpdateId");
    let (mut bids, mut asks) = (Side::new(), Side::new());
    apply(&mut bids, &snapshot["bids"]);
    apply(&mut asks, &snapshot["asks"]);
    let mut previous: Option<u64> = None;
    let mut applied = 0;
    while applied < 30 {
        let frame = if buffered.is_empty() {
            ws.next_json(WAIT).await.expect("stream ended")
        } else {
            buffered.remove(0)
        };
        assert_eq!(frame["stream"], "btcusdt@depth@100ms");
        let event = &frame["data"];
        let (first, last, pu) = (
            event["U"].as_u64().unwrap_or(0),
            event["u"].as_u64().unwrap_or(0),
            event["pu"].as_u64().unwrap_or(0),
        );
        if last < last_id {
            continue;
        }
        match previous {
            None => assert!(
                first <= last_id && last >= last_id,
                "first event spans the snapshot"
            ),
            Some(prev) => assert_eq!(pu, prev, "pu chains to the previous u"),
        }
        previous = Some(last);
        apply(&mut bids, &event["b"]);
        apply(&mut asks, &event["a"]);
        applied += 1;
        assert!(bids.keys().next_back() < asks.keys().next(), "book crossed");
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn binance_faults_unknown_outcome_pu_break_and_ban() {
    let emulator = start(quiet(), BinanceFaults::default()).await;
    let client = Client::new(&emulator, KEY_A);
    let http = Http::new(emulator.base_url());
    http.admin(
        "/admin/binance/faults",
        json!({ "unknown_outcome_rate": 1.0 }),
    )
    .await;
    let (status, body) = client
        .call("POST", "/fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.002&price=90000&newClientOrderId=lost-1", true)
        .await;
    assert_eq!((status, body["code"].clone()), (408, json!(-1007)));
    let placed = client
        .ok(
            "GET",
            "/fapi/v1/order",
            "symbol=BTCUSDT&origClientOrderId=lost-1",
        )
        .await;
    assert_eq!(placed["status"], "NEW", "the order was placed anyway");
    http.admin(
        "/admin/binance/faults",
        json!({ "unknown_outcome_rate": 0.0, "weight_limit_per_min": 2, "ban_after_429s": 1 }),
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(client.call("GET", "/fapi/v1/time", "", false).await.0);
    }
    assert!(
        statuses.contains(&429) && statuses.last() == Some(&418),
        "{statuses:?}"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn pu_breaks_on_demand() {
    let mut config = binance::default_config();
    config.block_ms = 20;
    let faults = BinanceFaults {
        pu_break_rate: Some(0.5),
        ..BinanceFaults::default()
    };
    let emulator = start(config, faults).await;
    let mut ws = Ws::open(&format!("ws://{}/ws/btcusdt@depth", emulator.addr())).await;
    let subscribe = json!({ "method": "SUBSCRIBE", "params": ["ethusdt@depth"], "id": "s1" });
    ws.send(subscribe).await;
    let mut last = None;
    let mut breaks = 0;
    for _ in 0..40 {
        let event = ws.next_json(WAIT).await.expect("stream ended");
        if event["s"] != "BTCUSDT" {
            continue;
        }
        if let Some(prev) = last
            && event["pu"].as_u64() != Some(prev)
        {
            breaks += 1;
        }
        last = event["u"].as_u64();
    }
    assert!(breaks > 0, "no pu break at rate 0.5");
    emulator.shutdown().await;
}
