//! Trading on the engine, in the core's own terms ([`crate::entry`]): place
//! (with every check), execute, rest, cancel, replace (the cancel-then-place
//! modify), amend (the new order checked before the old one goes), trigger,
//! scheduled cancel, leverage, isolated margin and agent approval.

use rust_decimal::Decimal;

use crate::account::AccountId;
use crate::accounts::Leverage;
use crate::book::{Oid, Owner, Resting, Taker};
use crate::engine::{ActionContext, Agent, DAY_MS, Engine};
use crate::entry::{EntryKind, OrderEntry, OrderTarget, Placement, TimeInForce};
use crate::orders::{OrderRecord, OrderState, Trigger};
use crate::validation::{
    NOT_OPEN, POST_ONLY_WINDOW, Rejection, check_min_notional, check_numbers, check_post_only,
    check_trigger,
};
use hyperliquid_core::{B256, MarketKind, keccak256};

/// Slippage of a market trigger order once it fires.
const TRIGGER_SLIPPAGE: Decimal = Decimal::from_parts(1, 0, 0, false, 1);
/// Shortest delay of a scheduled cancel.
const MIN_SCHEDULE_DELAY_MS: u64 = 5_000;

impl Engine {
    /// Places orders; one placement per order, events published after all.
    pub fn place_orders(
        &mut self,
        user: AccountId,
        entries: &[OrderEntry],
        ctx: &ActionContext,
    ) -> Vec<Placement> {
        let placements = entries
            .iter()
            .map(|entry| self.place(user, entry, ctx, Decimal::ZERO))
            .collect();
        self.pending.flush(&self.feed);
        placements
    }

    /// Places one order: record, checks (with `released` margin counted as
    /// free: what an amended order gives back), then execution or trigger wait.
    pub(crate) fn place(
        &mut self,
        user: AccountId,
        entry: &OrderEntry,
        ctx: &ActionContext,
        released: Decimal,
    ) -> Placement {
        let oid = match self.record(user, entry, ctx) {
            Ok(oid) => oid,
            Err(refusal) => return refusal,
        };
        if let Err(rejection) = self.admit(oid, entry.market, released) {
            return self.reject(oid, rejection, ctx.now);
        }
        self.start(oid, ctx)
    }

    /// Records a new order (status open, not yet checked).
    pub(crate) fn record(
        &mut self,
        user: AccountId,
        entry: &OrderEntry,
        ctx: &ActionContext,
    ) -> Result<Oid, Placement> {
        let Some(market) = self.markets.get(entry.market) else {
            return Err(Placement::unrecorded(format!(
                "Market {} does not exist.",
                entry.market
            )));
        };
        let (tif, trigger) = match entry.kind {
            EntryKind::Limit(tif) => (Some(tif), None),
            EntryKind::Trigger(spec) => (
                None,
                Some(Trigger {
                    px: spec.price,
                    is_market: spec.is_market,
                    kind: spec.kind,
                    on_last_trade: spec.on_last_trade,
                    fired: false,
                }),
            ),
        };
        if ctx.post_only_window && tif != Some(TimeInForce::PostOnly) {
            return Err(Placement::unrecorded(POST_ONLY_WINDOW));
        }
        let (asset, coin) = (market.spec.asset, market.spec.coin.clone());
        let oid = self.allocate_oid();
        let record = OrderRecord {
            oid,
            user,
            asset,
            coin,
            is_buy: entry.is_buy,
            limit_px: entry.price,
            orig_sz: entry.size,
            sz: entry.size,
            filled: Decimal::ZERO,
            filled_notional: Decimal::ZERO,
            fees: Decimal::ZERO,
            cloid: entry.client_id,
            reduce_only: entry.reduce_only,
            tif,
            trigger,
            timestamp: ctx.now,
            status: OrderState::Open,
            status_timestamp: ctx.now,
            error: None,
            margin_reserved: Decimal::ZERO,
            spot_hold: None,
            tids: Vec::new(),
            good_till: entry.good_till,
        };
        self.orders.insert(oid, record);
        if let Some(account) = self.accounts.get_mut(&user) {
            account.orders.push(oid);
            if let Some(cloid) = entry.client_id {
                account.cloids.insert(cloid, oid);
            }
        }
        Ok(oid)
    }

    /// Forgets an order recorded but never announced (a refused amend).
    fn unrecord(&mut self, oid: Oid) {
        let Some(order) = self.orders.remove(&oid) else {
            return;
        };
        if let Some(account) = self.accounts.get_mut(&order.user) {
            account.orders.retain(|o| *o != oid);
            if let Some(cloid) = order.cloid
                && account.cloids.get(&cloid) == Some(&oid)
            {
                account.cloids.remove(&cloid);
            }
        }
    }

    /// Starts an admitted order: waits for its trigger or executes.
    pub(crate) fn start(&mut self, oid: Oid, ctx: &ActionContext) -> Placement {
        let Some(order) = self.orders.get(&oid) else {
            return Placement::unrecorded(NOT_OPEN);
        };
        let (user, tif, waits) = (order.user, order.tif, order.trigger.is_some());
        if waits {
            self.triggers.insert(oid);
            if let Some(account) = self.accounts.get_mut(&user) {
                account.open_orders.insert(oid);
            }
            self.publish_order(oid);
            return Placement::Resting { oid };
        }
        self.execute(
            oid,
            tif.unwrap_or(TimeInForce::GoodTillCancel),
            ctx.now,
            ctx.hash,
        )
    }

    /// Records a refusal and returns its placement.
    pub(crate) fn reject(&mut self, oid: Oid, rejection: Rejection, now: u64) -> Placement {
        if let Some(order) = self.orders.get_mut(&oid) {
            order.status = rejection.status;
            order.status_timestamp = now;
            order.error = Some(rejection.message.clone());
        }
        self.publish_order(oid);
        Placement::Refused {
            oid: Some(oid),
            state: Some(rejection.status),
            message: rejection.message,
        }
    }

    /// Every acceptance check of a new order, in the exchange's order; clamps
    /// reduce-only sizes to the position. `released` is margin counted as free.
    pub(crate) fn admit(
        &mut self,
        oid: Oid,
        market: usize,
        released: Decimal,
    ) -> Result<(), Rejection> {
        let Some(order) = self.orders.get(&oid) else {
            return Ok(());
        };
        let spec = &self.markets[market].spec;
        let reject = |status, text: &str| Err(Rejection::new(status, text, spec.asset));
        check_numbers(spec, order.limit_px, order.sz, order.trigger.map(|t| t.px))?;
        let Some(account) = self.accounts.get(&order.user) else {
            return reject(OrderState::Rejected, "User does not exist.");
        };
        let position = account.position_size(spec.asset);
        let mut size = order.sz;
        if order.reduce_only && order.trigger.is_none() {
            let increases = position.is_zero() || (position > Decimal::ZERO) == order.is_buy;
            if spec.kind == MarketKind::Spot || increases {
                return reject(
                    OrderState::ReduceOnlyRejected,
                    "Reduce only order would increase position.",
                );
            }
            size = size.min(position.abs());
        } else {
            let quote = spec
                .tokens
                .map_or_else(|| "USDC".to_owned(), |(_, quote)| self.token_name(quote));
            check_min_notional(spec, order.limit_px, size, &quote)?;
        }
        if let Some(trigger) = &order.trigger {
            return check_trigger(spec, trigger, order.is_buy, self.markets[market].mark);
        }
        if order.tif == Some(TimeInForce::PostOnly) {
            check_post_only(
                spec,
                &self.markets[market].book,
                order.is_buy,
                order.limit_px,
            )?;
        }
        match spec.tokens {
            None if !order.reduce_only => {
                let leverage = account.leverage_of(spec.asset, spec.max_leverage);
                let reducing = if !position.is_zero() && (position > Decimal::ZERO) != order.is_buy
                {
                    size.min(position.abs())
                } else {
                    Decimal::ZERO
                };
                let needed = (size - reducing) * order.limit_px / Decimal::from(leverage.value);
                let summary = self.margin_summary(account);
                let available =
                    summary.account_value - summary.total_margin_used - account.order_margin
                        + released;
                if needed > available {
                    return reject(
                        OrderState::PerpMarginRejected,
                        "Insufficient margin to place order.",
                    );
                }
            }
            Some((base, quote)) => {
                let enough = if order.is_buy {
                    account.spot_available(quote) >= size * order.limit_px
                } else {
                    account.spot_available(base) >= size
                };
                if !enough {
                    return reject(
                        OrderState::InsufficientSpotBalanceRejected,
                        "Insufficient spot balance",
                    );
                }
            }
            None => {}
        }
        if let Some(order) = self.orders.get_mut(&oid) {
            order.sz = size;
        }
        Ok(())
    }

    /// Matches an accepted order, then rests its remainder (good till cancel,
    /// post only) or cancels it (immediate or cancel).
    fn execute(&mut self, oid: Oid, tif: TimeInForce, now: u64, hash: B256) -> Placement {
        let Some(order) = self.orders.get(&oid) else {
            return Placement::unrecorded(NOT_OPEN);
        };
        let Some(market) = self.market_of_asset(order.asset) else {
            return Placement::unrecorded(NOT_OPEN);
        };
        let (user, is_buy, limit_px, size, asset, good_till) = (
            order.user,
            order.is_buy,
            order.limit_px,
            order.sz,
            order.asset,
            order.good_till,
        );
        if let Some(account) = self.accounts.get_mut(&user) {
            account.open_orders.insert(oid);
        }
        let owner = Owner::User(user);
        let outcome = self.markets[market].book.take(Taker {
            owner,
            is_buy,
            limit_px,
            sz: size,
        });
        for cancelled in &outcome.self_trade_cancels {
            self.finish(cancelled.oid, OrderState::SelfTradeCanceled, now);
        }
        for execution in &outcome.executions {
            self.settle(market, (owner, oid, is_buy), execution, now, hash);
        }
        let filled = outcome.filled();
        let remaining = size - filled;
        let Some(order) = self.orders.get_mut(&oid) else {
            return Placement::unrecorded(NOT_OPEN);
        };
        order.sz = remaining;
        let filled_placement = |order: &OrderRecord| Placement::Filled {
            oid,
            total: filled,
            avg_px: order.avg_px().unwrap_or_default().round_dp(8),
        };
        if remaining.is_zero() {
            let placement = filled_placement(order);
            self.finish(oid, OrderState::Filled, now);
            return placement;
        }
        if tif == TimeInForce::ImmediateOrCancel {
            if filled.is_zero() {
                self.finish(oid, OrderState::IocCancelRejected, now);
                let rejection = Rejection::new(
                    OrderState::IocCancelRejected,
                    "Order could not immediately match against any resting orders.",
                    asset,
                );
                if let Some(order) = self.orders.get_mut(&oid) {
                    order.error = Some(rejection.message.clone());
                }
                return Placement::Refused {
                    oid: Some(oid),
                    state: Some(OrderState::IocCancelRejected),
                    message: rejection.message,
                };
            }
            let placement = filled_placement(order);
            self.finish(oid, OrderState::Canceled, now);
            return placement;
        }
        if !order.status.is_open() {
            // A reduce-only order cancelled while it traded.
            return filled_placement(order);
        }
        self.markets[market].book.insert(Resting {
            oid,
            owner,
            is_buy,
            px: limit_px,
            sz: remaining,
        });
        self.reserve(oid);
        if let Some(expiry) = good_till {
            self.expiries.insert((expiry, oid));
        }
        self.publish_order(oid);
        Placement::Resting { oid }
    }

    /// Resolves a target to an open order of `user` on `market`.
    pub fn open_order_of(
        &self,
        user: AccountId,
        market: usize,
        target: OrderTarget,
    ) -> Option<Oid> {
        let oid = match target {
            OrderTarget::Oid(oid) => oid,
            OrderTarget::Client(cloid) => *self.accounts.get(&user)?.cloids.get(&cloid)?,
        };
        let asset = self.markets.get(market)?.spec.asset;
        self.orders
            .get(&oid)
            .filter(|o| o.user == user && o.asset == asset && o.status.is_open())
            .map(|o| o.oid)
    }

    /// Cancels orders (market index and target); true for each one cancelled.
    pub fn cancel_orders(
        &mut self,
        user: AccountId,
        targets: &[(usize, OrderTarget)],
        now: u64,
    ) -> Vec<bool> {
        let cancelled = targets
            .iter()
            .map(|(market, target)| {
                let open = self.open_order_of(user, *market, *target);
                match (open, target) {
                    (Some(oid), _) => self.finish(oid, OrderState::Canceled, now),
                    (None, OrderTarget::Client(client_id)) => {
                        self.cancel_waiting_exit(user, *client_id)
                    }
                    (None, OrderTarget::Oid(_)) => false,
                }
            })
            .collect();
        self.pending.flush(&self.feed);
        cancelled
    }

    /// Replaces orders: the target is cancelled, then the new order placed
    /// with a new oid (whatever becomes of it). `None` where the target is
    /// not open.
    pub fn replace_orders(
        &mut self,
        user: AccountId,
        replacements: &[(OrderTarget, OrderEntry)],
        ctx: &ActionContext,
    ) -> Vec<Option<Placement>> {
        let placements = replacements
            .iter()
            .map(|(target, entry)| {
                let oid = self.open_order_of(user, entry.market, *target)?;
                self.finish(oid, OrderState::Canceled, ctx.now);
                Some(self.place(user, entry, ctx, Decimal::ZERO))
            })
            .collect();
        self.pending.flush(&self.feed);
        placements
    }

    /// Amends an open order: the new order is checked first (with the old
    /// one's margin counted as free); when refused, the old order stands
    /// untouched and nothing is recorded. Otherwise the old order is
    /// cancelled and the new one goes on as a placement. `None` when the
    /// target is not open.
    pub fn amend_order(
        &mut self,
        user: AccountId,
        target: Oid,
        entry: &OrderEntry,
        ctx: &ActionContext,
    ) -> Option<Placement> {
        let old = self.open_order_of(user, entry.market, OrderTarget::Oid(target))?;
        let released = self
            .orders
            .get(&old)
            .map_or(Decimal::ZERO, |o| o.margin_reserved);
        let placement = match self.record(user, entry, ctx) {
            Err(refusal) => refusal,
            Ok(oid) => match self.admit(oid, entry.market, released) {
                Err(rejection) => {
                    self.unrecord(oid);
                    Placement::Refused {
                        oid: None,
                        state: Some(rejection.status),
                        message: rejection.message,
                    }
                }
                Ok(()) => {
                    self.finish(old, OrderState::Canceled, ctx.now);
                    self.start(oid, ctx)
                }
            },
        };
        self.pending.flush(&self.feed);
        Some(placement)
    }

    /// Fires one trigger order: it becomes a market (immediate or cancel,
    /// 10 % slippage) or limit (good till cancel) order.
    pub(crate) fn trigger_order(&mut self, oid: Oid, now: u64) {
        self.triggers.remove(&oid);
        let Some(order) = self.orders.get_mut(&oid) else {
            return;
        };
        let Some(trigger) = order.trigger.as_mut() else {
            return;
        };
        trigger.fired = true;
        let is_market = trigger.is_market;
        order.status = OrderState::Triggered;
        order.status_timestamp = now;
        let (user, asset, is_buy, reduce_only) =
            (order.user, order.asset, order.is_buy, order.reduce_only);
        self.publish_order(oid);
        let Some(market) = self.market_of_asset(asset) else {
            return;
        };
        if reduce_only {
            let position = self
                .accounts
                .get(&user)
                .map_or(Decimal::ZERO, |a| a.position_size(asset));
            if position.is_zero() || (position > Decimal::ZERO) == is_buy {
                self.finish(oid, OrderState::ReduceOnlyCanceled, now);
                return;
            }
            if let Some(order) = self.orders.get_mut(&oid) {
                order.sz = order.sz.min(position.abs());
            }
        }
        let tif = if is_market {
            let px = self.slippage_price(market, is_buy, TRIGGER_SLIPPAGE);
            if let Some(order) = self.orders.get_mut(&oid) {
                order.limit_px = px;
            }
            TimeInForce::ImmediateOrCancel
        } else {
            TimeInForce::GoodTillCancel
        };
        let hash = keccak256(format!("hl-emulator:trigger:{oid}:{now}").as_bytes());
        self.execute(oid, tif, now, hash);
    }

    /// Sets (`Some`) or clears (`None`) the dead man's switch.
    pub fn schedule_cancel(
        &mut self,
        user: AccountId,
        time: Option<u64>,
        now: u64,
    ) -> Result<(), String> {
        let min_volume = self.limits.schedule_cancel_min_volume;
        let per_day = self.limits.schedule_cancel_triggers_per_day;
        let account = self.accounts.get_mut(&user).ok_or("User does not exist.")?;
        let Some(time) = time else {
            account.scheduled_cancel.deadline = None;
            return Ok(());
        };
        if account.cum_volume < min_volume {
            return Err(format!(
                "Cannot set scheduled cancel time until enough volume traded. Required: ${}. Traded: ${}.",
                min_volume.normalize(),
                account.cum_volume.round_dp(2).normalize()
            ));
        }
        if time < now + MIN_SCHEDULE_DELAY_MS {
            return Err(
                "Scheduled cancel time too early, must be at least 5 seconds after current time."
                    .to_owned(),
            );
        }
        let schedule = &mut account.scheduled_cancel;
        if schedule.day == now / DAY_MS && schedule.fired_today >= per_day {
            return Err(format!(
                "Too many scheduled cancel triggers today. Maximum is {per_day} per day."
            ));
        }
        schedule.deadline = Some(time);
        Ok(())
    }

    /// Changes the leverage (and margin mode) of the perp with asset id `asset`.
    pub fn update_leverage(
        &mut self,
        user: AccountId,
        asset: u32,
        setting: Leverage,
    ) -> Result<(), String> {
        let market = self
            .market_of_asset(asset)
            .filter(|m| self.markets[*m].spec.kind == MarketKind::Perp)
            .ok_or_else(|| format!("Asset {} does not exist.", asset))?;
        let max = self.markets[market].spec.max_leverage;
        if setting.value == 0 || setting.value > max {
            return Err(format!(
                "Invalid leverage value. Maximum leverage is {max}."
            ));
        }
        let account = self.accounts.get_mut(&user).ok_or("User does not exist.")?;
        let current = account.leverage_of(asset, max);
        if !account.position_size(asset).is_zero() && current.is_cross != setting.is_cross {
            return Err("Cannot switch leverage type with open position.".to_owned());
        }
        account.leverage.insert(asset, setting);
        let open: Vec<Oid> = account.open_orders.iter().copied().collect();
        for oid in open {
            if self.orders.get(&oid).is_some_and(|o| o.asset == asset) {
                self.reserve(oid);
            }
        }
        Ok(())
    }

    /// Adds margin to (positive `amount`, USDC) or removes it from an
    /// isolated position of the perp with asset id `asset`.
    pub fn update_isolated_margin(
        &mut self,
        user: AccountId,
        asset: u32,
        amount: Decimal,
    ) -> Result<(), String> {
        let market = self
            .market_of_asset(asset)
            .filter(|m| self.markets[*m].spec.kind == MarketKind::Perp)
            .ok_or_else(|| format!("Asset {} does not exist.", asset))?;
        let (mark, max) = (
            self.markets[market].mark,
            self.markets[market].spec.max_leverage,
        );
        let account = self.accounts.get_mut(&user).ok_or("User does not exist.")?;
        let leverage = account.leverage_of(asset, max);
        let Some(position) = account
            .positions
            .get_mut(&asset)
            .filter(|_| !leverage.is_cross)
        else {
            return Err("Cannot update margin: no isolated position.".to_owned());
        };
        let floor = position.szi.abs() * mark / Decimal::from(max);
        if amount > account.usdc || position.isolated_margin + amount < floor {
            return Err("Insufficient margin to update isolated margin.".to_owned());
        }
        position.isolated_margin += amount;
        account.usdc -= amount;
        Ok(())
    }

    /// Registers an API wallet for `master`. A new unnamed agent replaces the
    /// previous unnamed one; a name replaces the agent of the same name.
    pub fn approve_agent(
        &mut self,
        master: AccountId,
        agent: AccountId,
        name: Option<String>,
    ) -> Result<(), String> {
        if self.accounts.contains_key(&agent) {
            return Err(format!("Agent address {agent} is already a user."));
        }
        let name = name.filter(|n| !n.is_empty());
        self.agents
            .retain(|_, existing| !(existing.master == master && existing.name == name));
        self.agents.insert(agent, Agent { master, name });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::feed::Feed;

    fn engine() -> (Engine, AccountId, AccountId) {
        let mut config = Config::default();
        config.liquidity.levels = 0;
        config.liquidity.taker_rate_per_sec = 0.0;
        config.liquidity.volatility_bps_per_sec = 0.0;
        let (maker, taker) = (AccountId::numbered(1), AccountId::numbered(2));
        config.fund(maker, Decimal::from(100_000));
        config.fund(taker, Decimal::from(100_000));
        let engine = Engine::new(&config, Feed::default()).expect("engine");
        (engine, maker, taker)
    }

    fn ctx(now: u64) -> ActionContext {
        ActionContext {
            now,
            hash: B256([0; 32]),
            post_only_window: false,
        }
    }

    /// A BTC limit order (market 0).
    fn limit(is_buy: bool, price: i64, size: &str, tif: TimeInForce) -> OrderEntry {
        OrderEntry {
            market: 0,
            is_buy,
            price: Decimal::from(price),
            size: size.parse().expect("size"),
            reduce_only: false,
            kind: EntryKind::Limit(tif),
            client_id: None,
            good_till: None,
        }
    }

    fn place(engine: &mut Engine, user: AccountId, entry: OrderEntry, now: u64) -> Oid {
        match engine.place_orders(user, &[entry], &ctx(now)).pop() {
            Some(Placement::Resting { oid }) => oid,
            other => panic!("not resting: {other:?}"),
        }
    }

    #[test]
    fn a_refused_amend_leaves_the_order_as_it_was() {
        let (mut engine, maker, taker) = engine();
        place(
            &mut engine,
            maker,
            limit(false, 100_000, "0.01", TimeInForce::GoodTillCancel),
            1,
        );
        let bid = place(
            &mut engine,
            taker,
            limit(true, 99_000, "0.01", TimeInForce::PostOnly),
            2,
        );
        let margin = engine.accounts[&taker].order_margin;

        // Post only at the ask would take: refused, the bid untouched.
        let crossing = limit(true, 100_000, "0.01", TimeInForce::PostOnly);
        let refused = engine.amend_order(taker, bid, &crossing, &ctx(3));
        assert!(matches!(
            refused,
            Some(Placement::Refused {
                oid: None,
                state: Some(OrderState::BadAloPxRejected),
                ..
            })
        ));
        // More than the margin allows: refused too.
        let huge = limit(true, 99_000, "100", TimeInForce::PostOnly);
        let refused = engine.amend_order(taker, bid, &huge, &ctx(4));
        assert!(matches!(
            refused,
            Some(Placement::Refused {
                state: Some(OrderState::PerpMarginRejected),
                ..
            })
        ));
        let record = &engine.orders[&bid];
        assert_eq!(record.status, OrderState::Open);
        assert_eq!(
            (record.limit_px, record.sz),
            (Decimal::from(99_000), "0.01".parse().expect("sz"))
        );
        assert!(engine.markets[0].book.contains(bid));
        assert_eq!(engine.accounts[&taker].order_margin, margin);
        assert_eq!(engine.accounts[&taker].orders.len(), 1, "nothing recorded");

        // An amend the core accepts replaces the order (a new core order).
        let better = limit(true, 99_500, "0.02", TimeInForce::PostOnly);
        let Some(Placement::Resting { oid }) = engine.amend_order(taker, bid, &better, &ctx(5))
        else {
            panic!("amend refused");
        };
        assert_eq!(engine.orders[&bid].status, OrderState::Canceled);
        assert_eq!(engine.orders[&oid].limit_px, Decimal::from(99_500));
        assert!(engine.amend_order(taker, bid, &better, &ctx(6)).is_none());
    }

    #[test]
    fn an_amend_counts_the_old_orders_margin_as_free() {
        let (mut engine, maker, _) = engine();
        // 100 000 USDC at 20x: 15 BTC at 99 000 holds 74 250 of margin.
        let bid = place(
            &mut engine,
            maker,
            limit(true, 99_000, "15", TimeInForce::GoodTillCancel),
            1,
        );
        // 16 BTC needs 79 200: more than what is left beside the old order,
        // less than what is left without it.
        let bigger = limit(true, 99_000, "16", TimeInForce::GoodTillCancel);
        assert!(matches!(
            engine.amend_order(maker, bid, &bigger, &ctx(2)),
            Some(Placement::Resting { .. })
        ));
        let placed = engine.place_orders(maker, &[bigger], &ctx(3));
        assert!(matches!(
            placed[0],
            Placement::Refused {
                state: Some(OrderState::PerpMarginRejected),
                ..
            }
        ));
    }

    #[test]
    fn a_good_till_date_order_expires_at_its_time() {
        let (mut engine, maker, _) = engine();
        let entry = OrderEntry {
            good_till: Some(1_000),
            ..limit(true, 99_000, "0.01", TimeInForce::GoodTillCancel)
        };
        let oid = place(&mut engine, maker, entry, 0);
        engine.tick(999);
        assert_eq!(engine.orders[&oid].status, OrderState::Open);
        engine.tick(1_000);
        assert_eq!(engine.orders[&oid].status, OrderState::Expired);
        assert!(!engine.markets[0].book.contains(oid));
        assert!(engine.accounts[&maker].open_orders.is_empty());
        assert_eq!(engine.accounts[&maker].order_margin, Decimal::ZERO);
    }
}
