//! The order path of one exchange: strategies' commands become tracked
//! orders at once, then are signed, sent and followed to their end in the
//! background.
//!
//! * Track before submit: [`Trading::submit`] validates, quantizes,
//!   tracks and journals the order, returns its client order id, and only
//!   then publishes it as `created`, signs and sends it — starting on the
//!   caller's thread (`eager`), so that no thread wake-up comes before the
//!   request reaches the signer.
//! * Every action carries a short validity deadline; an outcome that is not
//!   known is settled by a status query once that deadline has passed.
//!   Only the exchange's word, or its absence after the deadline, fails an
//!   order that was sent.
//! * After every (re)connect of the user stream, and at start-up, open
//!   orders and fills are refilled and reconciled.
//! * Risk limits (`risk`) refuse an order before anything reaches the
//!   exchange; the kill switch cancels everything and refuses new orders
//!   until released.

mod cancel;
mod coalesce;
mod command;
mod dead_man;
mod eager;
mod exits;
mod gate;
mod modify;
mod outcomes;
mod prepare;
mod resolve;
mod risk;
mod send;
mod settings;
mod upkeep;
mod user_stream;
mod window;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use plugin_api::{Manifest, Market, OrderRef};
use rust_decimal::Decimal;
use tokio::runtime::Handle;
use tracing::{info, warn};

pub use crate::runtime::Delivery;
pub use command::{CommandError, MarginMode, OrderCommand};
pub use exits::{ExitJobs, ExitWatch};
pub use modify::{Amendment, Begun};
pub use outcomes::{RESOLVE_MARGIN_MS, venue_state};
pub use prepare::{MarketPricing, order_kind, prepare_order, trigger_reference};
pub use risk::{Exposure, Refusal, RiskLimits};
pub use user_stream::UserSink;
use window::ActionWindow;

use crate::account::Account;
use crate::book::MarketData;
use crate::config::Limits;
use crate::order::{
    ClientIdGenerator, ClientOrderId, ClientOrderTracker, InFlightOrder, NewOrder, OrderState,
    TradeType,
};
use crate::publisher::StatusPublisher;
use crate::runtime::clock::now_ms;
use crate::runtime::{Querier, Session};
use crate::signer::NonceSource;

/// How long a cancel or modify waits for its order to be placed first.
const WAIT_FOR_PLACEMENT: Duration = Duration::from_secs(5);

/// What the order path of one exchange is built from.
pub struct TradingParts {
    /// The configured exchange name.
    pub exchange: String,
    /// The plugin session.
    pub session: Arc<Session>,
    /// Its manifest.
    pub manifest: Manifest,
    /// The configured markets by host symbol.
    pub markets: HashMap<String, Market>,
    /// The tracker (with its journal and publisher attached).
    pub tracker: Arc<ClientOrderTracker>,
    /// Client order ids of this host.
    pub ids: Arc<ClientIdGenerator>,
    /// Nonces of this exchange's signer.
    pub nonces: Arc<NonceSource>,
    /// Queries.
    pub querier: Querier,
    /// Books (mid prices for market orders).
    pub market_data: Arc<MarketData>,
    /// Balances and positions.
    pub account: Arc<Account>,
    /// Host status events.
    pub status: StatusPublisher,
    /// How long after signing an action stays valid at the venue, ms.
    pub expiry_ms: u64,
    /// Default slippage of market orders, percent (None: the plugin's).
    pub market_slippage_percent: Option<Decimal>,
    /// Each market's risk limits, by host symbol.
    pub limits: HashMap<String, Limits>,
    /// The journal's file (for `history` and `fills`).
    pub journal_path: PathBuf,
    /// Send signed actions over the session's order-entry socket while it
    /// is up (`order_transport = "websocket"`).
    pub prefer_socket: bool,
    /// Send an entry's exits with it, for the venue to hold (the plugin
    /// can: its manifest's `attached_exits`; the config lets it).
    pub venue_held_exits: bool,
}

pub(crate) struct Inner {
    exchange: String,
    session: Arc<Session>,
    manifest: Manifest,
    /// Markets by host symbol, and host symbols by venue symbol (markets
    /// come and go with configuration reloads).
    markets: RwLock<HashMap<String, Market>>,
    venues: RwLock<HashMap<String, String>>,
    tracker: Arc<ClientOrderTracker>,
    ids: Arc<ClientIdGenerator>,
    nonces: Arc<NonceSource>,
    querier: Querier,
    market_data: Arc<MarketData>,
    account: Arc<Account>,
    status: StatusPublisher,
    journal_path: PathBuf,
    expiry_ms: u64,
    market_slippage_percent: Option<Decimal>,
    risk: RiskLimits,
    /// Open, stopped, or held shut by the kill switch.
    gate: gate::Gate,
    /// Strategies' heartbeats (the dead man's switch is kept armed while
    /// they come).
    heartbeat: dead_man::Heartbeat,
    /// Send over the order-entry socket while it is up.
    prefer_socket: bool,
    /// Send an entry's exits with it, for the venue to hold.
    venue_held_exits: bool,
    runtime: Handle,
    /// Exchange ids replaced by a modify (see [`modify::Replaced`]).
    replaced: modify::Replaced,
    /// Signed actions under way, at most the plugin's `action_window`
    /// apart: a burst queues here instead of opening a connection each,
    /// and no action can be overtaken by enough others for the venue to
    /// refuse its nonce.
    window: ActionWindow,
    /// When refills run and what they ask for (see [`resolve::Refills`]).
    refills: resolve::Refills,
    /// Modifies under way, one per order (see [`modify`]).
    modifies: modify::Modifies,
    /// How often `cancel_all` asks for the exchange's open orders.
    listing: cancel::ListingPace,
    /// Placements on their way out, and orders waiting to join the next.
    placements: coalesce::Placements,
    /// Modifies waiting for the modify on its way out (see `coalesce`).
    modify_batches: coalesce::Modifies,
}

/// New orders that are tracked and journaled but not yet published or
/// sent: one, or the places of a batch. [`launch`](PendingOrder::launch)
/// them; dropping launches them too, so that no tracked order is left
/// behind.
#[must_use = "a pending order is sent only when launched"]
pub struct PendingOrder {
    inner: Arc<Inner>,
    /// Orders that go out alone or in the venue's batches.
    orders: Vec<coalesce::Ready>,
    /// Entries, each with the exits the venue holds with it: one request
    /// each.
    groups: Vec<Vec<coalesce::Ready>>,
}

impl PendingOrder {
    fn new(inner: &Arc<Inner>) -> PendingOrder {
        PendingOrder {
            inner: Arc::clone(inner),
            orders: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// Adds an order tracked by [`Trading::track`]: an entry with exits
    /// makes a group of its own.
    fn add(&mut self, mut tracked: Vec<coalesce::Ready>) {
        match tracked.len() {
            1 => self.orders.append(&mut tracked),
            _ => self.groups.push(tracked),
        }
    }

    /// The (first) order's client order id.
    pub fn id(&self) -> ClientOrderId {
        self.orders
            .first()
            .or_else(|| self.groups.first().and_then(|group| group.first()))
            .map_or(ClientOrderId(0), |(id, _)| *id)
    }

    /// Starts publishing, signing and sending the orders in the background
    /// (as the venue's batches of at most its `max_batch`, together with
    /// orders that wait for a placement on its way out: see `coalesce`).
    /// Returns the (first) order's client order id.
    pub fn launch(mut self) -> ClientOrderId {
        let id = self.id();
        self.start();
        id
    }

    fn start(&mut self) {
        self.inner.place(std::mem::take(&mut self.orders));
        for group in std::mem::take(&mut self.groups) {
            self.inner.place_with_exits(group);
        }
    }
}

impl Drop for PendingOrder {
    fn drop(&mut self) {
        self.start();
    }
}

/// A cheap-to-clone handle to one exchange's order path. Its methods can be
/// called from any thread; the work runs on the Tokio runtime it was
/// created in.
#[derive(Clone)]
pub struct Trading {
    inner: Arc<Inner>,
}

impl Inner {
    /// The market of a host symbol.
    fn market(&self, pair: &str) -> Option<Market> {
        self.markets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(pair)
            .cloned()
    }

    /// The market of a venue symbol.
    fn market_of_venue(&self, venue: &str) -> Option<Market> {
        self.markets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .find(|m| m.venue_symbol == venue)
            .cloned()
    }

    /// The host symbol of a venue symbol.
    fn symbol_of_venue(&self, venue: &str) -> Option<String> {
        self.venues
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(venue)
            .cloned()
    }

    /// Waits (at most [`WAIT_FOR_PLACEMENT`]) while any of `ids` is in a
    /// state that `placing` says is still being placed.
    async fn wait_while_placing(
        &self,
        ids: &[ClientOrderId],
        placing: impl Fn(OrderState) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + WAIT_FOR_PLACEMENT;
        while ids
            .iter()
            .any(|id| self.tracker.get(*id).is_some_and(|o| placing(o.state)))
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// [`prepare_order`] for this exchange, now; a market order is priced
    /// from `mid` and the exchange's default slippage.
    fn prepare(
        &self,
        market: &Market,
        command: &OrderCommand,
        id: ClientOrderId,
        mid: Option<Decimal>,
    ) -> Result<(NewOrder, plugin_api::OrderRequest), CommandError> {
        let pricing = MarketPricing {
            mid,
            default_slippage_percent: self.market_slippage_percent,
        };
        prepare_order(
            &self.exchange,
            &self.manifest,
            market,
            command,
            id,
            pricing,
            now_ms(),
        )
    }
}

impl Trading {
    /// The order path over `parts`. Must be called inside a Tokio runtime.
    pub fn new(parts: TradingParts) -> Trading {
        let last_fill_ms = parts
            .tracker
            .all_orders()
            .iter()
            .filter(|order| order.fill_count() > 0)
            .map(|order| order.last_update_timestamp_ms)
            .max()
            .unwrap_or(0);
        let window = ActionWindow::new(parts.manifest.action_window);
        Trading {
            inner: Arc::new(Inner {
                venues: RwLock::new(
                    parts
                        .markets
                        .values()
                        .map(|m| (m.venue_symbol.to_string(), m.symbol.to_string()))
                        .collect(),
                ),
                exchange: parts.exchange,
                session: parts.session,
                manifest: parts.manifest,
                markets: RwLock::new(parts.markets),
                tracker: parts.tracker,
                ids: parts.ids,
                nonces: parts.nonces,
                querier: parts.querier,
                market_data: parts.market_data,
                account: parts.account,
                status: parts.status,
                journal_path: parts.journal_path,
                expiry_ms: parts.expiry_ms,
                market_slippage_percent: parts.market_slippage_percent,
                runtime: Handle::current(),
                refills: resolve::Refills::new(last_fill_ms),
                gate: gate::Gate::default(),
                replaced: modify::Replaced::default(),
                window,
                modifies: modify::Modifies::default(),
                listing: cancel::ListingPace::default(),
                placements: coalesce::Placements::default(),
                modify_batches: coalesce::Modifies::default(),
                risk: RiskLimits::new(parts.limits),
                heartbeat: dead_man::Heartbeat::default(),
                prefer_socket: parts.prefer_socket,
                venue_held_exits: parts.venue_held_exits,
            }),
        }
    }

    /// The exchange's configured name.
    pub fn exchange(&self) -> &str {
        &self.inner.exchange
    }

    /// The tracker.
    pub fn tracker(&self) -> &Arc<ClientOrderTracker> {
        &self.inner.tracker
    }

    /// The sink for this exchange's user connection.
    pub fn user_sink(&self) -> UserSink {
        UserSink(Arc::clone(&self.inner))
    }

    /// Refills open orders and fills from the exchange and reconciles, as
    /// after a reconnect.
    pub async fn reconcile(&self) {
        self.inner.reconcile(resolve::Gap::Reconnected).await;
    }

    /// Stops taking new orders (shutdown, kill switch).
    pub fn stop_accepting(&self, reason: &str) {
        self.inner.gate.stop(reason);
    }

    /// Cancels every live order of this exchange and refuses new ones
    /// until [`release_kill_switch`](Trading::release_kill_switch);
    /// published on `host.status.kill_switch`. Returns the orders whose
    /// cancel was requested.
    pub fn engage_kill_switch(&self, reason: &str) -> Vec<ClientOrderId> {
        self.inner.gate.engage_kill_switch(reason);
        warn!(exchange = %self.inner.exchange, reason, "kill switch engaged");
        self.inner
            .status
            .kill_switch(&self.inner.exchange, true, Some(reason));
        self.cancel_all_listing(None, true)
    }

    /// Why the kill switch is engaged, while it is.
    pub fn kill_switch_reason(&self) -> Option<String> {
        self.inner.gate.kill_switch()
    }

    /// Takes new orders again after a kill switch.
    pub fn release_kill_switch(&self) {
        if self.inner.gate.release() {
            info!(exchange = %self.inner.exchange, "kill switch released");
            self.inner
                .status
                .kill_switch(&self.inner.exchange, false, None);
        }
    }

    /// Replaces every market's risk limits (a configuration reload).
    pub fn set_limits(&self, limits: HashMap<String, Limits>) {
        self.inner.risk.replace(limits);
    }

    /// What the account holds and has asked for in one market.
    fn exposure(&self, pair: &str) -> Exposure {
        let mut exposure = Exposure {
            position: self.inner.account.position(pair),
            ..Exposure::default()
        };
        // Visited in place: this runs for every new order when an
        // open-order or position limit is set.
        self.inner.tracker.visit(|order| {
            if order.state.is_terminal()
                || order.spec.exchange != self.inner.exchange
                || order.spec.trading_pair != pair
            {
                return;
            }
            exposure.open_orders += 1;
            let remaining = order.remaining_amount();
            match order.spec.trade_type {
                TradeType::Buy => exposure.open_buys = exposure.open_buys.saturating_add(remaining),
                TradeType::Sell => {
                    exposure.open_sells = exposure.open_sells.saturating_add(remaining)
                }
            }
        });
        exposure
    }

    /// The exposure in `order`'s market as if `order` were a new order of
    /// its new size: its unfilled rest is taken out, and what has filled
    /// of it (already in the position) is taken off its side, so that the
    /// checks' "position + open orders + this order" counts only the new
    /// size's unfilled part.
    fn exposure_without(&self, order: &InFlightOrder) -> Exposure {
        let mut exposure = self.exposure(&order.spec.trading_pair);
        exposure.open_orders = exposure.open_orders.saturating_sub(1);
        let counted = order.remaining_amount().saturating_add(order.filled_amount);
        match order.spec.trade_type {
            TradeType::Buy => exposure.open_buys = exposure.open_buys.saturating_sub(counted),
            TradeType::Sell => exposure.open_sells = exposure.open_sells.saturating_sub(counted),
        }
        exposure
    }

    fn check_accepting(&self) -> Result<(), CommandError> {
        self.inner.gate.check()
    }

    fn market(&self, pair: &str) -> Result<Market, CommandError> {
        self.inner
            .market(pair)
            .ok_or_else(|| CommandError::UnknownMarket(pair.to_owned()))
    }

    /// Starts trading a market (a configuration reload added it).
    pub fn add_market(&self, market: &Market) {
        self.inner
            .venues
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(market.venue_symbol.to_string(), market.symbol.to_string());
        self.inner
            .markets
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(market.symbol.to_string(), market.clone());
    }

    /// Stops trading a market (a configuration reload removed it); refused
    /// while the market has live orders, which would lose their way to
    /// the exchange.
    pub fn remove_market(&self, symbol: &str) -> Result<(), String> {
        let live = self.open_orders(Some(symbol)).len();
        if live > 0 {
            return Err(format!(
                "{symbol} has {live} live orders; cancel them first"
            ));
        }
        let removed = self
            .inner
            .markets
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(symbol);
        if let Some(market) = removed {
            self.inner
                .venues
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(market.venue_symbol.as_str());
        }
        Ok(())
    }

    /// Tracks a new order and returns its client order id at once; signing,
    /// sending and following it happen in the background.
    pub fn submit(&self, command: &OrderCommand) -> Result<ClientOrderId, CommandError> {
        Ok(self.accept(command)?.launch())
    }

    /// Validates, tracks and journals a new order, quietly: the caller can
    /// answer its client before [`PendingOrder::launch`] publishes it and
    /// starts sending it.
    pub fn accept(&self, command: &OrderCommand) -> Result<PendingOrder, CommandError> {
        let tracked = self.track(command)?;
        let mut pending = PendingOrder::new(&self.inner);
        pending.add(tracked);
        Ok(pending)
    }

    /// [`accept`](Trading::accept) for each order of a batch, in order, each
    /// refused or tracked on its own (an order sees those before it in its
    /// risk limits); the tracked ones are sent together, as the venue's
    /// batches, when the returned [`PendingOrder`] is launched.
    pub fn accept_batch(
        &self,
        commands: &[OrderCommand],
    ) -> (Vec<Result<ClientOrderId, CommandError>>, PendingOrder) {
        let mut pending = PendingOrder::new(&self.inner);
        let results = commands
            .iter()
            .map(|command| {
                let tracked = self.track(command)?;
                let id = tracked[0].0;
                pending.add(tracked);
                Ok(id)
            })
            .collect();
        (results, pending)
    }

    /// Validates, quantizes, risk-checks and tracks (quietly) one order —
    /// and, where the venue holds an entry's exits, its exits with it; the
    /// order's id and the plugin's request for it first, then each exit's.
    fn track(&self, command: &OrderCommand) -> Result<Vec<coalesce::Ready>, CommandError> {
        self.check_accepting()?;
        let market = self.market(&command.trading_pair)?;
        let id = match command.client_order_id {
            Some(id) => self.own_id(id)?,
            None => self.inner.ids.next(),
        };
        if self.inner.tracker.get(id).is_some() {
            return Err(CommandError::DuplicateId(id));
        }
        let mid = self
            .inner
            .market_data
            .top(&market.venue_symbol)
            .and_then(|top| top.mid);
        let (mut new_order, request) = self.inner.prepare(&market, command, id, mid)?;
        let exits = self.venue_held_exits(&market, &mut new_order, mid)?;
        // A refused order is not tracked: nothing of it reaches the
        // exchange or the journal (the command socket counts refusals).
        for order in std::iter::once(&new_order).chain(exits.iter().map(|(exit, _)| exit)) {
            let exposure = || self.exposure(&order.trading_pair);
            self.inner
                .risk
                .admit(order, mid, exposure, now_ms())
                .map_err(|refusal| CommandError::RiskLimit { id, refusal })?;
        }
        let mut tracked = Vec::with_capacity(1 + exits.len());
        for (order, request) in std::iter::once((new_order, request)).chain(exits) {
            let order_id = order.client_order_id;
            self.inner
                .tracker
                .start_tracking_quietly(order)
                .map_err(|_| CommandError::DuplicateId(order_id))?;
            tracked.push((order_id, request));
        }
        Ok(tracked)
    }

    /// The exits of `entry` that go out with it where the venue holds an
    /// entry's exits (`venue_held_exits`; the entry is marked so): each
    /// for the entry's whole amount, with a client id of its own. None
    /// elsewhere: the host places them once the entry is done.
    fn venue_held_exits(
        &self,
        market: &Market,
        entry: &mut NewOrder,
        mid: Option<Decimal>,
    ) -> Result<Vec<(NewOrder, plugin_api::OrderRequest)>, CommandError> {
        let Some(held) = entry.exits.as_mut().filter(|_| self.inner.venue_held_exits) else {
            return Ok(Vec::new());
        };
        held.held_by_exchange = true;
        exits::commands(entry, entry.amount)
            .into_iter()
            .map(|(kind, command)| {
                self.inner
                    .prepare(market, &command, self.inner.ids.next(), mid)
                    .map_err(|error| {
                        CommandError::InvalidOrder(format!("`{}`: {error}", kind.field()))
                    })
            })
            .collect()
    }

    /// A client order id a strategy chose: it must carry this host's
    /// prefix (so that a restarted host recognises the order as its own)
    /// and must not be all zeros.
    fn own_id(&self, id: ClientOrderId) -> Result<ClientOrderId, CommandError> {
        if id.0 == 0 {
            return Err(CommandError::InvalidOrder(
                "`client_order_id`: an all-zero id is not a client order id".to_owned(),
            ));
        }
        if !self.inner.ids.is_own(id) {
            return Err(CommandError::InvalidOrder(format!(
                "`client_order_id`: {id} does not start with this host's prefix 0x{:08x} \
                 (leave it out to have one made, or start it with the prefix)",
                self.inner.ids.prefix()
            )));
        }
        Ok(id)
    }

    fn live_order(&self, id: ClientOrderId) -> Result<InFlightOrder, CommandError> {
        let order = self
            .inner
            .tracker
            .get(id)
            .ok_or(CommandError::UnknownOrder(id))?;
        if order.state.is_terminal() {
            return Err(CommandError::OrderClosed {
                id,
                state: order.state.to_string(),
            });
        }
        Ok(order)
    }

    /// Asks the exchange to cancel an order; the outcome arrives as events.
    pub fn cancel(&self, id: ClientOrderId) -> Result<(), CommandError> {
        self.cancel_batch(&[id]).pop().unwrap_or(Ok(()))
    }

    /// Asks the exchange to cancel each live order of `ids`, together (as
    /// the venue's batches); each is refused on its own when it is unknown
    /// or closed. The outcomes arrive as events.
    pub fn cancel_batch(&self, ids: &[ClientOrderId]) -> Vec<Result<(), CommandError>> {
        let mut live = Vec::new();
        let results = ids
            .iter()
            .map(|id| {
                self.live_order(*id)?;
                self.inner.modifies.drop_held(*id);
                live.push(*id);
                Ok(())
            })
            .collect();
        if !live.is_empty() {
            self.inner.spawn_cancel(live);
        }
        results
    }

    /// Cancels every live order (of one pair, if given); returns their ids.
    /// Then asks the exchange which of this host's orders it has open and
    /// cancels those too: an order the host lost track of is not left
    /// behind.
    ///
    /// The exchange's list costs request weight (a venue may charge 20 of
    /// 1,200 a minute), so `cancel_all` asks for it at most once every 10 s; the
    /// kill switch always asks, and the periodic reconciliation finds such
    /// orders anyway.
    pub fn cancel_all(&self, pair: Option<&str>) -> Vec<ClientOrderId> {
        self.cancel_all_listing(pair, false)
    }

    fn cancel_all_listing(&self, pair: Option<&str>, always_list: bool) -> Vec<ClientOrderId> {
        let ids =
            self.cancel_where(|order| pair.is_none_or(|pair| order.spec.trading_pair == pair));
        let asked_at_ms = now_ms();
        if always_list || self.inner.listing.due(asked_at_ms) {
            let inner = Arc::clone(&self.inner);
            let pair = pair.map(str::to_owned);
            self.inner.runtime.spawn(async move {
                inner.cancel_listed(pair.as_deref(), asked_at_ms).await;
            });
        }
        ids
    }

    /// Sends again the cancel of every order an earlier run left
    /// `PENDING_CANCEL`: whether that cancel reached the exchange before
    /// the host stopped is unknown, and only the cancel's own answer moves
    /// such an order on (a report that it is live may predate the cancel).
    /// Returns their ids.
    pub fn resume_cancels(&self) -> Vec<ClientOrderId> {
        self.cancel_where(|order| order.state == OrderState::PendingCancel)
    }

    /// Cancels every live order of this exchange that `chosen` picks.
    fn cancel_where(&self, chosen: impl Fn(&InFlightOrder) -> bool) -> Vec<ClientOrderId> {
        let ids: Vec<ClientOrderId> = self
            .inner
            .tracker
            .active_orders()
            .into_iter()
            .filter(|order| order.spec.exchange == self.inner.exchange && chosen(order))
            .map(|order| order.spec.client_order_id)
            .collect();
        for id in &ids {
            self.inner.modifies.drop_held(*id);
        }
        self.inner.spawn_cancels(&ids);
        ids
    }

    /// Asks the exchange to change an order's price and/or size; the
    /// outcome arrives as events. The order as it would be after the change
    /// must pass the same checks and risk limits as a new order. A modify
    /// of an order with one under way is held until that one settles
    /// ([`Begun::Held`]; see [`modify`]).
    pub fn modify(
        &self,
        id: ClientOrderId,
        price: Option<Decimal>,
        amount: Option<Decimal>,
    ) -> Result<Begun, CommandError> {
        self.check_accepting()?;
        let amendment = Amendment { price, amount };
        modify::check_amendment(&amendment)?;
        let order = self.live_order(id)?;
        if order.state == OrderState::PendingCancel {
            return Err(CommandError::CancelPending(id));
        }
        self.inner.check_modifiable_with_exits(&order)?;
        let market = self.market(&order.spec.trading_pair)?;
        let (changed, _) = self.inner.prepare(
            &market,
            &amendment.applied_to(&order),
            id,
            Some(order.spec.price),
        )?;
        modify::check_above_filled(&order, changed.amount)?;
        let mid = self
            .inner
            .market_data
            .top(&market.venue_symbol)
            .and_then(|top| top.mid);
        let exposure = || self.exposure_without(&order);
        self.inner
            .risk
            .admit(&changed, mid, exposure, now_ms())
            .map_err(|refusal| CommandError::RiskLimit { id, refusal })?;
        let begun = self.inner.modifies.begin(id, amendment);
        if begun == Begun::Now {
            let inner = Arc::clone(&self.inner);
            self.inner.runtime.spawn(inner.run_modifies(id, amendment));
        }
        Ok(begun)
    }

    /// One order.
    pub fn get(&self, id: ClientOrderId) -> Option<InFlightOrder> {
        self.inner.tracker.get(id)
    }

    /// Live orders (of one pair, if given).
    pub fn open_orders(&self, pair: Option<&str>) -> Vec<InFlightOrder> {
        let mut orders: Vec<InFlightOrder> = self
            .inner
            .tracker
            .active_orders()
            .into_iter()
            .filter(|order| pair.is_none_or(|pair| order.spec.trading_pair == pair))
            .collect();
        orders.sort_by_key(|order| order.spec.creation_timestamp_ms);
        orders
    }

    /// The market of a host symbol.
    pub fn market_of(&self, pair: &str) -> Option<Market> {
        self.inner.market(pair)
    }

    /// The configured markets, by host symbol.
    pub fn markets(&self) -> Vec<Market> {
        let mut markets: Vec<Market> = self
            .inner
            .markets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        markets.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        markets
    }

    /// The plugin's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.inner.manifest
    }

    /// The journal's file.
    pub fn journal_path(&self) -> &Path {
        &self.inner.journal_path
    }

    /// Host status events (and the latest status of each connection).
    pub fn status(&self) -> &StatusPublisher {
        &self.inner.status
    }

    /// Books and prices.
    pub fn market_data(&self) -> &Arc<MarketData> {
        &self.inner.market_data
    }

    /// Balances and positions.
    pub fn account(&self) -> &Arc<Account> {
        &self.inner.account
    }

    /// An order reference for the plugin (tests and tools).
    pub fn order_ref(&self, id: ClientOrderId) -> Option<OrderRef> {
        self.inner.order_ref(id)
    }
}
