//! The USDⓈ-M REST endpoints, and what each signed one does (the signer
//! signs only these; its policy judges by [`Purpose`]).

/// `/fapi/v1/order`: POST new, PUT modify, DELETE cancel, GET query.
pub const ORDER: &str = "/fapi/v1/order";
/// `/fapi/v1/batchOrders`: up to 5 new orders or modifies, 10 cancels.
pub const BATCH_ORDERS: &str = "/fapi/v1/batchOrders";
/// Every open order of one symbol cancelled.
pub const ALL_OPEN_ORDERS: &str = "/fapi/v1/allOpenOrders";
/// The dead man's switch of one symbol.
pub const COUNTDOWN_CANCEL_ALL: &str = "/fapi/v1/countdownCancelAll";
/// Conditional orders (the Algo service).
pub const ALGO_ORDER: &str = "/fapi/v1/algoOrder";
/// Every open conditional order of one symbol cancelled.
pub const ALGO_OPEN_ORDERS: &str = "/fapi/v1/algoOpenOrders";
/// Open conditional orders.
pub const OPEN_ALGO_ORDERS: &str = "/fapi/v1/openAlgoOrders";
/// One open order.
pub const OPEN_ORDER: &str = "/fapi/v1/openOrder";
/// Open orders (of one symbol: weight 1; of all: weight 40).
pub const OPEN_ORDERS: &str = "/fapi/v1/openOrders";
/// Every order of one symbol.
pub const ALL_ORDERS: &str = "/fapi/v1/allOrders";
/// The account's trades of one symbol (at most 7 days).
pub const USER_TRADES: &str = "/fapi/v1/userTrades";
/// Income history.
pub const INCOME: &str = "/fapi/v1/income";
/// Commission rates.
pub const COMMISSION_RATE: &str = "/fapi/v1/commissionRate";
/// Leverage brackets.
pub const LEVERAGE_BRACKET: &str = "/fapi/v1/leverageBracket";
/// Hedge mode.
pub const POSITION_SIDE_DUAL: &str = "/fapi/v1/positionSide/dual";
/// The account's order-count limits.
pub const RATE_LIMIT_ORDER: &str = "/fapi/v1/rateLimit/order";
/// Balances (v2).
pub const BALANCE_V2: &str = "/fapi/v2/balance";
/// Balances (v3).
pub const BALANCE_V3: &str = "/fapi/v3/balance";
/// The account (v2).
pub const ACCOUNT_V2: &str = "/fapi/v2/account";
/// The account (v3).
pub const ACCOUNT_V3: &str = "/fapi/v3/account";
/// Positions, every symbol's (v2).
pub const POSITION_RISK_V2: &str = "/fapi/v2/positionRisk";
/// Positions, open ones only (v3).
pub const POSITION_RISK_V3: &str = "/fapi/v3/positionRisk";
/// A symbol's leverage.
pub const LEVERAGE: &str = "/fapi/v1/leverage";
/// A symbol's margin type.
pub const MARGIN_TYPE: &str = "/fapi/v1/marginType";

/// Public: exchange rules and symbols.
pub const EXCHANGE_INFO: &str = "/fapi/v1/exchangeInfo";
/// Public: a book snapshot with its `lastUpdateId`.
pub const DEPTH: &str = "/fapi/v1/depth";
/// Public: the server's clock.
pub const TIME: &str = "/fapi/v1/time";
/// The user-data stream's listen key (API key only, not signed): POST
/// creates or extends, PUT keeps alive, DELETE closes.
pub const LISTEN_KEY: &str = "/fapi/v1/listenKey";

/// What a signed request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Places orders.
    Order,
    /// Modifies orders.
    Modify,
    /// Cancels named orders.
    Cancel,
    /// Cancels every order of a symbol.
    CancelAll,
    /// Arms the dead man's switch.
    DeadManSwitch,
    /// Changes leverage or margin type.
    Leverage,
    /// Reads.
    Read,
}

/// Every signed REST endpoint: method, path, purpose.
pub const SIGNED: &[(&str, &str, Purpose)] = &[
    ("POST", ORDER, Purpose::Order),
    ("PUT", ORDER, Purpose::Modify),
    ("DELETE", ORDER, Purpose::Cancel),
    ("GET", ORDER, Purpose::Read),
    ("POST", BATCH_ORDERS, Purpose::Order),
    ("PUT", BATCH_ORDERS, Purpose::Modify),
    ("DELETE", BATCH_ORDERS, Purpose::Cancel),
    ("DELETE", ALL_OPEN_ORDERS, Purpose::CancelAll),
    ("POST", COUNTDOWN_CANCEL_ALL, Purpose::DeadManSwitch),
    ("POST", ALGO_ORDER, Purpose::Order),
    ("DELETE", ALGO_ORDER, Purpose::Cancel),
    ("GET", ALGO_ORDER, Purpose::Read),
    ("DELETE", ALGO_OPEN_ORDERS, Purpose::CancelAll),
    ("GET", OPEN_ALGO_ORDERS, Purpose::Read),
    ("GET", OPEN_ORDER, Purpose::Read),
    ("GET", OPEN_ORDERS, Purpose::Read),
    ("GET", ALL_ORDERS, Purpose::Read),
    ("GET", USER_TRADES, Purpose::Read),
    ("GET", INCOME, Purpose::Read),
    ("GET", COMMISSION_RATE, Purpose::Read),
    ("GET", LEVERAGE_BRACKET, Purpose::Read),
    ("GET", POSITION_SIDE_DUAL, Purpose::Read),
    ("GET", RATE_LIMIT_ORDER, Purpose::Read),
    ("GET", BALANCE_V2, Purpose::Read),
    ("GET", BALANCE_V3, Purpose::Read),
    ("GET", ACCOUNT_V2, Purpose::Read),
    ("GET", ACCOUNT_V3, Purpose::Read),
    ("GET", POSITION_RISK_V2, Purpose::Read),
    ("GET", POSITION_RISK_V3, Purpose::Read),
    ("POST", LEVERAGE, Purpose::Leverage),
    ("POST", MARGIN_TYPE, Purpose::Leverage),
];

/// What the signed endpoint `method path` does; `None` for any other.
pub fn signed_purpose(method: &str, path: &str) -> Option<Purpose> {
    SIGNED
        .iter()
        .find(|(known_method, known_path, _)| *known_method == method && *known_path == path)
        .map(|(_, _, purpose)| *purpose)
}

/// The WebSocket API methods that are signed, and what each does
/// (`None`: the session's logon).
pub const SIGNED_SOCKET_METHODS: &[(&str, Option<Purpose>)] = &[
    ("session.logon", None),
    ("order.place", Some(Purpose::Order)),
    ("order.modify", Some(Purpose::Modify)),
    ("order.cancel", Some(Purpose::Cancel)),
    ("order.status", Some(Purpose::Read)),
    ("algoOrder.place", Some(Purpose::Order)),
    ("algoOrder.cancel", Some(Purpose::Cancel)),
    ("account.status", Some(Purpose::Read)),
    ("account.balance", Some(Purpose::Read)),
    ("account.position", Some(Purpose::Read)),
    ("v2/account.status", Some(Purpose::Read)),
    ("v2/account.balance", Some(Purpose::Read)),
    ("v2/account.position", Some(Purpose::Read)),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_endpoints_are_known_by_method_and_path() {
        assert_eq!(signed_purpose("PUT", ORDER), Some(Purpose::Modify));
        assert_eq!(
            signed_purpose("POST", COUNTDOWN_CANCEL_ALL),
            Some(Purpose::DeadManSwitch)
        );
        assert_eq!(signed_purpose("GET", EXCHANGE_INFO), None);
        assert_eq!(
            signed_purpose("POST", "/sapi/v1/capital/withdraw/apply"),
            None
        );
    }
}
