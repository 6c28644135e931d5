//! One signing round trip through the Unix socket (a client writes a line and
//! reads the response), and the in-process handler alone for comparison.

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use connector_signer::handler::Signer;
use connector_signer::keyring::Keyring;
use connector_signer::policy::hyperliquid::Policy;
use connector_signer::server::{Access, SignerSocket};
use criterion::{Criterion, criterion_group, criterion_main};
use hyperliquid_core::PrivateKey;

const KEY: &str = "0x00e5fb7b0f747acef23ab43fcff0c82511dd041b249c8a5efa84c59beee988b2";
/// The `order_limit_gtc_btc_mainnet` vector's request.
const REQUEST: &str = r#"{"id":1,"scheme":"hyperliquid-l1","action":{"type":"order","orders":[{"a":0,"b":true,"p":"65432","s":"0.001","r":false,"t":{"limit":{"tif":"Gtc"}}}],"grouping":"na"},"nonce":1700000000001,"vault_address":null,"expires_after":null,"network":"mainnet"}"#;

fn signer() -> Arc<Signer> {
    let key = PrivateKey::from_hex(KEY).expect("bench key");
    Arc::new(Signer::new(Keyring::single(key, Policy::default())))
}

fn handler(c: &mut Criterion) {
    let signer = signer();
    c.bench_function("handler/sign_order", |b| {
        b.iter(|| black_box(signer.handle_line(black_box(REQUEST.as_bytes()))))
    });
}

fn socket_round_trip(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("signer.sock");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let socket = runtime
        .block_on(async { SignerSocket::bind(&path, 0o600) })
        .expect("bind");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(socket.serve(signer(), Access::own_user(), None, async {
        let _ = stopped.await;
    }));

    let mut writer = UnixStream::connect(&path).expect("connect");
    let mut reader = BufReader::new(writer.try_clone().expect("clone"));
    let line = format!("{REQUEST}\n").into_bytes();
    let mut response = String::new();
    c.bench_function("socket/sign_order_round_trip", |b| {
        b.iter(|| {
            writer.write_all(&line).expect("write");
            response.clear();
            reader.read_line(&mut response).expect("read");
            assert!(response.contains(r#""ok":true"#), "{response}");
        })
    });
    drop(stop);
    runtime.block_on(server).expect("server task");
}

/// The floor under the socket round trip: the same line echoed back by a
/// thread that does nothing else (two process wake-ups, no signing).
fn bare_echo_round_trip(c: &mut Criterion) {
    let (mut writer, echo) = UnixStream::pair().expect("socket pair");
    std::thread::spawn(move || {
        let mut reader = BufReader::new(echo.try_clone().expect("clone"));
        let mut echo = echo;
        let mut line = String::new();
        while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            if echo.write_all(line.as_bytes()).is_err() {
                break;
            }
            line.clear();
        }
    });
    let mut reader = BufReader::new(writer.try_clone().expect("clone"));
    let line = format!("{REQUEST}\n").into_bytes();
    let mut response = String::new();
    c.bench_function("socket/bare_echo_round_trip", |b| {
        b.iter(|| {
            writer.write_all(&line).expect("write");
            response.clear();
            reader.read_line(&mut response).expect("read");
        })
    });
}

criterion_group!(benches, handler, socket_round_trip, bare_echo_round_trip);
criterion_main!(benches);
