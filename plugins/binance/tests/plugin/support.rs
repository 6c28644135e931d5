//! Helpers: a session at a local address, outputs as plain enums, answers.

use abi_stable::std_types::{ROption, RString, RVec, Tuple2};
use binance_plugin::Binance;
use plugin_api::{
    Answer, AnswerKind, Dec, Event, Exchange, Market, MarketKind, Output, Output_NE, PriceRule,
    Reply, Response, Stream, StreamKind, TradingRule,
};

/// The API key the tests configure.
pub const API_KEY: &str = "key-1";

/// A session against a venue at 127.0.0.1:9, its clock measured (at 0:
/// no offset) as a new session's first timer does.
pub fn session() -> Binance {
    let mut session = Binance::new(&format!(
        r#"{{"api_key":"{API_KEY}","api_url":"http://127.0.0.1:9","ws_url":"ws://127.0.0.1:9","listen_key_keepalive_ms":60000}}"#
    ))
    .unwrap();
    assert_eq!(
        session.next_wakeup(),
        Some(0),
        "the clock is measured at once"
    );
    let job = match &plain(session.on_timer(0).unwrap())[..] {
        [Output::Http { job, request }] if request.url.ends_with("/fapi/v1/time") => *job,
        other => panic!("not a time request: {other:?}"),
    };
    let answered = session.on_answer(job, &answer(200, r#"{"serverTime":0}"#, &[]), 0);
    assert!(answered.unwrap().is_empty());
    session
}

/// The outputs as plain enums.
pub fn plain(outputs: Vec<Output_NE>) -> Vec<Output> {
    outputs
        .into_iter()
        .map(|output| output.into_enum().unwrap())
        .collect()
}

/// The events among outputs.
pub fn events(outputs: &[Output]) -> Vec<Event> {
    outputs
        .iter()
        .filter_map(|output| match output {
            Output::Event(event) => Some(event.as_enum().unwrap().clone()),
            _ => None,
        })
        .collect()
}

/// The reply of the one `Done` among outputs.
pub fn done(outputs: &[Output]) -> Reply {
    let replies: Vec<&Reply> = outputs
        .iter()
        .filter_map(|output| match output {
            Output::Done { reply, .. } => Some(&**reply),
            _ => None,
        })
        .collect();
    assert_eq!(replies.len(), 1, "{outputs:?}");
    replies[0].clone()
}

/// The events of a reply.
pub fn reply_events(reply: &Reply) -> Vec<Event> {
    reply
        .events
        .iter()
        .map(|event| event.as_enum().unwrap().clone())
        .collect()
}

/// An answer with a status, a body and headers.
pub fn answer(status: u16, body: &str, headers: &[(&str, &str)]) -> Answer {
    Answer::answered(Response {
        status,
        body: body.into(),
        headers: headers
            .iter()
            .map(|(name, value)| Tuple2(RString::from(*name), RString::from(*value)))
            .collect::<RVec<_>>(),
    })
}

/// No answer: the request never left.
pub fn not_sent() -> Answer {
    Answer::failed(AnswerKind::NOT_SENT, "test")
}

/// A stream of a market.
pub fn stream(kind: StreamKind, market: &str) -> Stream {
    Stream {
        kind,
        market: market.into(),
    }
}

/// BTCUSDT as the host names it.
pub fn btc() -> Market {
    Market {
        symbol: "BTC-USDT".into(),
        venue_symbol: "BTCUSDT".into(),
        venue_id: 0,
        kind: MarketKind::PERPETUAL,
        base: "BTC".into(),
        quote: "USDT".into(),
        rule: TradingRule {
            price: PriceRule {
                tick: Dec::new(1, 1),
                max_significant_figures: 0,
                max_decimals: ROption::RNone,
                integers_always_valid: false,
                min_price: Dec::ZERO,
                max_price: Dec::ZERO,
            },
            size_step: Dec::new(1, 3),
            min_size: Dec::new(1, 3),
            max_size: Dec::ZERO,
            min_notional: Dec::new(100, 0),
            reduce_only_exempt_from_min_notional: true,
        },
        max_leverage: 0,
    }
}

/// A decimal.
pub fn d(text: &str) -> Dec {
    Dec::parse(text).unwrap()
}
