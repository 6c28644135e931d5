//! The soak's three venues in one host: Hyperliquid's emulator with a
//! counterparty account trading against the host, and Bybit's and
//! Binance's with synthetic takers sweeping the host's quotes. What each
//! venue's orders look like to the workload, its faults, and its ground
//! truth.

use std::collections::BTreeMap;

use hl_emulator::{EmulatorHandle, FaultSettings};
use hyperliquid_core::{Address, Tif};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::common::decimal;
use crate::common::host_process::{ApiVenues, HostFiles};
use crate::common::orders::{Counterparty, key, quiet};
use crate::truth::{ExchangeOrder, Strictness};

/// Every venue trades BTC around this reference price.
pub const REFERENCE: i64 = 100_000;

/// How a venue's own orders come about and are checked.
enum Kind {
    /// Hyperliquid: quiet books; a counterparty account trades against
    /// the host; the truth is the host account's core records.
    Hyperliquid {
        account: Address,
        counterparty: Counterparty,
    },
    /// Bybit or Binance: synthetic makers and takers; the truth is the
    /// front end's orders by client id; `venue_faults` is the admin path
    /// of the front end's own faults and `rates` their names.
    ApiKey {
        venue_faults: &'static str,
        rates: &'static [&'static str],
    },
}

/// One exchange of the soak's host and its emulator.
pub struct SoakVenue {
    /// The exchange's name in the host's config.
    pub name: &'static str,
    /// The pair the workload trades.
    pub pair: &'static str,
    /// The smallest and largest order size, in thousandths of a BTC (the
    /// venue's minimum notional allowing).
    pub lots: (u32, u32),
    /// How the host sends its orders (`http`, `websocket`).
    pub transport: &'static str,
    /// The emulator.
    pub emulator: EmulatorHandle,
    kind: Kind,
}

impl SoakVenue {
    /// Trades as the counterparty, where the venue has one (a resting quote
    /// away from the reference price, or an IOC sweeping into the host's
    /// quotes); the other venues' synthetic takers need no help.
    pub async fn counterparty_order(&self, rng: &mut ChaCha8Rng) {
        let Kind::Hyperliquid { counterparty, .. } = &self.kind else {
            return;
        };
        let buy = rng.random_bool(0.5);
        let size = format!("0.00{}", rng.random_range(1..=6));
        // Prices are multiples of 10: five significant figures at 100 000.
        let (price, tif) = if rng.random_bool(0.6) {
            let away = rng.random_range(5..=40) * 10;
            (
                if buy {
                    REFERENCE - away
                } else {
                    REFERENCE + away
                },
                Tif::Gtc,
            )
        } else {
            (
                if buy {
                    REFERENCE + 400
                } else {
                    REFERENCE - 400
                },
                Tif::Ioc,
            )
        };
        // An answer lost to an injected fault is part of the soak.
        let _ = counterparty
            .try_order(0, buy, &price.to_string(), &size, tif)
            .await;
    }

    /// Sets a fresh draw of faults (the core's, and now and then the
    /// front end's own); returns its name for the report.
    pub async fn draw_faults(&self, rng: &mut ChaCha8Rng) -> String {
        let (settings, mut name) = crate::faults::draw(rng);
        self.emulator.set_faults(&settings).expect("fault settings");
        if let Kind::ApiKey {
            venue_faults,
            rates,
        } = self.kind
        {
            let mut own = serde_json::Map::new();
            for rate in rates {
                let on = rng.random_bool(0.15);
                let value = if on { rng.random_range(0.02..0.2) } else { 0.0 };
                own.insert((*rate).to_owned(), json!(value));
                if on {
                    name = format!("{name}+{rate}");
                }
            }
            self.post_admin(venue_faults, &Value::Object(own)).await;
        }
        name
    }

    /// Switches every fault off.
    pub async fn calm(&self) {
        let reset = FaultSettings {
            reset: true,
            ..FaultSettings::default()
        };
        self.emulator.set_faults(&reset).expect("reset faults");
        if let Kind::ApiKey {
            venue_faults,
            rates,
        } = self.kind
        {
            let off = rates.iter().map(|rate| ((*rate).to_owned(), json!(0.0)));
            self.post_admin(venue_faults, &Value::Object(off.collect()))
                .await;
        }
    }

    async fn post_admin(&self, path: &str, body: &Value) {
        let answer = reqwest::Client::new()
            .post(format!("{}{path}", self.emulator.base_url()))
            .json(body)
            .send()
            .await
            .expect("the emulator's admin API");
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
    }

    /// How exactly the host's states must match this venue's truth.
    pub fn strictness(&self) -> Strictness {
        match self.kind {
            Kind::Hyperliquid { .. } => Strictness::Exact,
            Kind::ApiKey { .. } => Strictness::Lifecycle,
        }
    }

    /// Every order of the host on the venue, by the host's client id.
    pub fn orders(&self) -> BTreeMap<String, ExchangeOrder> {
        match &self.kind {
            Kind::Hyperliquid { account, .. } => {
                let truth = self.emulator.account_state(*account).expect("the account");
                crate::truth::hyperliquid_orders(&truth)
            }
            Kind::ApiKey { .. } => self
                .own_venue_orders()
                .iter()
                .map(|(id, order)| (id.clone(), venue_order(order)))
                .collect(),
        }
    }

    /// The API-key venue's orders that carry a client id, each with the
    /// host's form of it.
    fn own_venue_orders(&self) -> Vec<(String, Value)> {
        self.emulator
            .venue_orders()
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|order| {
                let link = order["linkId"].as_str().filter(|id| !id.is_empty())?;
                Some((host_id(link), order.clone()))
            })
            .collect()
    }

    /// The host's client ids that more than one of the venue's orders
    /// carry (an order placed twice: a venue takes an id again once its
    /// first order is closed; Hyperliquid refuses a used id for good), each
    /// with those orders as the venue has them.
    pub fn client_ids_placed_twice(&self) -> Vec<(String, Vec<Value>)> {
        let Kind::ApiKey { .. } = &self.kind else {
            return Vec::new();
        };
        let mut seen = BTreeMap::<String, Vec<Value>>::new();
        for (id, order) in self.own_venue_orders() {
            seen.entry(id).or_default().push(order);
        }
        seen.into_iter()
            .filter(|(_, orders)| orders.len() > 1)
            .collect()
    }

    /// How many fills the host's account has on the venue.
    pub fn fills(&self) -> usize {
        let state = self.emulator.state();
        let host = match &self.kind {
            Kind::Hyperliquid { account, .. } => state["accounts"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["user"] == json!(account))
                .cloned()
                .unwrap_or_default(),
            // The host's key is the only account.
            Kind::ApiKey { .. } => state["accounts"][0].clone(),
        };
        host["fills"].as_array().map_or(0, Vec::len)
    }

    /// The venue's book of BTC (top 20 levels), read without building the
    /// whole state: the engine stays locked for microseconds, not for as
    /// long as every account's orders take to write out.
    pub fn book(&self) -> Value {
        self.emulator.book(0).expect("the venue's BTC book")
    }
}

/// The host's client id of a venue's client id: Binance's drops the `0x`.
fn host_id(link: &str) -> String {
    if link.starts_with("0x") {
        link.to_owned()
    } else {
        format!("0x{link}")
    }
}

fn venue_order(order: &Value) -> ExchangeOrder {
    ExchangeOrder {
        records: order["records"].as_u64().unwrap_or_default() as usize,
        newest_oid: 0,
        status: order["status"].as_str().unwrap_or_default().to_owned(),
        tif: order["tif"].as_str().unwrap_or_default().to_owned(),
        filled: decimal(&order["filledSz"]),
        fees: decimal(&order["fees"]),
    }
}

/// The three emulators (seeded with `seed`), the host's files with the
/// three exchanges, and the venues in that order: `hl`, `by`, `bn`.
pub async fn start(seed: u64, host_label: &str) -> (HostFiles, Vec<SoakVenue>) {
    let account = key(host_label).address();
    let mut config = quiet();
    config.seed = seed;
    config.fund(account, Decimal::from(10_000_000));
    config.fund(
        key("soak counterparty").address(),
        Decimal::from(10_000_000),
    );
    let hyperliquid = hl_emulator::Emulator::start(config)
        .await
        .expect("emulator");
    let counterparty = Counterparty::new("soak counterparty", hyperliquid.base_url());
    // A refill every 5 s (default 30 s) so that a short soak settles soon
    // after its last fault; orders over REST or the venue's trading socket,
    // by seed and venue (each transport on each venue in the CI seeds).
    let transport = |venue: u64| {
        if (seed + venue).is_multiple_of(2) {
            "websocket"
        } else {
            "http"
        }
    };
    let keys = |venue: u64| {
        let transport = transport(venue);
        format!("reconcile_interval_ms = 5000\norder_transport = \"{transport}\"")
    };
    let files = HostFiles::new(host_label, &hyperliquid.base_url(), &keys(0));
    // Steady prices (the workload quotes around a fixed reference) and
    // takers often enough, reaching far enough, to fill the host's quotes.
    let api = ApiVenues::start_with(&files, Decimal::from(10_000_000), |config| {
        config.seed = seed;
        config.liquidity.volatility_bps_per_sec = 0.0;
        config.liquidity.taker_rate_per_sec = 4.0;
        config.liquidity.taker_reach_bps = Decimal::from(40);
    })
    .await;
    api.add_plugins(&files);
    let settings = |venue| {
        let timeouts =
            "request_timeout_ms = 1000\norder_expiry_ms = 2000\nstream_timeout_ms = 2000";
        format!("{}\n{timeouts}", keys(venue))
    };
    let config = std::fs::read_to_string(&files.config_file).expect("config");
    std::fs::write(
        &files.config_file,
        config + &api.exchanges(&settings(1), &settings(2)),
    )
    .expect("config");
    let ApiVenues { bybit, binance } = api;
    let venues = vec![
        SoakVenue {
            name: "hl",
            pair: "BTC-USD",
            lots: (1, 4),
            transport: transport(0),
            emulator: hyperliquid,
            kind: Kind::Hyperliquid {
                account,
                counterparty,
            },
        },
        SoakVenue {
            name: "by",
            pair: "BTC-USDT",
            lots: (1, 5),
            transport: transport(1),
            emulator: bybit,
            kind: Kind::ApiKey {
                venue_faults: "/admin/bybit/faults",
                rates: &["skip_update_id_rate", "book_reset_rate"],
            },
        },
        SoakVenue {
            name: "bn",
            pair: "BTC-USDT",
            // Binance's minimum notional is 100 USDT.
            lots: (2, 5),
            transport: transport(2),
            emulator: binance,
            kind: Kind::ApiKey {
                venue_faults: "/admin/binance/faults",
                rates: &["unknown_outcome_rate", "unknown_503_rate", "pu_break_rate"],
            },
        },
    ];
    (files, venues)
}
