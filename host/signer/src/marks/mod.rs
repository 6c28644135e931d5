//! Mark prices, for valuing orders at the worse of their limit and the
//! market: a marketable sell with a low limit is worth its size at the
//! mark, not at its limit.
//!
//! A key whose policy has a `[mark_prices]` table gets a [`MarkValuation`]:
//! the signer fetches every market's mark from the venue's public REST
//! endpoint itself ([`fetch`]) — never from the host it guards against —
//! every `refresh_ms`, and an order on a market without a mark fresher than
//! `max_age_ms` is refused while `max_order_notional` applies.

mod fetch;

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::keyring::Keyring;
use crate::schemes::{Scheme, Venue};

/// Default `refresh_ms`: how often every mark is fetched. The fetches share
/// the host's address and its venues' per-address budgets: Hyperliquid's
/// two context requests weigh 40 of 1,200 a minute, so every 30 s is under
/// 7 % of it (every second would be twice the whole budget).
pub const DEFAULT_REFRESH_MS: u64 = 30_000;
/// Default `max_age_ms`: how old a mark may be when an order is valued.
pub const DEFAULT_MAX_AGE_MS: u64 = 120_000;

/// Where and how often a key's marks are fetched (`[mark_prices]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkSource {
    /// The venue's REST base URL (`https://api.hyperliquid.xyz`).
    pub url: String,
    /// How often every mark is fetched, ms.
    pub refresh_ms: u64,
    /// How old a mark may be when an order is valued, ms.
    pub max_age_ms: u64,
}

impl std::fmt::Display for MarkSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "orders valued at the worse of limit and mark, marks from {} every {} ms, at most {} ms old",
            self.url, self.refresh_ms, self.max_age_ms
        )
    }
}

/// The `[mark_prices]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MarkPricesTable {
    url: String,
    refresh_ms: Option<u64>,
    max_age_ms: Option<u64>,
}

impl MarkPricesTable {
    /// The source, or what is wrong with the table.
    pub(crate) fn source(self) -> Result<MarkSource, String> {
        let url = self.url.trim_end_matches('/').to_owned();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!(
                "mark_prices.url {:?} is not an http:// or https:// URL",
                self.url
            ));
        }
        let refresh_ms = self.refresh_ms.unwrap_or(DEFAULT_REFRESH_MS);
        let max_age_ms = self.max_age_ms.unwrap_or(DEFAULT_MAX_AGE_MS);
        if refresh_ms == 0 {
            return Err("mark_prices.refresh_ms must be at least 1".to_owned());
        }
        if max_age_ms <= refresh_ms {
            return Err(format!(
                "mark_prices.max_age_ms ({max_age_ms}) must be above refresh_ms ({refresh_ms}), \
                 or every mark would go stale between two fetches"
            ));
        }
        Ok(MarkSource {
            url,
            refresh_ms,
            max_age_ms,
        })
    }
}

/// A mark source for the key an exchange signs with, where its policy names
/// none (`--default-mark-prices SCHEME[:KEY]=URL`): connector-host passes
/// the public REST URL of each exchange it trades to the signer it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultMarks {
    /// The scheme the exchange's requests use.
    pub scheme: Scheme,
    /// The key the exchange names; `None`: the only key of the scheme's
    /// venue.
    pub key: Option<String>,
    /// Where the marks come from (the default refresh and age).
    pub source: MarkSource,
}

impl std::str::FromStr for DefaultMarks {
    type Err = String;

    fn from_str(text: &str) -> Result<DefaultMarks, String> {
        let (target, url) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?} is not SCHEME=URL or SCHEME:KEY=URL"))?;
        let (scheme, key) = match target.split_once(':') {
            Some((_, "")) => return Err(format!("{text:?} names an empty key")),
            Some((scheme, key)) => (scheme, Some(key.to_owned())),
            None => (target, None),
        };
        let scheme = Scheme::from_name(scheme).ok_or_else(|| {
            format!(
                "unknown scheme {scheme:?} (schemes: {})",
                crate::schemes::scheme_names()
            )
        })?;
        let table = MarkPricesTable {
            url: url.to_owned(),
            refresh_ms: None,
            max_age_ms: None,
        };
        Ok(DefaultMarks {
            scheme,
            key,
            source: table.source()?,
        })
    }
}

/// A key's mark source and the marks last fetched from it. Clones share the
/// marks.
#[derive(Debug, Clone)]
pub struct MarkValuation {
    source: MarkSource,
    marks: Arc<RwLock<Marks>>,
}

/// Two valuations are the same rule when their sources are.
impl PartialEq for MarkValuation {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for MarkValuation {}

/// The last successful fetch, and the last failure since.
#[derive(Debug, Default)]
struct Marks {
    /// When the prices were fetched (ms, the signer's clock).
    fetched_ms: Option<u64>,
    /// Market (a symbol, or a Hyperliquid asset id) → mark.
    prices: HashMap<String, Decimal>,
    /// Why the latest fetch failed, if it did.
    failure: Option<String>,
}

/// Why an order could not be valued at its market's mark.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no mark price for {market} {why} (rule: max_order_notional, valued at the mark)")]
pub struct NoMark {
    /// The market.
    pub market: String,
    /// What is missing.
    pub why: String,
}

impl MarkValuation {
    /// A valuation with no marks yet.
    pub fn new(source: MarkSource) -> MarkValuation {
        MarkValuation {
            source,
            marks: Arc::default(),
        }
    }

    /// Where the marks come from.
    pub fn source(&self) -> &MarkSource {
        &self.source
    }

    /// `market`'s mark at `now_ms`, if one fresher than `max_age_ms` is known.
    pub fn mark(&self, market: &str, now_ms: u64) -> Result<Decimal, NoMark> {
        let marks = self.marks.read().unwrap_or_else(PoisonError::into_inner);
        // Written only for a refusal: a fresh mark is read without allocating.
        let failure = || {
            marks
                .failure
                .as_ref()
                .map(|failure| format!(" (the last fetch failed: {failure})"))
                .unwrap_or_default()
        };
        let no_mark = |why: String| NoMark {
            market: market.to_owned(),
            why,
        };
        let Some(fetched_ms) = marks.fetched_ms else {
            return Err(no_mark(format!(
                "yet: none fetched from {}{}",
                self.source.url,
                failure()
            )));
        };
        let age = now_ms.saturating_sub(fetched_ms);
        if age > self.source.max_age_ms {
            return Err(no_mark(format!(
                "fresher than {} ms: the last is {age} ms old{}",
                self.source.max_age_ms,
                failure()
            )));
        }
        marks
            .prices
            .get(market)
            .copied()
            .ok_or_else(|| no_mark(format!("in the venue's last answer ({})", self.source.url)))
    }

    /// Takes a fetch's marks, made at `now_ms`. A market the answer lists
    /// more than once is valued at the highest of its marks: the one that
    /// refuses more.
    pub fn update(&self, prices: impl IntoIterator<Item = (String, Decimal)>, now_ms: u64) {
        let mut highest = HashMap::new();
        for (market, mark) in prices {
            let kept: &mut Decimal = highest.entry(market).or_insert(mark);
            *kept = (*kept).max(mark);
        }
        let mut marks = self.marks.write().unwrap_or_else(PoisonError::into_inner);
        marks.prices = highest;
        marks.fetched_ms = Some(now_ms);
        marks.failure = None;
    }

    /// Records why a fetch failed; the marks before it age on.
    pub fn failed(&self, why: String) {
        self.marks
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .failure = Some(why);
    }

    /// Fetches every mark from the venue once, and records the outcome.
    pub(crate) async fn refresh(
        &self,
        client: &reqwest::Client,
        venue: Venue,
    ) -> Result<(), fetch::Failure> {
        match fetch::marks(client, venue, &self.source.url).await {
            Ok(prices) => {
                self.update(prices, crate::handler::now_ms());
                Ok(())
            }
            Err(failure) => {
                self.failed(failure.why.clone());
                Err(failure)
            }
        }
    }

    /// Refreshes the marks every `refresh_ms`, for ever, staying away as
    /// long as a rate-limit or ban answer asks; a failure is logged once
    /// when it starts (`failing`: it has) and once when it ends.
    async fn keep_fresh(
        self,
        client: reqwest::Client,
        venue: Venue,
        key: String,
        mut failing: bool,
    ) {
        let period = Duration::from_millis(self.source.refresh_ms);
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match self.refresh(&client, venue).await {
                Ok(()) if failing => {
                    failing = false;
                    tracing::info!(key, url = %self.source.url, "mark prices fetched again");
                }
                Ok(()) => {}
                Err(failure) => {
                    if !failing {
                        failing = true;
                        warn_unfetched(&key, &failure.why);
                    }
                    if let Some(wait) = failure.retry_after {
                        tracing::warn!(
                            key,
                            ?wait,
                            "the venue asks the signer to wait; no mark is fetched until then"
                        );
                        tokio::time::sleep(wait).await;
                        ticks.reset();
                    }
                }
            }
        }
    }
}

fn warn_unfetched(key: &str, why: &str) {
    tracing::warn!(
        key,
        why,
        "cannot fetch mark prices; an order on a market without a fresh mark is refused"
    );
}

/// Fetches every key's marks once, all at once, waiting for the answers
/// (at most [`MAX_REQUEST_TIME`]: a venue that does not answer delays the
/// socket no longer, and its key's orders are refused until a fetch
/// succeeds); then, when `keep_fresh`, refreshes them on tasks of their own
/// for as long as the runtime runs. Called inside the runtime, before
/// requests are served.
pub async fn start(keyring: &Keyring, keep_fresh: bool) -> Result<(), String> {
    let mut first = Vec::new();
    for key in keyring.keys() {
        let Some(valuation) = key.policy.mark_prices() else {
            continue;
        };
        let timeout = Duration::from_millis(valuation.source.max_age_ms).min(MAX_REQUEST_TIME);
        let client = client(timeout)?;
        let (valuation, venue, name) = (valuation.clone(), key.venue, key.name.clone());
        first.push(tokio::spawn(async move {
            let fetched = valuation.refresh(&client, venue).await;
            if let Err(failure) = &fetched {
                warn_unfetched(&name, &failure.why);
            }
            if keep_fresh {
                tokio::spawn(valuation.keep_fresh(client, venue, name, fetched.is_err()));
            }
        }));
    }
    for fetch in first {
        let _ = fetch.await;
    }
    Ok(())
}

/// The longest one fetch of marks may take.
const MAX_REQUEST_TIME: Duration = Duration::from_secs(5);

/// The HTTP client marks are fetched with: `timeout` per request.
fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    // rustls needs one process-wide provider; installing it twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|error| format!("cannot build the HTTP client for mark prices: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Result<MarkSource, String> {
        toml::from_str::<MarkPricesTable>(text)
            .map_err(|error| error.to_string())?
            .source()
    }

    fn valuation() -> MarkValuation {
        MarkValuation::new(table("url = \"http://127.0.0.1:1/\"").unwrap())
    }

    #[test]
    fn the_table_is_checked() {
        assert_eq!(
            table("url = \"https://api.example/\"").unwrap(),
            MarkSource {
                url: "https://api.example".to_owned(),
                refresh_ms: DEFAULT_REFRESH_MS,
                max_age_ms: DEFAULT_MAX_AGE_MS,
            }
        );
        for (text, error) in [
            ("url = \"ftp://x\"", "is not an http:// or https:// URL"),
            ("url = \"http://x\"\nrefresh_ms = 0", "at least 1"),
            (
                "url = \"http://x\"\nrefresh_ms = 500\nmax_age_ms = 500",
                "must be above refresh_ms",
            ),
            ("url = \"http://x\"\nevery = 1", "unknown field"),
        ] {
            let refused = table(text).unwrap_err();
            assert!(refused.contains(error), "{text}: {refused}");
        }
        let alone: MarkPricesTable = toml::from_str("url = \"http://x\"").unwrap();
        let refused = crate::policy::mark_valuation(Some(alone), None).unwrap_err();
        assert!(refused.contains("set max_order_notional too"), "{refused}");
    }

    #[test]
    fn a_mark_is_given_only_while_fresh() {
        let marks = valuation();
        assert_eq!(
            marks.mark("BTC", 1_000).unwrap_err().to_string(),
            "no mark price for BTC yet: none fetched from http://127.0.0.1:1 \
             (rule: max_order_notional, valued at the mark)"
        );
        marks.update([("BTC".to_owned(), Decimal::from(90_000))], 1_000);
        assert_eq!(marks.mark("BTC", 121_000), Ok(Decimal::from(90_000)));
        assert!(
            marks
                .mark("ETH", 1_000)
                .unwrap_err()
                .why
                .starts_with("in the venue's last answer")
        );
        marks.failed("connection refused".to_owned());
        assert_eq!(
            marks.mark("BTC", 121_001).unwrap_err().why,
            "fresher than 120000 ms: the last is 120001 ms old (the last fetch failed: connection refused)"
        );
    }
}
