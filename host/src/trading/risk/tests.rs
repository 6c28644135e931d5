use super::*;
use crate::order::{ClientOrderId, OrderType, TimeInForce};

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn order(side: TradeType, price: &str, amount: &str) -> NewOrder {
    NewOrder {
        exits: None,
        parent: None,
        trigger_reference: None,
        client_order_id: ClientOrderId(7),
        exchange: "hl".into(),
        trading_pair: "BTC-USD".into(),
        order_type: OrderType::Limit,
        trade_type: side,
        position_action: None,
        time_in_force: TimeInForce::Gtc,
        price: d(price),
        amount: d(amount),
        creation_timestamp_ms: 0,
        trigger_price: None,
    }
}

fn limits(configure: impl FnOnce(&mut Limits)) -> Limits {
    let mut limits = Limits::default();
    configure(&mut limits);
    limits
}

fn refused_by(
    limits: &Limits,
    order: &NewOrder,
    mid: Option<&str>,
    exposure: &Exposure,
    recent: u32,
) -> Option<&'static str> {
    check(limits, order, mid.map(d), exposure, recent)
        .err()
        .map(|refusal| refusal.limit)
}

#[test]
fn no_limits_pass_everything() {
    let huge = order(TradeType::Buy, "1000000", "1000");
    assert_eq!(
        refused_by(&Limits::default(), &huge, None, &Exposure::default(), 1_000),
        None
    );
}

#[test]
fn size_and_notional_refuse_above_and_pass_at_the_limit() {
    let size = limits(|l| l.max_order_size = Some(d("0.5")));
    let none = Exposure::default();
    assert_eq!(
        refused_by(&size, &order(TradeType::Buy, "100", "0.5"), None, &none, 0),
        None
    );
    assert_eq!(
        refused_by(&size, &order(TradeType::Buy, "100", "0.51"), None, &none, 0),
        Some("max_order_size")
    );
    let notional = limits(|l| l.max_order_notional = Some(d("1000")));
    assert_eq!(
        refused_by(
            &notional,
            &order(TradeType::Sell, "100", "10"),
            None,
            &none,
            0
        ),
        None
    );
    assert_eq!(
        refused_by(
            &notional,
            &order(TradeType::Sell, "100.01", "10"),
            None,
            &none,
            0
        ),
        Some("max_order_notional")
    );
}

#[test]
fn open_orders_and_position_count_what_is_live() {
    let open = limits(|l| l.max_open_orders = Some(2));
    let one_open = Exposure {
        open_orders: 1,
        ..Exposure::default()
    };
    let two_open = Exposure {
        open_orders: 2,
        ..Exposure::default()
    };
    let buy = order(TradeType::Buy, "100", "1");
    assert_eq!(refused_by(&open, &buy, None, &one_open, 0), None);
    assert_eq!(
        refused_by(&open, &buy, None, &two_open, 0),
        Some("max_open_orders")
    );

    let position = limits(|l| l.max_position = Some(d("3")));
    let long = Exposure {
        position: d("1"),
        open_buys: d("1"),
        open_sells: d("2"),
        open_orders: 2,
    };
    // 1 held + 1 on the book + 1 = 3: at the limit.
    assert_eq!(refused_by(&position, &buy, None, &long, 0), None);
    assert_eq!(
        refused_by(
            &position,
            &order(TradeType::Buy, "100", "1.1"),
            None,
            &long,
            0
        ),
        Some("max_position")
    );
    // Selling: 1 − 2 − 3 = −4, beyond −3.
    assert_eq!(
        refused_by(
            &position,
            &order(TradeType::Sell, "100", "3"),
            None,
            &long,
            0
        ),
        Some("max_position")
    );
    // A reduce-only close is never refused for the position.
    let mut close = order(TradeType::Sell, "100", "3");
    close.position_action = Some(PositionAction::Close);
    assert_eq!(refused_by(&position, &close, None, &long, 0), None);
}

#[test]
fn the_price_band_needs_a_mid_and_refuses_far_prices() {
    let band = limits(|l| l.price_band_percent = Some(d("5")));
    for (side, price, mid, refused) in [
        (TradeType::Buy, "95", Some("100"), false),
        (TradeType::Sell, "105", Some("100"), false),
        (TradeType::Buy, "94.99", Some("100"), true),
        (TradeType::Sell, "1000", Some("100"), true),
        // No book, no fat-finger check: refused.
        (TradeType::Buy, "100", None, true),
    ] {
        let limit = refused_by(
            &band,
            &order(side, price, "1"),
            mid,
            &Exposure::default(),
            0,
        );
        assert_eq!(
            limit,
            refused.then_some("price_band_percent"),
            "{side:?} at {price}"
        );
    }
}

#[test]
fn orders_per_second_count_a_sliding_second() {
    let risk = RiskLimits::new(HashMap::from([(
        "BTC-USD".to_owned(),
        limits(|l| l.max_orders_per_second = Some(2)),
    )]));
    let buy = order(TradeType::Buy, "100", "1");
    let none = Exposure::default;
    assert!(risk.admit(&buy, None, none, 10_000).is_ok());
    assert!(risk.admit(&buy, None, none, 10_500).is_ok());
    let refused = risk.admit(&buy, None, none, 10_999).unwrap_err();
    assert_eq!(refused.limit, "max_orders_per_second");
    assert_eq!(
        refused.to_string(),
        "risk limit max_orders_per_second: 2 orders in the last second"
    );
    // The first left the window; refused orders were not counted.
    assert!(risk.admit(&buy, None, none, 11_000).is_ok());
    assert!(risk.admit(&buy, None, none, 11_001).is_err());
}

#[test]
fn limits_can_be_replaced_while_running() {
    let risk = RiskLimits::new(HashMap::new());
    let buy = order(TradeType::Buy, "100", "1");
    assert!(risk.admit(&buy, None, Exposure::default, 0).is_ok());
    risk.replace(HashMap::from([(
        "BTC-USD".to_owned(),
        limits(|l| l.max_order_size = Some(d("0.1"))),
    )]));
    assert_eq!(
        risk.admit(&buy, None, Exposure::default, 0)
            .unwrap_err()
            .limit,
        "max_order_size"
    );
}
