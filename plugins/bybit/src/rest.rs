//! Operations as Bybit REST calls, and a call as the signer's
//! `bybit-rest` fields and then as the signed HTTP request.

use abi_stable::std_types::{RString, RVec, Tuple2};
use bybit_core::auth::{API_KEY_HEADER, RECV_WINDOW_HEADER, SIGN_HEADER, TIMESTAMP_HEADER};
use bybit_core::order::{
    AmendOrder, BUY, Batch, CreateOrder, FOK, GTC, IOC, LAST_PRICE, LIMIT, LINEAR, MARK_PRICE,
    OrderName, POST_ONLY, SELL,
};
use plugin_api::rules::Rounding;
use plugin_api::{
    Dec, ModifyRequest, Operation, OrderKind, OrderRef, OrderRequest, PluginError, Request, Side,
    SignRequest, TimeInForce, TriggerReference,
};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;

use crate::config::Config;
use crate::manifest::{AMEND, CANCEL, CREATE, IP, QUERY, REST_SCHEME};

/// A market order's worst price when the host names no slippage: 5 %.
const DEFAULT_SLIPPAGE: Decimal = Decimal::from_parts(5, 0, 0, false, 2);

/// Orders per page of open orders, executions per page of fills.
pub const PAGE: usize = 50;

/// Sets the unified account's margin mode (for every market).
pub const SET_MARGIN_MODE: &str = "/v5/account/set-margin-mode";

/// One REST call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The path, e.g. `/v5/order/create`.
    pub path: &'static str,
    /// The query of a GET, in the order sent.
    pub query: Vec<(String, String)>,
    /// The JSON body of a POST.
    pub body: Option<String>,
    /// Costs against the manifest's buckets.
    pub costs: Vec<(&'static str, u32)>,
    /// Signed with the account's key.
    pub signed: bool,
}

fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
    query
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

impl Call {
    /// A signed GET.
    pub fn get(path: &'static str, query: &[(&str, &str)], bucket: &'static str) -> Call {
        Call {
            method: "GET",
            path,
            query: pairs(query),
            body: None,
            costs: vec![(IP, 1), (bucket, 1)],
            signed: true,
        }
    }

    /// A public GET.
    pub fn public(path: &'static str, query: &[(&str, &str)]) -> Call {
        Call {
            signed: false,
            costs: vec![(IP, 1)],
            ..Call::get(path, query, IP)
        }
    }

    pub fn post(
        path: &'static str,
        body: &impl Serialize,
        bucket: &'static str,
        weight: u32,
    ) -> Result<Call, PluginError> {
        let body = serde_json::to_string(body)
            .map_err(|error| PluginError::invalid(format!("bybit body: {error}")))?;
        Ok(Call {
            method: "POST",
            path,
            query: Vec::new(),
            body: Some(body),
            costs: vec![(IP, 1), (bucket, weight)],
            signed: true,
        })
    }

    /// The same call with one more query pair (a page cursor).
    pub fn with(mut self, key: &str, value: &str) -> Call {
        self.query.retain(|(name, _)| name != key);
        self.query.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The bucket this call is counted in besides the IP's, if any.
    pub fn bucket(&self) -> Option<&'static str> {
        self.costs
            .iter()
            .map(|(bucket, _)| *bucket)
            .find(|bucket| *bucket != IP)
    }

    fn url(&self, config: &Config) -> String {
        let query = plugin_api::query::encode(self.query.iter().map(|(k, v)| (k, v)));
        match query.as_str() {
            "" => format!("{}{}", config.api_url, self.path),
            query => format!("{}{}?{query}", config.api_url, self.path),
        }
    }

    fn costs(&self) -> RVec<Tuple2<RString, u32>> {
        self.costs
            .iter()
            .map(|(bucket, weight)| Tuple2((*bucket).into(), *weight))
            .collect()
    }

    /// The signer's `bybit-rest` fields for this call, stamped `timestamp`
    /// and valid for `recv_window` ms.
    pub fn sign_request(&self, config: &Config, timestamp: u64, recv_window: u64) -> SignRequest {
        let mut fields = json!({
            "api_key": config.api_key,
            "timestamp": timestamp,
            "recv_window": recv_window,
            "method": self.method,
            "path": self.path,
        });
        match &self.body {
            Some(body) => fields["body"] = json!(body),
            None => fields["query"] = json!(self.query),
        }
        SignRequest {
            scheme: REST_SCHEME.into(),
            payload: fields.to_string().into(),
        }
    }

    /// The trade socket's op for this call (`order.create`, …): single
    /// orders, amends and cancels only.
    pub fn socket_op(&self) -> Option<&'static str> {
        match self.path {
            "/v5/order/create" => Some("order.create"),
            "/v5/order/amend" => Some("order.amend"),
            "/v5/order/cancel" => Some("order.cancel"),
            _ => None,
        }
    }

    /// The costs of this call over the trade socket: its account bucket
    /// (the socket shares it with REST); the IP's limit is HTTP's.
    pub fn socket_costs(&self) -> RVec<Tuple2<RString, u32>> {
        self.costs
            .iter()
            .filter(|(bucket, _)| *bucket != IP)
            .map(|(bucket, weight)| Tuple2((*bucket).into(), *weight))
            .collect()
    }

    /// The costs a `Sign` pays for this call.
    pub fn sign_costs(&self) -> RVec<Tuple2<RString, u32>> {
        self.costs()
    }

    /// The HTTP request: signed with `signature` (the signer's raw MAC)
    /// over `timestamp` and `recv_window`, or public; `paid` when its
    /// costs were paid by the `Sign` before it.
    pub fn request(&self, config: &Config, signed: Option<(u64, u64, &[u8])>) -> Request {
        let mut headers = Vec::new();
        if self.body.is_some() {
            headers.push(Tuple2("Content-Type".into(), "application/json".into()));
        }
        if let Some((timestamp, recv_window, signature)) = signed {
            headers.push(Tuple2(
                API_KEY_HEADER.into(),
                config.api_key.as_str().into(),
            ));
            headers.push(Tuple2(
                TIMESTAMP_HEADER.into(),
                timestamp.to_string().into(),
            ));
            headers.push(Tuple2(
                RECV_WINDOW_HEADER.into(),
                recv_window.to_string().into(),
            ));
            headers.push(Tuple2(SIGN_HEADER.into(), hex::encode(signature).into()));
        }
        Request {
            method: self.method.into(),
            url: self.url(config).into(),
            headers: headers.into(),
            body: self.body.clone().unwrap_or_default().into(),
            costs: if signed.is_some() {
                RVec::new()
            } else {
                self.costs()
            },
        }
    }
}

fn side(side: Side) -> &'static str {
    if side == Side::BUY { BUY } else { SELL }
}

/// A market order's protective limit: the reference price moved by the
/// slippage against the taker, on the tick, rounded toward the reference.
fn protective_price(order: &OrderRequest) -> Result<Decimal, PluginError> {
    let slippage = order
        .max_slippage
        .into_option()
        .map_or(DEFAULT_SLIPPAGE, Dec::to_decimal);
    let reference = order.price.to_decimal();
    let (price, rounding) = if order.side == Side::BUY {
        (reference * (Decimal::ONE + slippage), Rounding::Down)
    } else {
        (reference * (Decimal::ONE - slippage), Rounding::Up)
    };
    order
        .market
        .rule
        .price
        .quantize(price, rounding)
        .map_err(|error| {
            PluginError::invalid(format!("protective price of {}: {error}", order.client_id))
        })
}

/// One new order's body (`category` only outside a batch).
pub fn create_order(
    order: &OrderRequest,
    category: Option<&str>,
) -> Result<CreateOrder, PluginError> {
    let (price, time_in_force) = match order.kind {
        OrderKind::LIMIT | OrderKind::STOP_LIMIT | OrderKind::TAKE_PROFIT_LIMIT => {
            let tif = match order.time_in_force {
                TimeInForce::GTC => GTC,
                TimeInForce::IOC => IOC,
                TimeInForce::FOK => FOK,
                TimeInForce::POST_ONLY => POST_ONLY,
                other => {
                    return Err(PluginError::unsupported(format!(
                        "bybit has no time in force {other:?}"
                    )));
                }
            };
            (order.price.to_string(), tif)
        }
        OrderKind::LIMIT_MAKER => (order.price.to_string(), POST_ONLY),
        // Sent as an IOC limit at the protective price: it fills at the
        // book's prices up to that bound, never beyond.
        OrderKind::MARKET => (protective_price(order)?.normalize().to_string(), IOC),
        // Once triggered, the same at the worst price the host gave.
        OrderKind::STOP_MARKET | OrderKind::TAKE_PROFIT_MARKET => (order.price.to_string(), IOC),
        other => {
            return Err(PluginError::unsupported(format!(
                "bybit plugin does not place {other:?} orders"
            )));
        }
    };
    let trigger = trigger(order)?;
    Ok(CreateOrder {
        category: category.map(str::to_owned),
        symbol: order.market.venue_symbol.to_string(),
        side: side(order.side).into(),
        order_type: LIMIT.into(),
        qty: order.size.to_string(),
        price: Some(price),
        time_in_force: Some(time_in_force.into()),
        order_link_id: Some(order.client_id.to_string()),
        reduce_only: order.reduce_only,
        trigger_direction: trigger.as_ref().map(|(_, direction, _)| *direction),
        trigger_by: trigger.as_ref().map(|(_, _, by)| (*by).to_owned()),
        trigger_price: trigger.map(|(price, _, _)| price),
    })
}

/// A conditional order's trigger price, direction (1: fires when the
/// price rises to it, 2: when it falls: a buy stop and a sell take-profit
/// rise, a sell stop and a buy take-profit fall) and `triggerBy`.
fn trigger(order: &OrderRequest) -> Result<Option<(String, u8, &'static str)>, PluginError> {
    let stop = match order.kind {
        OrderKind::STOP_MARKET | OrderKind::STOP_LIMIT => true,
        OrderKind::TAKE_PROFIT_MARKET | OrderKind::TAKE_PROFIT_LIMIT => false,
        _ => return Ok(None),
    };
    let price = order
        .trigger_price
        .into_option()
        .ok_or_else(|| PluginError::invalid("a trigger order needs a trigger price"))?;
    let rises = stop == (order.side == Side::BUY);
    let by = match order.trigger_reference {
        TriggerReference::MARK => MARK_PRICE,
        TriggerReference::LAST => LAST_PRICE,
        other => {
            return Err(PluginError::unsupported(format!(
                "bybit does not trigger on {other:?}"
            )));
        }
    };
    Ok(Some((price.to_string(), if rises { 1 } else { 2 }, by)))
}

fn name(target: &OrderRef, category: Option<&str>) -> OrderName {
    OrderName {
        category: category.map(str::to_owned),
        symbol: target.market.venue_symbol.to_string(),
        order_id: target
            .exchange_order_id
            .as_ref()
            .map(|id| id.to_string())
            .into_option(),
        order_link_id: Some(target.client_id.to_string()),
    }
}

fn amend(modify: &ModifyRequest, category: Option<&str>) -> AmendOrder {
    AmendOrder {
        order: name(&modify.target, category),
        qty: Some(modify.order.size.to_string()),
        price: Some(modify.order.price.to_string()),
    }
}

fn batch<T>(items: Vec<T>) -> Batch<T> {
    Batch {
        category: LINEAR.into(),
        request: items,
    }
}

fn weight(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// The calls an operation takes, in order (later ones may follow from the
/// answers: pages, a second place to look).
pub fn calls(operation: &Operation) -> Result<Vec<Call>, PluginError> {
    let linear = Some(LINEAR);
    Ok(match operation {
        Operation::PlaceOrders(orders) => match orders.as_slice() {
            [order] => vec![Call::post(
                "/v5/order/create",
                &create_order(order, linear)?,
                CREATE,
                1,
            )?],
            orders => {
                let items = orders
                    .iter()
                    .map(|o| create_order(o, None))
                    .collect::<Result<Vec<_>, _>>()?;
                vec![Call::post(
                    "/v5/order/create-batch",
                    &batch(items),
                    CREATE,
                    weight(orders.len()),
                )?]
            }
        },
        Operation::CancelOrders(targets) => match targets.as_slice() {
            [target] => vec![Call::post(
                "/v5/order/cancel",
                &name(target, linear),
                CANCEL,
                1,
            )?],
            targets => {
                let items: Vec<_> = targets.iter().map(|t| name(t, None)).collect();
                vec![Call::post(
                    "/v5/order/cancel-batch",
                    &batch(items),
                    CANCEL,
                    weight(targets.len()),
                )?]
            }
        },
        Operation::ModifyOrders(modifies) => match modifies.as_slice() {
            [modify] => vec![Call::post(
                "/v5/order/amend",
                &amend(modify, linear),
                AMEND,
                1,
            )?],
            modifies => {
                let items: Vec<_> = modifies.iter().map(|m| amend(m, None)).collect();
                vec![Call::post(
                    "/v5/order/amend-batch",
                    &batch(items),
                    AMEND,
                    weight(modifies.len()),
                )?]
            }
        },
        Operation::SetLeverage {
            market,
            leverage,
            cross,
        } => {
            // A unified account's margin mode is the account's, for every
            // market; then the market's leverage.
            let mode = if *cross {
                "REGULAR_MARGIN"
            } else {
                "ISOLATED_MARGIN"
            };
            let leverage = leverage.to_string();
            let body = json!({"category": LINEAR, "symbol": market.venue_symbol.as_str(),
                "buyLeverage": leverage, "sellLeverage": leverage});
            vec![
                Call::post(SET_MARGIN_MODE, &json!({"setMarginMode": mode}), QUERY, 1)?,
                Call::post("/v5/position/set-leverage", &body, QUERY, 1)?,
            ]
        }
        Operation::FetchMarkets { cursor } => {
            let call = Call::public(
                "/v5/market/instruments-info",
                &[("category", LINEAR), ("limit", "1000")],
            );
            vec![if cursor.is_empty() {
                call
            } else {
                call.with("cursor", cursor)
            }]
        }
        Operation::FetchOpenOrders => {
            let limit = PAGE.to_string();
            vec![Call::get(
                "/v5/order/realtime",
                &[
                    ("category", LINEAR),
                    ("settleCoin", "USDT"),
                    ("limit", &limit),
                ],
                QUERY,
            )]
        }
        Operation::FetchOrder(target) => {
            let query = [
                ("category", LINEAR),
                ("symbol", target.market.venue_symbol.as_str()),
                ("orderLinkId", target.client_id.as_str()),
            ];
            // Open and recently closed orders first, then the history.
            vec![
                Call::get("/v5/order/realtime", &query, QUERY),
                Call::get("/v5/order/history", &query, QUERY),
            ]
        }
        Operation::FetchFills { since_ms } => {
            let (since, limit) = (since_ms.to_string(), PAGE.to_string());
            vec![Call::get(
                "/v5/execution/list",
                &[
                    ("category", LINEAR),
                    ("startTime", &since),
                    ("limit", &limit),
                ],
                QUERY,
            )]
        }
        Operation::FetchAccount => vec![
            Call::get(
                "/v5/account/wallet-balance",
                &[("accountType", "UNIFIED")],
                QUERY,
            ),
            Call::get(
                "/v5/position/list",
                &[("category", LINEAR), ("settleCoin", "USDT")],
                QUERY,
            ),
        ],
        other => {
            return Err(PluginError::unsupported(format!(
                "the bybit plugin does not do {other:?}"
            )));
        }
    })
}
