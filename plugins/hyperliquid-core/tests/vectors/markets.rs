//! Market table: asset ids, size decimals and name resolution.

use hyperliquid_core::{
    MarketError, MarketKind, MarketTable, parse_meta_and_asset_ctxs, parse_spot_meta,
    perp_mark_prices, spot_mark_prices,
};

/// A synthetic `meta` with the vectors' indices (BTC 0, ETH 1, SOL 5).
const META: &str = r#"{"universe":[
    {"name":"BTC","szDecimals":5,"maxLeverage":50,"marginTableId":50},
    {"name":"ETH","szDecimals":4,"maxLeverage":50,"marginTableId":50},
    {"name":"ATOM","szDecimals":2,"maxLeverage":10,"marginTableId":10},
    {"name":"MATIC","szDecimals":1,"maxLeverage":10,"marginTableId":10,"isDelisted":true},
    {"name":"kPEPE","szDecimals":0,"maxLeverage":10,"marginTableId":10},
    {"name":"SOL","szDecimals":2,"maxLeverage":20,"marginTableId":20}
  ],"marginTables":[],"collateralToken":0}"#;

const SPOT_META: &str = r#"{"universe":[
    {"tokens":[1,0],"name":"PURR/USDC","index":0,"isCanonical":true},
    {"tokens":[150,0],"name":"@107","index":107,"isCanonical":false}
  ],"tokens":[
    {"name":"USDC","szDecimals":8,"weiDecimals":8,"index":0,"tokenId":"0x00","isCanonical":true},
    {"name":"PURR","szDecimals":0,"weiDecimals":5,"index":1,"tokenId":"0x01","isCanonical":true},
    {"name":"HYPE","szDecimals":2,"weiDecimals":8,"index":150,"tokenId":"0x02","isCanonical":false}
  ]}"#;

fn table() -> MarketTable {
    MarketTable::from_info(META, Some(SPOT_META)).expect("table")
}

#[test]
fn asset_mapping_vectors() {
    let table = table();
    for case in crate::vectors()["number_formatting"]["asset_mapping"]
        .as_array()
        .expect("asset_mapping")
    {
        let market = table
            .resolve(case["name"].as_str().expect("name"))
            .expect("resolve");
        assert_eq!(market.coin, case["coin"].as_str().expect("coin"), "{case}");
        assert_eq!(
            u64::from(market.asset),
            case["asset"].as_u64().expect("asset"),
            "{case}"
        );
        assert_eq!(
            u64::from(market.sz_decimals),
            case["sz_decimals"].as_u64().expect("sz"),
            "{case}"
        );
    }
}

#[test]
fn name_styles_resolve_to_the_same_market() {
    let table = table();
    for name in ["BTC", "BTC-USD", "BTC-PERP"] {
        let market = table.resolve(name).expect(name);
        assert_eq!((market.asset, market.kind), (0, MarketKind::Perp), "{name}");
    }
    for name in ["@107", "HYPE/USDC", "HYPE-USDC"] {
        let market = table.resolve(name).expect(name);
        assert_eq!(market.asset, 10_107, "{name}");
        assert_eq!(market.coin, "@107");
        assert_eq!(market.display_name, "HYPE/USDC");
        assert_eq!(market.sz_decimals, 2);
        assert_eq!(market.kind, MarketKind::Spot);
    }
    assert_eq!(table.resolve("PURR-USDC").expect("purr").asset, 10_000);
    assert_eq!(table.resolve("kPEPE-USD").expect("kpepe").asset, 4);
    assert!(table.resolve("MATIC").expect("matic").delisted);
    assert_eq!(table.by_asset(5).expect("sol").coin, "SOL");
    assert!(table.by_asset(6).is_none());
    assert_eq!(table.markets().len(), 8);
}

#[test]
fn unknown_names_are_typed_errors_naming_the_pair() {
    let table = table();
    for name in [
        "DOGE-USD",
        "KPEPE",
        "BTC-USDC",
        "PURR/USDT",
        "@999",
        "",
        "HYPE-PERP",
    ] {
        match table.resolve(name) {
            Err(MarketError::UnknownPair { name: reported }) => assert_eq!(reported, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    let err = table.resolve("DOGE-USD").expect_err("unknown");
    assert!(err.to_string().contains("DOGE-USD"));
}

#[test]
fn meta_and_asset_ctxs_uses_the_meta_half() {
    let json = format!(r#"[{META}, [{{"markPx":"65000.0","midPx":null}}]]"#);
    let markets = parse_meta_and_asset_ctxs(&json).expect("parse");
    assert_eq!(markets.len(), 6);
    assert_eq!(markets[5].coin, "SOL");
    assert!(matches!(
        parse_meta_and_asset_ctxs(META),
        Err(MarketError::NotMetaAndAssetCtxs)
    ));
}

#[test]
fn malformed_metadata_is_refused() {
    assert!(matches!(
        MarketTable::from_info(r#"{"universe":[{"name":"BTC"}]}"#, None),
        Err(MarketError::Json(_))
    ));
    let dangling = r#"{"universe":[{"tokens":[7,0],"name":"@3","index":3}],
        "tokens":[{"name":"USDC","szDecimals":8,"index":0}]}"#;
    assert!(matches!(
        parse_spot_meta(dangling),
        Err(MarketError::UnknownToken { token: 7, .. })
    ));
}

#[test]
fn shared_display_names_are_ambiguous() {
    let spot = r#"{"universe":[
        {"tokens":[1,0],"name":"@1","index":1},
        {"tokens":[2,0],"name":"@2","index":2}
      ],"tokens":[
        {"name":"USDC","szDecimals":8,"index":0},
        {"name":"TWIN","szDecimals":0,"index":1},
        {"name":"TWIN","szDecimals":1,"index":2}
      ]}"#;
    let table = MarketTable::from_info(META, Some(spot)).expect("table");
    assert!(matches!(
        table.resolve("TWIN/USDC"),
        Err(MarketError::AmbiguousName { .. })
    ));
    assert_eq!(table.resolve("@2").expect("coin").sz_decimals, 1);
}

fn dec(text: &str) -> rust_decimal::Decimal {
    text.parse().expect("decimal")
}

#[test]
fn mark_prices_are_keyed_by_asset_id() {
    let ctx = |mark: &str| format!(r#"{{"funding":"0.0","markPx":{mark},"oraclePx":"1.0"}}"#);
    let contexts = [
        ctx("\"97000.5\""),
        ctx("\"3500.0\""),
        ctx("null"),
        ctx("\"x\""),
        ctx("\"0\""),
    ]
    .join(",");
    let perps = perp_mark_prices(&format!("[{META},[{contexts}]]")).expect("perps");
    assert_eq!(perps, vec![(0, dec("97000.5")), (1, dec("3500.0"))]);
    // Spot contexts name their pair; `@107` is asset 10107 whatever its place.
    let spot = format!(
        r#"[{SPOT_META},[{{"coin":"@107","markPx":"21.5"}},{{"coin":"PURR/USDC","markPx":"0.2"}},{{"coin":"@9","markPx":"1"}}]]"#
    );
    assert_eq!(
        spot_mark_prices(&spot).expect("spot"),
        vec![(10107, dec("21.5")), (10000, dec("0.2"))]
    );
    assert!(matches!(
        perp_mark_prices(META),
        Err(MarketError::NotMetaAndAssetCtxs)
    ));
    assert!(matches!(
        spot_mark_prices("[1,2,3]"),
        Err(MarketError::NotSpotMetaAndAssetCtxs)
    ));
}
