//! Signing an order for Bybit (HMAC-SHA256) and Binance (HMAC-SHA256 and
//! Ed25519) in process — the handler parses the request, checks the key's
//! policy, builds the venue's text and signs it — beside a bare
//! HMAC-SHA256 of the same text, measured in the same run.

use std::hint::black_box;

use connector_signer::handler::Signer;
use connector_signer::keyring::{ApiKey, ApiSecret, Key, Keyring, Material};
use connector_signer::policy::{KeyPolicy, api};
use connector_signer::schemes::Venue;
use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const SECRET: &[u8] = b"bench-secret";
const NOW_MS: u64 = 1_700_000_000_500;

const BODY: &str = r#"{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.01","price":"60000","timeInForce":"GTC","orderLinkId":"0x0123456789abcdef0123456789abcdef"}"#;

fn bybit_request() -> String {
    serde_json::json!({
        "id": 1, "scheme": "bybit-rest", "api_key": "bybit", "timestamp": 1_700_000_000_000u64,
        "recv_window": 5000, "method": "POST", "path": "/v5/order/create", "body": BODY,
    })
    .to_string()
}

fn binance_request(key: &str) -> String {
    serde_json::json!({
        "id": 2, "key": key, "scheme": "binance-rest", "api_key": key, "method": "POST",
        "path": "/fapi/v1/order",
        "query": [["symbol", "BTCUSDT"], ["side", "BUY"], ["type", "LIMIT"], ["quantity", "0.01"],
            ["price", "60000"], ["timeInForce", "GTC"],
            ["newClientOrderId", "0123456789abcdef0123456789abcdef"], ["recvWindow", "5000"],
            ["timestamp", "1700000000000"]],
        "body": [],
    })
    .to_string()
}

fn signer() -> Signer {
    let key = |name: &str, venue, secret| Key {
        name: name.to_owned(),
        venue,
        material: Material::Api(ApiKey::new(name, secret)),
        policy: KeyPolicy::Api(api::Policy::default()),
    };
    let ed25519 = ApiSecret::Ed25519(Box::new(SigningKey::from_bytes(&[7; 32])));
    Signer::new(
        Keyring::new(vec![
            key("bybit", Venue::Bybit, ApiSecret::hmac(SECRET)),
            key("binance", Venue::BinanceUsdm, ApiSecret::hmac(SECRET)),
            key("binance-ed25519", Venue::BinanceUsdm, ed25519),
        ])
        .expect("unique names"),
    )
}

fn api_keys(c: &mut Criterion) {
    let signer = signer();
    let mut group = c.benchmark_group("api_keys");
    for (name, request) in [
        ("bybit_order_hmac", bybit_request()),
        ("binance_order_hmac", binance_request("binance")),
        ("binance_order_ed25519", binance_request("binance-ed25519")),
    ] {
        let answer = signer.handle_line_at(request.as_bytes(), NOW_MS);
        let line = String::from_utf8(answer.to_json_line()).expect("utf-8");
        assert!(line.contains(r#""ok":true"#), "{name}: {line}");
        group.bench_function(format!("handler/{name}"), |b| {
            b.iter(|| black_box(signer.handle_line_at(black_box(request.as_bytes()), NOW_MS)))
        });
    }
    // What Bybit signs for that order: timestamp, key, window, body.
    let text = format!("1700000000000bybit5000{BODY}");
    group.bench_function("bare_hmac_sha256_of_the_bybit_text", |b| {
        b.iter(|| {
            let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).expect("any key length");
            mac.update(black_box(text.as_bytes()));
            black_box(mac.finalize().into_bytes())
        })
    });
    group.finish();
}

criterion_group!(benches, api_keys);
criterion_main!(benches);
