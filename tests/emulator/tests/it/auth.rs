//! Signatures, signers, agents, nonces and expiry.

use hyperliquid_core::{
    Action, ApproveAgent, ExchangeRequest, Network, Signature, SigningContext, Tif,
    recover_address, signing_digest,
};
use serde_json::{Value, json};

use crate::support::*;

fn order() -> Action {
    orders(vec![limit(BTC, true, "90000", "0.001", Tif::Gtc)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_signers_get_the_recovered_address() {
    let (alice, mallory) = (Trader::new("auth-alice"), Trader::new("auth-mallory"));
    let env = Env::quiet(&[&alice]).await;
    let answer = env.act(&mallory, order()).await;
    assert_eq!(
        answer,
        json!({ "status": "err", "response": format!("User or API Wallet {} does not exist.", mallory.address()) })
    );

    // Signed for testnet, sent to a mainnet exchange: a different digest, a garbage signer.
    let testnet = Trader::on("auth-alice", Network::Testnet);
    let answer = env.act(&testnet, order()).await;
    let text = answer["response"].as_str().expect("error text");
    assert!(
        text.starts_with("User or API Wallet 0x") && text.ends_with(" does not exist."),
        "{text}"
    );
    assert!(!text.contains(&alice.user()));
    assert_eq!(env.act(&alice, order()).await["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_bodies_and_bad_signatures_are_refused() {
    let alice = Trader::new("tamper-alice");
    let env = Env::quiet(&[&alice]).await;
    let signed = alice.sign(order(), alice.next_nonce(), None);
    let mut body: Value = serde_json::from_str(&signed.to_json().unwrap()).unwrap();
    body["action"]["orders"][0]["p"] = json!("80000");
    let (status, text) = env.http.post("/exchange", &body).await;
    assert_eq!(status, 200);
    let tampered: ExchangeRequest = serde_json::from_value(body).unwrap();
    let digest = signing_digest(&tampered.action, &tampered.context(Network::Mainnet)).unwrap();
    let recovered = recover_address(&digest, &tampered.signature).unwrap();
    assert_ne!(recovered, alice.address());
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        answer["response"],
        format!("User or API Wallet {recovered} does not exist.")
    );

    let zero = ExchangeRequest {
        signature: Signature {
            r: [0; 32],
            ..signed.signature
        },
        ..signed.clone()
    };
    assert_eq!(
        env.http.exchange(&zero).await,
        json!({ "status": "err", "response": "Unable to recover signer." })
    );

    for bad in [
        json!({ "action": { "type": "order" } }),
        json!("nonsense"),
        json!({ "action": { "type": "noop" }, "nonce": 1 }),
    ] {
        let (status, text) = env.http.post("/exchange", &bad).await;
        assert_eq!(
            (status, text.as_str()),
            (
                422,
                "Failed to deserialize the JSON body into the target type"
            )
        );
    }
    // Nothing was applied by any of them.
    assert_eq!(
        env.info(json!({ "type": "openOrders", "user": alice.user() }))
            .await,
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonce_rules() {
    let alice = Trader::new("nonce-alice");
    let env = Env::quiet(&[&alice]).await;
    let now = hl_emulator::clock::now_ms();
    let send = |nonce: u64| {
        env.http
            .exchange_owned(alice.sign(Action::Noop, nonce, None))
    };
    assert_eq!(send(now).await["status"], "ok");
    assert_eq!(
        send(now).await["response"],
        format!("Invalid nonce: duplicate nonce {now}")
    );
    let old = now - 3 * 24 * 3_600_000;
    let text = send(old).await["response"].as_str().unwrap().to_owned();
    assert!(
        text.starts_with(&format!("Invalid nonce: nonce too low {old} < ")),
        "{text}"
    );
    let ahead = now + 2 * 24 * 3_600_000;
    let text = send(ahead).await["response"].as_str().unwrap().to_owned();
    assert!(
        text.starts_with(&format!("Invalid nonce: nonce too high {ahead} > ")),
        "{text}"
    );
    // Below the highest but unused is fine while fewer than 100 are kept...
    assert_eq!(send(now - 10).await["status"], "ok");
    for n in 1..=100 {
        assert_eq!(send(now + n).await["status"], "ok");
    }
    // ...but not once it is below the smallest of the 100 highest.
    assert_eq!(
        send(now - 5).await["response"],
        format!("Invalid nonce: nonce too low {} < {}", now - 5, now + 1)
    );
    assert_eq!(send(now + 101).await["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_actions_are_refused() {
    let alice = Trader::new("expiry-alice");
    let env = Env::quiet(&[&alice]).await;
    let now = hl_emulator::clock::now_ms();
    let past = alice.sign(order(), alice.next_nonce(), Some(now - 1_000));
    let answer = env.http.exchange(&past).await;
    assert_eq!(answer["status"], "err");
    assert!(
        answer["response"]
            .as_str()
            .unwrap()
            .starts_with("Action already expired"),
        "{answer}"
    );
    let future = alice.sign(order(), alice.next_nonce(), Some(now + 60_000));
    resting_oid(&statuses(&env.http.exchange(&future).await)[0]);
}

fn approve(master: &Trader, agent: &Trader, name: Option<&str>, chain: Network) -> ExchangeRequest {
    let nonce = master.next_nonce();
    let action = Action::ApproveAgent(ApproveAgent::new(
        chain,
        agent.address(),
        name.map(str::to_owned),
        nonce,
    ));
    let context = SigningContext::new(chain, nonce);
    let digest = signing_digest(&action, &context).unwrap();
    ExchangeRequest::new(
        action,
        &context,
        hyperliquid_core::sign_digest(&master.key, &digest),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_agents_trade_for_their_master() {
    let (alice, agent, stranger) = (
        Trader::new("agent-alice"),
        Trader::new("agent-key"),
        Trader::new("agent-stranger"),
    );
    let env = Env::quiet(&[&alice]).await;
    let before = env.act(&agent, order()).await;
    assert_eq!(
        before["response"],
        format!("User or API Wallet {} does not exist.", agent.address())
    );

    let unfunded = env
        .http
        .exchange(&approve(&stranger, &agent, None, Network::Mainnet))
        .await;
    assert_eq!(
        unfunded["response"],
        format!(
            "Must deposit before performing actions. User: {}",
            stranger.address()
        )
    );
    let wrong_chain = Trader::on("agent-alice", Network::Testnet);
    let answer = env
        .http
        .exchange(&approve(&wrong_chain, &agent, None, Network::Testnet))
        .await;
    assert_eq!(answer["status"], "err");

    let approved = env
        .http
        .exchange(&approve(&alice, &agent, Some("bot"), Network::Mainnet))
        .await;
    assert_eq!(
        approved,
        json!({ "status": "ok", "response": { "type": "default" } })
    );
    let oid = resting_oid(&statuses(&env.act(&agent, order()).await)[0]);
    let open = env
        .info(json!({ "type": "openOrders", "user": alice.user() }))
        .await;
    assert_eq!(open[0]["oid"].as_u64(), Some(oid));
    assert_eq!(
        env.info(json!({ "type": "openOrders", "user": agent.user() }))
            .await,
        json!([])
    );
    // Nonces are per signer: the master may reuse the agent's nonce.
    let nonce = agent.next_nonce();
    assert_eq!(
        env.http
            .exchange(&agent.sign(Action::Noop, nonce, None))
            .await["status"],
        "ok"
    );
    assert_eq!(
        env.http
            .exchange(&alice.sign(Action::Noop, nonce, None))
            .await["status"],
        "ok"
    );
    let truth = env
        .emulator
        .account_state(alice.address())
        .expect("account");
    assert_eq!(truth["agents"][0]["name"], "bot");
}
