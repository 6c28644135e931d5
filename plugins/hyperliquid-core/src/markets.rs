//! Market table built from `/info` `meta`, `metaAndAssetCtxs` and `spotMeta`,
//! name resolution, and mark prices by asset id from `metaAndAssetCtxs` and
//! `spotMetaAndAssetCtxs`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use crate::numbers::MarketKind;

/// First spot asset id: spot asset = `SPOT_ASSET_OFFSET + spotMeta.universe[k].index`.
const SPOT_ASSET_OFFSET: u32 = 10_000;

/// One tradable market.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Market {
    /// Hyperliquid coin name used on the wire and in market data (`BTC`,
    /// `PURR/USDC`, `@107`).
    pub coin: String,
    /// Human name: the coin for perps, `BASE/QUOTE` from token names for spot.
    pub display_name: String,
    /// Asset id used in actions.
    pub asset: u32,
    /// Size decimals (spot: the base token's).
    pub sz_decimals: u32,
    /// Perp or spot.
    pub kind: MarketKind,
    /// Perp marked `isDelisted` in `meta`; kept so asset ids stay positional.
    pub delisted: bool,
    /// The highest leverage (`maxLeverage` of a perp); zero for spot.
    pub max_leverage: u32,
}

/// Why market metadata could not be read or a name could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    /// The JSON does not have the expected shape.
    #[error("invalid market metadata: {0}")]
    Json(#[from] serde_json::Error),
    /// `metaAndAssetCtxs` is not a `[meta, ctxs]` array.
    #[error("metaAndAssetCtxs is not a [meta, assetCtxs] array")]
    NotMetaAndAssetCtxs,
    /// `spotMetaAndAssetCtxs` is not a `[spotMeta, ctxs]` array.
    #[error("spotMetaAndAssetCtxs is not a [spotMeta, assetCtxs] array")]
    NotSpotMetaAndAssetCtxs,
    /// A spot pair refers to a token missing from `tokens`.
    #[error("spot pair {pair} refers to unknown token index {token}")]
    UnknownToken {
        /// The pair's coin name.
        pair: String,
        /// The missing token index.
        token: u32,
    },
    /// No market has this name.
    #[error("unknown market {name:?}")]
    UnknownPair {
        /// The name asked for.
        name: String,
    },
    /// Several markets share this display name.
    #[error("market name {name:?} is ambiguous")]
    AmbiguousName {
        /// The name asked for.
        name: String,
    },
}

#[derive(Deserialize)]
struct PerpMeta {
    universe: Vec<PerpEntry>,
}

#[derive(Deserialize)]
struct PerpEntry {
    name: String,
    #[serde(rename = "szDecimals")]
    sz_decimals: u32,
    #[serde(rename = "isDelisted", default)]
    is_delisted: bool,
    #[serde(rename = "maxLeverage", default)]
    max_leverage: u32,
}

#[derive(Deserialize)]
struct SpotMeta {
    universe: Vec<SpotEntry>,
    tokens: Vec<SpotToken>,
}

#[derive(Deserialize)]
struct SpotEntry {
    tokens: [u32; 2],
    name: String,
    index: u32,
}

#[derive(Deserialize)]
struct SpotToken {
    name: String,
    #[serde(rename = "szDecimals")]
    sz_decimals: u32,
    index: u32,
}

/// Perp markets from a `meta` answer; asset id = position in `universe`.
pub fn parse_meta(json: &str) -> Result<Vec<Market>, MarketError> {
    Ok(perp_markets(serde_json::from_str(json)?))
}

/// Perp markets from a `metaAndAssetCtxs` answer (`[meta, assetCtxs]`); the
/// contexts are not used.
pub fn parse_meta_and_asset_ctxs(json: &str) -> Result<Vec<Market>, MarketError> {
    let [meta, _] = meta_and_contexts(json, MarketError::NotMetaAndAssetCtxs)?;
    Ok(perp_markets(serde_json::from_value(meta)?))
}

/// The body of the `/info` request answered by `metaAndAssetCtxs`.
pub const PERP_CONTEXTS_REQUEST: &str = r#"{"type":"metaAndAssetCtxs"}"#;
/// The body of the `/info` request answered by `spotMetaAndAssetCtxs`.
pub const SPOT_CONTEXTS_REQUEST: &str = r#"{"type":"spotMetaAndAssetCtxs"}"#;

/// One market's context, as far as its mark is concerned.
#[derive(Deserialize)]
struct MarkContext {
    #[serde(rename = "markPx")]
    mark_px: Option<String>,
    coin: Option<String>,
}

impl MarkContext {
    /// The mark, when it is a positive decimal.
    fn mark(&self) -> Option<Decimal> {
        let mark: Decimal = self.mark_px.as_deref()?.parse().ok()?;
        (mark > Decimal::ZERO).then_some(mark)
    }
}

/// Perp mark prices by asset id from a `metaAndAssetCtxs` answer: the n-th
/// context is the n-th perp's. A context without a positive `markPx` is
/// left out.
pub fn perp_mark_prices(json: &str) -> Result<Vec<(u32, Decimal)>, MarketError> {
    let [meta, contexts] = meta_and_contexts(json, MarketError::NotMetaAndAssetCtxs)?;
    let markets = perp_markets(serde_json::from_value(meta)?);
    let contexts: Vec<MarkContext> = serde_json::from_value(contexts)?;
    Ok(markets
        .iter()
        .zip(&contexts)
        .filter_map(|(market, context)| Some((market.asset, context.mark()?)))
        .collect())
}

/// Spot mark prices by asset id from a `spotMetaAndAssetCtxs` answer, each
/// context matched to its pair by `coin`. A context without a positive
/// `markPx` or a known `coin` is left out.
pub fn spot_mark_prices(json: &str) -> Result<Vec<(u32, Decimal)>, MarketError> {
    let [meta, contexts] = meta_and_contexts(json, MarketError::NotSpotMetaAndAssetCtxs)?;
    let meta: SpotMeta = serde_json::from_value(meta)?;
    let assets: HashMap<&str, u32> = meta
        .universe
        .iter()
        .map(|pair| (pair.name.as_str(), SPOT_ASSET_OFFSET + pair.index))
        .collect();
    let contexts: Vec<MarkContext> = serde_json::from_value(contexts)?;
    Ok(contexts
        .iter()
        .filter_map(|context| {
            let asset = *assets.get(context.coin.as_deref()?)?;
            Some((asset, context.mark()?))
        })
        .collect())
}

/// The two parts of a `[meta, assetCtxs]` answer.
fn meta_and_contexts(json: &str, wrong: MarketError) -> Result<[Value; 2], MarketError> {
    match serde_json::from_str(json)? {
        Value::Array(parts) => parts.try_into().map_err(|_| wrong),
        _ => Err(wrong),
    }
}

fn perp_markets(meta: PerpMeta) -> Vec<Market> {
    (0u32..)
        .zip(meta.universe)
        .map(|(asset, entry)| Market {
            display_name: entry.name.clone(),
            coin: entry.name,
            asset,
            sz_decimals: entry.sz_decimals,
            kind: MarketKind::Perp,
            delisted: entry.is_delisted,
            max_leverage: entry.max_leverage,
        })
        .collect()
}

/// Spot markets from a `spotMeta` answer; asset id = 10000 + the pair's `index`,
/// size decimals from the base token (looked up by its `index` field).
pub fn parse_spot_meta(json: &str) -> Result<Vec<Market>, MarketError> {
    let meta: SpotMeta = serde_json::from_str(json)?;
    let tokens: HashMap<u32, &SpotToken> = meta.tokens.iter().map(|t| (t.index, t)).collect();
    meta.universe
        .iter()
        .map(|pair| {
            let token = |index: u32| {
                tokens.get(&index).ok_or_else(|| MarketError::UnknownToken {
                    pair: pair.name.clone(),
                    token: index,
                })
            };
            let base = token(pair.tokens[0])?;
            let quote = token(pair.tokens[1])?;
            Ok(Market {
                coin: pair.name.clone(),
                display_name: format!("{}/{}", base.name, quote.name),
                asset: SPOT_ASSET_OFFSET + pair.index,
                sz_decimals: base.sz_decimals,
                kind: MarketKind::Spot,
                delisted: false,
                max_leverage: 0,
            })
        })
        .collect()
}

/// All markets, addressable by coin, display name or host-style name.
#[derive(Debug, Clone, Default)]
pub struct MarketTable {
    markets: Vec<Market>,
    by_name: HashMap<String, NameSlot>,
    by_asset: HashMap<u32, usize>,
}

#[derive(Debug, Clone, Copy)]
enum NameSlot {
    Unique(usize),
    Ambiguous,
}

impl MarketTable {
    /// A table over the given markets. A name shared by two markets resolves to
    /// [`MarketError::AmbiguousName`]; a later market with an already used asset id
    /// is reachable by name only.
    pub fn new(markets: Vec<Market>) -> Self {
        let mut table = Self {
            markets,
            ..Self::default()
        };
        for (slot, market) in table.markets.iter().enumerate() {
            table.by_asset.entry(market.asset).or_insert(slot);
            for name in [&market.coin, &market.display_name] {
                match table.by_name.entry(name.clone()) {
                    Entry::Vacant(vacant) => {
                        vacant.insert(NameSlot::Unique(slot));
                    }
                    Entry::Occupied(mut occupied) => {
                        if !matches!(occupied.get(), NameSlot::Unique(existing) if *existing == slot)
                        {
                            occupied.insert(NameSlot::Ambiguous);
                        }
                    }
                }
            }
        }
        table
    }

    /// A table from `meta` and, optionally, `spotMeta` answers.
    pub fn from_info(meta_json: &str, spot_meta_json: Option<&str>) -> Result<Self, MarketError> {
        let mut markets = parse_meta(meta_json)?;
        if let Some(spot) = spot_meta_json {
            markets.extend(parse_spot_meta(spot)?);
        }
        Ok(Self::new(markets))
    }

    /// Resolves a market name.
    ///
    /// Accepted, in this order:
    /// 1. a Hyperliquid coin: `BTC`, `PURR/USDC`, `@107`;
    /// 2. a spot display name built from token names: `HYPE/USDC` (→ `@107`);
    /// 3. host style `BASE-QUOTE`: quote `USD` or `PERP` means the perp `BASE`
    ///    (`BTC-USD`, `BTC-PERP` → `BTC`); any other quote means the spot pair
    ///    `BASE/QUOTE` (`HYPE-USDC` → `@107`).
    ///
    /// Names are case-sensitive, as Hyperliquid coins are (`kPEPE`).
    pub fn resolve(&self, name: &str) -> Result<&Market, MarketError> {
        if let Some(slot) = self.by_name.get(name) {
            return self.slot(*slot, name);
        }
        let candidate = match name.rsplit_once('-') {
            Some((base, "USD" | "PERP")) => self.perp_named(base),
            Some((base, quote)) => self.by_name.get(&format!("{base}/{quote}")).copied(),
            None => None,
        };
        match candidate {
            Some(slot) => self.slot(slot, name),
            None => Err(MarketError::UnknownPair {
                name: name.to_owned(),
            }),
        }
    }

    /// The market with this asset id.
    pub fn by_asset(&self, asset: u32) -> Option<&Market> {
        self.by_asset.get(&asset).map(|&slot| &self.markets[slot])
    }

    /// All markets, perps first in `meta` order, then spot in `spotMeta` order.
    pub fn markets(&self) -> &[Market] {
        &self.markets
    }

    fn perp_named(&self, coin: &str) -> Option<NameSlot> {
        self.by_name.get(coin).copied().filter(|slot| match slot {
            NameSlot::Unique(index) => self.markets[*index].kind == MarketKind::Perp,
            NameSlot::Ambiguous => true,
        })
    }

    fn slot(&self, slot: NameSlot, name: &str) -> Result<&Market, MarketError> {
        match slot {
            NameSlot::Unique(index) => Ok(&self.markets[index]),
            NameSlot::Ambiguous => Err(MarketError::AmbiguousName {
                name: name.to_owned(),
            }),
        }
    }
}
