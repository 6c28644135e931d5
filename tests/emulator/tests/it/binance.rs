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
        let (status, _, body) = self.send(method, path, params, signed).await;
        (status, body)
    }

    /// [`Client::call`] with the response headers.
    async fn send(
        &self,
        method: &str,
        path: &str,
        params: &str,
        signed: bool,
    ) -> (u16, hyper::HeaderMap, Value) {
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
        let (status, headers, text) = self
            .http
            .send(method, &format!("{path}?{query}"), &headers, String::new())
            .await;
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    /// A signed `POST /fapi/v1/order`.
    async fn place(&self, params: &str) -> (u16, Value) {
        self.call("POST", "/fapi/v1/order", params, true).await
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
    // A ban says how long it lasts (120 s by default).
    let (status, headers, _) = client.send("GET", "/fapi/v1/time", "", false).await;
    assert_eq!(status, 418);
    let retry_after = header(&headers, "Retry-After");
    assert!(
        retry_after.is_some_and(|secs| (119..=120).contains(&secs)),
        "{retry_after:?}"
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

/// A limit order's parameters.
fn limit(side: &str, quantity: &str, price: &str, extra: &str) -> String {
    format!(
        "symbol=BTCUSDT&side={side}&type=LIMIT&timeInForce=GTC&quantity={quantity}&price={price}{extra}"
    )
}

#[tokio::test]
async fn batch_modify_and_batch_cancel() {
    let emulator = start(quiet(), BinanceFaults::default()).await;
    let client = Client::new(&emulator, KEY_A);
    let mut ids = Vec::new();
    for (n, price) in ["90000", "90100", "90200"].iter().enumerate() {
        let placed = client
            .ok(
                "POST",
                "/fapi/v1/order",
                &limit("BUY", "0.002", price, &format!("&newClientOrderId=b{n}")),
            )
            .await;
        ids.push(placed["orderId"].as_u64().expect("orderId"));
    }
    let modifies = json!([
        { "symbol": "BTCUSDT", "side": "BUY", "orderId": ids[0], "quantity": "0.003", "price": "90050" },
        { "symbol": "BTCUSDT", "side": "BUY", "orderId": 1, "quantity": "0.003", "price": "90050" },
        { "symbol": "BTCUSDT", "side": "BUY", "origClientOrderId": "b1", "quantity": "0.002", "price": "90150" },
    ]);
    let encoded = format!("batchOrders={}", urlencode(&modifies.to_string()));
    let answers = client.ok("PUT", "/fapi/v1/batchOrders", &encoded).await;
    assert_eq!(
        (
            answers[0]["orderId"].clone(),
            answers[0]["price"].clone(),
            answers[0]["origQty"].clone()
        ),
        (json!(ids[0]), json!("90050"), json!("0.003"))
    );
    assert_eq!(answers[1]["code"], -2013, "{answers}");
    assert_eq!(answers[2]["price"], "90150");

    let list = format!("[{},{},1]", ids[0], ids[1]);
    let cancels = client
        .ok(
            "DELETE",
            "/fapi/v1/batchOrders",
            &format!("symbol=BTCUSDT&orderIdList={}", urlencode(&list)),
        )
        .await;
    assert_eq!(
        (cancels[0]["status"].clone(), cancels[1]["status"].clone()),
        (json!("CANCELED"), json!("CANCELED"))
    );
    assert_eq!(cancels[2]["code"], -2011);
    let by_client = client
        .ok(
            "DELETE",
            "/fapi/v1/batchOrders",
            &format!(
                "symbol=BTCUSDT&origClientOrderIdList={}",
                urlencode("[\"b2\"]")
            ),
        )
        .await;
    assert_eq!(by_client[0]["orderId"], ids[2]);
    let open = client
        .ok("GET", "/fapi/v1/openOrders", "symbol=BTCUSDT")
        .await;
    assert_eq!(open, json!([]));
    let (status, body) = client
        .call(
            "DELETE",
            "/fapi/v1/batchOrders",
            &format!(
                "symbol=BTCUSDT&orderIdList={}",
                urlencode(&format!("[{}]", ["1"; 11].join(",")))
            ),
            true,
        )
        .await;
    assert_eq!((status, body["code"].clone()), (400, json!(-1130)));
    emulator.shutdown().await;
}

/// Percent-encodes a query value.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn percent_price_and_refused_modifies_leave_orders_as_they_were() {
    let emulator = start(quiet(), BinanceFaults::default()).await;
    let (a, b) = (Client::new(&emulator, KEY_A), Client::new(&emulator, KEY_B));
    // Mark 100 000, PERCENT_PRICE 1.05 / 0.95.
    let (status, high) = a.place(&limit("BUY", "0.002", "105000.1", "")).await;
    assert_eq!(
        (status, high["code"].clone(), high["msg"].clone()),
        (
            400,
            json!(-4016),
            json!("Limit price can't be higher than 105000.")
        )
    );
    let (_, low) = a.place(&limit("SELL", "0.002", "94999.9", "")).await;
    assert_eq!(
        (low["code"].clone(), low["msg"].clone()),
        (
            json!(-4024),
            json!("Limit price can't be lower than 95000.")
        )
    );
    let bid = a
        .ok(
            "POST",
            "/fapi/v1/order",
            &limit("BUY", "0.002", "90000", ""),
        )
        .await["orderId"]
        .as_u64()
        .expect("orderId");
    let modify = |quantity: &str, price: &str| {
        format!("symbol=BTCUSDT&side=BUY&orderId={bid}&quantity={quantity}&price={price}")
    };
    let (_, beyond) = a
        .call("PUT", "/fapi/v1/order", &modify("0.002", "106000"), true)
        .await;
    assert_eq!(beyond["code"], -4016);
    let (_, margin) = a
        .call("PUT", "/fapi/v1/order", &modify("100", "90000"), true)
        .await;
    assert_eq!(margin["code"], -2019);
    let now = a
        .ok(
            "GET",
            "/fapi/v1/order",
            &format!("symbol=BTCUSDT&orderId={bid}"),
        )
        .await;
    assert_eq!(
        (
            now["status"].clone(),
            now["price"].clone(),
            now["origQty"].clone()
        ),
        (json!("NEW"), json!("90000"), json!("0.002"))
    );

    // A GTX order whose new price would take is cancelled by the modify.
    b.ok(
        "POST",
        "/fapi/v1/order",
        &limit("SELL", "0.002", "100000", ""),
    )
    .await;
    let gtx = a
        .ok(
            "POST",
            "/fapi/v1/order",
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.002&price=99000",
        )
        .await["orderId"]
        .as_u64()
        .expect("orderId");
    let (_, crossing) = a
        .call(
            "PUT",
            "/fapi/v1/order",
            &format!("symbol=BTCUSDT&side=BUY&orderId={gtx}&quantity=0.002&price=100000"),
            true,
        )
        .await;
    assert_eq!(crossing["code"], -5022);
    let after = a
        .ok(
            "GET",
            "/fapi/v1/order",
            &format!("symbol=BTCUSDT&orderId={gtx}"),
        )
        .await;
    assert_eq!(after["status"], "CANCELED");
    emulator.shutdown().await;
}

#[tokio::test]
async fn gtd_orders_carry_their_date() {
    let emulator = start(quiet(), BinanceFaults::default()).await;
    let client = Client::new(&emulator, KEY_A);
    let gtd = |date: u64| {
        format!(
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTD&quantity=0.002&price=90000&goodTillDate={date}"
        )
    };
    let soon = hl_emulator::clock::now_ms() + 60_000;
    let (status, body) = client.place(&gtd(soon)).await;
    assert_eq!((status, body["code"].clone()), (400, json!(-1130)));
    let (_, body) = client
        .place(&limit("BUY", "0.002", "90000", "").replace("GTC", "GTD"))
        .await;
    assert_eq!(body["code"], -1102, "goodTillDate is mandatory for GTD");
    let later = hl_emulator::clock::now_ms() + 3_600_123;
    let placed = client.ok("POST", "/fapi/v1/order", &gtd(later)).await;
    assert_eq!(
        (
            placed["status"].clone(),
            placed["timeInForce"].clone(),
            placed["goodTillDate"].clone()
        ),
        (json!("NEW"), json!("GTD"), json!(later - later % 1000))
    );
    emulator.shutdown().await;
}

/// A WebSocket API request signed with `secret` (params sorted by name).
fn ws_signed(id: &str, method: &str, params: &[(&str, &str)], secret: &str) -> Value {
    let timestamp = hl_emulator::clock::now_ms().to_string();
    let mut pairs: Vec<(&str, &str)> = params.to_vec();
    pairs.push(("timestamp", &timestamp));
    pairs.sort();
    let text = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut object: serde_json::Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    object.insert(
        "signature".to_owned(),
        json!(hmac_sha256_hex(secret, text.as_bytes())),
    );
    json!({ "id": id, "method": method, "params": object })
}

/// The `count` of a `rateLimits` entry.
fn limit_count(reply: &Value, kind: &str, interval: &str) -> Option<u64> {
    reply["rateLimits"]
        .as_array()?
        .iter()
        .find(|l| l["rateLimitType"] == kind && l["interval"] == interval)?["count"]
        .as_u64()
}

#[tokio::test]
async fn ws_api_user_data_stream_and_rate_limits_from_counters() {
    let emulator = start(quiet(), BinanceFaults::default()).await;
    let client = Client::new(&emulator, KEY_A);
    let mut ws = Ws::open(&format!("ws://{}/ws-fapi/v1", emulator.addr())).await;
    let call = async |ws: &mut Ws, request: Value| {
        let id = request["id"].clone();
        ws.send(request).await;
        ws.until(WAIT, |f| f["id"] == id).await.expect("reply")
    };
    let started = call(
        &mut ws,
        json!({ "id": "u1", "method": "userDataStream.start", "params": { "apiKey": "bn-a" } }),
    )
    .await;
    let key = started["result"]["listenKey"]
        .as_str()
        .expect("listenKey")
        .to_owned();
    let first_weight = limit_count(&started, "REQUEST_WEIGHT", "MINUTE").expect("weight");
    let pinged = call(
        &mut ws,
        json!({ "id": "u2", "method": "userDataStream.ping", "params": { "apiKey": "bn-a" } }),
    )
    .await;
    assert_eq!(pinged["result"]["listenKey"], key.as_str());
    let second_weight = limit_count(&pinged, "REQUEST_WEIGHT", "MINUTE").expect("weight");
    // One more request of weight 1, unless the minute turned over.
    assert!(second_weight == first_weight + 1 || second_weight == 1);
    assert_eq!(limit_count(&pinged, "ORDERS", "SECOND"), None);
    let unknown = call(
        &mut ws,
        json!({ "id": "u3", "method": "userDataStream.start", "params": { "apiKey": "nobody" } }),
    )
    .await;
    assert_eq!(unknown["error"]["code"], -2015);

    let order = [
        ("apiKey", "bn-a"),
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("timeInForce", "GTC"),
        ("quantity", "0.002"),
        ("price", "90000"),
    ];
    let one = call(&mut ws, ws_signed("o1", "order.place", &order, "secret-a")).await;
    assert_eq!(one["status"], 200, "{one}");
    let two = call(&mut ws, ws_signed("o2", "order.place", &order, "secret-a")).await;
    let (first, second) = (
        limit_count(&one, "ORDERS", "SECOND").expect("ORDERS 10s"),
        limit_count(&two, "ORDERS", "SECOND").expect("ORDERS 10s"),
    );
    assert!(
        first == 1 && (second == 2 || second == 1),
        "{first} {second}"
    );
    assert_eq!(
        limit_count(&two, "ORDERS", "MINUTE").map(|c| c >= second),
        Some(true)
    );

    // REST order entry counts on the same per-account counters; another
    // account has its own.
    let counts = async |client: &Client| {
        let order = limit("BUY", "0.002", "90000", "");
        let (_, headers, _) = client.send("POST", "/fapi/v1/order", &order, true).await;
        let count = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
        };
        (
            count("X-MBX-ORDER-COUNT-10S"),
            count("X-MBX-ORDER-COUNT-1M"),
        )
    };
    let rest_count = counts(&client).await.0.expect("order count");
    assert!(rest_count == second + 1 || rest_count == 1, "{rest_count}");
    let other = Client::new(&emulator, KEY_B);
    assert_eq!(counts(&other).await, (Some(1), Some(1)));

    let stopped = call(
        &mut ws,
        json!({ "id": "u4", "method": "userDataStream.stop", "params": { "apiKey": "bn-a" } }),
    )
    .await;
    assert_eq!(stopped["result"], json!({}));
    assert_eq!(
        client.call("PUT", "/fapi/v1/listenKey", "", false).await.1["code"],
        -1125,
        "the stopped key is gone"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn core_faults_apply_to_the_binance_front_end() {
    let emulator = start(quiet(), BinanceFaults::default()).await;
    let client = Client::new(&emulator, KEY_A);
    let http = Http::new(emulator.base_url());
    http.admin("/admin/faults", json!({ "http_5xx_next": 1 }))
        .await;
    assert!(client.call("GET", "/fapi/v1/time", "", false).await.0 >= 500);
    assert_eq!(client.call("GET", "/fapi/v1/time", "", false).await.0, 200);

    http.admin(
        "/admin/faults",
        json!({ "exchange_5xx_next": 1, "http_5xx_after_apply": true }),
    )
    .await;
    let (status, body) = client
        .place(&limit(
            "BUY",
            "0.002",
            "90000",
            "&newClientOrderId=after-5xx",
        ))
        .await;
    // Applied, so not "Service Unavailable" (which Binance documents as
    // not processed, and a client sends again): the gateway's unknown.
    assert_eq!(status, 503);
    assert_eq!(
        body["msg"],
        binance_core::errors::UNKNOWN_ERROR_TEXT,
        "{body}"
    );
    let found = client
        .ok(
            "GET",
            "/fapi/v1/order",
            "symbol=BTCUSDT&origClientOrderId=after-5xx",
        )
        .await;
    assert_eq!(found["status"], "NEW", "applied despite the 5xx");

    http.admin(
        "/admin/faults",
        json!({ "http_5xx_after_apply": false, "http_429_next": 1 }),
    )
    .await;
    let (status, _) = client
        .place(&limit("BUY", "0.002", "90000", "&newClientOrderId=refused"))
        .await;
    assert_eq!(status, 429);
    let (status, body) = client
        .call(
            "GET",
            "/fapi/v1/order",
            "symbol=BTCUSDT&origClientOrderId=refused",
            true,
        )
        .await;
    assert_eq!((status, body["code"].clone()), (400, json!(-2013)));

    // Applied but never answered: the client gives up, the order is there.
    http.admin("/admin/faults", json!({ "exchange_hang_next": 1 }))
        .await;
    let hung = tokio::time::timeout(
        Duration::from_millis(800),
        client.place(&limit("BUY", "0.002", "90000", "&newClientOrderId=hung")),
    )
    .await;
    assert!(hung.is_err(), "never answered");
    let found = client
        .ok(
            "GET",
            "/fapi/v1/order",
            "symbol=BTCUSDT&origClientOrderId=hung",
        )
        .await;
    assert_eq!(found["status"], "NEW");
    emulator.shutdown().await;
}

#[tokio::test]
async fn core_websocket_faults_cut_and_garble_binance_streams() {
    let mut config = binance::default_config();
    config.block_ms = 20;
    let emulator = start(config, BinanceFaults::default()).await;
    let http = Http::new(emulator.base_url());
    let url = format!("ws://{}/public/ws/btcusdt@depth@100ms", emulator.addr());
    let mut ws = Ws::open(&url).await;
    assert!(ws.next_json(WAIT).await.is_some(), "the stream runs");
    http.admin("/admin/faults", json!({ "ws_malformed_probability": 1.0 }))
        .await;
    // Frames queued before the switch may still parse; then every one is cut short.
    let mut garbled = false;
    for _ in 0..20 {
        let text = ws.next_text(WAIT).await.expect("a frame");
        if serde_json::from_str::<Value>(&text).is_err() {
            garbled = true;
            break;
        }
    }
    assert!(garbled, "no garbled frame");
    http.admin(
        "/admin/faults",
        json!({ "reset": true, "ws_drop_now": true }),
    )
    .await;
    assert!(ws.closed_within(WAIT).await, "dropped");
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_503_unknown_error_leaves_the_order_placed() {
    let emulator = start(quiet(), BinanceFaults::default()).await;
    let client = Client::new(&emulator, KEY_A);
    let http = Http::new(emulator.base_url());
    let settings = http
        .admin("/admin/binance/faults", json!({ "unknown_503_rate": 1.0 }))
        .await;
    assert_eq!(settings["unknown_503_rate"], 1.0);
    let (status, body) = client
        .place(&limit(
            "BUY",
            "0.002",
            "90000",
            "&newClientOrderId=lost-503",
        ))
        .await;
    assert_eq!(
        (status, body["msg"].clone(), body["path"].clone()),
        (
            503,
            json!("Unknown error, please check your request or try again later."),
            json!("/fapi/v1/order")
        )
    );
    assert!(
        body["timestamp"].is_u64() && body.get("code").is_none(),
        "{body}"
    );
    http.admin("/admin/binance/faults", json!({ "unknown_503_rate": 0.0 }))
        .await;
    let placed = client
        .ok(
            "GET",
            "/fapi/v1/order",
            "symbol=BTCUSDT&origClientOrderId=lost-503",
        )
        .await;
    assert_eq!(
        (placed["status"].clone(), placed["origQty"].clone()),
        (json!("NEW"), json!("0.002")),
        "the order was placed anyway"
    );
    // A refused order draws no 503: the refusal is answered as it is.
    http.admin("/admin/binance/faults", json!({ "unknown_503_rate": 1.0 }))
        .await;
    let (status, body) = client.place(&limit("BUY", "0.002", "105000.1", "")).await;
    assert_eq!((status, body["code"].clone()), (400, json!(-4016)));
    emulator.shutdown().await;
}

/// A user data stream of `client`'s account, open.
async fn user_stream(emulator: &EmulatorHandle, client: &Client) -> Ws {
    let key = client.call("POST", "/fapi/v1/listenKey", "", false).await.1["listenKey"]
        .as_str()
        .expect("listenKey")
        .to_owned();
    let ws = Ws::open(&format!("ws://{}/ws/{key}", emulator.addr())).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    ws
}

/// The `X` of the next `ALGO_UPDATE` for `algo_id`.
async fn next_algo_status(ws: &mut Ws, algo_id: &Value) -> Value {
    let event = ws
        .until(WAIT, |e| {
            e["e"] == "ALGO_UPDATE" && e["o"]["aid"] == *algo_id
        })
        .await
        .expect("ALGO_UPDATE");
    event["o"]["X"].clone()
}

#[tokio::test]
async fn algo_orders_trigger_on_the_mark_and_cancel() {
    let emulator = start(quiet(), BinanceFaults::default()).await;
    let (a, b) = (Client::new(&emulator, KEY_A), Client::new(&emulator, KEY_B));
    let mut ws = user_stream(&emulator, &a).await;
    b.ok(
        "POST",
        "/fapi/v1/order",
        &limit("SELL", "0.010", "101000", ""),
    )
    .await;
    let stop = "algoType=CONDITIONAL&symbol=BTCUSDT&side=BUY&type=STOP_MARKET&quantity=0.002&triggerPrice=100500&workingType=MARK_PRICE";
    let placed = a
        .ok(
            "POST",
            "/fapi/v1/algoOrder",
            &format!("{stop}&clientAlgoId=stop-1"),
        )
        .await;
    assert_eq!(
        (
            placed["algoStatus"].clone(),
            placed["clientAlgoId"].clone(),
            placed["triggerPrice"].clone()
        ),
        (json!("NEW"), json!("stop-1"), json!("100500"))
    );
    let algo_id = placed["algoId"].clone();
    assert_eq!(next_algo_status(&mut ws, &algo_id).await, "NEW");
    let open = a.ok("GET", "/fapi/v1/openAlgoOrders", "").await;
    assert_eq!(open[0]["algoId"], algo_id, "{open}");
    // Client ids are unique among open orders: a second `stop-1` is refused.
    let (_, twice) = a
        .call(
            "POST",
            "/fapi/v1/algoOrder",
            &format!("{stop}&clientAlgoId=stop-1"),
            true,
        )
        .await;
    assert_eq!(twice["code"], json!(-4116), "{twice}");

    let http = Http::new(emulator.base_url());
    http.admin("/admin/price", json!({ "coin": "BTC", "px": "100600" }))
        .await;
    let status = next_algo_status(&mut ws, &algo_id).await;
    assert!(status == "TRIGGERED" || status == "FINISHED", "{status}");
    let trade = ws
        .until(WAIT, |e| {
            e["e"] == "ORDER_TRADE_UPDATE" && e["o"]["x"] == "TRADE"
        })
        .await
        .expect("the triggered order trades");
    assert_eq!(
        (
            trade["o"]["S"].clone(),
            trade["o"]["l"].clone(),
            trade["o"]["L"].clone()
        ),
        (json!("BUY"), json!("0.002"), json!("101000"))
    );
    let done = a
        .ok("GET", "/fapi/v1/algoOrder", "clientAlgoId=stop-1")
        .await;
    assert_eq!(done["algoStatus"], "FINISHED", "{done}");
    assert_eq!(a.ok("GET", "/fapi/v1/openAlgoOrders", "").await, json!([]));

    // A take-profit below the mark waits; cancelled, it leaves no open algo order.
    let take = a
        .ok(
            "POST",
            "/fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=TAKE_PROFIT&quantity=0.002&price=101500&triggerPrice=101400&reduceOnly=true",
        )
        .await;
    let take_id = take["algoId"].clone();
    assert_eq!(next_algo_status(&mut ws, &take_id).await, "NEW");
    let cancelled = a
        .ok("DELETE", "/fapi/v1/algoOrder", &format!("algoId={take_id}"))
        .await;
    assert_eq!(
        (cancelled["algoId"].clone(), cancelled["code"].clone()),
        (take_id.clone(), json!("200"))
    );
    assert_eq!(next_algo_status(&mut ws, &take_id).await, "CANCELED");
    assert_eq!(a.ok("GET", "/fapi/v1/openAlgoOrders", "").await, json!([]));
    let (status, again) = a
        .call(
            "DELETE",
            "/fapi/v1/algoOrder",
            &format!("algoId={take_id}"),
            true,
        )
        .await;
    assert_eq!((status, again["code"].clone()), (400, json!(-2011)));
    emulator.shutdown().await;
}

#[tokio::test]
async fn countdown_cancel_all_fires_per_symbol_unless_switched_off() {
    let emulator = start(quiet(), BinanceFaults::default()).await;
    let client = Client::new(&emulator, KEY_A);
    let mut ws = user_stream(&emulator, &client).await;
    let btc = client
        .ok(
            "POST",
            "/fapi/v1/order",
            &limit("BUY", "0.002", "90000", ""),
        )
        .await["orderId"]
        .clone();
    let eth = client
        .ok(
            "POST",
            "/fapi/v1/order",
            "symbol=ETHUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.010&price=3000",
        )
        .await["orderId"]
        .clone();
    let arm = |ms: u64| format!("symbol=BTCUSDT&countdownTime={ms}");
    let armed = client
        .ok("POST", "/fapi/v1/countdownCancelAll", &arm(300))
        .await;
    assert_eq!(
        armed,
        json!({ "symbol": "BTCUSDT", "countdownTime": "300" })
    );
    client
        .ok("POST", "/fapi/v1/countdownCancelAll", &arm(0))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = async |id: &Value, symbol: &str| {
        client
            .ok(
                "GET",
                "/fapi/v1/order",
                &format!("symbol={symbol}&orderId={id}"),
            )
            .await["status"]
            .clone()
    };
    assert_eq!(status(&btc, "BTCUSDT").await, "NEW", "switched off");

    client
        .ok("POST", "/fapi/v1/countdownCancelAll", &arm(200))
        .await;
    let event = ws
        .until(WAIT, |e| {
            e["e"] == "ORDER_TRADE_UPDATE" && e["o"]["X"] == "CANCELED"
        })
        .await
        .expect("the countdown cancels");
    assert_eq!(event["o"]["i"], btc);
    assert_eq!(status(&btc, "BTCUSDT").await, "CANCELED");
    assert_eq!(status(&eth, "ETHUSDT").await, "NEW", "another symbol");
    emulator.shutdown().await;
}

#[tokio::test]
async fn rest_smoke_of_market_data_settings_batches_and_listen_key() {
    let emulator = start(quiet(), BinanceFaults::default()).await;
    let (a, b) = (Client::new(&emulator, KEY_A), Client::new(&emulator, KEY_B));
    // Settings first: a margin type cannot change with a position open.
    let leverage = a
        .ok("POST", "/fapi/v1/leverage", "symbol=BTCUSDT&leverage=7")
        .await;
    assert_eq!(
        (leverage["leverage"].clone(), leverage["symbol"].clone()),
        (json!(7), json!("BTCUSDT"))
    );
    let isolated = "symbol=BTCUSDT&marginType=ISOLATED";
    assert_eq!(
        a.ok("POST", "/fapi/v1/marginType", isolated).await["code"],
        200
    );
    let (status, again) = a.call("POST", "/fapi/v1/marginType", isolated, true).await;
    assert_eq!((status, again["code"].clone()), (400, json!(-4046)));

    let batch = json!([
        { "symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
          "quantity": "0.002", "price": "100000" },
        { "symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
          "quantity": "0.002", "price": "100000.05" },
        { "symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
          "quantity": "0.002", "price": "100100" },
    ]);
    let placed = b
        .ok(
            "POST",
            "/fapi/v1/batchOrders",
            &format!("batchOrders={}", urlencode(&batch.to_string())),
        )
        .await;
    assert_eq!(
        (
            placed[0]["status"].clone(),
            placed[1]["code"].clone(),
            placed[2]["price"].clone()
        ),
        (json!("NEW"), json!(-4014), json!("100100")),
        "{placed}"
    );
    a.ok(
        "POST",
        "/fapi/v1/order",
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.002",
    )
    .await;

    let public = async |path: &str| a.call("GET", path, "symbol=BTCUSDT", false).await.1;
    let trade = &public("/fapi/v1/trades").await[0];
    assert_eq!(
        (
            trade["price"].clone(),
            trade["qty"].clone(),
            trade["isBuyerMaker"].clone()
        ),
        (json!("100000"), json!("0.002"), json!(false))
    );
    let ticker = public("/fapi/v1/ticker/bookTicker").await;
    assert_eq!(
        (ticker["askPrice"].clone(), ticker["askQty"].clone()),
        (json!("100100"), json!("0.002")),
        "{ticker}"
    );
    let premium = public("/fapi/v1/premiumIndex").await;
    assert_eq!(premium["markPrice"], "100000", "{premium}");
    assert!(premium["lastFundingRate"].is_string() && premium["nextFundingTime"].is_u64());

    let risk = a.ok("GET", "/fapi/v2/positionRisk", "symbol=BTCUSDT").await;
    let risk = &risk[0];
    assert_eq!(
        (
            risk["positionAmt"].clone(),
            risk["leverage"].clone(),
            risk["marginType"].clone()
        ),
        (json!("0.002"), json!("7"), json!("isolated")),
        "{risk}"
    );
    let cancelled = b
        .ok("DELETE", "/fapi/v1/allOpenOrders", "symbol=BTCUSDT")
        .await;
    assert_eq!(cancelled["code"], 200);
    assert_eq!(
        b.ok("GET", "/fapi/v1/openOrders", "symbol=BTCUSDT").await,
        json!([])
    );

    assert!(a.call("POST", "/fapi/v1/listenKey", "", false).await.1["listenKey"].is_string());
    assert_eq!(
        a.call("DELETE", "/fapi/v1/listenKey", "", false).await,
        (200, json!({}))
    );
    assert_eq!(
        a.call("PUT", "/fapi/v1/listenKey", "", false).await.1["code"],
        -1125,
        "closed"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn market_streams_and_account_update_report_a_trade() {
    let emulator = start(quiet(), BinanceFaults::default()).await;
    let (a, b) = (Client::new(&emulator, KEY_A), Client::new(&emulator, KEY_B));
    let mut market = Ws::open(&format!(
        "ws://{}/market/ws/btcusdt@bookTicker/btcusdt@aggTrade/btcusdt@markPrice@1s",
        emulator.addr()
    ))
    .await;
    let mut user = user_stream(&emulator, &b).await;
    a.ok(
        "POST",
        "/fapi/v1/order",
        &limit("SELL", "0.003", "100000", ""),
    )
    .await;
    let ticker = market
        .until(WAIT, |e| e["e"] == "bookTicker" && e["a"] == "100000")
        .await
        .expect("bookTicker");
    assert_eq!(
        (ticker["s"].clone(), ticker["A"].clone()),
        (json!("BTCUSDT"), json!("0.003"))
    );
    b.ok(
        "POST",
        "/fapi/v1/order",
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001",
    )
    .await;
    let trade = market
        .until(WAIT, |e| e["e"] == "aggTrade")
        .await
        .expect("aggTrade");
    assert_eq!(
        (trade["p"].clone(), trade["q"].clone(), trade["m"].clone()),
        (json!("100000"), json!("0.001"), json!(false))
    );
    let http = Http::new(emulator.base_url());
    http.admin("/admin/price", json!({ "coin": "BTC", "px": "100050" }))
        .await;
    let mark = market
        .until(WAIT, |e| e["e"] == "markPriceUpdate" && e["p"] == "100050")
        .await;
    assert!(mark.is_some(), "markPriceUpdate with the new mark");

    let account = user
        .until(WAIT, |e| e["e"] == "ACCOUNT_UPDATE")
        .await
        .expect("ACCOUNT_UPDATE after the fill");
    let position = &account["a"]["P"][0];
    assert_eq!(
        (
            account["a"]["m"].clone(),
            account["a"]["B"][0]["a"].clone(),
            position["s"].clone(),
            position["pa"].clone(),
            position["ep"].clone()
        ),
        (
            json!("ORDER"),
            json!("USDT"),
            json!("BTCUSDT"),
            json!("0.001"),
            json!("100000")
        ),
        "{account}"
    );
    emulator.shutdown().await;
}

/// A header's value as a number.
fn header(headers: &hyper::HeaderMap, name: &str) -> Option<u64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

#[tokio::test]
async fn weight_limit_answers_1003_with_retry_after_and_the_weight_used() {
    let emulator = start(quiet(), BinanceFaults::default()).await;
    let client = Client::new(&emulator, KEY_A);
    let http = Http::new(emulator.base_url());
    http.admin(
        "/admin/binance/faults",
        json!({ "weight_limit_per_min": 3 }),
    )
    .await;
    // The minute may turn over between requests; then the count restarts.
    let mut checked = false;
    for _ in 0..3 {
        let mut answers = Vec::new();
        for _ in 0..4 {
            answers.push(client.send("GET", "/fapi/v1/time", "", false).await);
        }
        let used: Vec<Option<u64>> = answers
            .iter()
            .map(|(_, h, _)| header(h, "X-MBX-USED-WEIGHT-1M"))
            .collect();
        if used[0] != Some(1) {
            continue;
        }
        assert_eq!(used, [Some(1), Some(2), Some(3), Some(4)]);
        let (status, headers, body) = &answers[3];
        assert_eq!(
            (*status, body["code"].clone()),
            (429, json!(-1003)),
            "{body}"
        );
        // Until the minute's count starts again.
        let retry_after = header(headers, "Retry-After");
        assert!(
            retry_after.is_some_and(|secs| (1..=60).contains(&secs)),
            "{retry_after:?}"
        );
        checked = true;
        break;
    }
    assert!(checked, "never four requests within one minute");
    emulator.shutdown().await;
}

#[tokio::test]
async fn ws_api_logon_refuses_an_hmac_key() {
    let emulator = start(quiet(), BinanceFaults::default()).await;
    let mut ws = Ws::open(&format!("ws://{}/ws-fapi/v1", emulator.addr())).await;
    ws.send(ws_signed(
        "l1",
        "session.logon",
        &[("apiKey", KEY_A.0)],
        KEY_A.1,
    ))
    .await;
    let reply = ws.until(WAIT, |f| f["id"] == "l1").await.expect("reply");
    assert_eq!(
        (reply["status"].clone(), reply["error"]["code"].clone()),
        (json!(400), json!(-4056)),
        "{reply}"
    );
    ws.send(json!({ "id": "s1", "method": "session.status", "params": {} }))
        .await;
    let status = ws.until(WAIT, |f| f["id"] == "s1").await.expect("reply");
    assert_eq!(status["result"]["apiKey"], Value::Null, "not logged on");
    emulator.shutdown().await;
}
