//! Binance's clock (see `plugin_api::venue_clock`): Binance refuses a
//! signed request stamped 1 s or more ahead of its clock, so signed
//! requests are stamped with its time, measured with `GET /fapi/v1/time`.

use binance_core::endpoints::TIME;
use plugin_api::venue_clock::VenueClock;
use plugin_api::{Request, Response};
use serde::Deserialize;

use crate::config::Config;
use crate::rest::{Auth, Call};

/// The clock's jobs have this bit set besides `SESSION_JOB`.
const CLOCK_JOB: u64 = 1 << 42;

/// A clock not measured yet.
pub fn clock() -> VenueClock {
    VenueClock::new(CLOCK_JOB)
}

/// The request that measures it.
pub fn time_request(config: &Config) -> Request {
    Call::new("GET", TIME, 1, Auth::Public).request(config)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServerTime {
    server_time: u64,
}

/// Binance's time in its answer.
pub fn server_time(response: &Response) -> Option<u64> {
    serde_json::from_str::<ServerTime>(&response.body)
        .ok()
        .map(|time| time.server_time)
}

#[cfg(test)]
mod tests {
    use abi_stable::std_types::{RString, RVec};

    use super::*;

    #[test]
    fn the_time_is_asked_of_the_time_endpoint_and_read_from_server_time() {
        let config = Config::parse(r#"{"api_key":"k","api_url":"http://127.0.0.1:9"}"#).unwrap();
        assert_eq!(time_request(&config).url, "http://127.0.0.1:9/fapi/v1/time");
        let answer = |body: &str| Response {
            status: 200,
            headers: RVec::new(),
            body: RString::from(body),
        };
        assert_eq!(
            server_time(&answer(r#"{"serverTime":1499827319559}"#)),
            Some(1499827319559)
        );
        assert_eq!(server_time(&answer(r#"{"serverTime":-1}"#)), None);
        assert_eq!(server_time(&answer("<html>")), None);
    }
}
