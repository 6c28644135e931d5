//! Order parameters as typed values: the plugin encodes them into
//! [`Params`], the emulator (and anything else that reads a request)
//! decodes them with the error Binance answers for each flaw.

use rust_decimal::Decimal;

use crate::decimal_text;
use crate::errors::{VenueError, codes};
use crate::form::{Lookup, Params};

/// `BUY` or `SELL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `BUY`.
    Buy,
    /// `SELL`.
    Sell,
}

impl Side {
    /// Binance's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }

    /// Reads Binance's word.
    pub fn parse(text: &str) -> Option<Side> {
        match text {
            "BUY" => Some(Side::Buy),
            "SELL" => Some(Side::Sell),
            _ => None,
        }
    }

    /// The `side` parameter (`-1117` when it is neither word).
    pub fn decode(params: &impl Lookup, key: &str) -> Result<Side, VenueError> {
        Side::parse(params.required(key)?)
            .ok_or_else(|| VenueError::new(codes::INVALID_SIDE, "Invalid side."))
    }
}

/// The order types `/fapi/v1/order` takes (conditional types go to the
/// Algo service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderType {
    /// `LIMIT`: needs a price and a time in force.
    Limit,
    /// `MARKET`: a quantity only.
    Market,
}

/// The conditional types Binance moved to the Algo service.
const ALGO_TYPES: [&str; 5] = [
    "STOP",
    "STOP_MARKET",
    "TAKE_PROFIT",
    "TAKE_PROFIT_MARKET",
    "TRAILING_STOP_MARKET",
];

impl OrderType {
    /// Binance's word.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::Limit => "LIMIT",
            OrderType::Market => "MARKET",
        }
    }

    /// The `type` parameter: `-4120` for a conditional type, `-1116` for
    /// any other word.
    pub fn decode(params: &impl Lookup) -> Result<OrderType, VenueError> {
        match params.required("type")? {
            "LIMIT" => Ok(OrderType::Limit),
            "MARKET" => Ok(OrderType::Market),
            other if ALGO_TYPES.contains(&other) => Err(VenueError::algo_required()),
            _ => Err(VenueError::new(
                codes::INVALID_ORDER_TYPE,
                "Invalid orderType.",
            )),
        }
    }
}

/// How long a limit order stays on the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Fill or kill.
    Fok,
    /// Good till crossing: post-only.
    Gtx,
    /// Good till a date (`goodTillDate`).
    Gtd,
}

impl TimeInForce {
    /// Binance's word.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeInForce::Gtc => "GTC",
            TimeInForce::Ioc => "IOC",
            TimeInForce::Fok => "FOK",
            TimeInForce::Gtx => "GTX",
            TimeInForce::Gtd => "GTD",
        }
    }

    /// Reads Binance's word.
    pub fn parse(text: &str) -> Option<TimeInForce> {
        [
            TimeInForce::Gtc,
            TimeInForce::Ioc,
            TimeInForce::Fok,
            TimeInForce::Gtx,
            TimeInForce::Gtd,
        ]
        .into_iter()
        .find(|tif| tif.as_str() == text)
    }
}

/// What a new order's answer carries: `ACK` (the default) or `RESULT` (the
/// final state of a MARKET, IOC or FOK order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// The order as accepted.
    Ack,
    /// The order after matching.
    Result,
}

impl ResponseType {
    /// Binance's word.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Ack => "ACK",
            ResponseType::Result => "RESULT",
        }
    }
}

/// A client order id Binance takes: 1 to 36 of `A–Z a–z 0–9 . : / _ -`,
/// unique among the account's open orders only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientOrderId(String);

impl ClientOrderId {
    /// The longest id Binance takes.
    pub const MAX_LEN: usize = 36;

    /// Checks an id (`-4015` when Binance would refuse it).
    pub fn new(text: &str) -> Result<ClientOrderId, VenueError> {
        let valid = !text.is_empty()
            && text.len() <= ClientOrderId::MAX_LEN
            && text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b".:/_-".contains(&byte));
        if valid {
            Ok(ClientOrderId(text.to_owned()))
        } else {
            Err(VenueError::invalid_client_id())
        }
    }

    /// The id of a host's client order id (`0x` and 32 hex digits): the
    /// 32 digits, which keep all 128 bits.
    pub fn from_host(host_id: &str) -> Result<ClientOrderId, VenueError> {
        ClientOrderId::new(host_id.strip_prefix("0x").unwrap_or(host_id))
    }

    /// The host's form of this id (`0x` and the 32 digits), when it is one
    /// the host made; `None` for the venue's own (`autoclose-…`) and
    /// anyone else's.
    pub fn to_host(&self) -> Option<String> {
        let hex = self.0.len() == 32
            && self
                .0
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        hex.then(|| format!("0x{}", self.0))
    }

    /// The id as Binance writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An optional id parameter.
    pub fn decode(params: &impl Lookup, key: &str) -> Result<Option<ClientOrderId>, VenueError> {
        params.text(key).map(ClientOrderId::new).transpose()
    }
}

/// Which order a request names: Binance's id wins when both are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderTarget {
    /// `orderId`.
    OrderId(u64),
    /// `origClientOrderId`.
    Client(ClientOrderId),
}

impl OrderTarget {
    /// Writes `orderId` or `origClientOrderId`.
    pub fn encode(&self, params: &mut Params) {
        match self {
            OrderTarget::OrderId(id) => params.push("orderId", id.to_string()),
            OrderTarget::Client(id) => params.push("origClientOrderId", id.as_str()),
        };
    }

    /// Reads `orderId`, else `origClientOrderId` (`-1102` for neither).
    pub fn decode(params: &impl Lookup) -> Result<OrderTarget, VenueError> {
        if let Some(id) = params.integer("orderId")? {
            return Ok(OrderTarget::OrderId(id));
        }
        match ClientOrderId::decode(params, "origClientOrderId")? {
            Some(id) => Ok(OrderTarget::Client(id)),
            None => Err(VenueError::mandatory("orderId")),
        }
    }
}

/// A new order (`POST /fapi/v1/order`, `order.place`), in one-way mode.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    /// The symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// LIMIT or MARKET.
    pub order_type: OrderType,
    /// LIMIT orders only.
    pub time_in_force: Option<TimeInForce>,
    /// Base units, above zero.
    pub quantity: Decimal,
    /// LIMIT orders only, above zero.
    pub price: Option<Decimal>,
    /// Only reduce the position.
    pub reduce_only: bool,
    /// The client's id, if any (Binance makes one otherwise).
    pub client_order_id: Option<ClientOrderId>,
    /// GTD orders only: the expiry, ms.
    pub good_till_date: Option<u64>,
    /// What the answer carries.
    pub response_type: Option<ResponseType>,
}

impl NewOrder {
    /// Writes the order's parameters in Binance's documented order.
    pub fn encode(&self, params: &mut Params) {
        params
            .push("symbol", self.symbol.as_str())
            .push("side", self.side.as_str())
            .push("type", self.order_type.as_str());
        if let Some(tif) = self.time_in_force {
            params.push("timeInForce", tif.as_str());
        }
        params.push("quantity", decimal_text(self.quantity));
        if let Some(price) = self.price {
            params.push("price", decimal_text(price));
        }
        if self.reduce_only {
            params.push("reduceOnly", "true");
        }
        if let Some(id) = &self.client_order_id {
            params.push("newClientOrderId", id.as_str());
        }
        if let Some(date) = self.good_till_date {
            params.push("goodTillDate", date.to_string());
        }
        if let Some(response) = self.response_type {
            params.push("newOrderRespType", response.as_str());
        }
    }

    /// Reads an order with Binance's refusals: `-1102` for a missing
    /// parameter, `-1117`/`-1116`/`-1115` for a bad side, type or time in
    /// force, `-4120` for a conditional type, `-4003` for a quantity not
    /// above zero, `-4015` for a bad client id. A MARKET order's time in
    /// force is ignored.
    pub fn decode(params: &impl Lookup) -> Result<NewOrder, VenueError> {
        let symbol = params.required("symbol")?.to_ascii_uppercase();
        let side = Side::decode(params, "side")?;
        let order_type = OrderType::decode(params)?;
        let quantity = params
            .decimal("quantity")?
            .ok_or_else(|| VenueError::mandatory("quantity"))?;
        if quantity <= Decimal::ZERO {
            return Err(VenueError::new(
                codes::QTY_LE_ZERO,
                "Quantity less than or equal to zero.",
            ));
        }
        let time_in_force =
            match order_type {
                OrderType::Market => None,
                OrderType::Limit => {
                    let word = params.required("timeInForce")?;
                    Some(TimeInForce::parse(word).ok_or_else(|| {
                        VenueError::new(codes::INVALID_TIF, "Invalid timeInForce.")
                    })?)
                }
            };
        let price = match order_type {
            OrderType::Market => None,
            OrderType::Limit => Some(
                params
                    .decimal("price")?
                    .filter(|price| *price > Decimal::ZERO)
                    .ok_or_else(|| VenueError::mandatory("price"))?,
            ),
        };
        let good_till_date = match time_in_force {
            Some(TimeInForce::Gtd) => Some(
                params
                    .integer("goodTillDate")?
                    .ok_or_else(|| VenueError::mandatory("goodTillDate"))?,
            ),
            _ => None,
        };
        let response_type = match params.text("newOrderRespType") {
            None => None,
            Some("ACK") => Some(ResponseType::Ack),
            Some("RESULT") => Some(ResponseType::Result),
            Some(_) => return Err(VenueError::invalid("newOrderRespType")),
        };
        Ok(NewOrder {
            symbol,
            side,
            order_type,
            time_in_force,
            quantity,
            price,
            reduce_only: params.flag("reduceOnly")?,
            client_order_id: ClientOrderId::decode(params, "newClientOrderId")?,
            good_till_date,
            response_type,
        })
    }
}

/// The conditional order types of the Algo service this crate speaks
/// (trailing stops aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlgoOrderType {
    /// A limit order once the trigger price is reached.
    Stop,
    /// A market order once the trigger price is reached.
    StopMarket,
    /// A take-profit limit order.
    TakeProfit,
    /// A take-profit market order.
    TakeProfitMarket,
}

impl AlgoOrderType {
    const ALL: [AlgoOrderType; 4] = [
        AlgoOrderType::Stop,
        AlgoOrderType::StopMarket,
        AlgoOrderType::TakeProfit,
        AlgoOrderType::TakeProfitMarket,
    ];

    /// Binance's word.
    pub fn as_str(self) -> &'static str {
        match self {
            AlgoOrderType::Stop => "STOP",
            AlgoOrderType::StopMarket => "STOP_MARKET",
            AlgoOrderType::TakeProfit => "TAKE_PROFIT",
            AlgoOrderType::TakeProfitMarket => "TAKE_PROFIT_MARKET",
        }
    }

    /// Whether it executes at market once triggered (it takes no price).
    pub fn is_market(self) -> bool {
        matches!(
            self,
            AlgoOrderType::StopMarket | AlgoOrderType::TakeProfitMarket
        )
    }

    /// Whether it is a take-profit (else a stop).
    pub fn is_take_profit(self) -> bool {
        matches!(
            self,
            AlgoOrderType::TakeProfit | AlgoOrderType::TakeProfitMarket
        )
    }
}

/// The price a conditional order's trigger watches (`workingType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkingType {
    /// The mark price.
    MarkPrice,
    /// The last traded price (Binance's default).
    ContractPrice,
}

impl WorkingType {
    /// Binance's word.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkingType::MarkPrice => "MARK_PRICE",
            WorkingType::ContractPrice => "CONTRACT_PRICE",
        }
    }
}

/// A conditional order (`POST /fapi/v1/algoOrder`, `algoType=CONDITIONAL`),
/// in one-way mode, good till cancelled.
#[derive(Debug, Clone, PartialEq)]
pub struct AlgoOrder {
    /// The symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// The conditional type.
    pub order_type: AlgoOrderType,
    /// Base units, above zero.
    pub quantity: Decimal,
    /// The limit price of `STOP` and `TAKE_PROFIT` orders.
    pub price: Option<Decimal>,
    /// The price that fires it.
    pub trigger_price: Decimal,
    /// What the trigger watches.
    pub working_type: WorkingType,
    /// Only reduce the position.
    pub reduce_only: bool,
    /// The client's id (`clientAlgoId`), if any.
    pub client_algo_id: Option<ClientOrderId>,
}

impl AlgoOrder {
    /// Writes the order's parameters.
    pub fn encode(&self, params: &mut Params) {
        params
            .push("algoType", "CONDITIONAL")
            .push("symbol", self.symbol.as_str())
            .push("side", self.side.as_str())
            .push("type", self.order_type.as_str())
            .push("quantity", decimal_text(self.quantity));
        if let Some(price) = self.price {
            params
                .push("timeInForce", TimeInForce::Gtc.as_str())
                .push("price", decimal_text(price));
        }
        params
            .push("triggerPrice", decimal_text(self.trigger_price))
            .push("workingType", self.working_type.as_str());
        if self.reduce_only {
            params.push("reduceOnly", "true");
        }
        if let Some(id) = &self.client_algo_id {
            params.push("clientAlgoId", id.as_str());
        }
    }

    /// Reads a conditional order: `-1116` for an algo type other than
    /// CONDITIONAL, an unknown order type or working type, `-1102` for a
    /// missing quantity, trigger price or (limit types) price, `-4015`
    /// for a bad client id.
    pub fn decode(params: &impl Lookup) -> Result<AlgoOrder, VenueError> {
        if params.required("algoType")? != "CONDITIONAL" {
            return Err(VenueError::new(
                codes::INVALID_ORDER_TYPE,
                "Invalid algoType.",
            ));
        }
        let symbol = params.required("symbol")?.to_ascii_uppercase();
        let side = Side::decode(params, "side")?;
        let word = params.required("type")?;
        let order_type = AlgoOrderType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == word)
            .ok_or_else(|| VenueError::new(codes::INVALID_ORDER_TYPE, "Invalid orderType."))?;
        let working_type = match params.text("workingType") {
            None | Some("CONTRACT_PRICE") => WorkingType::ContractPrice,
            Some("MARK_PRICE") => WorkingType::MarkPrice,
            Some(_) => return Err(VenueError::invalid("workingType")),
        };
        let price = match order_type.is_market() {
            true => None,
            false => Some(
                params
                    .decimal("price")?
                    .ok_or_else(|| VenueError::mandatory("price"))?,
            ),
        };
        Ok(AlgoOrder {
            symbol,
            side,
            order_type,
            quantity: params
                .decimal("quantity")?
                .ok_or_else(|| VenueError::mandatory("quantity"))?,
            price,
            trigger_price: params
                .decimal("triggerPrice")?
                .ok_or_else(|| VenueError::mandatory("triggerPrice"))?,
            working_type,
            reduce_only: params.flag("reduceOnly")?,
            client_algo_id: ClientOrderId::decode(params, "clientAlgoId")?,
        })
    }
}

/// A modify in place (`PUT /fapi/v1/order`, `order.modify`): LIMIT orders
/// only, both quantity (the new total) and price.
#[derive(Debug, Clone, PartialEq)]
pub struct ModifyOrder {
    /// The symbol.
    pub symbol: String,
    /// The order's side (Binance wants it repeated).
    pub side: Side,
    /// The order.
    pub target: OrderTarget,
    /// The new total quantity, fills included.
    pub quantity: Decimal,
    /// The new price.
    pub price: Decimal,
}

impl ModifyOrder {
    /// Writes the modify's parameters.
    pub fn encode(&self, params: &mut Params) {
        params.push("symbol", self.symbol.as_str());
        self.target.encode(params);
        params
            .push("side", self.side.as_str())
            .push("quantity", decimal_text(self.quantity))
            .push("price", decimal_text(self.price));
    }

    /// Reads a modify (`-1102` for a missing parameter, `-1117` for a bad
    /// side).
    pub fn decode(params: &impl Lookup) -> Result<ModifyOrder, VenueError> {
        Ok(ModifyOrder {
            symbol: params.required("symbol")?.to_ascii_uppercase(),
            target: OrderTarget::decode(params)?,
            side: Side::decode(params, "side")?,
            quantity: params
                .decimal("quantity")?
                .ok_or_else(|| VenueError::mandatory("quantity"))?,
            price: params
                .decimal("price")?
                .ok_or_else(|| VenueError::mandatory("price"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit() -> NewOrder {
        NewOrder {
            symbol: "BTCUSDT".into(),
            side: Side::Buy,
            order_type: OrderType::Limit,
            time_in_force: Some(TimeInForce::Gtx),
            quantity: Decimal::new(1000, 3),
            price: Some(Decimal::new(90000, 1)),
            reduce_only: true,
            client_order_id: Some(
                ClientOrderId::from_host("0x0123456789abcdef0123456789abcdef").unwrap(),
            ),
            good_till_date: None,
            response_type: Some(ResponseType::Result),
        }
    }

    #[test]
    fn an_algo_order_encodes_and_decodes_to_itself() {
        let stop = AlgoOrder {
            symbol: "BTCUSDT".into(),
            side: Side::Sell,
            order_type: AlgoOrderType::Stop,
            quantity: Decimal::new(2, 3),
            price: Some(Decimal::new(98000, 0)),
            trigger_price: Decimal::new(99000, 0),
            working_type: WorkingType::MarkPrice,
            reduce_only: true,
            client_algo_id: Some(ClientOrderId::new("stop-1").unwrap()),
        };
        let mut params = Params::new();
        stop.encode(&mut params);
        assert_eq!(
            params.encode(),
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP&quantity=0.002&timeInForce=GTC&price=98000&triggerPrice=99000&workingType=MARK_PRICE&reduceOnly=true&clientAlgoId=stop-1"
        );
        assert_eq!(AlgoOrder::decode(&params).unwrap(), stop);
        // Binance's default: the last price; a market type takes no price.
        let market = Params::decode(
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=BUY&type=STOP_MARKET&quantity=1&triggerPrice=5",
        )
        .unwrap();
        let decoded = AlgoOrder::decode(&market).unwrap();
        assert_eq!(
            (decoded.working_type, decoded.price),
            (WorkingType::ContractPrice, None)
        );
        let other = Params::decode("algoType=VP&symbol=X&side=BUY&type=STOP&quantity=1").unwrap();
        assert_eq!(
            AlgoOrder::decode(&other).unwrap_err().code,
            codes::INVALID_ORDER_TYPE
        );
    }

    #[test]
    fn a_new_order_encodes_and_decodes_to_itself() {
        let mut params = Params::new();
        limit().encode(&mut params);
        assert_eq!(
            params.encode(),
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=1&price=9000&reduceOnly=true&newClientOrderId=0123456789abcdef0123456789abcdef&newOrderRespType=RESULT"
        );
        assert_eq!(NewOrder::decode(&params).unwrap(), limit());
        let market = NewOrder {
            order_type: OrderType::Market,
            time_in_force: None,
            price: None,
            reduce_only: false,
            client_order_id: None,
            response_type: None,
            ..limit()
        };
        let mut params = Params::new();
        market.encode(&mut params);
        assert_eq!(
            params.encode(),
            "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=1"
        );
        assert_eq!(NewOrder::decode(&params).unwrap(), market);
    }

    #[test]
    fn bad_orders_get_binance_codes() {
        let code = |text: &str| {
            NewOrder::decode(&Params::decode(text).unwrap())
                .unwrap_err()
                .code
        };
        let base = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=1";
        assert_eq!(code(&base.replace("BUY", "UP")), codes::INVALID_SIDE);
        assert_eq!(
            code(&base.replace("LIMIT", "STOP")),
            codes::ALGO_ORDER_REQUIRED
        );
        assert_eq!(
            code(&base.replace("LIMIT", "ICEBERG")),
            codes::INVALID_ORDER_TYPE
        );
        assert_eq!(code(&base.replace("GTC", "DAY")), codes::INVALID_TIF);
        assert_eq!(
            code(&base.replace("quantity=1", "quantity=0")),
            codes::QTY_LE_ZERO
        );
        assert_eq!(code(&base.replace("&price=1", "")), codes::MANDATORY_PARAM);
        assert_eq!(code(&base.replace("GTC", "GTD")), codes::MANDATORY_PARAM);
        assert_eq!(
            code(&format!("{base}&newClientOrderId=has%20space")),
            codes::INVALID_CLIENT_ORDER_ID
        );
        let long = "a".repeat(37);
        assert_eq!(
            code(&format!("{base}&newClientOrderId={long}")),
            codes::INVALID_CLIENT_ORDER_ID
        );
    }

    #[test]
    fn client_ids_keep_the_hosts_128_bits() {
        let id = ClientOrderId::from_host("0x0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(id.as_str(), "0123456789abcdef0123456789abcdef");
        assert_eq!(
            id.to_host().as_deref(),
            Some("0x0123456789abcdef0123456789abcdef")
        );
        assert_eq!(ClientOrderId::new("autoclose-1").unwrap().to_host(), None);
        assert_eq!(ClientOrderId::new("web_ABC").unwrap().to_host(), None);
    }

    #[test]
    fn a_modify_names_its_order_by_id_first() {
        let modify = ModifyOrder {
            symbol: "ETHUSDT".into(),
            side: Side::Sell,
            target: OrderTarget::Client(ClientOrderId::new("abc").unwrap()),
            quantity: Decimal::new(25, 1),
            price: Decimal::new(350010, 2),
        };
        let mut params = Params::new();
        modify.encode(&mut params);
        assert_eq!(
            params.encode(),
            "symbol=ETHUSDT&origClientOrderId=abc&side=SELL&quantity=2.5&price=3500.1"
        );
        assert_eq!(ModifyOrder::decode(&params).unwrap(), modify);
        params.push("orderId", "7");
        assert_eq!(
            ModifyOrder::decode(&params).unwrap().target,
            OrderTarget::OrderId(7)
        );
    }
}
