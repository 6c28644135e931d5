//! `/info` (and WebSocket `post` of type `info`): request parsing and every
//! answer shape, plus the market-data payloads the WebSocket pushes.

use std::str::FromStr;

use hyperliquid_core::{Cloid, MarketKind};

use crate::account::AccountId;
use crate::entry::ClientId;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::book::{LevelSummary, Oid};
use crate::engine::Engine;
use crate::market::SPOT_ASSET_OFFSET;
use crate::orders::OrderRecord;

/// Levels per side in `l2Book`.
pub const BOOK_DEPTH: usize = 20;
/// Most fills in one `userFills` / `userFillsByTime` answer.
pub const MAX_FILLS: usize = 2_000;

/// Why an `/info` body was refused (HTTP 422).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Failed to deserialize the JSON body into the target type")]
pub struct InfoError;

fn num(value: Decimal) -> String {
    value.normalize().to_string()
}

fn usd(value: Decimal) -> String {
    value.round_dp(6).normalize().to_string()
}

fn field<'a>(request: &'a Value, key: &str) -> Result<&'a Value, InfoError> {
    request.get(key).ok_or(InfoError)
}

fn user_field(request: &Value) -> Result<AccountId, InfoError> {
    field(request, "user")?
        .as_str()
        .and_then(|text| AccountId::from_str(text).ok())
        .ok_or(InfoError)
}

/// Answers one `/info` request body.
pub fn answer(engine: &Engine, request: &Value, now: u64) -> Result<Value, InfoError> {
    let kind = field(request, "type")?.as_str().ok_or(InfoError)?;
    Ok(match kind {
        "meta" => meta(engine),
        "spotMeta" => spot_meta(engine),
        "metaAndAssetCtxs" => json!([meta(engine), asset_ctxs(engine, MarketKind::Perp)]),
        "spotMetaAndAssetCtxs" => json!([spot_meta(engine), asset_ctxs(engine, MarketKind::Spot)]),
        "allMids" => Value::Object(all_mids(engine)),
        // Only the default perp dex (`null`), no builder-deployed dexes.
        "perpDexs" => json!([null]),
        "l2Book" => {
            let coin = field(request, "coin")?.as_str().ok_or(InfoError)?;
            engine
                .market_of_coin(coin)
                .map_or(Value::Null, |market| l2_book(engine, market, now))
        }
        "openOrders" => Value::Array(open_orders(
            engine,
            user_field(request)?,
            OrderRecord::basic_json,
        )),
        "frontendOpenOrders" => Value::Array(open_orders(
            engine,
            user_field(request)?,
            OrderRecord::frontend_json,
        )),
        "orderStatus" => order_status(engine, user_field(request)?, field(request, "oid")?)?,
        "userFills" => {
            let user = user_field(request)?;
            let fills = engine.accounts.get(&user).map(|a| {
                a.fills
                    .iter()
                    .rev()
                    .take(MAX_FILLS)
                    .map(crate::orders::Fill::to_json)
                    .collect()
            });
            Value::Array(fills.unwrap_or_default())
        }
        "userFillsByTime" => {
            let user = user_field(request)?;
            let start = field(request, "startTime")?.as_u64().ok_or(InfoError)?;
            let end = match request.get("endTime") {
                None | Some(Value::Null) => u64::MAX,
                Some(value) => value.as_u64().ok_or(InfoError)?,
            };
            let fills = engine.accounts.get(&user).map(|a| {
                a.fills
                    .iter()
                    .filter(|f| f.time >= start && f.time <= end)
                    .take(MAX_FILLS)
                    .map(crate::orders::Fill::to_json)
                    .collect()
            });
            Value::Array(fills.unwrap_or_default())
        }
        "clearinghouseState" => clearinghouse_state(engine, user_field(request)?, now),
        "spotClearinghouseState" => spot_clearinghouse_state(engine, user_field(request)?),
        "userRateLimit" => {
            let user = user_field(request)?;
            let buffer = engine.limits.address_request_buffer;
            let (volume, used, cap) = engine
                .accounts
                .get(&user)
                .map_or((Decimal::ZERO, 0, buffer), |a| {
                    (a.cum_volume, a.requests, a.request_cap(buffer))
                });
            json!({ "cumVlm": usd(volume), "nRequestsUsed": used, "nRequestsCap": cap })
        }
        _ => return Err(InfoError),
    })
}

/// `meta`.
pub fn meta(engine: &Engine) -> Value {
    let perps = engine
        .markets
        .iter()
        .filter(|m| m.spec.kind == MarketKind::Perp);
    let universe: Vec<Value> = perps
        .clone()
        .map(|m| {
            json!({
                "name": m.spec.coin,
                "szDecimals": m.spec.sz_decimals,
                "maxLeverage": m.spec.max_leverage,
                "marginTableId": m.spec.max_leverage,
            })
        })
        .collect();
    let mut tables: Vec<u32> = perps.map(|m| m.spec.max_leverage).collect();
    tables.sort_unstable();
    tables.dedup();
    let margin_tables: Vec<Value> = tables
        .into_iter()
        .map(|max| {
            json!([max, {
                "description": "",
                "marginTiers": [{ "lowerBound": "0.0", "maxLeverage": max }],
            }])
        })
        .collect();
    json!({ "universe": universe, "marginTables": margin_tables, "collateralToken": 0 })
}

/// `spotMeta`.
pub fn spot_meta(engine: &Engine) -> Value {
    let universe: Vec<Value> = engine
        .markets
        .iter()
        .filter_map(|m| {
            let (base, quote) = m.spec.tokens?;
            let index = m.spec.asset - SPOT_ASSET_OFFSET;
            Some(json!({
                "tokens": [base, quote],
                "name": m.spec.coin,
                "index": index,
                "isCanonical": !m.spec.coin.starts_with('@'),
            }))
        })
        .collect();
    let tokens: Vec<Value> = engine
        .tokens
        .iter()
        .map(|t| {
            let mut id = [0u8; 16];
            id[12..].copy_from_slice(&t.index.to_be_bytes());
            json!({
                "name": t.name,
                "szDecimals": t.sz_decimals,
                "weiDecimals": t.wei_decimals,
                "index": t.index,
                "tokenId": format!("0x{}", hex::encode(id)),
                "isCanonical": true,
                "evmContract": null,
                "fullName": null,
                "deployerTradingFeeShare": "0.0",
            })
        })
        .collect();
    json!({ "universe": universe, "tokens": tokens })
}

fn asset_ctxs(engine: &Engine, kind: MarketKind) -> Vec<Value> {
    (0..engine.markets.len())
        .filter(|&m| engine.markets[m].spec.kind == kind)
        .map(|m| asset_ctx(engine, m))
        .collect()
}

/// Open interest of a perp: the sum of long positions.
fn open_interest(engine: &Engine, asset: u32) -> Decimal {
    engine
        .accounts
        .values()
        .filter_map(|a| a.positions.get(&asset))
        .map(|p| p.szi.max(Decimal::ZERO))
        .sum()
}

/// The asset context of one market (`metaAndAssetCtxs` element).
pub fn asset_ctx(engine: &Engine, market: usize) -> Value {
    let m = &engine.markets[market];
    let mid = match (m.book.best_bid(), m.book.best_ask()) {
        (Some(_), Some(_)) => json!(num(m.mid())),
        _ => Value::Null,
    };
    match m.spec.kind {
        MarketKind::Perp => {
            let premium = if m.oracle.is_zero() {
                Decimal::ZERO
            } else {
                ((m.mark - m.oracle) / m.oracle).round_dp(6)
            };
            let impact = match (m.book.best_bid(), m.book.best_ask()) {
                (Some(bid), Some(ask)) => json!([num(bid), num(ask)]),
                _ => Value::Null,
            };
            json!({
                "funding": num(m.spec.funding),
                "openInterest": num(open_interest(engine, m.spec.asset)),
                "prevDayPx": num(m.prev_day_px),
                "dayNtlVlm": usd(m.day_ntl_vlm),
                "premium": num(premium),
                "oraclePx": num(m.oracle),
                "markPx": num(m.mark),
                "midPx": mid,
                "impactPxs": impact,
                "dayBaseVlm": num(m.day_base_vlm),
            })
        }
        MarketKind::Spot => json!({
            "prevDayPx": num(m.prev_day_px),
            "dayNtlVlm": usd(m.day_ntl_vlm),
            "markPx": num(m.mark),
            "midPx": mid,
            "circulatingSupply": "1000000000.0",
            "coin": m.spec.coin,
            "totalSupply": "1000000000.0",
            "dayBaseVlm": num(m.day_base_vlm),
        }),
    }
}

/// Channel and data of an `activeAssetCtx` push (`activeSpotAssetCtx` for spot).
pub fn active_asset_ctx(engine: &Engine, market: usize) -> (&'static str, Value) {
    let m = &engine.markets[market];
    let channel = match m.spec.kind {
        MarketKind::Perp => "activeAssetCtx",
        MarketKind::Spot => "activeSpotAssetCtx",
    };
    (
        channel,
        json!({ "coin": m.spec.coin, "ctx": asset_ctx(engine, market) }),
    )
}

/// `allMids`: coin → mid price.
pub fn all_mids(engine: &Engine) -> Map<String, Value> {
    engine
        .markets
        .iter()
        .map(|m| (m.spec.coin.clone(), json!(num(m.mid()))))
        .collect()
}

fn level(level: &LevelSummary) -> Value {
    json!({ "px": num(level.px), "sz": num(level.sz), "n": level.n })
}

/// `l2Book` of one market: 20 levels a side, bids descending, asks ascending.
pub fn l2_book(engine: &Engine, market: usize, now: u64) -> Value {
    let m = &engine.markets[market];
    let side = |bids| {
        m.book
            .levels(bids, BOOK_DEPTH)
            .iter()
            .map(level)
            .collect::<Vec<_>>()
    };
    json!({ "coin": m.spec.coin, "time": now, "levels": [side(true), side(false)] })
}

/// `bbo` of one market.
pub fn bbo(engine: &Engine, market: usize, now: u64) -> Value {
    let m = &engine.markets[market];
    let best = |bids| m.book.levels(bids, 1).first().map_or(Value::Null, level);
    json!({ "coin": m.spec.coin, "time": now, "bbo": [best(true), best(false)] })
}

fn open_orders(engine: &Engine, user: AccountId, shape: fn(&OrderRecord) -> Value) -> Vec<Value> {
    engine.accounts.get(&user).map_or_else(Vec::new, |account| {
        account
            .open_orders
            .iter()
            .rev()
            .filter_map(|oid| engine.orders.get(oid))
            .map(shape)
            .collect()
    })
}

fn order_status(engine: &Engine, user: AccountId, target: &Value) -> Result<Value, InfoError> {
    let oid: Option<Oid> = match target {
        Value::Number(n) => Some(n.as_u64().ok_or(InfoError)?),
        Value::String(text) => {
            let cloid = Cloid::from_str(text).map_err(|_| InfoError)?;
            engine
                .accounts
                .get(&user)
                .and_then(|a| a.cloids.get(&ClientId(cloid.0)).copied())
        }
        _ => return Err(InfoError),
    };
    Ok(
        match oid
            .and_then(|oid| engine.orders.get(&oid))
            .filter(|o| o.user == user)
        {
            None => json!({ "status": "unknownOid" }),
            Some(order) => json!({
                "status": "order",
                "order": {
                    "order": order.frontend_json(),
                    "status": order.status,
                    "statusTimestamp": order.status_timestamp,
                },
            }),
        },
    )
}

/// `clearinghouseState`: margin summaries and open positions (closed ones are omitted).
pub fn clearinghouse_state(engine: &Engine, user: AccountId, now: u64) -> Value {
    let default = crate::accounts::Account::default();
    let account = engine.accounts.get(&user).unwrap_or(&default);
    let summary = engine.margin_summary(account);
    let positions: Vec<Value> = account
        .positions
        .iter()
        .filter_map(|(asset, position)| {
            let market = &engine.markets[engine.market_of_asset(*asset)?];
            let leverage = account.leverage_of(*asset, market.spec.max_leverage);
            let value = position.szi.abs() * market.mark;
            let upnl = (market.mark - position.entry_px) * position.szi;
            let margin_used = if leverage.is_cross {
                value / Decimal::from(leverage.value)
            } else {
                position.isolated_margin + upnl
            };
            let initial = position.szi.abs() * position.entry_px / Decimal::from(leverage.value);
            let roe = if initial.is_zero() {
                Decimal::ZERO
            } else {
                upnl / initial
            };
            let leverage_json = if leverage.is_cross {
                json!({ "type": "cross", "value": leverage.value })
            } else {
                json!({
                    "type": "isolated",
                    "value": leverage.value,
                    "rawUsd": usd(position.isolated_margin - position.szi * position.entry_px),
                })
            };
            Some(json!({
                "type": "oneWay",
                "position": {
                    "coin": market.spec.coin,
                    "szi": num(position.szi),
                    "leverage": leverage_json,
                    "entryPx": num(position.entry_px.round_dp(8)),
                    "positionValue": usd(value),
                    "unrealizedPnl": usd(upnl),
                    "returnOnEquity": num(roe.round_dp(8)),
                    "liquidationPx": null,
                    "marginUsed": usd(margin_used),
                    "maxLeverage": market.spec.max_leverage,
                    "cumFunding": { "allTime": "0.0", "sinceOpen": "0.0", "sinceChange": "0.0" },
                }
            }))
        })
        .collect();
    let margin = json!({
        "accountValue": usd(summary.account_value),
        "totalNtlPos": usd(summary.total_ntl_pos),
        "totalRawUsd": usd(summary.total_raw_usd),
        "totalMarginUsed": usd(summary.total_margin_used),
    });
    let withdrawable = (summary.account_value - summary.total_margin_used - account.order_margin)
        .max(Decimal::ZERO);
    json!({
        "marginSummary": margin,
        "crossMarginSummary": margin,
        "crossMaintenanceMarginUsed": usd(summary.maintenance),
        "withdrawable": usd(withdrawable),
        "assetPositions": positions,
        "time": now,
    })
}

/// `spotClearinghouseState`: balances with holds.
pub fn spot_clearinghouse_state(engine: &Engine, user: AccountId) -> Value {
    let balances: Vec<Value> = engine.accounts.get(&user).map_or_else(Vec::new, |account| {
        account
            .spot
            .iter()
            .map(|(token, total)| {
                json!({
                    "coin": engine.token_name(*token),
                    "token": token,
                    "hold": num(account.spot_hold.get(token).copied().unwrap_or_default()),
                    "total": num(*total),
                    "entryNtl": "0.0",
                })
            })
            .collect()
    });
    json!({ "balances": balances })
}
