//! What the centralised venues' front ends share about orders: one venue
//! order over one or more core orders (an amend keeps the venue's order id,
//! while the core carries it out as cancel-and-replace with a new core order
//! id), client order ids, progress summed over the core orders, and placing
//! or amending one core order.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::account::AccountId;
use crate::accounts::Leverage;
use crate::book::Oid;
use crate::config::{Config, PerpConfig};
use crate::engine::{ActionContext, Engine};
use crate::entry::{EntryKind, OrderEntry, Placement, TriggerSpec};
use crate::orders::{OrderRecord, OrderState, tif_name};

/// What a venue order is besides its core records.
#[derive(Debug, Clone)]
pub struct VenueOrder {
    /// The venue's order id (its text).
    pub order_id: String,
    /// Client order id ("" when none).
    pub link_id: String,
    /// Owner.
    pub user: AccountId,
    /// Market index.
    pub market: usize,
    /// Symbol (`BTCUSDT`).
    pub symbol: String,
    /// Buy side.
    pub is_buy: bool,
    /// Order type, in the venue's words.
    pub order_type: &'static str,
    /// Time in force, in the venue's words.
    pub tif: &'static str,
    /// Total quantity (including what filled before an amend).
    pub qty: Decimal,
    /// Limit price (0 for market orders).
    pub price: Decimal,
    /// Conditional trigger price.
    pub trigger_price: Option<Decimal>,
    /// 1 rise, 2 fall, 0 none.
    pub trigger_direction: u8,
    /// The trigger watches the last trade's price, not the mark.
    pub trigger_on_last_trade: bool,
    /// Take-profit price set on create.
    pub take_profit: Option<Decimal>,
    /// Stop-loss price set on create.
    pub stop_loss: Option<Decimal>,
    /// `""`, or what exit an order attached on create is (`TakeProfit`, `StopLoss`).
    pub stop_order_type: &'static str,
    /// Reduce only.
    pub reduce_only: bool,
    /// Expiry of a good-till-date order (ms).
    pub good_till: Option<u64>,
    /// The core orders, oldest first (one more per amend).
    pub oids: Vec<Oid>,
    /// Creation time (ms).
    pub created: u64,
    /// Last change made through the API (ms).
    pub updated: u64,
}

/// Derived live facts of a venue order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Final or open state of the current core order (`None`: no record).
    pub state: Option<OrderState>,
    /// A conditional order still waiting for its trigger.
    pub waiting: bool,
    /// Executed quantity over every core order.
    pub cum_qty: Decimal,
    /// Executed value.
    pub cum_value: Decimal,
    /// Fees paid.
    pub cum_fee: Decimal,
    /// Open quantity.
    pub leaves: Decimal,
    /// Time of the last status change (ms).
    pub updated: u64,
}

impl Progress {
    /// Whether the order can still trade or trigger.
    pub fn is_open(&self) -> bool {
        self.state.is_some_and(OrderState::is_open)
    }

    /// Average execution price (0 before any fill).
    pub fn avg_price(&self) -> Decimal {
        if self.cum_qty.is_zero() {
            Decimal::ZERO
        } else {
            (self.cum_value / self.cum_qty).round_dp(8)
        }
    }
}

impl VenueOrder {
    /// The venue order `order_id` of `user` over the core order `oid` that
    /// `entry` placed at `now`: side, quantity, price, trigger price,
    /// reduce-only and expiry from the entry; no client id, type, time in force or exits.
    pub fn new(
        order_id: String,
        oid: Oid,
        user: AccountId,
        symbol: String,
        entry: &OrderEntry,
        now: u64,
    ) -> Self {
        VenueOrder {
            order_id,
            link_id: String::new(),
            user,
            market: entry.market,
            symbol,
            is_buy: entry.is_buy,
            order_type: "",
            tif: "",
            qty: entry.size,
            price: entry.price,
            trigger_price: match entry.kind {
                EntryKind::Trigger(trigger) => Some(trigger.price),
                EntryKind::Limit(_) => None,
            },
            trigger_direction: 0,
            trigger_on_last_trade: matches!(
                entry.kind,
                EntryKind::Trigger(TriggerSpec {
                    on_last_trade: true,
                    ..
                })
            ),
            take_profit: None,
            stop_loss: None,
            stop_order_type: "",
            reduce_only: entry.reduce_only,
            good_till: entry.good_till,
            oids: vec![oid],
            created: now,
            updated: now,
        }
    }

    /// The current core order.
    pub fn current(&self) -> Option<Oid> {
        self.oids.last().copied()
    }

    /// The first core order id (numeric venue order ids are this).
    pub fn first(&self) -> Oid {
        self.oids.first().copied().unwrap_or_default()
    }

    /// State and executed amounts, from the core's records.
    pub fn progress(&self, engine: &Engine) -> Progress {
        let records: Vec<&OrderRecord> = self
            .oids
            .iter()
            .filter_map(|oid| engine.orders.get(oid))
            .collect();
        let last = records.last();
        Progress {
            state: last.map(|r| r.status),
            waiting: last.and_then(|r| r.trigger).is_some_and(|t| !t.fired),
            cum_qty: records.iter().map(|r| r.filled).sum(),
            cum_value: records.iter().map(|r| r.filled_notional).sum(),
            cum_fee: records.iter().map(|r| r.fees).sum(),
            leaves: last
                .filter(|r| r.status.is_open())
                .map_or(Decimal::ZERO, |r| r.sz),
            updated: last.map_or(self.updated, |r| r.status_timestamp.max(self.updated)),
        }
    }

    /// Whether the current core order is open.
    pub fn is_open(&self, engine: &Engine) -> bool {
        self.current()
            .and_then(|oid| engine.orders.get(&oid))
            .is_some_and(|r| r.status.is_open())
    }
}

/// Every venue order and the maps into it.
#[derive(Debug, Default)]
pub struct VenueIds {
    orders: HashMap<String, VenueOrder>,
    by_oid: HashMap<Oid, String>,
    by_link: HashMap<(AccountId, String), String>,
    per_user: HashMap<AccountId, Vec<String>>,
}

impl VenueIds {
    /// Whether `user` used `link_id` before.
    pub fn link_used(&self, user: AccountId, link_id: &str) -> bool {
        self.by_link.contains_key(&(user, link_id.to_owned()))
    }

    /// The order `user` last gave the client id `link_id`.
    pub fn by_link(&self, user: AccountId, link_id: &str) -> Option<&VenueOrder> {
        self.orders
            .get(self.by_link.get(&(user, link_id.to_owned()))?)
    }

    /// Registers a new order.
    pub fn insert(&mut self, order: VenueOrder) {
        for oid in &order.oids {
            self.by_oid.insert(*oid, order.order_id.clone());
        }
        if !order.link_id.is_empty() {
            self.by_link
                .insert((order.user, order.link_id.clone()), order.order_id.clone());
        }
        self.per_user
            .entry(order.user)
            .or_default()
            .push(order.order_id.clone());
        self.orders.insert(order.order_id.clone(), order);
    }

    /// Adds the core order an amend made.
    pub fn add_oid(&mut self, order_id: &str, oid: Oid) {
        if let Some(order) = self.orders.get_mut(order_id) {
            order.oids.push(oid);
            self.by_oid.insert(oid, order_id.to_owned());
        }
    }

    /// An order by id.
    pub fn get(&self, order_id: &str) -> Option<&VenueOrder> {
        self.orders.get(order_id)
    }

    /// An order by id, to change.
    pub fn get_mut(&mut self, order_id: &str) -> Option<&mut VenueOrder> {
        self.orders.get_mut(order_id)
    }

    /// The order of a core order id.
    pub fn of_oid(&self, oid: Oid) -> Option<&VenueOrder> {
        self.orders.get(self.by_oid.get(&oid)?)
    }

    /// An order of `user` by `orderId` (preferred) or `orderLinkId`.
    pub fn find(
        &self,
        user: AccountId,
        order_id: Option<&str>,
        link_id: Option<&str>,
    ) -> Option<&VenueOrder> {
        let id = match (order_id, link_id) {
            (Some(id), _) => id.to_owned(),
            (None, Some(link)) => self.by_link.get(&(user, link.to_owned()))?.clone(),
            (None, None) => return None,
        };
        self.orders.get(&id).filter(|o| o.user == user)
    }

    /// Ground truth of every order (oldest first): its ids and owner, the
    /// status and time in force of its current core record (Hyperliquid's
    /// words), how many core records it has (one more per amend), and what
    /// filled and the fees over them.
    pub fn truth(&self, engine: &Engine) -> Value {
        let mut orders: Vec<&VenueOrder> = self.orders.values().collect();
        orders.sort_by_key(|order| (order.created, order.first()));
        let truth = orders.into_iter().map(|order| {
            let current = order.current().and_then(|oid| engine.orders.get(&oid));
            let progress = order.progress(engine);
            json!({
                "orderId": order.order_id,
                "linkId": order.link_id,
                "user": order.user,
                "symbol": order.symbol,
                "status": current.map(|record| record.status),
                "tif": current.and_then(|record| record.tif).map(tif_name),
                "records": order.oids.len(),
                "filledSz": progress.cum_qty.normalize().to_string(),
                "fees": progress.cum_fee.normalize().to_string(),
            })
        });
        Value::Array(truth.collect())
    }

    /// Every order of `user`, newest first.
    pub fn of_user(&self, user: AccountId) -> impl Iterator<Item = &VenueOrder> {
        self.per_user
            .get(&user)
            .into_iter()
            .flat_map(|ids| ids.iter().rev())
            .filter_map(|id| self.orders.get(id))
    }
}

/// Places one core order.
pub fn place_core(
    engine: &mut Engine,
    user: AccountId,
    entry: &OrderEntry,
    ctx: &ActionContext,
) -> Placement {
    engine
        .place_orders(user, std::slice::from_ref(entry), ctx)
        .pop()
        .unwrap_or_else(|| Placement::unrecorded("order refused"))
}

/// Whether a fill-or-kill order would fill completely now.
pub fn fok_fills(
    engine: &Engine,
    market: usize,
    is_buy: bool,
    price: Decimal,
    qty: Decimal,
) -> bool {
    let available: Decimal = engine.markets[market]
        .book
        .levels(!is_buy, usize::MAX)
        .iter()
        .take_while(|l| if is_buy { l.px <= price } else { l.px >= price })
        .map(|l| l.sz)
        .sum();
    available >= qty
}

/// A price at which an order cannot match now (one tick inside the
/// opposite best, never more aggressive than `price`): a fill-or-kill order
/// that would not fill completely goes to the core at this price and is
/// cancelled unfilled.
pub fn passive_price(engine: &Engine, market: usize, is_buy: bool, price: Decimal) -> Decimal {
    let book = &engine.markets[market].book;
    let tick = engine.markets[market].spec.tick_at(price);
    if is_buy {
        book.best_ask().map_or(price, |ask| (ask - tick).min(price))
    } else {
        book.best_bid().map_or(price, |bid| (bid + tick).max(price))
    }
}

/// The processing context of one venue request.
pub fn context(venue: &str, now: u64, post_only_window: bool, salt: &str) -> ActionContext {
    ActionContext {
        now,
        hash: hyperliquid_core::keccak256(format!("{venue}:{salt}:{now}").as_bytes()),
        post_only_window,
    }
}

/// Quote and settlement asset of every linear symbol.
pub const QUOTE: &str = "USDT";

/// The market of a linear symbol (`BTCUSDT`): a perp whose coin is the
/// symbol without [`QUOTE`].
pub fn market_of_symbol(engine: &Engine, symbol: &str) -> Option<usize> {
    let coin = symbol.strip_suffix(QUOTE)?;
    engine
        .market_of_coin(coin)
        .filter(|m| engine.markets[*m].spec.tokens.is_none())
}

/// The linear symbol of a market.
pub fn symbol_of(engine: &Engine, market: usize) -> String {
    format!("{}{QUOTE}", engine.markets[market].spec.coin)
}

/// What both venues show of one account's position in one market.
#[derive(Debug, Clone, Copy)]
pub struct PositionView {
    /// Signed size.
    pub size: Decimal,
    /// Average entry price (0 when flat).
    pub entry: Decimal,
    /// The market's mark.
    pub mark: Decimal,
    /// The account's leverage setting (`None`: no such account).
    pub leverage: Option<Leverage>,
    /// The market's maximum leverage.
    pub max_leverage: u32,
}

impl PositionView {
    /// The position of `user` in `market`.
    pub fn of(engine: &Engine, user: AccountId, market: usize) -> Self {
        let m = &engine.markets[market];
        let asset = m.spec.asset;
        let account = engine.accounts.get(&user);
        let (size, entry) = account
            .and_then(|a| a.positions.get(&asset))
            .map_or((Decimal::ZERO, Decimal::ZERO), |p| (p.szi, p.entry_px));
        Self {
            size,
            entry,
            mark: m.mark,
            leverage: account.map(|a| a.leverage_of(asset, m.spec.max_leverage)),
            max_leverage: m.spec.max_leverage,
        }
    }

    /// Whether the margin is cross (also when there is no account).
    pub fn is_cross(&self) -> bool {
        self.leverage.is_none_or(|l| l.is_cross)
    }

    /// Unrealised profit at the mark.
    pub fn unrealised(&self) -> Decimal {
        ((self.mark - self.entry) * self.size).round_dp(8)
    }

    /// Maintenance margin of a position worth `value`.
    pub fn maintenance(&self, value: Decimal) -> Decimal {
        (value.abs() / Decimal::from(2 * self.max_leverage)).round_dp(8)
    }
}

/// The leverage setting of `user` in `market` (`None`: no such account).
pub fn leverage_in(engine: &Engine, user: AccountId, market: usize) -> Option<Leverage> {
    PositionView::of(engine, user, market).leverage
}

/// Sets the leverage and margin mode of `user` in `market`.
pub fn set_leverage(
    engine: &mut Engine,
    user: AccountId,
    market: usize,
    setting: Leverage,
) -> Result<(), String> {
    let asset = engine.markets[market].spec.asset;
    engine.update_leverage(user, asset, setting)
}

/// One linear perpetual of a centralised venue: `sz_decimals` lot
/// decimals, a fixed `tick`, a minimum notional, a 0.01 % funding rate.
pub fn linear_perp(
    name: &str,
    sz_decimals: u32,
    max_leverage: u32,
    price: i64,
    tick: Decimal,
    min_notional: i64,
) -> PerpConfig {
    PerpConfig {
        name: name.to_owned(),
        sz_decimals,
        max_leverage,
        price: Decimal::from(price),
        funding: Decimal::new(1, 4),
        tick_size: Some(tick),
        min_notional: Some(Decimal::from(min_notional)),
    }
}

/// A configuration of `perps` only (no spot), the rest default.
pub fn perps_only(perps: Vec<PerpConfig>) -> Config {
    Config {
        perps,
        spot_tokens: Vec::new(),
        spot_pairs: Vec::new(),
        ..Config::default()
    }
}
