//! The Bybit v5 front end over loopback: authentication and its errors,
//! rate-limit headers, matching through the front end, post-only and
//! conditional orders, and the public book stream (a snapshot, then deltas
//! whose update ids chain).

use std::collections::BTreeMap;
use std::time::Duration;

use hl_emulator::bybit::{self, ApiKey, BybitOptions};
use hl_emulator::signing::hmac_sha256_hex;
use hl_emulator::{Config, EmulatorHandle};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::support::{Http, Ws, d};

const KEY_A: (&str, &str) = ("key-a", "secret-a");
const KEY_B: (&str, &str) = ("key-b", "secret-b");

fn quiet() -> Config {
    crate::support::quiet(bybit::default_config())
}

async fn start(config: Config, rate_limit_per_sec: u32) -> EmulatorHandle {
    let keys = [KEY_A, KEY_B]
        .iter()
        .map(|(key, secret)| {
            (
                ApiKey {
                    key: (*key).to_owned(),
                    secret: (*secret).to_owned(),
                },
                Decimal::from(100_000),
            )
        })
        .collect();
    let options = BybitOptions {
        keys,
        rate_limit_per_sec,
        ..BybitOptions::default()
    };
    bybit::start(config, options)
        .await
        .expect("bybit emulator starts")
}

/// A signing Bybit REST client.
struct Client {
    http: Http,
    key: String,
    secret: String,
}

/// One reply: body and the rate-limit headers.
struct Reply {
    status: u16,
    body: Value,
    limit: Option<(String, String)>,
}

impl Client {
    fn new(emulator: &EmulatorHandle, (key, secret): (&str, &str)) -> Client {
        Client {
            http: Http::new(emulator.base_url()),
            key: key.to_owned(),
            secret: secret.to_owned(),
        }
    }

    async fn send(&self, method: &str, path: &str, payload: &str, timestamp: u64) -> Reply {
        let sign = hmac_sha256_hex(
            &self.secret,
            format!("{timestamp}{}5000{payload}", self.key).as_bytes(),
        );
        let (path, body) = if method == "GET" {
            (format!("{path}?{payload}"), String::new())
        } else {
            (path.to_owned(), payload.to_owned())
        };
        let headers = [
            ("X-BAPI-API-KEY", self.key.clone()),
            ("X-BAPI-TIMESTAMP", timestamp.to_string()),
            ("X-BAPI-RECV-WINDOW", "5000".to_owned()),
            ("X-BAPI-SIGN", sign),
        ];
        let (status, headers, text) = self.http.send(method, &path, &headers, body).await;
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let limit = header("X-Bapi-Limit").zip(header("X-Bapi-Limit-Status"));
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            limit,
        }
    }

    async fn get(&self, path: &str, query: &str) -> Value {
        let reply = self.send("GET", path, query, now()).await;
        assert_eq!(reply.status, 200, "Bybit answers business errors with 200");
        reply.body
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let reply = self.send("POST", path, &body.to_string(), now()).await;
        assert_eq!(reply.status, 200, "Bybit answers business errors with 200");
        reply.body
    }
}

fn now() -> u64 {
    hl_emulator::clock::now_ms()
}

fn ok(reply: &Value) -> &Value {
    assert_eq!(reply["retCode"], 0, "{reply}");
    &reply["result"]
}

fn limit_order(side: &str, qty: &str, price: &str, tif: &str) -> Value {
    json!({ "category": "linear", "symbol": "BTCUSDT", "side": side, "orderType": "Limit",
            "qty": qty, "price": price, "timeInForce": tif })
}

async fn order(client: &Client, order_id: &str) -> Value {
    let reply = client
        .get(
            "/v5/order/history",
            &format!("category=linear&orderId={order_id}"),
        )
        .await;
    ok(&reply)["list"][0].clone()
}

#[tokio::test]
async fn authentication_errors_are_bybits_own() {
    let emulator = start(quiet(), 100_000).await;
    let good = Client::new(&emulator, KEY_A);
    let wallet = "accountType=UNIFIED";
    let reply = good
        .send("GET", "/v5/account/wallet-balance", wallet, now())
        .await;
    assert_eq!(
        ok(&reply.body)["list"][0]["coin"][0]["walletBalance"],
        "100000"
    );
    assert!(
        reply.limit.is_some(),
        "X-Bapi-Limit headers on private calls"
    );

    let unknown = Client::new(&emulator, ("nobody", "secret-a"));
    assert_eq!(
        unknown.get("/v5/account/wallet-balance", wallet).await["retCode"],
        10003
    );
    let wrong = Client::new(&emulator, ("key-a", "not-the-secret"));
    assert_eq!(
        wrong.get("/v5/account/wallet-balance", wallet).await["retCode"],
        10004
    );
    let stale = good
        .send("GET", "/v5/account/wallet-balance", wallet, now() - 60_000)
        .await;
    assert_eq!(stale.body["retCode"], 10002);
    let future = good
        .send("GET", "/v5/account/wallet-balance", wallet, now() + 60_000)
        .await;
    assert_eq!(future.body["retCode"], 10002);

    // The signature covers the body byte for byte: the same JSON with other
    // spacing is another text.
    let body = r#"{"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001", "price": "90000"}"#;
    let placed = good.send("POST", "/v5/order/create", body, now()).await;
    assert_eq!(placed.body["retCode"], 0, "{}", placed.body);

    let missing = good
        .post(
            "/v5/order/create",
            json!({ "category": "linear", "symbol": "BTCUSDT" }),
        )
        .await;
    assert_eq!(missing["retCode"], 10001);
    emulator.shutdown().await;
}

#[tokio::test]
async fn rate_limit_gives_10006_with_headers() {
    let emulator = start(quiet(), 2).await;
    let client = Client::new(&emulator, KEY_A);
    let mut codes = Vec::new();
    let mut statuses = Vec::new();
    // All in one second unless the second turns over between them; then the
    // window restarts, so look for the refusal among a few tries.
    for _ in 0..6 {
        let reply = client
            .send("GET", "/v5/order/realtime", "category=linear", now())
            .await;
        codes.push(reply.body["retCode"].as_i64().unwrap_or(-1));
        statuses.push(reply.limit.expect("limit headers"));
    }
    assert!(codes.contains(&10006), "{codes:?}");
    assert!(statuses.iter().all(|(limit, _)| limit == "2"));
    emulator.shutdown().await;
}

#[tokio::test]
async fn orders_match_through_the_front_end() {
    let emulator = start(quiet(), 100_000).await;
    let (a, b) = (Client::new(&emulator, KEY_A), Client::new(&emulator, KEY_B));
    let mut maker = limit_order("Sell", "0.010", "100000.5", "GTC");
    maker["orderLinkId"] = json!("maker-1");
    let maker_id = ok(&a.post("/v5/order/create", maker).await)["orderId"]
        .as_str()
        .expect("orderId")
        .to_owned();
    let off_tick = b
        .post(
            "/v5/order/create",
            limit_order("Buy", "0.004", "100000.55", "GTC"),
        )
        .await;
    assert_eq!(off_tick["retCode"], 10001, "{off_tick}");
    let off_lot = b
        .post(
            "/v5/order/create",
            limit_order("Buy", "0.0045", "100000.5", "GTC"),
        )
        .await;
    assert_eq!(off_lot["retCode"], 10001, "{off_lot}");
    let taker = b
        .post(
            "/v5/order/create",
            limit_order("Buy", "0.004", "100001", "IOC"),
        )
        .await;
    let taker_id = ok(&taker)["orderId"].as_str().expect("orderId").to_owned();

    let maker = order(&a, &maker_id).await;
    assert_eq!(maker["orderStatus"], "PartiallyFilled");
    assert_eq!(maker["cumExecQty"], "0.004");
    assert_eq!(maker["leavesQty"], "0.006");
    let taker = order(&b, &taker_id).await;
    assert_eq!(taker["orderStatus"], "Filled");
    assert_eq!(d(taker["avgPrice"].as_str().unwrap_or("0")), d("100000.5"));

    let fills = b
        .get("/v5/execution/list", "category=linear&symbol=BTCUSDT")
        .await;
    let fill = &ok(&fills)["list"][0];
    assert_eq!(
        (fill["isMaker"].clone(), fill["execQty"].clone()),
        (json!(false), json!("0.004"))
    );
    let position = b
        .get("/v5/position/list", "category=linear&symbol=BTCUSDT")
        .await;
    let position = &ok(&position)["list"][0];
    assert_eq!(
        (position["side"].clone(), position["size"].clone()),
        (json!("Buy"), json!("0.004"))
    );
    let position = a
        .get("/v5/position/list", "category=linear&symbol=BTCUSDT")
        .await;
    assert_eq!(ok(&position)["list"][0]["side"], "Sell");

    // Amend in place: same orderId, new price, the fill history kept.
    let amended = a
        .post(
            "/v5/order/amend",
            json!({ "category": "linear", "symbol": "BTCUSDT", "orderLinkId": "maker-1", "price": "100002" }),
        )
        .await;
    assert_eq!(ok(&amended)["orderId"], maker_id);
    let maker = order(&a, &maker_id).await;
    assert_eq!(
        (maker["price"].clone(), maker["cumExecQty"].clone()),
        (json!("100002"), json!("0.004"))
    );

    // Post-only that would take: accepted, then cancelled with Bybit's reason.
    let post_only = b
        .post(
            "/v5/order/create",
            limit_order("Buy", "0.001", "100002", "PostOnly"),
        )
        .await;
    let post_only = order(&b, ok(&post_only)["orderId"].as_str().unwrap_or("")).await;
    assert_eq!(post_only["orderStatus"], "Cancelled");
    assert_eq!(post_only["rejectReason"], "EC_PostOnlyWillTakeLiquidity");

    let all = a
        .post(
            "/v5/order/cancel-all",
            json!({ "category": "linear", "symbol": "BTCUSDT" }),
        )
        .await;
    assert_eq!(ok(&all)["list"][0]["orderId"], maker_id);
    let unknown = a
        .post(
            "/v5/order/cancel",
            json!({ "category": "linear", "symbol": "BTCUSDT", "orderId": maker_id }),
        )
        .await;
    assert_eq!(unknown["retCode"], 110001);
    emulator.shutdown().await;
}

#[tokio::test]
async fn conditional_orders_wait_for_the_trigger() {
    let emulator = start(quiet(), 100_000).await;
    let (a, b) = (Client::new(&emulator, KEY_A), Client::new(&emulator, KEY_B));
    ok(&a
        .post(
            "/v5/order/create",
            limit_order("Sell", "0.010", "101000", "GTC"),
        )
        .await);
    let mut stop = limit_order("Buy", "0.002", "101000", "GTC");
    stop["orderType"] = json!("Market");
    stop["triggerPrice"] = json!("100500");
    stop["triggerDirection"] = json!(1);
    stop["triggerBy"] = json!("MarkPrice");
    let stop_id = ok(&b.post("/v5/order/create", stop.clone()).await)["orderId"]
        .as_str()
        .expect("orderId")
        .to_owned();
    assert_eq!(order(&b, &stop_id).await["orderStatus"], "Untriggered");
    stop["triggerDirection"] = json!(2);
    let wrong_side = b.post("/v5/order/create", stop).await;
    assert_eq!(wrong_side["retCode"], 110093, "{wrong_side}");

    let http = Http::new(emulator.base_url());
    http.admin("/admin/price", json!({ "coin": "BTC", "px": "100600" }))
        .await;
    let filled = order(&b, &stop_id).await;
    assert_eq!(filled["orderStatus"], "Filled", "{filled}");
    assert_eq!(filled["cumExecQty"], "0.002");
    emulator.shutdown().await;
}

type Side = BTreeMap<Decimal, Decimal>;

fn apply(side: &mut Side, levels: &Value) {
    for level in levels.as_array().into_iter().flatten() {
        let px = d(level[0].as_str().unwrap_or("0"));
        let sz = d(level[1].as_str().unwrap_or("0"));
        if sz.is_zero() {
            assert!(
                side.remove(&px).is_some(),
                "a delta deletes an absent level {px}"
            );
        } else {
            side.insert(px, sz);
        }
    }
}

#[tokio::test]
async fn book_stream_is_a_snapshot_then_chained_deltas() {
    let mut config = bybit::default_config();
    config.block_ms = 20;
    let emulator = start(config, 100_000).await;
    let url = format!("ws://{}/v5/public/linear", emulator.addr());
    let mut ws = Ws::open(&url).await;
    let subscribe = json!({ "req_id": "r1", "op": "subscribe", "args": ["orderbook.50.BTCUSDT"] });
    ws.send(subscribe).await;
    let mut frames = Vec::new();
    while frames.len() < 25 {
        let Some(frame) = ws.next_json(Duration::from_secs(10)).await else {
            panic!("stream ended after {} frames", frames.len());
        };
        frames.push(frame);
    }
    assert_eq!(frames[0]["op"], "subscribe");
    assert_eq!(frames[0]["success"], true);
    assert_eq!(frames[0]["req_id"], "r1");
    let book: Vec<&Value> = frames[1..].iter().collect();
    assert_eq!(book[0]["type"], "snapshot");
    let (mut bids, mut asks) = (Side::new(), Side::new());
    let mut last_u = 0;
    for frame in book {
        assert_eq!(frame["topic"], "orderbook.50.BTCUSDT");
        let data = &frame["data"];
        let u = data["u"].as_u64().expect("u");
        if frame["type"] == "snapshot" {
            bids.clear();
            asks.clear();
        } else {
            assert_eq!(frame["type"], "delta");
            assert_eq!(u, last_u + 1, "update ids chain");
        }
        last_u = u;
        apply(&mut bids, &data["b"]);
        apply(&mut asks, &data["a"]);
        let (best_bid, best_ask) = (bids.keys().next_back(), asks.keys().next());
        assert!(best_bid < best_ask || best_ask.is_none(), "book crossed");
        assert!(bids.len() <= 50 && asks.len() <= 50);
    }
    let ping = json!({ "req_id": "p", "op": "ping" });
    ws.send(ping).await;
    loop {
        let Some(frame) = ws.next_json(Duration::from_secs(5)).await else {
            panic!("no pong")
        };
        if frame["op"] == "ping" {
            assert_eq!(frame["ret_msg"], "pong");
            break;
        }
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn book_faults_skip_an_update_id_and_reset_with_u_1() {
    let mut config = bybit::default_config();
    config.block_ms = 20;
    let emulator = start(config, 100_000).await;
    let http = Http::new(emulator.base_url());
    let settings = http
        .admin(
            "/admin/bybit/faults",
            json!({ "skip_update_id_rate": 0.3, "book_reset_rate": 0.2 }),
        )
        .await;
    assert_eq!(settings["book_reset_rate"], 0.2);
    let url = format!("ws://{}/v5/public/linear", emulator.addr());
    let mut ws = Ws::open(&url).await;
    let subscribe = json!({ "op": "subscribe", "args": ["orderbook.50.BTCUSDT"] });
    ws.send(subscribe).await;
    let (mut skipped, mut resets, mut last_u) = (false, false, 0);
    for _ in 0..200 {
        let Some(frame) = ws.next_json(Duration::from_secs(10)).await else {
            panic!("stream ended")
        };
        if frame["topic"] != "orderbook.50.BTCUSDT" {
            continue;
        }
        let u = frame["data"]["u"].as_u64().unwrap_or(0);
        if frame["type"] == "snapshot" && u == 1 && last_u > 0 {
            resets = true;
        }
        if frame["type"] == "delta" && u > last_u + 1 {
            skipped = true;
        }
        last_u = u;
        if skipped && resets {
            break;
        }
    }
    assert!(skipped && resets, "skipped {skipped}, reset {resets}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn private_stream_reports_new_partial_filled_and_cancelled() {
    let emulator = start(quiet(), 100_000).await;
    let (a, b) = (Client::new(&emulator, KEY_A), Client::new(&emulator, KEY_B));
    let url = format!("ws://{}/v5/private", emulator.addr());
    let mut ws = Ws::open(&url).await;
    let expires = now() + 10_000;
    let signature = hmac_sha256_hex("secret-a", format!("GET/realtime{expires}").as_bytes());
    let auth = json!({ "op": "auth", "args": ["key-a", expires, signature] });
    ws.send(auth).await;
    let subscribe = json!({ "op": "subscribe", "req_id": "s", "args": ["order", "execution"] });
    ws.send(subscribe).await;
    let mut acks = 0;
    while acks < 2 {
        let Some(frame) = ws.next_json(Duration::from_secs(5)).await else {
            panic!("no ack")
        };
        assert_eq!(frame["success"], true, "{frame}");
        acks += 1;
    }
    let maker = ok(&a
        .post(
            "/v5/order/create",
            limit_order("Sell", "0.010", "100000", "GTC"),
        )
        .await)["orderId"]
        .as_str()
        .expect("orderId")
        .to_owned();
    ok(&b
        .post(
            "/v5/order/create",
            limit_order("Buy", "0.004", "100000", "IOC"),
        )
        .await);
    ok(&b
        .post(
            "/v5/order/create",
            limit_order("Buy", "0.006", "100000", "IOC"),
        )
        .await);
    let other = ok(&a
        .post(
            "/v5/order/create",
            limit_order("Sell", "0.010", "100100", "GTC"),
        )
        .await)["orderId"]
        .as_str()
        .expect("orderId")
        .to_owned();
    ok(&a
        .post(
            "/v5/order/cancel",
            json!({ "category": "linear", "symbol": "BTCUSDT", "orderId": other }),
        )
        .await);
    let mut statuses = Vec::new();
    let mut executions = 0;
    while statuses.len() < 6 || executions < 2 {
        let Some(frame) = ws.next_json(Duration::from_secs(10)).await else {
            panic!("stream ended: {statuses:?}")
        };
        for item in frame["data"].as_array().into_iter().flatten() {
            match frame["topic"].as_str() {
                Some("order") => statuses.push((
                    item["orderId"] == maker.as_str(),
                    item["orderStatus"].as_str().unwrap_or("").to_owned(),
                )),
                Some("execution") => executions += 1,
                _ => {}
            }
        }
    }
    let mut statuses: Vec<(bool, &str)> = statuses.iter().map(|(m, s)| (*m, s.as_str())).collect();
    // The final fill is reported twice (the status change and the fill), as
    // Bybit may; the sequence is what counts.
    statuses.dedup();
    assert_eq!(
        statuses,
        [
            (true, "New"),
            (true, "PartiallyFilled"),
            (true, "Filled"),
            (false, "New"),
            (false, "Cancelled")
        ]
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn core_faults_apply_to_the_bybit_front_end() {
    let emulator = start(quiet(), 100_000).await;
    let client = Client::new(&emulator, KEY_A);
    let http = Http::new(emulator.base_url());
    http.admin("/admin/faults", json!({ "http_5xx_next": 1 }))
        .await;
    let (status, _) = http.request("GET", "/v5/market/time", String::new()).await;
    assert!(status >= 500, "{status}");
    let (status, _) = http.request("GET", "/v5/market/time", String::new()).await;
    assert_eq!(status, 200);
    http.admin(
        "/admin/faults",
        json!({ "exchange_5xx_next": 1, "http_5xx_after_apply": true }),
    )
    .await;
    let body = limit_order("Buy", "0.001", "90000", "GTC").to_string();
    let reply = client.send("POST", "/v5/order/create", &body, now()).await;
    assert!(reply.status >= 500, "{}", reply.status);
    let open = client.get("/v5/order/realtime", "category=linear").await;
    assert_eq!(
        ok(&open)["list"].as_array().map(Vec::len),
        Some(1),
        "applied anyway: {open}"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_refused_amend_leaves_the_order_unchanged() {
    let emulator = start(quiet(), 100_000).await;
    let (a, b) = (Client::new(&emulator, KEY_A), Client::new(&emulator, KEY_B));
    ok(&a
        .post(
            "/v5/order/create",
            limit_order("Sell", "0.010", "100000", "GTC"),
        )
        .await);
    let bid = ok(&b
        .post(
            "/v5/order/create",
            limit_order("Buy", "0.001", "99990", "PostOnly"),
        )
        .await)["orderId"]
        .as_str()
        .expect("orderId")
        .to_owned();
    let amend = |fields: Value| {
        let mut body = json!({ "category": "linear", "symbol": "BTCUSDT", "orderId": bid });
        if let (Some(body), Some(fields)) = (body.as_object_mut(), fields.as_object()) {
            body.extend(fields.clone());
        }
        body
    };

    // At the ask the PostOnly order would take: refused, left as it was.
    let crossing = b
        .post("/v5/order/amend", amend(json!({ "price": "100000" })))
        .await;
    assert_eq!(crossing["retCode"], 10001, "{crossing}");
    // More than the wallet carries: refused, left as it was.
    let huge = b
        .post("/v5/order/amend", amend(json!({ "qty": "100" })))
        .await;
    assert_eq!(huge["retCode"], 110007, "{huge}");
    let order_now = order(&b, &bid).await;
    assert_eq!(
        (
            order_now["orderStatus"].clone(),
            order_now["price"].clone(),
            order_now["qty"].clone()
        ),
        (json!("New"), json!("99990"), json!("0.001"))
    );
    let open = b.get("/v5/order/realtime", "category=linear").await;
    assert_eq!(ok(&open)["list"][0]["orderId"], bid.as_str());

    // An amend the core takes still works on the same order.
    let moved = b
        .post("/v5/order/amend", amend(json!({ "price": "99995" })))
        .await;
    assert_eq!(ok(&moved)["orderId"], bid.as_str());
    assert_eq!(order(&b, &bid).await["price"], "99995");
    emulator.shutdown().await;
}

/// One `/v5/trade` `order.create` of a far bid; the reply.
async fn trade_create(ws: &mut Ws, n: usize) -> Value {
    let create = json!({
        "reqId": format!("c{n}"),
        "header": { "X-BAPI-TIMESTAMP": now().to_string() },
        "op": "order.create",
        "args": [limit_order("Buy", "0.001", "90000", "GTC")],
    });
    ws.send(create).await;
    ws.until(Duration::from_secs(5), |f| f["reqId"] == format!("c{n}"))
        .await
        .expect("order.create reply")
}

#[tokio::test]
async fn trade_socket_headers_count_against_the_rest_limit() {
    let emulator = start(quiet(), 3).await;
    let client = Client::new(&emulator, KEY_A);
    let mut ws = Ws::open(&format!("ws://{}/v5/trade", emulator.addr())).await;
    let expires = now() + 10_000;
    let signature = hmac_sha256_hex("secret-a", format!("GET/realtime{expires}").as_bytes());
    ws.send(json!({ "op": "auth", "args": ["key-a", expires, signature] }))
        .await;
    let auth = ws
        .until(Duration::from_secs(5), |f| f["op"] == "auth")
        .await
        .expect("auth reply");
    assert_eq!(auth["retCode"], 0, "{auth}");

    // Within one second (retried when the second turns over between the
    // requests): REST takes one of the three, the socket the rest, then 10006.
    let mut checked = false;
    for attempt in 0..5 {
        let rest = client
            .send(
                "POST",
                "/v5/order/create",
                &limit_order("Buy", "0.001", "90000", "GTC").to_string(),
                now(),
            )
            .await;
        let mut replies = Vec::new();
        for n in 0..3 {
            replies.push(trade_create(&mut ws, attempt * 3 + n).await);
        }
        let reset = |f: &Value| f["header"]["X-Bapi-Limit-Reset-Timestamp"].clone();
        let rest_reset = rest.body["time"].as_u64().map(|t| (t / 1000 + 1) * 1000);
        let same_second = replies
            .iter()
            .all(|r| reset(r) == json!(rest_reset.unwrap_or(0).to_string()));
        if !same_second {
            tokio::time::sleep(Duration::from_millis(1100)).await;
            continue;
        }
        assert_eq!(rest.limit, Some(("3".to_owned(), "2".to_owned())));
        let seen: Vec<(Value, Value, Value)> = replies
            .iter()
            .map(|r| {
                (
                    r["retCode"].clone(),
                    r["header"]["X-Bapi-Limit"].clone(),
                    r["header"]["X-Bapi-Limit-Status"].clone(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (json!(0), json!("3"), json!("1")),
                (json!(0), json!("3"), json!("0")),
                (json!(10006), json!("3"), json!("0")),
            ]
        );
        checked = true;
        break;
    }
    assert!(checked, "never four requests within one second");
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_unanswered_create_is_applied_and_sockets_fail_on_demand() {
    let emulator = start(quiet(), 100_000).await;
    let client = Client::new(&emulator, KEY_A);
    let http = Http::new(emulator.base_url());
    http.admin("/admin/faults", json!({ "exchange_hang_next": 1 }))
        .await;
    let mut body = limit_order("Buy", "0.001", "90000", "GTC");
    body["orderLinkId"] = json!("hung-1");
    let hung = tokio::time::timeout(
        Duration::from_millis(800),
        client.send("POST", "/v5/order/create", &body.to_string(), now()),
    )
    .await;
    assert!(hung.is_err(), "never answered");
    let open = client
        .get("/v5/order/realtime", "category=linear&orderLinkId=hung-1")
        .await;
    assert_eq!(ok(&open)["list"][0]["orderStatus"], "New", "{open}");

    // A garbled pong, then a pong that cuts the connection.
    let url = format!("ws://{}/v5/public/linear", emulator.addr());
    let mut ws = Ws::open(&url).await;
    http.admin("/admin/faults", json!({ "ws_malformed_probability": 1.0 }))
        .await;
    ws.send(json!({ "op": "ping" })).await;
    let text = ws.next_text(Duration::from_secs(5)).await.expect("a frame");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    http.admin(
        "/admin/faults",
        json!({ "reset": true, "ws_drop_probability": 1.0 }),
    )
    .await;
    ws.send(json!({ "op": "ping" })).await;
    assert!(ws.closed_within(Duration::from_secs(5)).await, "dropped");
    emulator.shutdown().await;
}

/// The per-item `(orderId present, code)` of a batch reply.
fn batch_items(reply: &Value) -> Vec<(bool, i64)> {
    let ids = ok(reply)["list"].as_array().cloned().unwrap_or_default();
    let codes = reply["retExtInfo"]["list"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(ids.len(), codes.len(), "{reply}");
    ids.iter()
        .zip(&codes)
        .map(|(item, code)| {
            (
                item["orderId"].as_str().is_some_and(|id| !id.is_empty()),
                code["code"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

#[tokio::test]
async fn batches_answer_per_item() {
    let emulator = start(quiet(), 100_000).await;
    let client = Client::new(&emulator, KEY_A);
    let item = |price: &str, link: &str| {
        let mut order = limit_order("Buy", "0.001", price, "GTC");
        order["orderLinkId"] = json!(link);
        order
    };
    let created = client
        .post(
            "/v5/order/create-batch",
            json!({ "category": "linear", "request": [
                item("90000", "batch-1"), item("90000.05", "batch-off-tick"), item("90100", "batch-2")
            ] }),
        )
        .await;
    assert_eq!(
        batch_items(&created),
        [(true, 0), (false, 10001), (true, 0)]
    );
    assert_eq!(ok(&created)["list"][2]["orderLinkId"], "batch-2");

    let amended = client
        .post(
            "/v5/order/amend-batch",
            json!({ "category": "linear", "request": [
                { "symbol": "BTCUSDT", "orderLinkId": "batch-1", "price": "90050" },
                { "symbol": "BTCUSDT", "orderLinkId": "never-placed", "price": "90050" },
            ] }),
        )
        .await;
    assert_eq!(batch_items(&amended), [(true, 0), (false, 110001)]);
    let open = client
        .get("/v5/order/realtime", "category=linear&orderLinkId=batch-1")
        .await;
    assert_eq!(ok(&open)["list"][0]["price"], "90050");

    let cancelled = client
        .post(
            "/v5/order/cancel-batch",
            json!({ "category": "linear", "request": [
                { "symbol": "BTCUSDT", "orderLinkId": "batch-2" },
                { "symbol": "BTCUSDT", "orderLinkId": "batch-1" },
                { "symbol": "BTCUSDT", "orderLinkId": "batch-2" },
            ] }),
        )
        .await;
    assert_eq!(
        batch_items(&cancelled),
        [(true, 0), (true, 0), (false, 110001)]
    );
    let open = client.get("/v5/order/realtime", "category=linear").await;
    assert_eq!(ok(&open)["list"], json!([]));
    let too_many: Vec<Value> = (0..21).map(|n| item("90000", &format!("m{n}"))).collect();
    let refused = client
        .post(
            "/v5/order/create-batch",
            json!({ "category": "linear", "request": too_many }),
        )
        .await;
    assert_eq!(refused["retCode"], 10001, "{refused}");
    emulator.shutdown().await;
}

/// A `/v5/private` socket authenticated with `key`, subscribed to `topics`.
async fn private_socket(emulator: &EmulatorHandle, key: (&str, &str), topics: Value) -> Ws {
    let mut ws = Ws::open(&format!("ws://{}/v5/private", emulator.addr())).await;
    let expires = now() + 10_000;
    let signature = hmac_sha256_hex(key.1, format!("GET/realtime{expires}").as_bytes());
    ws.send(json!({ "op": "auth", "args": [key.0, expires, signature] }))
        .await;
    ws.send(json!({ "op": "subscribe", "req_id": "sub", "args": topics }))
        .await;
    let ack = ws
        .until(Duration::from_secs(5), |f| f["op"] == "subscribe")
        .await
        .expect("subscription ack");
    assert_eq!(ack["success"], true, "{ack}");
    ws
}

#[tokio::test]
async fn dcp_cancels_every_order_once_the_last_dcp_socket_is_gone() {
    let emulator = start(quiet(), 100_000).await;
    let client = Client::new(&emulator, KEY_A);
    let armed = client
        .post(
            "/v5/order/disconnected-cancel-all",
            json!({ "product": "DERIVATIVES", "timeWindow": 3 }),
        )
        .await;
    ok(&armed);
    let info = client.get("/v5/account/dcp-info", "").await;
    assert_eq!(
        ok(&info)["dcpInfos"][0],
        json!({ "product": "DERIVATIVES", "dcpStatus": "ON", "timeWindow": "3" })
    );
    let too_short = client
        .post(
            "/v5/order/disconnected-cancel-all",
            json!({ "product": "DERIVATIVES", "timeWindow": 2 }),
        )
        .await;
    assert_eq!(too_short["retCode"], 10001);

    // Subscribed after arming (the documented order).
    let ws = tokio::time::timeout(
        Duration::from_secs(5),
        private_socket(&emulator, KEY_A, json!(["dcp"])),
    )
    .await
    .expect("the dcp subscription is answered");
    let id = ok(&client
        .post(
            "/v5/order/create",
            limit_order("Buy", "0.001", "90000", "GTC"),
        )
        .await)["orderId"]
        .as_str()
        .expect("orderId")
        .to_owned();
    drop(ws);
    let gone = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        order(&client, &id).await["orderStatus"],
        "New",
        "within the window"
    );
    let cancelled = loop {
        let now_order = order(&client, &id).await;
        if now_order["orderStatus"] != "New" || gone.elapsed() > Duration::from_secs(6) {
            break now_order;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        (
            cancelled["orderStatus"].clone(),
            cancelled["cancelType"].clone()
        ),
        (json!("Cancelled"), json!("CancelByDCP"))
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn take_profit_and_stop_loss_on_create_become_exit_orders() {
    let emulator = start(quiet(), 100_000).await;
    let (a, b) = (Client::new(&emulator, KEY_A), Client::new(&emulator, KEY_B));
    ok(&b
        .post(
            "/v5/order/create",
            limit_order("Sell", "0.002", "100000", "GTC"),
        )
        .await);
    let mut wrong = limit_order("Buy", "0.002", "100000", "IOC");
    wrong["takeProfit"] = json!("99000");
    let wrong = a.post("/v5/order/create", wrong).await;
    assert_eq!(
        wrong["retCode"], 10001,
        "a buy's take-profit below: {wrong}"
    );

    let mut entry = limit_order("Buy", "0.002", "100000", "IOC");
    entry["takeProfit"] = json!("101000");
    entry["stopLoss"] = json!("99000");
    let id = ok(&a.post("/v5/order/create", entry).await)["orderId"]
        .as_str()
        .expect("orderId")
        .to_owned();
    let filled = order(&a, &id).await;
    assert_eq!(
        (
            filled["orderStatus"].clone(),
            filled["takeProfit"].clone(),
            filled["stopLoss"].clone()
        ),
        (json!("Filled"), json!("101000"), json!("99000"))
    );
    let open = a.get("/v5/order/realtime", "category=linear").await;
    let mut exits: Vec<(Value, Value, Value, Value, Value)> = ok(&open)["list"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            (
                o["stopOrderType"].clone(),
                o["side"].clone(),
                o["triggerPrice"].clone(),
                o["reduceOnly"].clone(),
                o["orderStatus"].clone(),
            )
        })
        .collect();
    exits.sort_by_key(|e| e.0.to_string());
    let exit = |kind: &str, px: &str| {
        (
            json!(kind),
            json!("Sell"),
            json!(px),
            json!(true),
            json!("Untriggered"),
        )
    };
    assert_eq!(
        exits,
        [exit("StopLoss", "99000"), exit("TakeProfit", "101000")],
        "{open}"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn trade_socket_amends_in_place() {
    let emulator = start(quiet(), 100_000).await;
    let client = Client::new(&emulator, KEY_A);
    let mut ws = Ws::open(&format!("ws://{}/v5/trade", emulator.addr())).await;
    let expires = now() + 10_000;
    let signature = hmac_sha256_hex(KEY_A.1, format!("GET/realtime{expires}").as_bytes());
    ws.send(json!({ "op": "auth", "args": [KEY_A.0, expires, signature] }))
        .await;
    let created = trade_create(&mut ws, 0).await;
    let id = created["data"]["orderId"]
        .as_str()
        .expect("orderId")
        .to_owned();
    let amend = |n: &str, fields: Value| {
        let mut args = json!({ "category": "linear", "symbol": "BTCUSDT", "orderId": id });
        if let (Some(args), Some(fields)) = (args.as_object_mut(), fields.as_object()) {
            args.extend(fields.clone());
        }
        json!({ "reqId": n, "header": { "X-BAPI-TIMESTAMP": now().to_string() },
                "op": "order.amend", "args": [args] })
    };
    ws.send(amend("a1", json!({ "price": "90500", "qty": "0.002" })))
        .await;
    let reply = ws
        .until(Duration::from_secs(5), |f| f["reqId"] == "a1")
        .await
        .expect("order.amend reply");
    assert_eq!(
        (
            reply["retCode"].clone(),
            reply["op"].clone(),
            reply["data"]["orderId"].clone()
        ),
        (json!(0), json!("order.amend"), json!(id)),
        "{reply}"
    );
    let amended = order(&client, &id).await;
    assert_eq!(
        (amended["price"].clone(), amended["qty"].clone()),
        (json!("90500"), json!("0.002"))
    );
    ws.send(amend("a2", json!({ "price": "90500.05" }))).await;
    let off_tick = ws
        .until(Duration::from_secs(5), |f| f["reqId"] == "a2")
        .await
        .expect("order.amend reply");
    assert_eq!(off_tick["retCode"], 10001, "{off_tick}");
    assert_eq!(order(&client, &id).await["price"], "90500");
    emulator.shutdown().await;
}

#[tokio::test]
async fn rest_smoke_of_market_data_settings_and_closed_orders() {
    let emulator = start(quiet(), 100_000).await;
    let (a, b) = (Client::new(&emulator, KEY_A), Client::new(&emulator, KEY_B));
    // Settings first: Bybit refuses margin-mode switches with a position open.
    let position = async |client: &Client| {
        let list = client
            .get("/v5/position/list", "category=linear&symbol=BTCUSDT")
            .await;
        ok(&list)["list"][0].clone()
    };
    let leverage = json!({ "category": "linear", "symbol": "BTCUSDT", "buyLeverage": "7", "sellLeverage": "7" });
    ok(&a.post("/v5/position/set-leverage", leverage.clone()).await);
    assert_eq!(position(&a).await["leverage"], "7");
    let again = a.post("/v5/position/set-leverage", leverage).await;
    assert_eq!(again["retCode"], 110043, "{again}");
    let isolated = json!({ "category": "linear", "symbol": "BTCUSDT", "tradeMode": 1,
                           "buyLeverage": "5", "sellLeverage": "5" });
    ok(&b
        .post("/v5/position/switch-isolated", isolated.clone())
        .await);
    assert_eq!(position(&b).await["tradeMode"], 1);
    let again = b.post("/v5/position/switch-isolated", isolated).await;
    assert_eq!(again["retCode"], 110026, "{again}");
    let mode = b
        .post(
            "/v5/account/set-margin-mode",
            json!({ "setMarginMode": "REGULAR_MARGIN" }),
        )
        .await;
    assert_eq!(ok(&mode)["reasons"], json!([]));
    assert_eq!(position(&b).await["tradeMode"], 0);

    let maker = ok(&a
        .post(
            "/v5/order/create",
            limit_order("Sell", "0.002", "100000", "GTC"),
        )
        .await)["orderId"]
        .clone();
    ok(&b
        .post(
            "/v5/order/create",
            limit_order("Buy", "0.002", "100000", "IOC"),
        )
        .await);

    let symbol = "category=linear&symbol=BTCUSDT";
    let tickers = a.get("/v5/market/tickers", symbol).await;
    let ticker = &ok(&tickers)["list"][0];
    assert_eq!(
        (
            ticker["symbol"].clone(),
            ticker["lastPrice"].clone(),
            ticker["markPrice"].clone(),
            ticker["fundingRate"].is_string()
        ),
        (json!("BTCUSDT"), json!("100000"), json!("100000"), true),
        "{ticker}"
    );
    let trades = a
        .get("/v5/market/recent-trade", &format!("{symbol}&limit=1"))
        .await;
    let trade = &ok(&trades)["list"][0];
    assert_eq!(
        (
            trade["price"].clone(),
            trade["size"].clone(),
            trade["side"].clone()
        ),
        (json!("100000"), json!("0.002"), json!("Buy"))
    );
    let funding = a
        .get("/v5/market/funding/history", &format!("{symbol}&limit=2"))
        .await;
    let times: Vec<u64> = ok(&funding)["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["fundingRateTimestamp"].as_str()?.parse().ok())
        .collect();
    assert!(
        times.len() == 2 && times[0] > times[1] && times[0] <= now(),
        "{funding}"
    );

    let closed = a
        .get("/v5/order/realtime", "category=linear&openOnly=1")
        .await;
    let closed = &ok(&closed)["list"][0];
    assert_eq!(
        (closed["orderId"].clone(), closed["orderStatus"].clone()),
        (maker, json!("Filled"))
    );
    let open = a.get("/v5/order/realtime", "category=linear").await;
    assert_eq!(ok(&open)["list"], json!([]));
    emulator.shutdown().await;
}

/// The first frame of `topic` matching `accept`, skipping others.
async fn topic_frame(ws: &mut Ws, topic: &str, accept: impl Fn(&Value) -> bool) -> Value {
    ws.until(Duration::from_secs(5), |f| f["topic"] == topic && accept(f))
        .await
        .unwrap_or_else(|| panic!("no {topic} frame"))
}

#[tokio::test]
async fn public_and_private_topics_report_a_trade() {
    let emulator = start(quiet(), 100_000).await;
    let (a, b) = (Client::new(&emulator, KEY_A), Client::new(&emulator, KEY_B));
    ok(&a
        .post(
            "/v5/order/create",
            limit_order("Sell", "0.003", "100000", "GTC"),
        )
        .await);
    let mut public = Ws::open(&format!("ws://{}/v5/public/linear", emulator.addr())).await;
    let topics = [
        "publicTrade.BTCUSDT",
        "tickers.BTCUSDT",
        "orderbook.1.BTCUSDT",
        "orderbook.200.BTCUSDT",
    ];
    public
        .send(json!({ "op": "subscribe", "args": topics }))
        .await;
    let deep = topic_frame(&mut public, "orderbook.200.BTCUSDT", |_| true).await;
    assert_eq!(
        (deep["type"].clone(), deep["data"]["a"].clone()),
        (json!("snapshot"), json!([["100000", "0.003"]]))
    );
    assert!(deep["data"]["seq"].is_u64(), "{deep}");
    let ticker = topic_frame(&mut public, "tickers.BTCUSDT", |_| true).await;
    assert_eq!(ticker["data"]["markPrice"], "100000", "{ticker}");

    let mut private = private_socket(&emulator, KEY_B, json!(["position", "wallet"])).await;

    ok(&b
        .post(
            "/v5/order/create",
            limit_order("Buy", "0.001", "100000", "IOC"),
        )
        .await);
    let trade = topic_frame(&mut public, "publicTrade.BTCUSDT", |_| true).await;
    let trade = &trade["data"][0];
    assert_eq!(
        (trade["p"].clone(), trade["v"].clone(), trade["S"].clone()),
        (json!("100000"), json!("0.001"), json!("Buy"))
    );
    let top = topic_frame(&mut public, "orderbook.1.BTCUSDT", |f| {
        f["data"]["a"] == json!([["100000", "0.002"]])
    })
    .await;
    assert_eq!(top["type"], "snapshot", "depth 1 is snapshots only");
    let delta = topic_frame(&mut public, "orderbook.200.BTCUSDT", |f| {
        f["type"] == "delta"
    })
    .await;
    assert_eq!(delta["data"]["a"], json!([["100000", "0.002"]]));
    assert!(delta["data"]["seq"].as_u64() > deep["data"]["seq"].as_u64());

    let position = topic_frame(&mut private, "position", |_| true).await;
    let position = &position["data"][0];
    assert_eq!(
        (
            position["symbol"].clone(),
            position["side"].clone(),
            position["size"].clone()
        ),
        (json!("BTCUSDT"), json!("Buy"), json!("0.001"))
    );
    let wallet = topic_frame(&mut private, "wallet", |_| true).await;
    assert_eq!(wallet["data"][0]["coin"][0]["coin"], "USDT", "{wallet}");
    emulator.shutdown().await;
}
