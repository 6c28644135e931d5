//! The order path of one exchange: strategies' commands become tracked
//! orders at once, then are signed, sent and followed to their end in the
//! background.
//!
//! * Track before submit: [`Trading::submit`] validates, quantizes,
//!   tracks and journals the order, returns its client order id, and only
//!   then publishes it as `created`, signs and sends it — starting on the
//!   caller's thread (`eager`), so that no thread wake-up comes before the
//!   request reaches the signer.
//! * Every action carries a short `expiresAfter`; an outcome that is not
//!   known is settled by a status query once that deadline has passed.
//!   Only the exchange's word, or its absence after the deadline, fails an
//!   order that was sent.
//! * After every (re)connect of the user stream, and at start-up, open
//!   orders and fills are refilled and reconciled.
//! * Risk limits (`risk`) refuse an order before anything reaches the
//!   exchange; the kill switch cancels everything and refuses new orders
//!   until released.

mod command;
mod dead_man;
mod eager;
mod outcomes;
mod prepare;
mod resolve;
mod risk;
mod send;
mod socket_post;
mod upkeep;
mod user_stream;
mod window;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use abi_stable::std_types::RVec;
use plugin_api::{Manifest, Market, ModifyRequest, Operation, OrderRef, PluginInstance};
use rust_decimal::Decimal;
use tokio::runtime::Handle;
use tracing::{info, warn};

pub use command::{CommandError, OrderCommand};
pub use outcomes::{RESOLVE_MARGIN_MS, venue_state};
pub use prepare::{MarketPricing, encode_client_id, prepare_order};
pub use risk::{Exposure, Refusal, RiskLimits};
pub use send::Delivery;
pub use socket_post::SocketPoster;
pub use user_stream::UserSink;
use window::ActionWindow;

use crate::config::Limits;
use crate::order::{
    ClientIdGenerator, ClientOrderId, ClientOrderTracker, FailureCause, InFlightOrder, NewOrder,
    OrderState, OrderUpdate, TradeType,
};
use crate::publisher::StatusPublisher;
use crate::runtime::clock::now_ms;
use crate::runtime::{Account, HttpExecutor, MarketData, Querier};
use crate::signer::{NonceSource, SignerClient};

/// How long a cancel waits for its order to be sent first.
const CANCEL_WAITS_FOR_SUBMIT: Duration = Duration::from_secs(5);

/// What the order path of one exchange is built from.
pub struct TradingParts {
    /// The configured exchange name.
    pub exchange: String,
    /// The plugin instance.
    pub plugin: Arc<PluginInstance>,
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
    /// The signer.
    pub signer: SignerClient,
    /// HTTP.
    pub http: HttpExecutor,
    /// Queries.
    pub querier: Querier,
    /// Books (mid prices for market orders).
    pub market_data: Arc<MarketData>,
    /// Balances and positions.
    pub account: Arc<Account>,
    /// Host status events.
    pub status: StatusPublisher,
    /// How long after signing an action expires (`expiresAfter`), ms.
    pub expiry_ms: u64,
    /// Default slippage of market orders, percent (None: the plugin's).
    pub market_slippage_percent: Option<Decimal>,
    /// Each market's risk limits, by host symbol.
    pub limits: HashMap<String, Limits>,
    /// Post signed actions over this user connection (`order_transport =
    /// "websocket"`) while it is up.
    pub socket: Option<Arc<SocketPoster>>,
}

pub(crate) struct Inner {
    exchange: String,
    plugin: Arc<PluginInstance>,
    manifest: Manifest,
    /// Markets by host symbol, and host symbols by venue symbol (markets
    /// come and go with configuration reloads).
    markets: RwLock<HashMap<String, Market>>,
    venues: RwLock<HashMap<String, String>>,
    tracker: Arc<ClientOrderTracker>,
    ids: Arc<ClientIdGenerator>,
    nonces: Arc<NonceSource>,
    signer: SignerClient,
    http: HttpExecutor,
    querier: Querier,
    market_data: Arc<MarketData>,
    account: Arc<Account>,
    status: StatusPublisher,
    expiry_ms: u64,
    market_slippage_percent: Option<Decimal>,
    risk: RiskLimits,
    /// Why the kill switch is engaged, while it is.
    killed: Mutex<Option<String>>,
    /// The last strategy heartbeat, ms.
    heartbeat_ms: AtomicU64,
    /// Posts over the user WebSocket, when configured.
    socket: Option<Arc<SocketPoster>>,
    runtime: Handle,
    last_fill_ms: AtomicU64,
    halted: Mutex<Option<String>>,
    accepting: AtomicBool,
    /// Exchange ids replaced by a modify (Hyperliquid's modify is
    /// cancel-then-place under the same client id): the venue's report
    /// that such an id was cancelled is the replace, not the order's end.
    replaced: Mutex<HashMap<ClientOrderId, Vec<String>>>,
    /// Signed actions under way, at most [`ACTION_WINDOW`] apart: a burst
    /// queues here instead of opening a connection each, and no action can
    /// be overtaken by enough others to make its nonce too low.
    window: ActionWindow,
    /// A refill is scheduled (see `request_reconcile`).
    reconcile_scheduled: AtomicBool,
}

/// How far apart (in order of admission) the oldest and newest action
/// under way may be. Admitted actions take their nonces in any order, so
/// up to `2 × (ACTION_WINDOW − 1)` = 78 later nonces can reach the venue
/// before one: below the 100 Hyperliquid keeps.
pub const ACTION_WINDOW: usize = 40;

/// A new order that is tracked and journaled but not yet published or sent.
/// [`launch`](PendingOrder::launch) it; dropping it launches it too, so
/// that no tracked order is left behind.
#[must_use = "a pending order is sent only when launched"]
pub struct PendingOrder {
    inner: Arc<Inner>,
    id: ClientOrderId,
    request: Option<plugin_api::OrderRequest>,
}

impl PendingOrder {
    /// The order's client order id.
    pub fn id(&self) -> ClientOrderId {
        self.id
    }

    /// Starts publishing, signing and sending the order in the background.
    /// Returns its client order id.
    pub fn launch(mut self) -> ClientOrderId {
        self.start();
        self.id
    }

    fn start(&mut self) {
        let Some(request) = self.request.take() else {
            return;
        };
        let (id, inner) = (self.id, Arc::clone(&self.inner));
        // The journal has it already; the event is published during the
        // order's first wait (the signer, or capacity to send), where its
        // work delays neither the reply just sent nor the request (the
        // tracker publishes it first anyway if anything happens to the
        // order before).
        eager::spawn_eagerly(&self.inner.runtime, async move {
            let operation =
                plugin_api::operation(Operation::PlaceOrders(RVec::from(vec![request])));
            let tracker = Arc::clone(&inner.tracker);
            let (delivery, expires) = inner
                .deliver(
                    &operation,
                    || tracker.announce_created(id),
                    || {
                        let _ = tracker.mark_submitted(id, now_ms());
                    },
                )
                .await;
            inner.apply_place(id, delivery, expires);
        });
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
                plugin: parts.plugin,
                manifest: parts.manifest,
                markets: RwLock::new(parts.markets),
                tracker: parts.tracker,
                ids: parts.ids,
                nonces: parts.nonces,
                signer: parts.signer,
                http: parts.http,
                querier: parts.querier,
                market_data: parts.market_data,
                account: parts.account,
                status: parts.status,
                expiry_ms: parts.expiry_ms,
                market_slippage_percent: parts.market_slippage_percent,
                runtime: Handle::current(),
                last_fill_ms: AtomicU64::new(last_fill_ms),
                halted: Mutex::new(None),
                accepting: AtomicBool::new(true),
                replaced: Mutex::new(HashMap::new()),
                window: ActionWindow::new(ACTION_WINDOW),
                reconcile_scheduled: AtomicBool::new(false),
                risk: RiskLimits::new(parts.limits),
                killed: Mutex::new(None),
                heartbeat_ms: AtomicU64::new(0),
                socket: parts.socket,
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
        self.inner.accepting.store(false, Ordering::SeqCst);
        *self
            .inner
            .halted
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(reason.to_owned());
    }

    /// Cancels every live order of this exchange and refuses new ones
    /// until [`release_kill_switch`](Trading::release_kill_switch);
    /// published on `host.status.kill_switch`. Returns the orders whose
    /// cancel was requested.
    pub fn engage_kill_switch(&self, reason: &str) -> Vec<ClientOrderId> {
        *self
            .inner
            .killed
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(reason.to_owned());
        warn!(exchange = %self.inner.exchange, reason, "kill switch engaged");
        self.inner
            .status
            .kill_switch(&self.inner.exchange, true, Some(reason));
        self.cancel_all(None)
    }

    /// Takes new orders again after a kill switch.
    pub fn release_kill_switch(&self) {
        let was = self
            .inner
            .killed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if was.is_some() {
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
                || order.exchange != self.inner.exchange
                || order.trading_pair != pair
            {
                return;
            }
            exposure.open_orders += 1;
            let remaining = order.amount - order.filled_amount;
            match order.trade_type {
                TradeType::Buy => exposure.open_buys += remaining,
                TradeType::Sell => exposure.open_sells += remaining,
            }
        });
        exposure
    }

    fn check_accepting(&self) -> Result<(), CommandError> {
        if let Some(reason) = self
            .inner
            .killed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            return Err(CommandError::NotAccepting(format!(
                "kill switch engaged: {reason}"
            )));
        }
        if self.inner.accepting.load(Ordering::SeqCst) {
            return Ok(());
        }
        let reason = self
            .inner
            .halted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_default();
        Err(CommandError::NotAccepting(reason))
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
        self.check_accepting()?;
        let market = self.market(&command.trading_pair)?;
        let id = command
            .client_order_id
            .unwrap_or_else(|| self.inner.ids.next());
        if self.inner.tracker.get(id).is_some() {
            return Err(CommandError::DuplicateId(id));
        }
        let mid = self
            .inner
            .market_data
            .top(&market.venue_symbol)
            .and_then(|top| top.mid);
        let (new_order, request) = self.inner.prepare(&market, command, id, mid)?;
        let exposure = || self.exposure(&new_order.trading_pair);
        if let Err(refusal) = self.inner.risk.admit(&new_order, mid, exposure, now_ms()) {
            // Tracked and FAILED at once, so that the refusal is journaled
            // and published like any other end of an order.
            self.inner
                .tracker
                .start_tracking(new_order)
                .map_err(|_| CommandError::DuplicateId(id))?;
            let _ =
                self.inner
                    .tracker
                    .fail(id, FailureCause::NotSent(refusal.to_string()), now_ms());
            return Err(CommandError::RiskLimit { id, refusal });
        }
        self.inner
            .tracker
            .start_tracking_quietly(new_order)
            .map_err(|_| CommandError::DuplicateId(id))?;
        Ok(PendingOrder {
            inner: Arc::clone(&self.inner),
            id,
            request: Some(request),
        })
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
        self.live_order(id)?;
        self.cancel_batch(vec![id]);
        Ok(())
    }

    /// Cancels every live order (of one pair, if given); returns their ids.
    pub fn cancel_all(&self, pair: Option<&str>) -> Vec<ClientOrderId> {
        self.cancel_where(|order| pair.is_none_or(|pair| order.trading_pair == pair))
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
            .filter(|order| order.exchange == self.inner.exchange && chosen(order))
            .map(|order| order.client_order_id)
            .collect();
        let batch = self.inner.manifest.max_batch.max(1) as usize;
        for chunk in ids.chunks(batch) {
            self.cancel_batch(chunk.to_vec());
        }
        ids
    }

    fn cancel_batch(&self, ids: Vec<ClientOrderId>) {
        let inner = Arc::clone(&self.inner);
        self.inner.runtime.spawn(async move {
            // An order still being signed cannot be cancelled by id yet.
            let deadline = tokio::time::Instant::now() + CANCEL_WAITS_FOR_SUBMIT;
            while ids.iter().any(|id| {
                inner
                    .tracker
                    .get(*id)
                    .is_some_and(|o| o.state == OrderState::PendingCreate)
            }) && tokio::time::Instant::now() < deadline
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let mut targets = Vec::new();
            let mut sent = Vec::new();
            for id in ids {
                let Some(order) = inner.tracker.get(id) else {
                    continue;
                };
                if order.state.is_terminal() || order.state == OrderState::PendingCreate {
                    continue;
                }
                let Some(target) = inner.order_ref(id) else {
                    continue;
                };
                let _ = inner.tracker.process_order_update(&OrderUpdate {
                    client_order_id: id,
                    exchange_order_id: None,
                    new_state: OrderState::PendingCancel,
                    timestamp_ms: now_ms(),
                    reason: None,
                });
                targets.push(target);
                sent.push(id);
            }
            if sent.is_empty() {
                return;
            }
            let operation = plugin_api::operation(Operation::CancelOrders(RVec::from(targets)));
            let (delivery, expires) = inner.deliver(&operation, || {}, || {}).await;
            inner.apply_cancel(&sent, delivery, expires);
        });
    }

    /// Asks the exchange to change an order's price and/or size; the
    /// outcome arrives as events.
    pub fn modify(
        &self,
        id: ClientOrderId,
        price: Option<Decimal>,
        amount: Option<Decimal>,
    ) -> Result<(), CommandError> {
        self.check_accepting()?;
        let order = self.live_order(id)?;
        let market = self.market(&order.trading_pair)?;
        let command = OrderCommand {
            trading_pair: order.trading_pair.clone(),
            trade_type: order.trade_type,
            order_type: order.order_type,
            time_in_force: order.time_in_force,
            price: Some(price.unwrap_or(order.price)),
            amount: amount.unwrap_or(order.amount),
            position_action: order.position_action,
            reduce_only: false,
            client_order_id: Some(id),
            max_slippage_percent: None,
        };
        let (new_order, request) = self
            .inner
            .prepare(&market, &command, id, Some(order.price))?;
        let target = self
            .inner
            .order_ref(id)
            .ok_or(CommandError::UnknownOrder(id))?;
        let replaced = order.exchange_order_id.clone();
        if let Some(oid) = &replaced {
            self.inner.mark_replaced(id, oid);
        }
        let inner = Arc::clone(&self.inner);
        self.inner.runtime.spawn(async move {
            let operation =
                plugin_api::operation(Operation::ModifyOrders(RVec::from(vec![ModifyRequest {
                    target,
                    order: request,
                }])));
            let (delivery, expires) = inner.deliver(&operation, || {}, || {}).await;
            inner.apply_modify(
                id,
                (new_order.price, new_order.amount),
                replaced.as_deref(),
                delivery,
                expires,
            );
        });
        Ok(())
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
            .filter(|order| pair.is_none_or(|pair| order.trading_pair == pair))
            .collect();
        orders.sort_by_key(|order| order.creation_timestamp_ms);
        orders
    }

    /// The market of a host symbol.
    pub fn market_of(&self, pair: &str) -> Option<Market> {
        self.inner.market(pair)
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
