//! Each venue's public endpoint for every market's mark, as the venue's
//! core crate names and reads it.

use std::time::Duration;

use rust_decimal::Decimal;

use crate::schemes::Venue;

/// Why a fetch failed, and how long the venue asked to be left alone: the
/// `Retry-After` of a rate-limit (429) or ban (418) answer — the signer's
/// fetches share the host's address, and a ban grows while it is ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong, with the URL.
    pub why: String,
    /// Wait this long before the next fetch.
    pub retry_after: Option<Duration>,
}

impl From<String> for Failure {
    fn from(why: String) -> Failure {
        Failure {
            why,
            retry_after: None,
        }
    }
}

/// How long to stay away after a 429 or 418 without a `Retry-After`.
const DEFAULT_BACK_OFF: Duration = Duration::from_secs(60);

/// Every mark `venue` serves at `url`, keyed as the key's policy names
/// markets (a symbol, or a Hyperliquid asset id).
pub(super) async fn marks(
    client: &reqwest::Client,
    venue: Venue,
    url: &str,
) -> Result<Vec<(String, Decimal)>, Failure> {
    match venue {
        Venue::Hyperliquid => {
            let info = format!("{url}/info");
            let perps = post(client, &info, hyperliquid_core::PERP_CONTEXTS_REQUEST).await?;
            let spot = post(client, &info, hyperliquid_core::SPOT_CONTEXTS_REQUEST).await?;
            let perps = hyperliquid_core::perp_mark_prices(&perps).map_err(|e| e.to_string())?;
            let spot = hyperliquid_core::spot_mark_prices(&spot).map_err(|e| e.to_string())?;
            Ok(perps
                .into_iter()
                .chain(spot)
                .map(|(asset, mark)| (asset.to_string(), mark))
                .collect())
        }
        Venue::BinanceUsdm => {
            let body = get(
                client,
                &format!("{url}{}", binance_core::marks::MARK_PRICES_PATH),
            )
            .await?;
            binance_core::marks::mark_prices(&body).map_err(|e| Failure::from(e.to_string()))
        }
        Venue::Bybit => {
            let body = get(
                client,
                &format!("{url}{}", bybit_core::marks::MARK_PRICES_PATH),
            )
            .await?;
            bybit_core::marks::mark_prices(&body).map_err(|e| Failure::from(e.to_string()))
        }
    }
}

async fn post(client: &reqwest::Client, url: &str, body: &'static str) -> Result<String, Failure> {
    let request = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body);
    answer(url, request).await
}

async fn get(client: &reqwest::Client, url: &str) -> Result<String, Failure> {
    answer(url, client.get(url)).await
}

/// The body of a 2xx answer; otherwise what went wrong, with the URL.
async fn answer(url: &str, request: reqwest::RequestBuilder) -> Result<String, Failure> {
    let response = request
        .send()
        .await
        .map_err(|error| format!("{url}: {error}"))?;
    let status = response.status();
    let retry_after = matches!(status.as_u16(), 418 | 429).then(|| {
        response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.trim().parse::<u64>().ok())
            .map_or(DEFAULT_BACK_OFF, Duration::from_secs)
    });
    let body = response
        .text()
        .await
        .map_err(|error| format!("{url}: {error}"))?;
    if status.is_success() {
        Ok(body)
    } else {
        let start: String = body.chars().take(200).collect();
        Err(Failure {
            why: format!("{url}: HTTP {status}: {start}"),
            retry_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server on loopback answering one request with `head` (status line
    /// and headers); the URL to ask.
    async fn answering(head: &'static str) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request).await;
            let answer = format!("{head}\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy");
            stream.write_all(answer.as_bytes()).await.unwrap();
        });
        url
    }

    #[tokio::test]
    async fn a_rate_limit_or_ban_says_how_long_to_stay_away() {
        let client = super::super::client(Duration::from_secs(5)).unwrap();
        for (head, wait) in [
            ("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7", Some(7)),
            (
                "HTTP/1.1 418 I'm a teapot",
                Some(DEFAULT_BACK_OFF.as_secs()),
            ),
            ("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7", None),
        ] {
            let url = answering(head).await;
            let failure = marks(&client, Venue::Bybit, &url).await.unwrap_err();
            assert_eq!(failure.retry_after, wait.map(Duration::from_secs), "{head}");
            assert!(failure.why.contains(": busy"), "{}", failure.why);
        }
    }
}
