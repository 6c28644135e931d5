//! Trading actions on the engine: place (with every check), execute, rest,
//! cancel, modify, trigger, scheduled cancel, leverage, isolated margin and
//! agent approval. Each returns the exchange's statuses or error text.

use hyperliquid_core::{
    Address, Cloid, MarketKind, Modify, OrderRef, OrderType, OrderWire, Tif,
    UpdateIsolatedMarginAction, UpdateLeverageAction, keccak256,
};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::accounts::Leverage;
use crate::book::{Oid, Owner, Resting, Taker};
use crate::engine::{ActionContext, Agent, DAY_MS, Engine};
use crate::orders::{OrderRecord, OrderState, Trigger};
use crate::validation::{
    NOT_OPEN, POST_ONLY_WINDOW, Rejection, check_min_notional, check_numbers, check_post_only,
    check_trigger,
};

/// Slippage of a market trigger order once it fires.
const TRIGGER_SLIPPAGE: Decimal = Decimal::from_parts(1, 0, 0, false, 1);
/// Shortest delay of a scheduled cancel.
const MIN_SCHEDULE_DELAY_MS: u64 = 5_000;

/// `{"error": text}`.
fn error_status(text: impl Into<String>) -> Value {
    json!({ "error": text.into() })
}

/// `{kind: inner}`, with `cloid` added to `inner` when the order has one.
fn status_body(kind: &str, mut inner: Value, cloid: Option<Cloid>) -> Value {
    if let (Some(cloid), Some(object)) = (cloid, inner.as_object_mut()) {
        object.insert("cloid".to_owned(), json!(cloid));
    }
    json!({ kind: inner })
}

impl Engine {
    /// Places the orders of one `order` action; one status per order.
    pub fn place_orders(
        &mut self,
        user: Address,
        orders: &[OrderWire],
        ctx: &ActionContext,
    ) -> Vec<Value> {
        let statuses = orders
            .iter()
            .map(|wire| self.place(user, wire, ctx))
            .collect();
        self.pending.flush(&self.feed);
        statuses
    }

    /// Places one order: record, checks, then execution or trigger wait.
    fn place(&mut self, user: Address, wire: &OrderWire, ctx: &ActionContext) -> Value {
        let Some(market) = self.market_of_asset(wire.asset) else {
            return error_status(format!("Asset {} does not exist.", wire.asset));
        };
        let (tif, trigger) = match &wire.order_type {
            OrderType::Limit(limit) => (Some(limit.tif), None),
            OrderType::Trigger(t) => (
                None,
                Some(Trigger {
                    px: t.trigger_px.value(),
                    is_market: t.is_market,
                    tpsl: t.tpsl,
                    fired: false,
                }),
            ),
        };
        if ctx.post_only_window && tif != Some(Tif::Alo) {
            return error_status(POST_ONLY_WINDOW);
        }
        let oid = self.allocate_oid();
        let record = OrderRecord {
            oid,
            user,
            asset: wire.asset,
            coin: self.markets[market].spec.coin.clone(),
            is_buy: wire.is_buy,
            limit_px: wire.price.value(),
            orig_sz: wire.size.value(),
            sz: wire.size.value(),
            filled: Decimal::ZERO,
            filled_notional: Decimal::ZERO,
            fees: Decimal::ZERO,
            cloid: wire.cloid,
            reduce_only: wire.reduce_only,
            tif,
            trigger,
            timestamp: ctx.now,
            status: OrderState::Open,
            status_timestamp: ctx.now,
            error: None,
            margin_reserved: Decimal::ZERO,
            spot_hold: None,
            tids: Vec::new(),
        };
        self.orders.insert(oid, record);
        if let Some(account) = self.accounts.get_mut(&user) {
            account.orders.push(oid);
            if let Some(cloid) = wire.cloid {
                account.cloids.insert(cloid, oid);
            }
        }
        if let Err(rejection) = self.admit(oid, market) {
            return self.reject(oid, rejection, ctx.now);
        }
        if trigger.is_some() {
            self.triggers.insert(oid);
            if let Some(account) = self.accounts.get_mut(&user) {
                account.open_orders.insert(oid);
            }
            self.publish_order(oid);
            return status_body("resting", json!({ "oid": oid }), wire.cloid);
        }
        self.execute(oid, tif.unwrap_or(Tif::Gtc), ctx.now, ctx.hash)
    }

    /// Records a refusal and returns its status body.
    fn reject(&mut self, oid: Oid, rejection: Rejection, now: u64) -> Value {
        if let Some(order) = self.orders.get_mut(&oid) {
            order.status = rejection.status;
            order.status_timestamp = now;
            order.error = Some(rejection.message.clone());
        }
        self.publish_order(oid);
        error_status(rejection.message)
    }

    /// Every acceptance check of a new order, in the exchange's order; clamps
    /// reduce-only sizes to the position.
    fn admit(&mut self, oid: Oid, market: usize) -> Result<(), Rejection> {
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
        if order.tif == Some(Tif::Alo) {
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
                    summary.account_value - summary.total_margin_used - account.order_margin;
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

    /// Matches an accepted order, then rests its remainder (Gtc, Alo) or
    /// cancels it (Ioc). Returns the status body.
    fn execute(&mut self, oid: Oid, tif: Tif, now: u64, hash: hyperliquid_core::B256) -> Value {
        let Some(order) = self.orders.get(&oid) else {
            return error_status(NOT_OPEN);
        };
        let Some(market) = self.market_of_asset(order.asset) else {
            return error_status(NOT_OPEN);
        };
        let (user, is_buy, limit_px, size, cloid, asset) = (
            order.user,
            order.is_buy,
            order.limit_px,
            order.sz,
            order.cloid,
            order.asset,
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
            return error_status(NOT_OPEN);
        };
        order.sz = remaining;
        let filled_body = |order: &OrderRecord| {
            let avg = order.avg_px().unwrap_or_default().round_dp(8).normalize();
            let inner = json!({ "totalSz": filled.normalize().to_string(), "avgPx": avg.to_string(), "oid": oid });
            status_body("filled", inner, cloid)
        };
        if remaining.is_zero() {
            let body = filled_body(order);
            self.finish(oid, OrderState::Filled, now);
            return body;
        }
        if tif == Tif::Ioc {
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
                return error_status(rejection.message);
            }
            let body = filled_body(order);
            self.finish(oid, OrderState::Canceled, now);
            return body;
        }
        if !order.status.is_open() {
            // A reduce-only order cancelled while it traded.
            return filled_body(order);
        }
        self.markets[market].book.insert(Resting {
            oid,
            owner,
            is_buy,
            px: limit_px,
            sz: remaining,
        });
        self.reserve(oid);
        self.publish_order(oid);
        status_body("resting", json!({ "oid": oid }), cloid)
    }

    /// Resolves an oid or cloid to an open order of `user` on `asset`.
    fn open_order_of(&self, user: Address, asset: u32, target: &OrderRef) -> Option<Oid> {
        let oid = match target {
            OrderRef::Oid(oid) => *oid,
            OrderRef::Cloid(cloid) => *self.accounts.get(&user)?.cloids.get(cloid)?,
        };
        self.orders
            .get(&oid)
            .filter(|o| o.user == user && o.asset == asset && o.status.is_open())
            .map(|o| o.oid)
    }

    /// Cancels orders by oid or cloid; one status per cancel.
    pub fn cancel_orders(
        &mut self,
        user: Address,
        targets: &[(u32, OrderRef)],
        now: u64,
    ) -> Vec<Value> {
        let statuses = targets
            .iter()
            .map(
                |(asset, target)| match self.open_order_of(user, *asset, target) {
                    Some(oid) if self.finish(oid, OrderState::Canceled, now) => json!("success"),
                    _ => error_status(format!("{NOT_OPEN} asset={asset}")),
                },
            )
            .collect();
        self.pending.flush(&self.feed);
        statuses
    }

    /// Replaces orders (cancel, then place the new order with a new oid); one
    /// status per modification, shaped like order statuses.
    pub fn modify_orders(
        &mut self,
        user: Address,
        modifies: &[Modify],
        ctx: &ActionContext,
    ) -> Vec<Value> {
        let statuses = modifies
            .iter()
            .map(
                |modify| match self.open_order_of(user, modify.order.asset, &modify.oid) {
                    None => error_status(format!(
                        "Cannot modify canceled or filled order. asset={}",
                        modify.order.asset
                    )),
                    Some(oid) => {
                        self.finish(oid, OrderState::Canceled, ctx.now);
                        self.place(user, &modify.order, ctx)
                    }
                },
            )
            .collect();
        self.pending.flush(&self.feed);
        statuses
    }

    /// Fires one trigger order: it becomes a market (Ioc, 10 % slippage) or
    /// limit (Gtc) order.
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
            Tif::Ioc
        } else {
            Tif::Gtc
        };
        let hash = keccak256(format!("hl-emulator:trigger:{oid}:{now}").as_bytes());
        self.execute(oid, tif, now, hash);
    }

    /// Sets (`Some`) or clears (`None`) the dead man's switch.
    pub fn schedule_cancel(
        &mut self,
        user: Address,
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

    /// Changes the leverage (and margin mode) of a perp.
    pub fn update_leverage(
        &mut self,
        user: Address,
        action: &UpdateLeverageAction,
    ) -> Result<(), String> {
        let market = self
            .market_of_asset(action.asset)
            .filter(|m| self.markets[*m].spec.kind == MarketKind::Perp)
            .ok_or_else(|| format!("Asset {} does not exist.", action.asset))?;
        let max = self.markets[market].spec.max_leverage;
        if action.leverage == 0 || action.leverage > max {
            return Err(format!(
                "Invalid leverage value. Maximum leverage is {max}."
            ));
        }
        let account = self.accounts.get_mut(&user).ok_or("User does not exist.")?;
        let current = account.leverage_of(action.asset, max);
        if !account.position_size(action.asset).is_zero() && current.is_cross != action.is_cross {
            return Err("Cannot switch leverage type with open position.".to_owned());
        }
        account.leverage.insert(
            action.asset,
            Leverage {
                is_cross: action.is_cross,
                value: action.leverage,
            },
        );
        let open: Vec<Oid> = account.open_orders.iter().copied().collect();
        for oid in open {
            if self
                .orders
                .get(&oid)
                .is_some_and(|o| o.asset == action.asset)
            {
                self.reserve(oid);
            }
        }
        Ok(())
    }

    /// Adds margin to (positive `ntli`, micro-USDC) or removes it from an
    /// isolated position.
    pub fn update_isolated_margin(
        &mut self,
        user: Address,
        action: &UpdateIsolatedMarginAction,
    ) -> Result<(), String> {
        let market = self
            .market_of_asset(action.asset)
            .filter(|m| self.markets[*m].spec.kind == MarketKind::Perp)
            .ok_or_else(|| format!("Asset {} does not exist.", action.asset))?;
        let (mark, max) = (
            self.markets[market].mark,
            self.markets[market].spec.max_leverage,
        );
        let account = self.accounts.get_mut(&user).ok_or("User does not exist.")?;
        let leverage = account.leverage_of(action.asset, max);
        let amount = Decimal::new(action.ntli, 6);
        let Some(position) = account
            .positions
            .get_mut(&action.asset)
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
        master: Address,
        agent: Address,
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
