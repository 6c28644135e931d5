//! The host's jobs: each operation becomes one or more REST calls (one
//! per order, market or part of the account), signed one after the other
//! with a fresh timestamp, and one reply that sums them up.

use std::collections::VecDeque;

use abi_stable::std_types::{RBox, ROption, RVec};
use binance_core::endpoints::{
    ALGO_ORDER, BALANCE_V2, BATCH_ORDERS, COUNTDOWN_CANCEL_ALL, EXCHANGE_INFO, LEVERAGE,
    MARGIN_TYPE, OPEN_ALGO_ORDERS, OPEN_ORDERS, ORDER, POSITION_RISK_V2, USER_TRADES,
};
use binance_core::signing::recv_window_until;
use binance_core::{
    AlgoOrder, AlgoOrderType, ClientOrderId, ModifyOrder, NewOrder, OrderTarget, OrderType, Params,
    ResponseType, TimeInForce, WorkingType,
};
use plugin_api::{
    Dec, Event, Event_NE, ModifyRequest, Operation, OrderKind, OrderRef, OrderRequest, Outcome,
    OutcomeKind, Output, PluginError, RejectReason, Reply, RequestContext, Response, Side,
    TimeInForce as HostTif, TriggerReference,
};

use crate::config::Config;
use crate::events;
use crate::rest::{self, Auth, Call};
use crate::wire;
use crate::wsapi::WsApi;
use serde_json::Value;

/// The most new orders one `batchOrders` takes.
pub(crate) const MAX_BATCH_PLACE: usize = 5;

/// `userTrades` looks back at most this far, ms (7 days, less a minute
/// for the way there).
const TRADES_LOOKBACK_MS: u64 = 7 * 24 * 60 * 60 * 1000 - 60_000;

/// What a call's answer is read as.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Read {
    /// A new order: one item.
    Place {
        /// Post-only: expired unfilled means it would have taken.
        post_only: bool,
    },
    /// A cancel or a modify: one item, and the order as it now stands.
    Amend,
    /// One market's countdown.
    Countdown,
    /// One order.
    Order,
    /// Open orders.
    OpenOrders,
    /// One market's trades.
    Trades,
    /// Balances.
    Balance,
    /// Positions.
    Positions,
    /// Markets.
    Markets,
    /// A setting changed.
    Setting,
    /// The margin type changed, or was already the one asked for.
    MarginType,
    /// New orders of a `batchOrders` (post-only or not, each): one answer
    /// each, an order or an error.
    PlaceBatch { post_only: Vec<bool> },
    /// Modifies of a `batchOrders`: one answer each, the order as it now
    /// stands or an error.
    ModifyBatch { count: usize },
    /// A new conditional order.
    PlaceAlgo,
    /// A conditional order cancelled.
    CancelAlgo,
    /// One conditional order.
    AlgoOrder,
    /// Open conditional orders.
    OpenAlgoOrders,
}

/// One call of a job and how its answer is read.
#[derive(Debug, Clone)]
struct Step {
    call: Call,
    read: Read,
}

/// A job under way.
pub(crate) struct Job {
    steps: VecDeque<Step>,
    /// The call signed or sent, with its stamped query while it waits for
    /// its signature.
    current: Option<(Step, String)>,
    /// One outcome per order (placing, cancelling, modifying).
    per_item: bool,
    valid_until_ms: Option<u64>,
    items: Vec<Outcome>,
    events: Vec<Event>,
    /// A read that failed ends the job with its outcome.
    failure: Option<Outcome>,
    /// The host prefers the WebSocket API to REST for its orders.
    prefer_socket: bool,
}

fn decimal(value: Dec) -> rust_decimal::Decimal {
    value.to_decimal()
}

fn side(side: Side) -> Result<binance_core::Side, PluginError> {
    match side {
        Side::BUY => Ok(binance_core::Side::Buy),
        Side::SELL => Ok(binance_core::Side::Sell),
        other => Err(PluginError::invalid(format!("unknown side {other}"))),
    }
}

fn client_id(host_id: &str) -> Result<ClientOrderId, PluginError> {
    ClientOrderId::from_host(host_id).map_err(|_| {
        PluginError::invalid(format!(
            "client order id `{host_id}` is not one Binance takes (1 to 36 of A-Z a-z 0-9 . : / _ -)"
        ))
    })
}

/// The order parameters of a host order.
fn new_order(order: &OrderRequest) -> Result<NewOrder, PluginError> {
    let limit = |tif| (OrderType::Limit, Some(tif), Some(decimal(order.price)));
    let (order_type, time_in_force, price) = match (order.kind, order.time_in_force) {
        (OrderKind::MARKET, _) => (OrderType::Market, None, None),
        (OrderKind::LIMIT_MAKER, _) | (OrderKind::LIMIT, HostTif::POST_ONLY) => {
            limit(TimeInForce::Gtx)
        }
        (OrderKind::LIMIT, HostTif::GTC) => limit(TimeInForce::Gtc),
        (OrderKind::LIMIT, HostTif::IOC) => limit(TimeInForce::Ioc),
        (OrderKind::LIMIT, HostTif::FOK) => limit(TimeInForce::Fok),
        (kind, tif) => {
            return Err(PluginError::unsupported(format!(
                "binance-usdm does not place {kind} orders with time in force {tif}"
            )));
        }
    };
    Ok(NewOrder {
        symbol: order.market.venue_symbol.to_string(),
        side: side(order.side)?,
        order_type,
        time_in_force,
        quantity: decimal(order.size),
        price,
        reduce_only: order.reduce_only,
        client_order_id: Some(client_id(&order.client_id)?),
        good_till_date: None,
        response_type: Some(ResponseType::Result),
    })
}

/// Whether an order lives in the Algo service: a conditional order not
/// yet triggered (once triggered, it is an order of the matching engine).
fn in_algo_service(order: &OrderRef) -> bool {
    order.kind.is_trigger() && !order.triggered
}

/// The Algo service's parameters of a host trigger order. A market type
/// takes no price: Binance fills it at market once triggered (the host's
/// worst price is not sent).
fn algo_order(order: &OrderRequest) -> Result<AlgoOrder, PluginError> {
    let order_type = match order.kind {
        OrderKind::STOP_MARKET => AlgoOrderType::StopMarket,
        OrderKind::STOP_LIMIT => AlgoOrderType::Stop,
        OrderKind::TAKE_PROFIT_MARKET => AlgoOrderType::TakeProfitMarket,
        OrderKind::TAKE_PROFIT_LIMIT => AlgoOrderType::TakeProfit,
        other => {
            return Err(PluginError::invalid(format!(
                "{other} is not a conditional order"
            )));
        }
    };
    let working_type = match order.trigger_reference {
        TriggerReference::MARK => WorkingType::MarkPrice,
        TriggerReference::LAST => WorkingType::ContractPrice,
        other => {
            return Err(PluginError::unsupported(format!(
                "binance-usdm does not trigger on {other}"
            )));
        }
    };
    let trigger_price = order
        .trigger_price
        .into_option()
        .ok_or_else(|| PluginError::invalid("a trigger order needs a trigger price"))?;
    Ok(AlgoOrder {
        symbol: order.market.venue_symbol.to_string(),
        side: side(order.side)?,
        order_type,
        quantity: decimal(order.size),
        price: (!order_type.is_market()).then(|| decimal(order.price)),
        trigger_price: decimal(trigger_price),
        working_type,
        reduce_only: order.reduce_only,
        client_algo_id: Some(client_id(&order.client_id)?),
    })
}

/// Names a conditional order in the Algo service: by its algo id when
/// the host knows it, else by its client id.
fn name_algo(order: &OrderRef, params: &mut Params) -> Result<(), PluginError> {
    match order
        .exchange_order_id
        .as_ref()
        .into_option()
        .and_then(|id| id.parse::<u64>().ok())
    {
        Some(id) => params.push("algoId", id.to_string()),
        None => params.push("clientAlgoId", client_id(&order.client_id)?.as_str()),
    };
    Ok(())
}

/// A modify in place of a host order (conditional orders are not
/// modified: cancel and place).
fn modify_order(modify: &ModifyRequest) -> Result<ModifyOrder, PluginError> {
    if modify.target.kind.is_trigger() {
        return Err(PluginError::unsupported(
            "binance-usdm cannot modify a conditional order: cancel it and place another",
        ));
    }
    Ok(ModifyOrder {
        symbol: modify.target.market.venue_symbol.to_string(),
        side: side(modify.order.side)?,
        target: target(&modify.target)?,
        quantity: decimal(modify.order.size),
        price: decimal(modify.order.price),
    })
}

/// The `batchOrders` parameter: each element's parameters as a JSON
/// object of strings.
fn batch_list(elements: &[Params]) -> Result<String, PluginError> {
    let objects: Vec<serde_json::Map<String, Value>> = elements
        .iter()
        .map(|params| {
            params
                .pairs()
                .iter()
                .map(|(key, value)| (key.clone(), Value::String(value.clone())))
                .collect()
        })
        .collect();
    serde_json::to_string(&objects)
        .map_err(|error| PluginError::invalid(format!("batchOrders: {error}")))
}

/// Binance's id of an order when the host knows it, else its client id.
fn target(order: &OrderRef) -> Result<OrderTarget, PluginError> {
    match order
        .exchange_order_id
        .as_ref()
        .into_option()
        .and_then(|id| id.parse().ok())
    {
        Some(id) => Ok(OrderTarget::OrderId(id)),
        None => Ok(OrderTarget::Client(client_id(&order.client_id)?)),
    }
}

fn signed(method: &'static str, path: &'static str, weight: u32) -> Call {
    Call::new(method, path, weight, Auth::Signed)
}

fn step(call: Call, read: Read) -> Step {
    Step { call, read }
}

/// The calls of an operation; `markets` are the symbols the session
/// trades, for the requests Binance wants one market at a time.
fn plan(
    operation: &Operation,
    context: &RequestContext,
    markets: &[String],
) -> Result<Vec<Step>, PluginError> {
    let mut steps = Vec::new();
    match operation {
        // Conditional orders each to the Algo service; the others one
        // by one when alone, else as `batchOrders` of at most five (each
        // order answered on its own, in the operation's order).
        Operation::PlaceOrders(orders) => {
            let mut run: Vec<&OrderRequest> = Vec::new();
            for order in orders.iter() {
                if order.kind.is_trigger() {
                    place_run(&mut steps, &run)?;
                    run.clear();
                    let mut call = signed("POST", ALGO_ORDER, 0);
                    call.orders = 1;
                    algo_order(order)?.encode(&mut call.params);
                    steps.push(step(call, Read::PlaceAlgo));
                } else {
                    run.push(order);
                }
            }
            place_run(&mut steps, &run)?;
        }
        Operation::CancelOrders(orders) => {
            for order in orders.iter() {
                if in_algo_service(order) {
                    let mut call = signed("DELETE", ALGO_ORDER, 1);
                    name_algo(order, &mut call.params)?;
                    steps.push(step(call, Read::CancelAlgo));
                    continue;
                }
                let mut call = signed("DELETE", ORDER, 1);
                call.params
                    .push("symbol", order.market.venue_symbol.as_str());
                target(order)?.encode(&mut call.params);
                steps.push(step(call, Read::Amend));
            }
        }
        // One alone; more as `batchOrders` of at most five.
        Operation::ModifyOrders(modifies) => {
            let mut encoded = Vec::new();
            for modify in modifies.iter() {
                let mut params = Params::new();
                modify_order(modify)?.encode(&mut params);
                encoded.push(params);
            }
            if let [params] = encoded.as_slice() {
                let mut call = signed("PUT", ORDER, 1);
                call.orders = 1;
                call.params = params.clone();
                steps.push(step(call, Read::Amend));
            }
            for chunk in encoded
                .chunks(MAX_BATCH_PLACE)
                .filter(|_| encoded.len() > 1)
            {
                let mut call = signed("PUT", BATCH_ORDERS, 5);
                call.orders = chunk.len() as u32;
                call.params.push("batchOrders", batch_list(chunk)?);
                steps.push(step(call, Read::ModifyBatch { count: chunk.len() }));
            }
        }
        Operation::ArmDeadManSwitch(at) => {
            let countdown = at
                .as_ref()
                .into_option()
                .map_or(0, |at| at.saturating_sub(context.now_ms).max(1));
            for market in markets {
                let mut call = signed("POST", COUNTDOWN_CANCEL_ALL, 10);
                call.params
                    .push("symbol", market.as_str())
                    .push("countdownTime", countdown.to_string());
                steps.push(step(call, Read::Countdown));
            }
        }
        Operation::SetLeverage {
            market,
            leverage,
            cross,
        } => {
            // The margin type first (unchanged is fine), then the leverage.
            let symbol = market.venue_symbol.as_str();
            let mut margin = signed("POST", MARGIN_TYPE, 1);
            margin
                .params
                .push("symbol", symbol)
                .push("marginType", if *cross { "CROSSED" } else { "ISOLATED" });
            steps.push(step(margin, Read::MarginType));
            let mut call = signed("POST", LEVERAGE, 1);
            call.params
                .push("symbol", symbol)
                .push("leverage", leverage.to_string());
            steps.push(step(call, Read::Setting));
        }
        Operation::FetchMarkets { .. } => {
            steps.push(step(
                Call::new("GET", EXCHANGE_INFO, 1, Auth::Public),
                Read::Markets,
            ));
        }
        Operation::FetchOpenOrders => {
            steps.push(step(signed("GET", OPEN_ORDERS, 40), Read::OpenOrders));
            steps.push(step(
                signed("GET", OPEN_ALGO_ORDERS, 40),
                Read::OpenAlgoOrders,
            ));
        }
        // A conditional order is asked of the Algo service, which knows
        // what became of it after its trigger too.
        Operation::FetchOrder(order) if order.kind.is_trigger() => {
            let mut call = signed("GET", ALGO_ORDER, 1);
            call.params
                .push("clientAlgoId", client_id(&order.client_id)?.as_str());
            steps.push(step(call, Read::AlgoOrder));
        }
        Operation::FetchOrder(order) => {
            let mut call = signed("GET", ORDER, 1);
            call.params
                .push("symbol", order.market.venue_symbol.as_str());
            target(order)?.encode(&mut call.params);
            steps.push(step(call, Read::Order));
        }
        Operation::FetchFills { since_ms } => {
            let start = (*since_ms).max(context.now_ms.saturating_sub(TRADES_LOOKBACK_MS));
            for market in markets {
                let mut call = signed("GET", USER_TRADES, 5);
                call.params
                    .push("symbol", market.as_str())
                    .push("startTime", start.to_string())
                    .push("limit", "1000");
                steps.push(step(call, Read::Trades));
            }
        }
        Operation::FetchAccount => {
            steps.push(step(signed("GET", BALANCE_V2, 5), Read::Balance));
            steps.push(step(signed("GET", POSITION_RISK_V2, 5), Read::Positions));
        }
        other => {
            return Err(PluginError::unsupported(format!(
                "binance-usdm does not do {other:?}"
            )));
        }
    }
    Ok(steps)
}

/// The steps placing `run`, orders of the matching engine in a row of an
/// operation: one order as itself, more as `batchOrders` of at most five.
fn place_run(steps: &mut Vec<Step>, run: &[&OrderRequest]) -> Result<(), PluginError> {
    if run.is_empty() {
        return Ok(());
    }
    if run.len() == 1 {
        let new = new_order(run[0])?;
        let mut call = signed("POST", ORDER, 1);
        call.orders = 1;
        new.encode(&mut call.params);
        let post_only = new.time_in_force == Some(TimeInForce::Gtx);
        steps.push(step(call, Read::Place { post_only }));
        return Ok(());
    }
    for chunk in run.chunks(MAX_BATCH_PLACE) {
        let mut elements = Vec::new();
        let mut post_only = Vec::new();
        for order in chunk {
            let new = new_order(order)?;
            let mut params = Params::new();
            new.encode(&mut params);
            elements.push(params);
            post_only.push(new.time_in_force == Some(TimeInForce::Gtx));
        }
        let mut call = signed("POST", BATCH_ORDERS, 5);
        call.orders = chunk.len() as u32;
        call.params.push("batchOrders", batch_list(&elements)?);
        steps.push(step(call, Read::PlaceBatch { post_only }));
    }
    Ok(())
}

impl Job {
    /// A job for `operation`.
    pub(crate) fn new(
        operation: &Operation,
        context: &RequestContext,
        markets: &[String],
    ) -> Result<Job, PluginError> {
        let per_item = matches!(
            operation,
            Operation::PlaceOrders(_) | Operation::CancelOrders(_) | Operation::ModifyOrders(_)
        );
        Ok(Job {
            steps: plan(operation, context, markets)?.into(),
            current: None,
            per_item,
            valid_until_ms: context.valid_until_ms.into_option(),
            items: Vec::new(),
            events: Vec::new(),
            failure: None,
            prefer_socket: context.prefer_socket,
        })
    }

    /// Whether the host prefers the WebSocket API for this job's orders.
    pub(crate) fn prefers_socket(&self) -> bool {
        self.prefer_socket
    }

    /// The next call's output (a signature to ask for, or a request — over
    /// `socket` when it is given and takes the call), or `Done` once every
    /// call is answered or a read failed. A signed call is stamped with
    /// `venue_ms`, Binance's time at this machine's `now_ms`; its receive
    /// window ends at the host's deadline.
    pub(crate) fn next(
        &mut self,
        job: u64,
        config: &Config,
        (now_ms, venue_ms): (u64, u64),
        socket: Option<&mut WsApi>,
    ) -> Output {
        let step = match self.failure {
            Some(_) => None,
            None => self.steps.pop_front(),
        };
        let Some(step) = step else {
            return Output::Done {
                job,
                reply: RBox::new(self.reply()),
            };
        };
        if step.call.auth != Auth::Signed {
            let request = step.call.request(config);
            self.current = Some((step, String::new()));
            return Output::Http { job, request };
        }
        let recv_window = self.valid_until_ms.map_or(config.recv_window_ms, |until| {
            recv_window_until(now_ms, until)
        });
        if let Some(output) =
            socket.and_then(|socket| socket.request(config, job, &step.call, venue_ms, recv_window))
        {
            self.current = Some((step, String::new()));
            return output;
        }
        let (request, query) = step.call.stamp(config, venue_ms, recv_window);
        let costs = step.call.costs();
        self.current = Some((step, query));
        Output::Sign {
            job,
            request,
            costs,
        }
    }

    /// The signed request of the call waiting for `signature`.
    pub(crate) fn signed(
        &mut self,
        job: u64,
        config: &Config,
        signature: &[u8],
    ) -> Result<Output, PluginError> {
        let (step, query) = self
            .current
            .as_ref()
            .filter(|(step, _)| step.call.auth == Auth::Signed)
            .ok_or_else(|| PluginError::invalid(format!("job {job} waits for no signature")))?;
        Ok(Output::Http {
            job,
            request: step.call.signed(config, query, signature)?,
        })
    }

    /// Reads the venue's answer to the current call.
    pub(crate) fn answered(&mut self, response: &Response) -> Result<(), PluginError> {
        let (step, _) = self
            .current
            .take()
            .ok_or_else(|| PluginError::invalid("an answer for no call under way"))?;
        self.events.extend(rest::rate_limits(response));
        if matches!(step.read, Read::MarginType)
            && binance_core::classify(response.status, &response.body).code
                == Some(binance_core::codes::NO_NEED_TO_CHANGE_MARGIN_TYPE)
        {
            return Ok(());
        }
        if let Some(outcome) = rest::failure(response) {
            let batch = match &step.read {
                Read::PlaceBatch { post_only } => Some(post_only.len()),
                Read::ModifyBatch { count } => Some(*count),
                _ => None,
            };
            if let Some(count) = batch {
                // The whole batch refused: each of its orders.
                self.items.extend(std::iter::repeat_n(outcome, count));
            } else if self.per_item {
                self.items.push(outcome);
            } else {
                self.failure = Some(outcome);
            }
            return Ok(());
        }
        match step.read {
            Read::Place { post_only } => {
                let order: wire::Order = rest::body(response, "new order")?;
                self.items.push(placed(&order, post_only)?);
            }
            Read::PlaceBatch { post_only } => {
                let answers = batch_answers(response, post_only.len())?;
                for (answer, post_only) in answers.into_iter().zip(post_only) {
                    let outcome = match answer {
                        Ok(order) => placed(&order, post_only)?,
                        Err(refused) => refused,
                    };
                    self.items.push(outcome);
                }
            }
            Read::ModifyBatch { count } => {
                for answer in batch_answers(response, count)? {
                    match answer {
                        Ok(order) => self.amended(&order)?,
                        Err(refused) => self.items.push(refused),
                    }
                }
            }
            Read::Amend => {
                let order: wire::Order = rest::body(response, "order")?;
                self.amended(&order)?;
            }
            Read::Order => {
                let order: wire::Order = rest::body(response, "order")?;
                self.events.push(Event::Order(events::order(&order, true)?));
            }
            Read::OpenOrders => {
                let orders: Vec<wire::Order> = rest::body(response, "open orders")?;
                for order in &orders {
                    self.events.push(Event::Order(events::order(order, true)?));
                }
            }
            Read::Trades => {
                let trades: Vec<wire::Trade> = rest::body(response, "trades")?;
                for trade in &trades {
                    self.events.push(Event::Fill(events::trade_fill(trade)?));
                }
            }
            Read::Balance => {
                let balances: Vec<wire::Balance> = rest::body(response, "balances")?;
                self.events.extend(events::balances(&balances)?);
            }
            Read::Positions => {
                let positions: Vec<wire::Position> = rest::body(response, "positions")?;
                self.events.push(events::positions(&positions, 0)?);
            }
            Read::Markets => {
                let info: wire::ExchangeInfo = rest::body(response, "exchangeInfo")?;
                self.events
                    .push(Event::Markets(RVec::from(events::markets(&info)?)));
            }
            Read::PlaceAlgo | Read::CancelAlgo => {
                let order: wire::AlgoOrderId = rest::body(response, "algo order")?;
                self.items.push(rest::with_order_id(
                    rest::accepted("accepted"),
                    order.algo_id,
                ));
            }
            Read::AlgoOrder => {
                let order: wire::AlgoOrder = rest::body(response, "algo order")?;
                self.events.push(Event::Order(events::algo_order(
                    &order,
                    true,
                    order.update_time,
                )?));
            }
            Read::OpenAlgoOrders => {
                let orders: Vec<wire::AlgoOrder> = rest::body(response, "open algo orders")?;
                for order in &orders {
                    self.events.push(Event::Order(events::algo_order(
                        order,
                        true,
                        order.update_time,
                    )?));
                }
            }
            Read::Countdown | Read::Setting | Read::MarginType => {}
        }
        Ok(())
    }

    /// A cancel or modify answered with the order as it now stands.
    fn amended(&mut self, order: &wire::Order) -> Result<(), PluginError> {
        self.items.push(rest::with_order_id(
            rest::accepted(&order.status),
            order.order_id,
        ));
        self.events.push(Event::Order(events::order(order, false)?));
        Ok(())
    }

    /// The markets an answer showed the account trading in (open orders).
    pub(crate) fn markets_seen(&self) -> impl Iterator<Item = &str> {
        self.events.iter().filter_map(|event| match event {
            Event::Order(order) => Some(order.market.as_str()),
            _ => None,
        })
    }

    fn reply(&mut self) -> Reply {
        let items = std::mem::take(&mut self.items);
        let outcome = match (&self.failure, self.per_item) {
            (Some(failure), _) => failure.clone(),
            (None, true) => items
                .iter()
                .find(|item| item.kind != OutcomeKind::ACCEPTED)
                .or(items.first())
                .cloned()
                .unwrap_or_else(|| rest::accepted("nothing to do")),
            (None, false) => rest::accepted(""),
        };
        Reply {
            outcome,
            items: RVec::from(items),
            events: std::mem::take(&mut self.events)
                .into_iter()
                .map(Event_NE::new)
                .collect(),
            next: ROption::RNone,
        }
    }
}

/// The answers of a `batchOrders` of `count`: each an order, or the
/// outcome its error means (read as the same error of a single request).
fn batch_answers(
    response: &Response,
    count: usize,
) -> Result<Vec<Result<wire::Order, Outcome>>, PluginError> {
    let answers: Vec<Value> = rest::body(response, "batch orders")?;
    if answers.len() != count {
        return Err(PluginError::malformed(format!(
            "{} answers to a batch of {count}",
            answers.len()
        )));
    }
    answers
        .into_iter()
        .map(|answer| {
            if answer
                .get("code")
                .and_then(Value::as_i64)
                .is_some_and(|code| code < 0)
            {
                let refused = Response {
                    status: 400,
                    body: answer.to_string().into(),
                    headers: RVec::new(),
                };
                return Ok(Err(rest::failure(&refused).unwrap_or_else(|| {
                    Outcome::new(
                        OutcomeKind::UNKNOWN,
                        format!("an unfamiliar answer: {answer}"),
                    )
                })));
            }
            serde_json::from_value(answer.clone())
                .map(Ok)
                .map_err(|error| PluginError::malformed(format!("batch order: {error}: {answer}")))
        })
        .collect()
}

/// A new order's answer: resting or (partly) filled; expired without a
/// fill, it never traded (an IOC or FOK order with nothing to match, a
/// post-only order that would have taken).
fn placed(order: &wire::Order, post_only: bool) -> Result<Outcome, PluginError> {
    let filled = events::dec(&order.executed_qty, "executedQty")?;
    if order.status == "EXPIRED" && filled.is_zero() {
        let reason = if post_only {
            RejectReason::POST_ONLY_WOULD_CROSS
        } else {
            RejectReason::NO_LIQUIDITY
        };
        return Ok(Outcome::rejected(reason, "expired without a fill"));
    }
    let average = order
        .avg_price
        .as_deref()
        .map(|text| events::dec(text, "avgPrice"))
        .transpose()?
        .filter(|price| !price.is_zero());
    Ok(Outcome {
        filled_size: Some(filled).filter(|size| !size.is_zero()).into(),
        average_price: average.into(),
        ..rest::with_order_id(rest::accepted(&order.status), order.order_id)
    })
}
