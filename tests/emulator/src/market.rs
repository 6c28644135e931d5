//! Markets: their static description, the seeded price process, tick sizes,
//! and the draws that shape synthetic liquidity and synthetic taker flow.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, RoundingStrategy};

use hyperliquid_core::{MarketKind, max_price_decimals};

use crate::book::Book;
use crate::config::LiquidityConfig;

/// First spot asset id.
pub const SPOT_ASSET_OFFSET: u32 = 10_000;
/// Smallest order value, in USDC (perps) or quote units (spot).
pub const MIN_NOTIONAL: Decimal = Decimal::TEN;
/// Significant figures a non-integer price may have.
const PRICE_SIG_FIGS: i64 = 5;
/// Basis points per unit.
const BPS: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// Static description of one market.
#[derive(Debug, Clone)]
pub struct MarketSpec {
    /// Coin name on the wire (`BTC`, `PURR/USDC`, `@107`).
    pub coin: String,
    /// Asset id used in actions.
    pub asset: u32,
    /// Size decimals.
    pub sz_decimals: u32,
    /// Perp or spot.
    pub kind: MarketKind,
    /// Highest leverage (perps; 1 for spot).
    pub max_leverage: u32,
    /// Funding rate shown in the asset context (perps).
    pub funding: Decimal,
    /// Base and quote token indices (spot).
    pub tokens: Option<(u32, u32)>,
    /// Fixed price step, when the venue has one (else five significant figures).
    pub tick: Option<Decimal>,
    /// Smallest order value in quote units.
    pub min_notional: Decimal,
}

impl MarketSpec {
    /// The smallest size step, `10^-szDecimals`.
    pub fn lot(&self) -> Decimal {
        Decimal::new(1, self.sz_decimals)
    }

    /// Rounds a size down to the lot.
    pub fn floor_size(&self, size: Decimal) -> Decimal {
        size.round_dp_with_strategy(self.sz_decimals, RoundingStrategy::ToZero)
    }

    /// The price step at `price`: the fifth significant figure, never below the
    /// market's decimal budget, never above 1 (integers are always valid).
    pub fn tick_at(&self, price: Decimal) -> Decimal {
        if let Some(tick) = self.tick {
            return tick;
        }
        let min_tick = Decimal::new(1, max_price_decimals(self.sz_decimals, self.kind));
        if price <= Decimal::ZERO {
            return min_tick;
        }
        let digits_before_point = i64::from(price.trunc().normalize().to_string().len() as u32);
        let exponent = if price >= Decimal::ONE {
            digits_before_point - PRICE_SIG_FIGS
        } else {
            // 0.00123 → leading digit at 10^-3.
            let fraction = price.normalize();
            let leading_zeros = fraction.scale() as i64 - (fraction.mantissa().ilog10() as i64 + 1);
            -leading_zeros - 1 - (PRICE_SIG_FIGS - 1)
        };
        let tick = if exponent >= 0 {
            Decimal::ONE
        } else {
            Decimal::new(1, (-exponent) as u32)
        };
        tick.max(min_tick)
    }

    /// Rounds a price to a valid tick at its own magnitude.
    pub fn round_price(&self, price: Decimal, strategy: RoundingStrategy) -> Decimal {
        let tick = self.tick_at(price);
        ((price / tick).round_dp_with_strategy(0, strategy) * tick).normalize()
    }
}

/// Live state of one market: reference price, marks, day statistics and the book.
#[derive(Debug)]
pub struct Market {
    /// Static description.
    pub spec: MarketSpec,
    /// The book.
    pub book: Book,
    /// Mark price (valid tick).
    pub mark: Decimal,
    /// Oracle price (the previous block's mark).
    pub oracle: Decimal,
    /// Price 24 h ago (the starting price).
    pub prev_day_px: Decimal,
    /// Notional traded since start.
    pub day_ntl_vlm: Decimal,
    /// Base size traded since start.
    pub day_base_vlm: Decimal,
    /// The latest public trades, oldest first (at most [`TAPE_LEN`]).
    pub tape: std::collections::VecDeque<PublicTrade>,
    process: PriceProcess,
}

/// Public trades a market keeps for venues' recent-trades queries.
pub const TAPE_LEN: usize = 1_000;

/// One public trade, as every venue reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicTrade {
    /// Trade id.
    pub tid: u64,
    /// Price.
    pub px: Decimal,
    /// Size.
    pub sz: Decimal,
    /// True when the taker bought.
    pub taker_buys: bool,
    /// Time (ms).
    pub time: u64,
}

/// Geometric random walk of the reference price.
#[derive(Debug)]
struct PriceProcess {
    reference: f64,
    rng: ChaCha8Rng,
}

/// Synthetic quotes of one side: `(price, size)`, best first.
pub type Quotes = Vec<(Decimal, Decimal)>;

/// One synthetic taker order.
#[derive(Debug, Clone, Copy)]
pub struct SyntheticTaker {
    /// Buys when true.
    pub is_buy: bool,
    /// Size.
    pub size: Decimal,
    /// Worst price it accepts.
    pub limit_px: Decimal,
}

impl Market {
    /// A market starting at `price`, its random stream seeded with `seed`.
    pub fn new(spec: MarketSpec, price: Decimal, seed: u64) -> Self {
        let mark = spec.round_price(price, RoundingStrategy::MidpointNearestEven);
        Self {
            spec,
            book: Book::default(),
            mark,
            oracle: mark,
            prev_day_px: mark,
            day_ntl_vlm: Decimal::ZERO,
            day_base_vlm: Decimal::ZERO,
            tape: std::collections::VecDeque::new(),
            process: PriceProcess {
                reference: mark.to_f64().unwrap_or(1.0),
                rng: ChaCha8Rng::seed_from_u64(seed),
            },
        }
    }

    /// Moves the reference price by one step of `dt_secs` and updates mark and oracle.
    pub fn step_price(&mut self, liquidity: &LiquidityConfig, dt_secs: f64) {
        let sigma = liquidity.volatility_bps_per_sec / 10_000.0 * dt_secs.max(0.0).sqrt();
        if sigma > 0.0 {
            let z = standard_normal(&mut self.process.rng);
            self.process.reference *= (sigma * z).exp();
        }
        self.oracle = self.mark;
        self.mark = self.reference_price();
    }

    /// Sets the reference price (admin), keeping the oracle one step behind.
    pub fn set_price(&mut self, price: Decimal) {
        self.process.reference = price.to_f64().unwrap_or(self.process.reference);
        self.oracle = self.mark;
        self.mark = self.reference_price();
    }

    fn reference_price(&self) -> Decimal {
        let raw = Decimal::from_f64(self.process.reference).unwrap_or(self.mark);
        let rounded = self
            .spec
            .round_price(raw, RoundingStrategy::MidpointNearestEven);
        if rounded.is_zero() {
            self.spec.tick_at(rounded)
        } else {
            rounded
        }
    }

    /// Synthetic quotes for this block: `(price, size)` per level, bids best
    /// first then asks best first, around the mark.
    pub fn synthetic_ladder(&mut self, liquidity: &LiquidityConfig) -> (Quotes, Quotes) {
        let mark = self.mark;
        let half_spread = mark * liquidity.half_spread_bps / BPS;
        let tick = self.spec.tick_at(mark);
        let step = (mark * liquidity.level_step_bps / BPS).max(tick);
        let mut bids = Vec::with_capacity(liquidity.levels as usize);
        let mut asks = Vec::with_capacity(liquidity.levels as usize);
        let mut last_bid = None;
        let mut last_ask = None;
        for level in 0..liquidity.levels {
            let offset = half_spread + step * Decimal::from(level);
            let bid = self
                .spec
                .round_price(mark - offset, RoundingStrategy::ToNegativeInfinity);
            let ask = self
                .spec
                .round_price(mark + offset, RoundingStrategy::ToPositiveInfinity);
            let bid = match last_bid {
                Some(previous) if bid >= previous => previous - self.spec.tick_at(previous),
                _ => bid.min(mark - tick),
            };
            let ask = match last_ask {
                Some(previous) if ask <= previous => previous + self.spec.tick_at(previous),
                _ => ask.max(mark + tick),
            };
            if bid > Decimal::ZERO {
                let size = self.random_size(
                    liquidity.min_level_notional,
                    liquidity.max_level_notional,
                    bid,
                );
                bids.push((bid, size));
                last_bid = Some(bid);
            }
            let size = self.random_size(
                liquidity.min_level_notional,
                liquidity.max_level_notional,
                ask,
            );
            asks.push((ask, size));
            last_ask = Some(ask);
        }
        (bids, asks)
    }

    /// Synthetic taker orders for a block of `dt_secs` (Poisson arrivals).
    pub fn synthetic_takers(
        &mut self,
        liquidity: &LiquidityConfig,
        dt_secs: f64,
    ) -> Vec<SyntheticTaker> {
        let expected = liquidity.taker_rate_per_sec * dt_secs.max(0.0);
        if expected <= 0.0 {
            return Vec::new();
        }
        let threshold = (-expected).exp();
        let mut product = 1.0;
        let mut takers = Vec::new();
        loop {
            product *= self.process.rng.random::<f64>();
            if product <= threshold {
                break;
            }
            let is_buy = self.process.rng.random_bool(0.5);
            let reach = self.mark * liquidity.taker_reach_bps / BPS;
            let limit_px = if is_buy {
                self.spec
                    .round_price(self.mark + reach, RoundingStrategy::ToPositiveInfinity)
            } else {
                self.spec.round_price(
                    (self.mark - reach).max(self.spec.tick_at(self.mark)),
                    RoundingStrategy::ToNegativeInfinity,
                )
            };
            let size = self.random_size(
                liquidity.min_taker_notional,
                liquidity.max_taker_notional,
                self.mark,
            );
            takers.push(SyntheticTaker {
                is_buy,
                size,
                limit_px,
            });
        }
        takers
    }

    /// A size worth between `min` and `max` notional at `price`, on the lot, at least one lot.
    fn random_size(&mut self, min: Decimal, max: Decimal, price: Decimal) -> Decimal {
        let fraction = Decimal::from_f64(self.process.rng.random::<f64>()).unwrap_or(Decimal::ZERO);
        let notional = min + (max - min) * fraction;
        self.spec.floor_size(notional / price).max(self.spec.lot())
    }

    /// Mid of the book, or the mark when a side is empty.
    pub fn mid(&self) -> Decimal {
        match (self.book.best_bid(), self.book.best_ask()) {
            (Some(bid), Some(ask)) => self.spec.round_price(
                (bid + ask) / Decimal::TWO,
                RoundingStrategy::MidpointNearestEven,
            ),
            _ => self.mark,
        }
    }
}

/// A standard normal draw (Box–Muller).
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperliquid_core::check_price;

    fn spec(sz_decimals: u32, kind: MarketKind) -> MarketSpec {
        MarketSpec {
            coin: "X".into(),
            asset: 0,
            sz_decimals,
            kind,
            max_leverage: 10,
            funding: Decimal::ZERO,
            tokens: None,
            tick: None,
            min_notional: crate::market::MIN_NOTIONAL,
        }
    }

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn ticks_follow_the_five_significant_figure_rule() {
        let btc = spec(5, MarketKind::Perp);
        assert_eq!(btc.tick_at(d("100000")), Decimal::ONE);
        assert_eq!(btc.tick_at(d("65000")), Decimal::ONE);
        assert_eq!(btc.tick_at(d("3500")), d("0.1"));
        let sol = spec(2, MarketKind::Perp);
        assert_eq!(sol.tick_at(d("150")), d("0.01"));
        let purr = spec(0, MarketKind::Spot);
        assert_eq!(purr.tick_at(d("0.2")), d("0.00001"));
        assert_eq!(purr.tick_at(d("0.0012")), d("0.0000001"));
        for (market, price) in [(&btc, "65432.7"), (&sol, "151.237"), (&purr, "0.123456")] {
            let rounded = market.round_price(d(price), RoundingStrategy::ToZero);
            check_price(rounded, market.sz_decimals, market.kind).unwrap();
        }
    }

    #[test]
    fn ladders_are_deep_sorted_and_deterministic() {
        let liquidity = LiquidityConfig::default();
        let make = || Market::new(spec(4, MarketKind::Perp), d("3500"), 42);
        let mut a = make();
        let mut b = make();
        a.step_price(&liquidity, 0.1);
        b.step_price(&liquidity, 0.1);
        let (bids, asks) = a.synthetic_ladder(&liquidity);
        assert_eq!((bids.clone(), asks.clone()), b.synthetic_ladder(&liquidity));
        assert_eq!(bids.len(), 25);
        assert!(bids.windows(2).all(|w| w[0].0 > w[1].0));
        assert!(asks.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(bids[0].0 < asks[0].0);
        for (price, size) in bids.iter().chain(&asks) {
            check_price(*price, 4, MarketKind::Perp).unwrap();
            assert!(*size > Decimal::ZERO);
        }
    }
}
