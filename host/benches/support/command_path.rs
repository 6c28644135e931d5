//! A command received (its bytes handed to the dispatcher) to the signed
//! request arriving at an emulator, through the external signer process,
//! beside the sum of its bare parts: one signer round trip of the same kind
//! of request and one loopback HTTP POST of a request the same size to the
//! same emulator — the three taken in turn, so that all meet the same
//! machine. Printed as a table for `docs/benchmarks.md`.

use std::path::Path;
use std::time::{Duration, Instant};

use connector_host::commands::{Dispatcher, Handled, parse_request};
use connector_host::signer::SignerClient;
use connector_host::trading::Trading;
use tokio::sync::broadcast;

use crate::measure::report;

/// The bare parts of one order: what its plugin asks the signer to sign
/// (round `i`'s payload under `scheme`), and a request the same size
/// (POSTed to `url` with `body`).
pub struct Parts<P: Fn(usize) -> String> {
    /// The signing scheme.
    pub scheme: &'static str,
    /// Round `i`'s payload to sign.
    pub payload: P,
    /// Where the bare request goes.
    pub url: String,
    /// Its body.
    pub body: String,
}

/// `rounds` rounds of: `command(i)` handed to a dispatcher over `trading`,
/// timed until the emulator reports its request's arrival; a signer round
/// trip (the signer at `signer`); a bare POST to the same emulator — each
/// followed by a pause of `gap`.
pub async fn command_to_exchange<P: Fn(usize) -> String>(
    trading: &Trading,
    mut arrivals: broadcast::Receiver<Instant>,
    signer: &Path,
    command: impl Fn(usize) -> String,
    parts: Parts<P>,
    rounds: usize,
    gap: Duration,
) {
    println!("\n| path | p50 | p99 |\n|---|---|---|");
    let dispatcher = Dispatcher::new([trading.clone()]);
    let signer = SignerClient::new(signer, Duration::from_secs(2));
    let http = reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .expect("client");
    let (mut path, mut handled) = (Vec::new(), Vec::new());
    let (mut signing, mut posting) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        let command = command(i);
        let start = Instant::now();
        let request = parse_request(command.as_bytes()).expect("command");
        // As the command socket does: the reply is ready, then the order
        // is launched.
        let Handled::Now(reply, pending) = dispatcher.handle_deferred(request) else {
            panic!("an order is answered at once");
        };
        handled.push(start.elapsed());
        if let Some(order) = pending {
            order.launch();
        }
        assert!(reply.ok, "{:?}", reply.error);
        let arrived = arrivals.recv().await.expect("arrival");
        path.push(arrived.duration_since(start));
        // Let the answer be processed before the next measurement.
        tokio::time::sleep(gap).await;

        let payload = (parts.payload)(i);
        let start = Instant::now();
        signer
            .sign(parts.scheme, &payload)
            .await
            .expect("signature");
        signing.push(start.elapsed());
        tokio::time::sleep(gap).await;

        let start = Instant::now();
        let answer = tokio::spawn(http.post(&parts.url).body(parts.body.clone()).send());
        let arrived = arrivals.recv().await.expect("arrival");
        posting.push(arrived.duration_since(start));
        answer.await.expect("task").expect("answer");
        tokio::time::sleep(gap).await;
    }
    report("command received → reply ready (in process)", handled);
    let (path_p50, _) = report("command received → signed request at the emulator", path);
    let (sign_p50, _) = report("part: one signer round trip", signing);
    let (post_p50, _) = report("part: one loopback HTTP POST, send → arrival", posting);
    println!(
        "| **p50 ratio path / sum of parts** | **{:.2}** | |",
        path_p50.as_secs_f64() / (sign_p50 + post_p50).as_secs_f64()
    );
}
