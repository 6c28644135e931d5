//! Bybit's clock (see `plugin_api::venue_clock`): Bybit refuses a request
//! stamped 1 s or more ahead of its clock, or older than the receive
//! window (`10002`), so signed requests and the private socket's `auth`
//! are stamped with its time, measured with `GET /v5/market/time`.

use plugin_api::venue_clock::VenueClock;
use plugin_api::{Request, Response};
use serde::Deserialize;

use crate::config::Config;
use crate::rest::Call;

/// The clock's jobs have this bit set besides `SESSION_JOB`.
const CLOCK_JOB: u64 = 1 << 42;

/// A clock not measured yet.
pub fn clock() -> VenueClock {
    VenueClock::new(CLOCK_JOB)
}

/// The request that measures it.
pub fn time_request(config: &Config) -> Request {
    Call::public("/v5/market/time", &[]).request(config, None)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    ret_code: i64,
    result: Time,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Time {
    time_nano: String,
}

/// Bybit's time (ms) in its answer.
pub fn server_time(response: &Response) -> Option<u64> {
    let answer: Answer = serde_json::from_str(&response.body).ok()?;
    let nanos: u128 = answer.result.time_nano.parse().ok()?;
    (answer.ret_code == 0)
        .then(|| u64::try_from(nanos / 1_000_000).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use abi_stable::std_types::{RString, RVec};

    use super::*;

    #[test]
    fn the_time_is_asked_of_the_time_endpoint_and_read_in_nanoseconds() {
        let config = Config::parse(r#"{"api_key":"k","api_url":"http://127.0.0.1:9"}"#).unwrap();
        assert_eq!(
            time_request(&config).url,
            "http://127.0.0.1:9/v5/market/time"
        );
        let answer = |body: &str| Response {
            status: 200,
            headers: RVec::new(),
            body: RString::from(body),
        };
        // Shaped as Bybit documents the answer.
        let documented = r#"{"retCode":0,"retMsg":"OK","result":{"timeSecond":"1688639403","timeNano":"1688639403423213947"},"retExtInfo":{},"time":1688639403423}"#;
        assert_eq!(server_time(&answer(documented)), Some(1688639403423));
        assert_eq!(
            server_time(&answer(r#"{"retCode":10016,"result":{"timeNano":"1"}}"#)),
            None
        );
        assert_eq!(server_time(&answer("<html>")), None);
    }
}
