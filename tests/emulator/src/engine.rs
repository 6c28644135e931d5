//! The exchange state: markets and books, accounts, agents, nonces and order
//! records; the block loop (prices, synthetic liquidity and trades, triggers,
//! scheduled cancels, margin checks, market-data pushes); funding and ground
//! truth for the admin API.
//!
//! Trading actions are in [`crate::trading`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use hyperliquid_core::{B256, MarketKind, keccak256};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Value, json};

use crate::account::AccountId;
use crate::accounts::{Account, MarginSummary};
use crate::book::{Oid, Owner, Resting, Taker};
use crate::config::{Config, FeeConfig, LimitsConfig, LiquidityConfig, SpotTokenConfig};
use crate::feed::{Event, Feed, Pending, Print};
use crate::market::{MIN_NOTIONAL, Market, MarketSpec, SPOT_ASSET_OFFSET};
use crate::nonces::NonceSet;
use crate::orders::{OrderRecord, OrderState};

/// Milliseconds in a UTC day.
pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;
/// Books are pushed at least this often even when unchanged.
const BOOK_HEARTBEAT_MS: u64 = 1_000;
/// Size large enough to sweep every crossed user order (2^32).
const SWEEP_SIZE: Decimal = Decimal::from_parts(0, 1, 0, false, 0);

/// An approved API wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// The account it trades for.
    pub master: AccountId,
    /// Its name (`None` for the unnamed agent).
    pub name: Option<String>,
}

/// Per-action facts every order of the action shares.
#[derive(Debug, Clone, Copy)]
pub struct ActionContext {
    /// Processing time (ms).
    pub now: u64,
    /// Transaction hash reported in fills and trades.
    pub hash: B256,
    /// Whether the post-only window fault is active.
    pub post_only_window: bool,
}

/// One side of an execution, as booked to a user.
#[derive(Debug, Clone, Copy)]
struct FillSide {
    user: AccountId,
    oid: Oid,
    is_buy: bool,
    /// True for the taker.
    crossed: bool,
}

/// What both sides of an execution share.
#[derive(Debug, Clone, Copy)]
struct TradeFacts {
    market: usize,
    px: Decimal,
    sz: Decimal,
    tid: u64,
    hash: B256,
    now: u64,
}

/// The whole exchange.
#[derive(Debug)]
pub struct Engine {
    pub(crate) fees: FeeConfig,
    pub(crate) liquidity: LiquidityConfig,
    pub(crate) limits: LimitsConfig,
    pub(crate) markets: Vec<Market>,
    pub(crate) asset_index: HashMap<u32, usize>,
    pub(crate) coin_index: HashMap<String, usize>,
    pub(crate) tokens: Vec<SpotTokenConfig>,
    pub(crate) accounts: HashMap<AccountId, Account>,
    pub(crate) agents: HashMap<AccountId, Agent>,
    pub(crate) nonces: HashMap<AccountId, NonceSet>,
    pub(crate) orders: HashMap<Oid, OrderRecord>,
    pub(crate) triggers: BTreeSet<Oid>,
    /// Resting orders with an expiry, by expiry time.
    pub(crate) expiries: BTreeSet<(u64, Oid)>,
    /// Entries' attached exits (see [`crate::grouping`]).
    pub(crate) exits: crate::grouping::AttachedExits,
    pub(crate) pending: Pending,
    pub(crate) feed: Feed,
    pub(crate) synthetic: AccountId,
    next_oid: Oid,
    next_tid: u64,
    block_secs: f64,
    published_books: HashMap<usize, (u64, u64)>,
}

/// Why an admin request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// No market has this coin name.
    #[error("unknown coin {0:?}")]
    UnknownCoin(String),
    /// No spot token has this name.
    #[error("unknown spot token {0:?}")]
    UnknownToken(String),
    /// A price or amount that makes no sense.
    #[error("{0}")]
    Invalid(String),
}

impl Engine {
    /// A fresh exchange from `config`, publishing on `feed`; fails on an
    /// account funded with an unknown spot token.
    pub fn new(config: &Config, feed: Feed) -> Result<Self, AdminError> {
        let mut specs = Vec::new();
        for (asset, perp) in (0u32..).zip(&config.perps) {
            specs.push((
                MarketSpec {
                    coin: perp.name.clone(),
                    asset,
                    sz_decimals: perp.sz_decimals,
                    kind: MarketKind::Perp,
                    max_leverage: perp.max_leverage,
                    funding: perp.funding,
                    tokens: None,
                    tick: perp.tick_size,
                    min_notional: perp.min_notional.unwrap_or(MIN_NOTIONAL),
                },
                perp.price,
            ));
        }
        for pair in &config.spot_pairs {
            let sz_decimals = config
                .spot_tokens
                .iter()
                .find(|t| t.index == pair.base)
                .map_or(0, |t| t.sz_decimals);
            specs.push((
                MarketSpec {
                    coin: pair.name.clone(),
                    asset: SPOT_ASSET_OFFSET + pair.index,
                    sz_decimals,
                    kind: MarketKind::Spot,
                    max_leverage: 1,
                    funding: Decimal::ZERO,
                    tokens: Some((pair.base, pair.quote)),
                    tick: None,
                    min_notional: MIN_NOTIONAL,
                },
                pair.price,
            ));
        }
        let markets: Vec<Market> = specs
            .into_iter()
            .enumerate()
            .map(|(i, (spec, price))| {
                let seed = config
                    .seed
                    .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    .wrapping_add(i as u64);
                Market::new(spec, price, seed)
            })
            .collect();
        let asset_index = markets
            .iter()
            .enumerate()
            .map(|(i, m)| (m.spec.asset, i))
            .collect();
        let coin_index = markets
            .iter()
            .enumerate()
            .map(|(i, m)| (m.spec.coin.clone(), i))
            .collect();
        let mut synthetic = [0u8; 20];
        synthetic.copy_from_slice(&keccak256(b"hl-emulator synthetic liquidity").0[12..]);
        let mut engine = Self {
            fees: config.fees.clone(),
            liquidity: config.liquidity.clone(),
            limits: config.limits.clone(),
            markets,
            asset_index,
            coin_index,
            tokens: config.spot_tokens.clone(),
            accounts: HashMap::new(),
            agents: HashMap::new(),
            nonces: HashMap::new(),
            orders: HashMap::new(),
            triggers: BTreeSet::new(),
            expiries: BTreeSet::new(),
            exits: crate::grouping::AttachedExits::default(),
            pending: Pending::default(),
            feed,
            synthetic: AccountId(synthetic),
            next_oid: 1_000_000,
            next_tid: 1_000_000_000,
            block_secs: config.block_ms as f64 / 1000.0,
            published_books: HashMap::new(),
        };
        for market in 0..engine.markets.len() {
            engine.refresh_liquidity(market, 0);
        }
        for account in &config.accounts {
            engine.fund(account.address, account.usdc, &account.spot)?;
        }
        engine.pending = Pending::default();
        Ok(engine)
    }

    /// The next order id.
    pub(crate) fn allocate_oid(&mut self) -> Oid {
        self.next_oid += 1;
        self.next_oid
    }

    fn allocate_tid(&mut self) -> u64 {
        self.next_tid += 1;
        self.next_tid
    }

    /// Market index of an asset id.
    pub(crate) fn market_of_asset(&self, asset: u32) -> Option<usize> {
        self.asset_index.get(&asset).copied()
    }

    /// Market index of a coin name.
    pub fn market_of_coin(&self, coin: &str) -> Option<usize> {
        self.coin_index.get(coin).copied()
    }

    /// Name of a spot token.
    pub(crate) fn token_name(&self, index: u32) -> String {
        self.tokens
            .iter()
            .find(|t| t.index == index)
            .map_or_else(|| format!("#{index}"), |t| t.name.clone())
    }

    /// The account a signer acts for: itself when funded, or the master of an
    /// approved agent.
    pub fn account_for_signer(&self, signer: AccountId) -> Option<AccountId> {
        if self.accounts.contains_key(&signer) {
            return Some(signer);
        }
        self.agents
            .get(&signer)
            .map(|agent| agent.master)
            .filter(|master| self.accounts.contains_key(master))
    }

    /// Whether `address` is a funded account.
    pub fn is_user(&self, address: AccountId) -> bool {
        self.accounts.contains_key(&address)
    }

    /// Checks and records a signer's nonce (the exchange's text on refusal).
    pub fn use_nonce(&mut self, signer: AccountId, nonce: u64, now: u64) -> Result<(), String> {
        let set = self.nonces.entry(signer).or_default();
        set.check(nonce, now)?;
        set.record(nonce);
        Ok(())
    }

    /// Margin totals of an account at the current marks.
    pub(crate) fn margin_summary(&self, account: &Account) -> MarginSummary {
        account.margin_summary(|asset| {
            self.market_of_asset(asset)
                .map(|i| (self.markets[i].mark, self.markets[i].spec.max_leverage))
                .unwrap_or((Decimal::ZERO, 1))
        })
    }

    /// Credits an account (creating it): perp USDC and spot balances by token name.
    pub fn fund(
        &mut self,
        user: AccountId,
        usdc: Decimal,
        spot: &BTreeMap<String, Decimal>,
    ) -> Result<(), AdminError> {
        let mut credits = Vec::new();
        for (name, amount) in spot {
            let token = self
                .tokens
                .iter()
                .find(|t| &t.name == name)
                .ok_or_else(|| AdminError::UnknownToken(name.clone()))?;
            credits.push((token.index, *amount));
        }
        let account = self.accounts.entry(user).or_default();
        account.usdc += usdc;
        for (token, amount) in credits {
            *account.spot.entry(token).or_default() += amount;
        }
        Ok(())
    }

    /// Sets a market's reference price (admin); triggers and synthetic
    /// liquidity follow at once.
    pub fn set_price(&mut self, coin: &str, price: Decimal, now: u64) -> Result<(), AdminError> {
        let market = self
            .market_of_coin(coin)
            .ok_or_else(|| AdminError::UnknownCoin(coin.to_owned()))?;
        if price <= Decimal::ZERO {
            return Err(AdminError::Invalid(format!(
                "price {price} must be positive"
            )));
        }
        self.markets[market].set_price(price);
        self.refresh_liquidity(market, now);
        self.after_block(now);
        Ok(())
    }

    /// One block: prices move, synthetic liquidity is refreshed and trades,
    /// triggers fire, scheduled cancels and margin cancels run, events and
    /// market data are published.
    ///
    /// Prices and synthetic flow advance by the nominal block length, not the
    /// measured time, so the n-th block is the same for a given seed whatever
    /// the machine's load; `now` only stamps events and drives deadlines.
    pub fn tick(&mut self, now: u64) {
        let dt = self.block_secs;
        for market in 0..self.markets.len() {
            self.markets[market].step_price(&self.liquidity, dt);
            self.refresh_liquidity(market, now);
            let takers = self.markets[market].synthetic_takers(&self.liquidity, dt);
            for taker in takers {
                self.synthetic_take(market, taker.is_buy, taker.limit_px, taker.size, now);
            }
        }
        self.after_block(now);
    }

    fn after_block(&mut self, now: u64) {
        self.expire_orders(now);
        self.fire_triggers(now);
        self.fire_scheduled_cancels(now);
        self.enforce_margin(now);
        self.pending.flush(&self.feed);
        self.publish_market_data(now);
    }

    /// Replaces the synthetic quotes of a market around its mark; user orders
    /// the new quotes would cross are filled by the synthetic market maker.
    fn refresh_liquidity(&mut self, market: usize, now: u64) {
        if self.liquidity.levels == 0 {
            return;
        }
        self.markets[market].book.clear_synthetic();
        let (bids, asks) = self.markets[market].synthetic_ladder(&self.liquidity);
        if let Some((ask, _)) = asks.first() {
            self.synthetic_take(market, false, *ask, SWEEP_SIZE, now);
        }
        if let Some((bid, _)) = bids.first() {
            self.synthetic_take(market, true, *bid, SWEEP_SIZE, now);
        }
        let book = &mut self.markets[market].book;
        for (is_buy, levels) in [(true, bids), (false, asks)] {
            for (px, sz) in levels {
                book.insert(Resting {
                    oid: 0,
                    owner: Owner::Synthetic,
                    is_buy,
                    px,
                    sz,
                });
            }
        }
    }

    /// A synthetic taker order against the book.
    fn synthetic_take(
        &mut self,
        market: usize,
        is_buy: bool,
        limit_px: Decimal,
        sz: Decimal,
        now: u64,
    ) {
        let outcome = self.markets[market].book.take(Taker {
            owner: Owner::Synthetic,
            is_buy,
            limit_px,
            sz,
        });
        if outcome.executions.is_empty() {
            return;
        }
        let hash = keccak256(
            format!(
                "hl-emulator:{}:{now}:{}",
                self.markets[market].spec.coin, self.next_tid
            )
            .as_bytes(),
        );
        for execution in &outcome.executions {
            self.settle(market, (Owner::Synthetic, 0, is_buy), execution, now, hash);
        }
    }

    /// Books one execution: the trade, both sides' fills and the maker order.
    /// `taker` is (owner, oid, is_buy).
    pub(crate) fn settle(
        &mut self,
        market: usize,
        taker: (Owner, Oid, bool),
        execution: &crate::book::Execution,
        now: u64,
        hash: B256,
    ) {
        let (taker_owner, taker_oid, taker_buys) = taker;
        let tid = self.allocate_tid();
        let (px, sz) = (execution.px, execution.sz);
        let stats = &mut self.markets[market];
        stats.day_ntl_vlm += px * sz;
        stats.day_base_vlm += sz;
        stats.tape.push_back(crate::market::PublicTrade {
            tid,
            px,
            sz,
            taker_buys,
            time: now,
        });
        if stats.tape.len() > crate::market::TAPE_LEN {
            stats.tape.pop_front();
        }
        let address = |owner: Owner| match owner {
            Owner::User(user) => user,
            Owner::Synthetic => self.synthetic,
        };
        let (buyer, seller) = if taker_buys {
            (address(taker_owner), address(execution.maker))
        } else {
            (address(execution.maker), address(taker_owner))
        };
        if self.feed.active() {
            self.pending.trade(
                market,
                Print {
                    tid,
                    px,
                    sz,
                    taker_buys,
                    time: now,
                    hash,
                    buyer,
                    seller,
                },
            );
        }
        let print = TradeFacts {
            market,
            px,
            sz,
            tid,
            hash,
            now,
        };
        if let Owner::User(user) = taker_owner {
            let side = FillSide {
                user,
                oid: taker_oid,
                is_buy: taker_buys,
                crossed: true,
            };
            self.record_fill(side, &print);
        }
        if let Owner::User(user) = execution.maker {
            let side = FillSide {
                user,
                oid: execution.maker_oid,
                is_buy: !taker_buys,
                crossed: false,
            };
            self.record_fill(side, &print);
            self.maker_filled(execution.maker_oid, execution.maker_remaining, now);
        }
    }

    /// Applies one side of a trade to a user's account and order.
    fn record_fill(&mut self, side: FillSide, print: &TradeFacts) {
        let FillSide {
            user,
            oid,
            is_buy,
            crossed,
        } = side;
        let TradeFacts {
            market,
            px,
            sz,
            tid,
            hash,
            now,
        } = *print;
        let spec = self.markets[market].spec.clone();
        let rate = if crossed {
            self.fees.taker
        } else {
            self.fees.maker
        };
        let notional = px * sz;
        let Some(account) = self.accounts.get_mut(&user) else {
            return;
        };
        let (fee, fee_token, start_position, dir, closed_pnl) = match spec.tokens {
            None => {
                let fee = (notional * rate).round_dp(6);
                let leverage = account.leverage_of(spec.asset, spec.max_leverage);
                let effect = account.apply_perp_fill(spec.asset, leverage, is_buy, px, sz, fee);
                (
                    fee,
                    "USDC".to_owned(),
                    effect.start_position,
                    effect.dir,
                    effect.closed_pnl,
                )
            }
            Some((base, quote)) => {
                let (fee, token) = if is_buy {
                    ((sz * rate).round_dp(8), base)
                } else {
                    ((notional * rate).round_dp(8), quote)
                };
                let start = account.apply_spot_fill((base, quote), is_buy, px, sz, fee);
                let dir = if is_buy { "Buy" } else { "Sell" };
                (fee, self.token_name(token), start, dir, Decimal::ZERO)
            }
        };
        let Some(account) = self.accounts.get_mut(&user) else {
            return;
        };
        account.cum_volume += notional;
        let cloid = self.orders.get_mut(&oid).and_then(|order| {
            order.filled += sz;
            order.filled_notional += notional;
            order.fees += fee;
            order.tids.push(tid);
            order.cloid
        });
        let fill = crate::orders::Fill {
            coin: spec.coin.clone(),
            px,
            sz,
            side: if is_buy { "B" } else { "A" },
            time: now,
            start_position,
            dir,
            closed_pnl,
            hash,
            oid,
            crossed,
            fee,
            tid,
            cloid,
            fee_token,
            twap_id: None,
        };
        if self.feed.active() {
            self.pending.fill(user, fill.clone());
        }
        account.fills.push_back(fill);
        while account.fills.len() > self.limits.fills_kept {
            account.fills.pop_front();
        }
        if spec.tokens.is_none() {
            self.cancel_invalid_reduce_only(user, spec.asset, now);
        }
    }

    /// Updates a maker order after an execution.
    fn maker_filled(&mut self, oid: Oid, remaining: Decimal, now: u64) {
        let Some(order) = self.orders.get_mut(&oid) else {
            return;
        };
        order.sz = remaining;
        if remaining.is_zero() {
            self.finish(oid, OrderState::Filled, now);
        } else {
            self.reserve(oid);
        }
    }

    /// Re-computes what an open order holds (margin or spot balance) from its
    /// remaining size, adjusting the account's totals.
    pub(crate) fn reserve(&mut self, oid: Oid) {
        let Some(order) = self.orders.get(&oid) else {
            return;
        };
        let Some(market) = self.market_of_asset(order.asset) else {
            return;
        };
        let spec = &self.markets[market].spec;
        let resting = order.status.is_open() && order.trigger.is_none_or(|t| t.fired);
        let Some(account) = self.accounts.get(&order.user) else {
            return;
        };
        let (margin, hold) = match spec.tokens {
            _ if !resting => (Decimal::ZERO, None),
            None if order.reduce_only => (Decimal::ZERO, None),
            None => {
                let leverage = account.leverage_of(spec.asset, spec.max_leverage);
                (
                    order.sz * order.limit_px / Decimal::from(leverage.value),
                    None,
                )
            }
            Some((base, quote)) => {
                let hold = if order.is_buy {
                    (quote, order.sz * order.limit_px)
                } else {
                    (base, order.sz)
                };
                (Decimal::ZERO, Some(hold))
            }
        };
        let (old_margin, old_hold) = (order.margin_reserved, order.spot_hold);
        let user = order.user;
        if let Some(order) = self.orders.get_mut(&oid) {
            order.margin_reserved = margin;
            order.spot_hold = hold;
        }
        if let Some(account) = self.accounts.get_mut(&user) {
            account.order_margin += margin - old_margin;
            if let Some((token, amount)) = old_hold {
                account.adjust_hold(token, -amount);
            }
            if let Some((token, amount)) = hold {
                account.adjust_hold(token, amount);
            }
        }
    }

    /// Ends an open order with `status`: out of the book and trigger list,
    /// holds released, update published. False when it was not open.
    pub(crate) fn finish(&mut self, oid: Oid, status: OrderState, now: u64) -> bool {
        let Some(order) = self.orders.get_mut(&oid) else {
            return false;
        };
        if !order.status.is_open() {
            return false;
        }
        order.status = status;
        order.status_timestamp = now;
        let (user, asset) = (order.user, order.asset);
        if let Some(market) = self.market_of_asset(asset) {
            self.markets[market].book.remove(oid);
        }
        self.triggers.remove(&oid);
        self.reserve(oid);
        if let Some(account) = self.accounts.get_mut(&user) {
            account.open_orders.remove(&oid);
        }
        self.publish_order(oid);
        self.settle_exits(oid, status, now);
        true
    }

    /// Queues an `orderUpdates` element for an order's current state.
    pub(crate) fn publish_order(&mut self, oid: Oid) {
        if !self.feed.active() {
            return;
        }
        if let Some(order) = self.orders.get(&oid) {
            self.pending.order_update(order.clone());
        }
    }

    /// Cancels a user's resting reduce-only orders that would now increase
    /// the position.
    fn cancel_invalid_reduce_only(&mut self, user: AccountId, asset: u32, now: u64) {
        let (Some(account), Some(market)) = (self.accounts.get(&user), self.market_of_asset(asset))
        else {
            return;
        };
        let book = &self.markets[market].book;
        let position = account.position_size(asset);
        let invalid: Vec<Oid> = account
            .open_orders
            .iter()
            .filter_map(|oid| self.orders.get(oid))
            .filter(|o| o.asset == asset && o.reduce_only && book.contains(o.oid))
            .filter(|o| position.is_zero() || (position > Decimal::ZERO) == o.is_buy)
            .map(|o| o.oid)
            .collect();
        for oid in invalid {
            self.finish(oid, OrderState::ReduceOnlyCanceled, now);
        }
    }

    /// Expires the resting orders whose expiry time passed.
    fn expire_orders(&mut self, now: u64) {
        while let Some(&(expiry, oid)) = self.expiries.first()
            && expiry <= now
        {
            self.expiries.pop_first();
            self.finish(oid, OrderState::Expired, now);
        }
    }

    /// Fires the trigger orders whose price the mark (or the last trade)
    /// reached.
    fn fire_triggers(&mut self, now: u64) {
        let due: Vec<Oid> = self
            .triggers
            .iter()
            .filter_map(|oid| self.orders.get(oid))
            .filter(|order| {
                let market = self.market_of_asset(order.asset);
                match (order.trigger, market) {
                    (Some(trigger), Some(market)) => {
                        let market = &self.markets[market];
                        let price = match trigger.on_last_trade {
                            true => market.tape.back().map_or(market.mark, |trade| trade.px),
                            false => market.mark,
                        };
                        trigger.reached(order.is_buy, price)
                    }
                    _ => false,
                }
            })
            .map(|order| order.oid)
            .collect();
        for oid in due {
            self.trigger_order(oid, now);
        }
    }

    /// Cancels every open order of accounts whose scheduled cancel is due.
    fn fire_scheduled_cancels(&mut self, now: u64) {
        let due: Vec<AccountId> = self
            .accounts
            .iter()
            .filter(|(_, a)| a.scheduled_cancel.deadline.is_some_and(|d| d <= now))
            .map(|(user, _)| *user)
            .collect();
        for user in due {
            let Some(account) = self.accounts.get_mut(&user) else {
                continue;
            };
            let day = now / DAY_MS;
            let schedule = &mut account.scheduled_cancel;
            schedule.deadline = None;
            if schedule.day != day {
                schedule.day = day;
                schedule.fired_today = 0;
            }
            schedule.fired_today += 1;
            let open: Vec<Oid> = account.open_orders.iter().copied().collect();
            self.cancel_for_user(user, &open, OrderState::ScheduledCancel, now);
        }
    }

    /// Cancels the open non-reduce-only perp orders of accounts whose margin no
    /// longer covers them.
    fn enforce_margin(&mut self, now: u64) {
        let short: Vec<AccountId> = self
            .accounts
            .iter()
            .filter(|(_, a)| a.order_margin > Decimal::ZERO)
            .filter(|(_, a)| {
                let summary = self.margin_summary(a);
                summary.account_value - summary.total_margin_used - a.order_margin < Decimal::ZERO
            })
            .map(|(user, _)| *user)
            .collect();
        for user in short {
            let Some(account) = self.accounts.get(&user) else {
                continue;
            };
            let victims: Vec<Oid> = account
                .open_orders
                .iter()
                .filter(|oid| {
                    self.orders
                        .get(oid)
                        .is_some_and(|o| o.margin_reserved > Decimal::ZERO)
                })
                .copied()
                .collect();
            self.cancel_for_user(user, &victims, OrderState::MarginCanceled, now);
        }
    }

    /// Cancels orders the user did not ask to cancel, reporting them as `nonUserCancel`.
    fn cancel_for_user(&mut self, user: AccountId, oids: &[Oid], status: OrderState, now: u64) {
        for &oid in oids {
            let market = self
                .orders
                .get(&oid)
                .and_then(|o| self.market_of_asset(o.asset));
            if self.finish(oid, status, now)
                && let Some(market) = market
                && self.feed.active()
            {
                self.pending.non_user_cancel(user, market, oid);
            }
        }
    }

    /// Pushes books, best bid/offer, mids and asset contexts.
    fn publish_market_data(&mut self, now: u64) {
        if !self.feed.active() {
            return;
        }
        for market in 0..self.markets.len() {
            let version = self.markets[market].book.version();
            let (last_version, last_time) = self
                .published_books
                .get(&market)
                .copied()
                .unwrap_or((u64::MAX, 0));
            if version == last_version && now.saturating_sub(last_time) < BOOK_HEARTBEAT_MS {
                continue;
            }
            self.published_books.insert(market, (version, now));
            self.feed.publish(Event::Market { market, time: now });
        }
        self.feed.publish(Event::Block { time: now });
    }

    /// Ground truth of one account: balances, positions, every order and fill.
    pub fn account_state(&self, user: AccountId) -> Option<Value> {
        let account = self.accounts.get(&user)?;
        let summary = self.margin_summary(account);
        let orders: Vec<Value> = account
            .orders
            .iter()
            .filter_map(|oid| self.orders.get(oid))
            .map(OrderRecord::admin_json)
            .collect();
        let spot: BTreeMap<String, String> = account
            .spot
            .iter()
            .map(|(token, amount)| (self.token_name(*token), amount.normalize().to_string()))
            .collect();
        let positions: Vec<Value> = account
            .positions
            .iter()
            .map(|(asset, p)| {
                json!({
                    "asset": asset,
                    "coin": self.market_of_asset(*asset).map(|m| self.markets[m].spec.coin.clone()),
                    "szi": p.szi.normalize().to_string(),
                    "entryPx": p.entry_px.round_dp(8).normalize().to_string(),
                    "isolatedMargin": p.isolated_margin.normalize().to_string(),
                })
            })
            .collect();
        let agents: Vec<Value> = self
            .agents
            .iter()
            .filter(|(_, agent)| agent.master == user)
            .map(|(address, agent)| json!({ "address": address, "name": agent.name }))
            .collect();
        Some(json!({
            "user": user,
            "usdc": account.usdc.normalize().to_string(),
            "accountValue": summary.account_value.round_dp(6).normalize().to_string(),
            "orderMargin": account.order_margin.round_dp(6).normalize().to_string(),
            "spot": spot,
            "positions": positions,
            "openOrders": account.open_orders,
            "orders": orders,
            "fills": account.fills.iter().map(crate::orders::Fill::to_json).collect::<Vec<_>>(),
            "cumVolume": account.cum_volume.normalize().to_string(),
            "requests": account.requests,
            "scheduledCancel": account.scheduled_cancel.deadline,
            "agents": agents,
        }))
    }

    /// Ground truth of the whole exchange: every account and every book (top 20 levels).
    pub fn state(&self, now: u64) -> Value {
        let mut users: Vec<&AccountId> = self.accounts.keys().collect();
        users.sort();
        let books: Vec<Value> = (0..self.markets.len())
            .map(|market| {
                json!({
                    "coin": self.markets[market].spec.coin,
                    "mark": self.markets[market].mark.normalize().to_string(),
                    "book": crate::info::l2_book(self, market, now),
                })
            })
            .collect();
        json!({
            "time": now,
            "accounts": users.into_iter().filter_map(|u| self.account_state(*u)).collect::<Vec<_>>(),
            "books": books,
        })
    }

    /// Rounds a market-order price `slippage` away from the mark.
    pub(crate) fn slippage_price(&self, market: usize, is_buy: bool, slippage: Decimal) -> Decimal {
        let m = &self.markets[market];
        let (raw, strategy) = if is_buy {
            (
                m.mark * (Decimal::ONE + slippage),
                RoundingStrategy::ToPositiveInfinity,
            )
        } else {
            (
                m.mark * (Decimal::ONE - slippage),
                RoundingStrategy::ToNegativeInfinity,
            )
        };
        m.spec.round_price(raw, strategy).max(m.spec.tick_at(raw))
    }
}
