//! Market stream names (`btcusdt@depth@100ms`) and the routed path each
//! travels on since Binance split its hosts: book data on `/public`,
//! everything else of the market on `/market`, user data on `/private`.

/// How often a diff-depth stream pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepthSpeed {
    /// Every 250 ms (`@depth`).
    Default,
    /// Every 100 ms (`@depth@100ms`).
    Ms100,
    /// Every 500 ms (`@depth@500ms`).
    Ms500,
}

/// One market stream of a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketStream {
    /// `@depth[@100ms|@500ms]`: diffs with `U`, `u`, `pu`.
    Depth(DepthSpeed),
    /// `@bookTicker`: the best bid and offer.
    BookTicker,
    /// `@aggTrade`: trades, aggregated per taker order and price.
    AggTrade,
    /// `@markPrice[@1s]`: mark, index and funding (every 3 s, or 1 s).
    MarkPrice {
        /// Every second.
        every_second: bool,
    },
}

/// The routed path a stream travels on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/public`: high-frequency book data.
    Public,
    /// `/market`: trades, mark prices, klines.
    Market,
    /// `/private`: user data by listen key.
    Private,
}

impl Route {
    /// The path's first segment, e.g. `/public`.
    pub fn path(self) -> &'static str {
        match self {
            Route::Public => "/public",
            Route::Market => "/market",
            Route::Private => "/private",
        }
    }
}

impl MarketStream {
    /// The stream's suffix after `<symbol>@`.
    pub fn suffix(self) -> &'static str {
        match self {
            MarketStream::Depth(DepthSpeed::Default) => "depth",
            MarketStream::Depth(DepthSpeed::Ms100) => "depth@100ms",
            MarketStream::Depth(DepthSpeed::Ms500) => "depth@500ms",
            MarketStream::BookTicker => "bookTicker",
            MarketStream::AggTrade => "aggTrade",
            MarketStream::MarkPrice {
                every_second: false,
            } => "markPrice",
            MarketStream::MarkPrice { every_second: true } => "markPrice@1s",
        }
    }

    /// The stream's name for `symbol` (written in lower case).
    pub fn name(self, symbol: &str) -> String {
        format!("{}@{}", symbol.to_ascii_lowercase(), self.suffix())
    }

    /// The symbol (upper case) and stream of a name.
    pub fn parse(name: &str) -> Option<(String, MarketStream)> {
        let (symbol, suffix) = name.split_once('@')?;
        let stream = match suffix {
            "depth" | "depth@250ms" => MarketStream::Depth(DepthSpeed::Default),
            "depth@100ms" => MarketStream::Depth(DepthSpeed::Ms100),
            "depth@500ms" => MarketStream::Depth(DepthSpeed::Ms500),
            "bookTicker" => MarketStream::BookTicker,
            "aggTrade" => MarketStream::AggTrade,
            "markPrice" => MarketStream::MarkPrice {
                every_second: false,
            },
            "markPrice@1s" => MarketStream::MarkPrice { every_second: true },
            _ => return None,
        };
        (!symbol.is_empty()).then(|| (symbol.to_ascii_uppercase(), stream))
    }

    /// The routed path it travels on.
    pub fn route(self) -> Route {
        match self {
            MarketStream::Depth(_) | MarketStream::BookTicker => Route::Public,
            MarketStream::AggTrade | MarketStream::MarkPrice { .. } => Route::Market,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_route_as_binance_routes_them() {
        for stream in [
            MarketStream::Depth(DepthSpeed::Ms100),
            MarketStream::Depth(DepthSpeed::Default),
            MarketStream::BookTicker,
            MarketStream::AggTrade,
            MarketStream::MarkPrice { every_second: true },
        ] {
            let name = stream.name("BTCUSDT");
            assert!(name.starts_with("btcusdt@"), "{name}");
            assert_eq!(MarketStream::parse(&name), Some(("BTCUSDT".into(), stream)));
        }
        assert_eq!(
            MarketStream::Depth(DepthSpeed::Ms100).route(),
            Route::Public
        );
        assert_eq!(MarketStream::BookTicker.route(), Route::Public);
        assert_eq!(MarketStream::AggTrade.route(), Route::Market);
        assert_eq!(Route::Market.path(), "/market");
        assert_eq!(MarketStream::parse("btcusdt@kline_1m"), None);
        assert_eq!(MarketStream::parse("@depth"), None);
    }
}
