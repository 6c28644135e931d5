//! Emulator settings: markets, synthetic liquidity, fees, limits, funded
//! accounts and start-up faults, read from TOML or built in code.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use hyperliquid_core::Network;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::account::AccountId;
use crate::faults::FaultSettings;

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown keys.
    #[error("invalid configuration: {0}")]
    Toml(#[from] toml::de::Error),
    /// The listen address is not on the loopback interface.
    #[error(
        "listen address {0} is not a loopback address; the emulator only serves 127.0.0.0/8 or ::1"
    )]
    NotLoopback(SocketAddr),
    /// A semantic rule is broken (duplicate names, unknown tokens, bad numbers).
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Everything the emulator needs to start.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to bind; must be loopback. Port 0 picks a free port.
    pub listen: SocketAddr,
    /// Seed of every random decision (prices, synthetic trades, faults).
    pub seed: u64,
    /// Which chain signatures must be made for (phantom-agent source `a`/`b`,
    /// `hyperliquidChain` of user-signed actions).
    pub network: Network,
    /// Length of one "block": the cadence of the price process, synthetic
    /// liquidity, triggers, scheduled cancels and market-data pushes.
    pub block_ms: u64,
    /// Maker and taker fee rates.
    pub fees: FeeConfig,
    /// Synthetic order book and trade flow.
    pub liquidity: LiquidityConfig,
    /// Protocol limits.
    pub limits: LimitsConfig,
    /// Perpetual markets; asset id = position in this list.
    pub perps: Vec<PerpConfig>,
    /// Spot tokens (`spotMeta.tokens`).
    pub spot_tokens: Vec<SpotTokenConfig>,
    /// Spot pairs (`spotMeta.universe`); asset id = 10000 + `index`.
    pub spot_pairs: Vec<SpotPairConfig>,
    /// Accounts funded at start-up.
    pub accounts: Vec<AccountConfig>,
    /// Faults active from the start.
    pub faults: FaultSettings,
}

/// Fee rates as fractions of notional (0.00045 = 4.5 bps). A negative maker
/// rate is a rebate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeeConfig {
    /// Rate for the resting side of a trade.
    pub maker: Decimal,
    /// Rate for the aggressing side of a trade.
    pub taker: Decimal,
}

/// Shape of the synthetic books and of the synthetic trade flow.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiquidityConfig {
    /// Synthetic price levels per side (0 disables synthetic makers, leaving
    /// only users' orders in the books).
    pub levels: u32,
    /// Distance of the best synthetic quote from the reference price, in basis points.
    pub half_spread_bps: Decimal,
    /// Distance between consecutive synthetic levels, in basis points (at least one tick).
    pub level_step_bps: Decimal,
    /// Smallest notional of one synthetic level, in USDC.
    pub min_level_notional: Decimal,
    /// Largest notional of one synthetic level, in USDC.
    pub max_level_notional: Decimal,
    /// Synthetic taker orders per second per market (0 disables them).
    pub taker_rate_per_sec: f64,
    /// Smallest synthetic taker notional, in USDC.
    pub min_taker_notional: Decimal,
    /// Largest synthetic taker notional, in USDC.
    pub max_taker_notional: Decimal,
    /// How far a synthetic taker reaches through the book, in basis points
    /// from the reference price.
    pub taker_reach_bps: Decimal,
    /// Standard deviation of the reference price's log-return per second, in
    /// basis points (0 freezes prices).
    pub volatility_bps_per_sec: f64,
}

/// Limits the exchange enforces.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// A WebSocket connection that sends nothing for this long is dropped.
    pub ws_idle_timeout_secs: u64,
    /// Traded volume an account needs before it may set a scheduled cancel.
    pub schedule_cancel_min_volume: Decimal,
    /// Scheduled cancels that may fire per account per UTC day.
    pub schedule_cancel_triggers_per_day: u32,
    /// Most fills kept per account (older ones are forgotten, as on the real exchange).
    pub fills_kept: usize,
    /// Actions an address may send before it has traded (the address rate
    /// limit's initial buffer; one more per USDC traded, then one per 10 s).
    pub address_request_buffer: u64,
}

/// One perpetual market.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerpConfig {
    /// Coin name (`BTC`).
    pub name: String,
    /// Size decimals.
    pub sz_decimals: u32,
    /// Highest leverage allowed.
    pub max_leverage: u32,
    /// Starting reference price.
    pub price: Decimal,
    /// Funding rate shown in the asset context (per hour).
    #[serde(default = "default_funding")]
    pub funding: Decimal,
    /// A fixed price step (venues with a tick filter, such as Bybit and
    /// Binance); without it prices follow Hyperliquid's five significant
    /// figures.
    #[serde(default)]
    pub tick_size: Option<Decimal>,
    /// Smallest order value in USDC/USDT (default 10).
    #[serde(default)]
    pub min_notional: Option<Decimal>,
}

/// One spot token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpotTokenConfig {
    /// Token name (`USDC`, `PURR`).
    pub name: String,
    /// Token index (`spotMeta.tokens[].index`).
    pub index: u32,
    /// Size decimals of pairs that have this token as base.
    pub sz_decimals: u32,
    /// On-chain decimals.
    pub wei_decimals: u32,
}

/// One spot pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpotPairConfig {
    /// Coin name on the wire: `PURR/USDC` for the canonical pair, `@<index>` otherwise.
    pub name: String,
    /// Pair index; the asset id is 10000 + index.
    pub index: u32,
    /// Base token index.
    pub base: u32,
    /// Quote token index.
    pub quote: u32,
    /// Starting reference price.
    pub price: Decimal,
}

/// An account funded at start-up.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// The account (master) address.
    pub address: AccountId,
    /// Perp collateral in USDC.
    #[serde(default)]
    pub usdc: Decimal,
    /// Spot balances by token name.
    #[serde(default)]
    pub spot: BTreeMap<String, Decimal>,
}

fn default_funding() -> Decimal {
    Decimal::new(125, 7)
}

fn perp(name: &str, sz_decimals: u32, max_leverage: u32, price: i64) -> PerpConfig {
    PerpConfig {
        name: name.to_owned(),
        sz_decimals,
        max_leverage,
        price: Decimal::from(price),
        funding: default_funding(),
        tick_size: None,
        min_notional: None,
    }
}

fn token(name: &str, index: u32, sz_decimals: u32, wei_decimals: u32) -> SpotTokenConfig {
    SpotTokenConfig {
        name: name.to_owned(),
        index,
        sz_decimals,
        wei_decimals,
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 0,
            network: Network::Mainnet,
            block_ms: 100,
            fees: FeeConfig::default(),
            liquidity: LiquidityConfig::default(),
            limits: LimitsConfig::default(),
            perps: vec![
                perp("BTC", 5, 40, 100_000),
                perp("ETH", 4, 25, 3_500),
                perp("SOL", 2, 20, 150),
            ],
            spot_tokens: vec![
                token("USDC", 0, 8, 8),
                token("PURR", 1, 0, 5),
                token("HYPE", 150, 2, 8),
            ],
            spot_pairs: vec![
                SpotPairConfig {
                    name: "PURR/USDC".to_owned(),
                    index: 0,
                    base: 1,
                    quote: 0,
                    price: Decimal::new(2, 1),
                },
                SpotPairConfig {
                    name: "@107".to_owned(),
                    index: 107,
                    base: 150,
                    quote: 0,
                    price: Decimal::from(40),
                },
            ],
            accounts: Vec::new(),
            faults: FaultSettings::default(),
        }
    }
}

impl Default for FeeConfig {
    fn default() -> Self {
        Self {
            maker: Decimal::new(15, 5),
            taker: Decimal::new(45, 5),
        }
    }
}

impl Default for LiquidityConfig {
    fn default() -> Self {
        Self {
            levels: 25,
            half_spread_bps: Decimal::ONE,
            level_step_bps: Decimal::ONE,
            min_level_notional: Decimal::from(2_000),
            max_level_notional: Decimal::from(40_000),
            taker_rate_per_sec: 2.0,
            min_taker_notional: Decimal::from(20),
            max_taker_notional: Decimal::from(5_000),
            taker_reach_bps: Decimal::from(20),
            volatility_bps_per_sec: 2.0,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            ws_idle_timeout_secs: 60,
            schedule_cancel_min_volume: Decimal::ZERO,
            schedule_cancel_triggers_per_day: 10,
            fills_kept: 10_000,
            address_request_buffer: 10_000,
        }
    }
}

impl Config {
    /// Reads and checks a TOML file; missing keys take their defaults.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Parses and checks TOML text; missing keys take their defaults.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Adds `usdc` of perp collateral to `address` (creating the entry).
    pub fn fund(&mut self, address: impl Into<AccountId>, usdc: Decimal) {
        let address = address.into();
        match self.accounts.iter_mut().find(|a| a.address == address) {
            Some(account) => account.usdc += usdc,
            None => self.accounts.push(AccountConfig {
                address,
                usdc,
                spot: BTreeMap::new(),
            }),
        }
    }

    /// Checks the rules TOML types cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.listen.ip().is_loopback() {
            return Err(ConfigError::NotLoopback(self.listen));
        }
        let invalid = |text: String| Err(ConfigError::Invalid(text));
        if self.block_ms == 0 {
            return invalid("block_ms must be at least 1".to_owned());
        }
        let mut coins = std::collections::HashSet::new();
        for perp in &self.perps {
            if !coins.insert(perp.name.as_str()) {
                return invalid(format!("market {} is defined twice", perp.name));
            }
            if perp.price <= Decimal::ZERO || perp.max_leverage == 0 || perp.sz_decimals > 6 {
                return invalid(format!(
                    "perp {}: price must be positive, max_leverage at least 1, sz_decimals at most 6",
                    perp.name
                ));
            }
        }
        let token_names: std::collections::HashSet<&str> =
            self.spot_tokens.iter().map(|t| t.name.as_str()).collect();
        if token_names.len() != self.spot_tokens.len() {
            return invalid("two spot tokens share a name".to_owned());
        }
        let mut indices = std::collections::HashSet::new();
        for pair in &self.spot_pairs {
            if !coins.insert(pair.name.as_str()) || !indices.insert(pair.index) {
                return invalid(format!("spot pair {} is defined twice", pair.name));
            }
            for index in [pair.base, pair.quote] {
                match self.spot_tokens.iter().find(|t| t.index == index) {
                    Some(token) if token.sz_decimals <= 8 => {}
                    _ => {
                        return invalid(format!(
                            "spot pair {} refers to unknown token index {index}",
                            pair.name
                        ));
                    }
                }
            }
            if pair.price <= Decimal::ZERO {
                return invalid(format!("spot pair {}: price must be positive", pair.name));
            }
        }
        for account in &self.accounts {
            if let Some(name) = account
                .spot
                .keys()
                .find(|n| !token_names.contains(n.as_str()))
            {
                return invalid(format!(
                    "account {}: unknown spot token {name}",
                    account.address
                ));
            }
        }
        let liquidity = &self.liquidity;
        if liquidity.min_level_notional > liquidity.max_level_notional
            || liquidity.min_taker_notional > liquidity.max_taker_notional
            || liquidity.min_level_notional <= Decimal::ZERO
            || liquidity.min_taker_notional <= Decimal::ZERO
        {
            return invalid("liquidity notionals must be positive with min <= max".to_owned());
        }
        if !(liquidity.taker_rate_per_sec >= 0.0 && liquidity.volatility_bps_per_sec >= 0.0) {
            return invalid(
                "taker_rate_per_sec and volatility_bps_per_sec must be >= 0".to_owned(),
            );
        }
        self.faults.validate().map_err(ConfigError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_toml_overrides_them() {
        Config::default().validate().expect("defaults");
        let config = Config::from_toml(
            r#"
            seed = 9
            network = "Testnet"
            [liquidity]
            levels = 0
            [[accounts]]
            address = "0x0000000000000000000000000000000000000001"
            usdc = "1000"
            spot = { PURR = "5" }
            "#,
        )
        .expect("parses");
        assert_eq!(config.seed, 9);
        assert_eq!(config.network, Network::Testnet);
        assert_eq!(config.liquidity.levels, 0);
        assert_eq!(config.perps.len(), 3);
        assert_eq!(config.accounts[0].spot["PURR"], Decimal::from(5));
    }

    #[test]
    fn refuses_public_addresses_and_unknown_keys() {
        assert!(matches!(
            Config::from_toml("listen = \"0.0.0.0:80\""),
            Err(ConfigError::NotLoopback(_))
        ));
        assert!(matches!(
            Config::from_toml("sead = 1"),
            Err(ConfigError::Toml(_))
        ));
    }
}
