//! Accounts: perp collateral, positions, leverage, cross margin, spot balances
//! and holds, fills, and the bookkeeping of one fill.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use rust_decimal::Decimal;

use crate::book::Oid;
use crate::entry::ClientId;
use crate::orders::Fill;

/// Leverage used for a perp when the user never set one (capped at the market's maximum).
pub const DEFAULT_LEVERAGE: u32 = 20;

/// One perp position (one-way mode).
#[derive(Debug, Clone, Default)]
pub struct Position {
    /// Signed size: positive long, negative short.
    pub szi: Decimal,
    /// Average entry price.
    pub entry_px: Decimal,
    /// Margin set aside for an isolated position (zero when cross).
    pub isolated_margin: Decimal,
}

/// Leverage setting of one perp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leverage {
    /// Cross (true) or isolated margin.
    pub is_cross: bool,
    /// Leverage.
    pub value: u32,
}

/// Dead man's switch state.
#[derive(Debug, Clone, Default)]
pub struct ScheduledCancel {
    /// When every open order gets cancelled (ms).
    pub deadline: Option<u64>,
    /// UTC day (ms / 86 400 000) of `fired_today`.
    pub day: u64,
    /// Triggers fired on `day`.
    pub fired_today: u32,
}

/// One funded account.
#[derive(Debug, Clone, Default)]
pub struct Account {
    /// Perp collateral (USDC), including realized PnL and fees.
    pub usdc: Decimal,
    /// Spot balances by token index.
    pub spot: BTreeMap<u32, Decimal>,
    /// Spot balance held by open orders, by token index.
    pub spot_hold: BTreeMap<u32, Decimal>,
    /// Open positions by asset.
    pub positions: BTreeMap<u32, Position>,
    /// Leverage settings by asset.
    pub leverage: HashMap<u32, Leverage>,
    /// Margin held by open perp orders.
    pub order_margin: Decimal,
    /// Open orders (resting or waiting for a trigger).
    pub open_orders: BTreeSet<Oid>,
    /// Every order ever placed, oldest first.
    pub orders: Vec<Oid>,
    /// Latest order per client order id.
    pub cloids: HashMap<ClientId, Oid>,
    /// Fills, oldest first, bounded.
    pub fills: VecDeque<Fill>,
    /// Traded notional.
    pub cum_volume: Decimal,
    /// Order and cancel requests counted against the address limit.
    pub requests: u64,
    /// When an address over its limit may send its next action (10 s after
    /// its last one), ms.
    pub next_request_over_limit_ms: u64,
    /// Dead man's switch.
    pub scheduled_cancel: ScheduledCancel,
}

/// What a perp fill did to the position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerpFillEffect {
    /// Signed size before.
    pub start_position: Decimal,
    /// `Open Long`, `Close Long`, `Open Short`, `Close Short`, `Long > Short`, `Short > Long`.
    pub dir: &'static str,
    /// Realized PnL of the closed part (fees excluded).
    pub closed_pnl: Decimal,
}

/// Margin totals of an account at given mark prices.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarginSummary {
    /// Collateral plus unrealized PnL.
    pub account_value: Decimal,
    /// Sum of |position| × mark.
    pub total_ntl_pos: Decimal,
    /// Account value minus signed position notional.
    pub total_raw_usd: Decimal,
    /// Initial margin of positions.
    pub total_margin_used: Decimal,
    /// Maintenance margin of cross positions (half the initial margin at max leverage).
    pub maintenance: Decimal,
}

/// How often an address over its request limit may still act, ms.
const OVER_LIMIT_INTERVAL_MS: u64 = 10_000;

impl Account {
    /// The address rate limit: `buffer` plus one request per USDC traded.
    pub fn request_cap(&self, buffer: u64) -> u64 {
        buffer.saturating_add(self.cum_volume.trunc().try_into().unwrap_or(0))
    }

    /// Counts `items` requests against the address limit, or says why not:
    /// over the cap (cancels: `min(cap + 100000, 2·cap)`) an address may
    /// act once 10 s have passed since its last action.
    pub fn spend_requests(
        &mut self,
        items: u64,
        is_cancel: bool,
        buffer: u64,
        now_ms: u64,
    ) -> Result<(), String> {
        let cap = self.request_cap(buffer);
        let limit = if is_cancel {
            cap.saturating_add(100_000).min(cap.saturating_mul(2))
        } else {
            cap
        };
        let used = self.requests.saturating_add(items);
        if used > limit && now_ms < self.next_request_over_limit_ms {
            return Err(format!(
                "Too many cumulative requests sent ({used} > {limit}) for cumulative volume traded ${:.2}. Place taker orders to free up 1 request per USDC traded.",
                self.cum_volume
            ));
        }
        self.requests = used;
        self.next_request_over_limit_ms = now_ms + OVER_LIMIT_INTERVAL_MS;
        Ok(())
    }

    /// Leverage of `asset`, defaulting to cross at min(20, max).
    pub fn leverage_of(&self, asset: u32, max_leverage: u32) -> Leverage {
        self.leverage.get(&asset).copied().unwrap_or(Leverage {
            is_cross: true,
            value: DEFAULT_LEVERAGE.min(max_leverage),
        })
    }

    /// Signed position size of `asset`.
    pub fn position_size(&self, asset: u32) -> Decimal {
        self.positions.get(&asset).map_or(Decimal::ZERO, |p| p.szi)
    }

    /// Spot balance not held by open orders.
    pub fn spot_available(&self, token: u32) -> Decimal {
        self.spot.get(&token).copied().unwrap_or_default()
            - self.spot_hold.get(&token).copied().unwrap_or_default()
    }

    /// Changes the hold of a token by `delta`.
    pub fn adjust_hold(&mut self, token: u32, delta: Decimal) {
        let hold = self.spot_hold.entry(token).or_default();
        *hold += delta;
        if hold.is_zero() {
            self.spot_hold.remove(&token);
        }
    }

    /// Margin totals; `mark` gives the mark price and `max_leverage` of an asset.
    pub fn margin_summary(&self, market: impl Fn(u32) -> (Decimal, u32)) -> MarginSummary {
        let mut summary = MarginSummary {
            account_value: self.usdc,
            ..MarginSummary::default()
        };
        let mut signed_notional = Decimal::ZERO;
        for (asset, position) in &self.positions {
            let (mark, max_leverage) = market(*asset);
            let notional = position.szi * mark;
            let upnl = (mark - position.entry_px) * position.szi;
            summary.account_value += upnl + position.isolated_margin;
            summary.total_ntl_pos += notional.abs();
            signed_notional += notional;
            let leverage = self.leverage_of(*asset, max_leverage);
            if leverage.is_cross {
                summary.total_margin_used += notional.abs() / Decimal::from(leverage.value);
                summary.maintenance += notional.abs() / Decimal::from(2 * max_leverage);
            } else {
                summary.total_margin_used += position.isolated_margin;
            }
        }
        summary.total_raw_usd = summary.account_value - signed_notional;
        summary
    }

    /// Applies a perp fill of `sz` at `px` (positive `sz` buys) and its fee.
    pub fn apply_perp_fill(
        &mut self,
        asset: u32,
        leverage: Leverage,
        is_buy: bool,
        px: Decimal,
        sz: Decimal,
        fee: Decimal,
    ) -> PerpFillEffect {
        let delta = if is_buy { sz } else { -sz };
        let position = self.positions.entry(asset).or_default();
        let start = position.szi;
        let new = start + delta;
        let mut closed_pnl = Decimal::ZERO;
        let dir;
        if start.is_zero() || (start > Decimal::ZERO) == is_buy {
            position.entry_px = (start.abs() * position.entry_px + sz * px) / new.abs();
            dir = if is_buy { "Open Long" } else { "Open Short" };
            if !leverage.is_cross {
                let margin = sz * px / Decimal::from(leverage.value);
                position.isolated_margin += margin;
                self.usdc -= margin;
            }
        } else {
            let closed = sz.min(start.abs());
            let direction = if start > Decimal::ZERO {
                Decimal::ONE
            } else {
                Decimal::NEGATIVE_ONE
            };
            closed_pnl = closed * (px - position.entry_px) * direction;
            if !leverage.is_cross {
                let released = position.isolated_margin * closed / start.abs();
                position.isolated_margin -= released;
                self.usdc += released;
            }
            if sz > start.abs() {
                dir = if is_buy {
                    "Short > Long"
                } else {
                    "Long > Short"
                };
                position.entry_px = px;
                if !leverage.is_cross {
                    let margin = new.abs() * px / Decimal::from(leverage.value);
                    position.isolated_margin += margin;
                    self.usdc -= margin;
                }
            } else {
                dir = if is_buy { "Close Short" } else { "Close Long" };
            }
        }
        position.szi = new;
        if new.is_zero() {
            self.usdc += position.isolated_margin;
            self.positions.remove(&asset);
        }
        self.usdc += closed_pnl - fee;
        PerpFillEffect {
            start_position: start,
            dir,
            closed_pnl,
        }
    }

    /// Applies a spot fill: base and quote balances move, the fee is taken from
    /// what the user receives. Returns the base balance before the fill.
    pub fn apply_spot_fill(
        &mut self,
        (base, quote): (u32, u32),
        is_buy: bool,
        px: Decimal,
        sz: Decimal,
        fee: Decimal,
    ) -> Decimal {
        let start = self.spot.get(&base).copied().unwrap_or_default();
        let notional = px * sz;
        let (base_delta, quote_delta) = if is_buy {
            (sz - fee, -notional)
        } else {
            (-sz, notional - fee)
        };
        *self.spot.entry(base).or_default() += base_delta;
        *self.spot.entry(quote).or_default() += quote_delta;
        start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    const CROSS: Leverage = Leverage {
        is_cross: true,
        value: 10,
    };

    #[test]
    fn the_address_limit_grows_with_volume_and_lets_cancels_go_further() {
        let mut account = Account::default();
        assert!(account.spend_requests(3, false, 3, 0).is_ok());
        let refused = account.spend_requests(1, false, 3, 0).unwrap_err();
        assert!(
            refused.starts_with("Too many cumulative requests sent (4 > 3)"),
            "{refused}"
        );
        // Cancels may go to min(cap + 100000, 2·cap) = 6.
        assert!(account.spend_requests(3, true, 3, 0).is_ok());
        assert!(account.spend_requests(1, true, 3, 0).is_err());
        assert!(
            account.spend_requests(1, true, 3, 10_000).is_ok(),
            "one per 10 s over the limit"
        );
        assert!(account.spend_requests(1, true, 3, 19_999).is_err());
        assert!(account.spend_requests(1, false, 3, 20_000).is_ok());
        // One more request per USDC traded.
        account.cum_volume = d("100.7");
        assert_eq!(account.request_cap(3), 103);
        assert!(account.spend_requests(90, false, 3, 20_001).is_ok());
        assert_eq!(account.requests, 98);
    }

    #[test]
    fn open_increase_close_and_flip() {
        let mut account = Account {
            usdc: d("1000"),
            ..Account::default()
        };
        let open = account.apply_perp_fill(0, CROSS, true, d("100"), d("1"), d("0.1"));
        assert_eq!(open.dir, "Open Long");
        account.apply_perp_fill(0, CROSS, true, d("110"), d("1"), Decimal::ZERO);
        assert_eq!(account.positions[&0].entry_px, d("105"));
        let close = account.apply_perp_fill(0, CROSS, false, d("115"), d("1"), Decimal::ZERO);
        assert_eq!((close.dir, close.closed_pnl), ("Close Long", d("10")));
        let flip = account.apply_perp_fill(0, CROSS, false, d("120"), d("3"), Decimal::ZERO);
        assert_eq!(
            (flip.dir, flip.closed_pnl, flip.start_position),
            ("Long > Short", d("15"), d("1"))
        );
        assert_eq!(account.position_size(0), d("-2"));
        assert_eq!(account.positions[&0].entry_px, d("120"));
        assert_eq!(account.usdc, d("1024.9"));
        let summary = account.margin_summary(|_| (d("110"), 20));
        assert_eq!(summary.account_value, d("1044.9"));
        assert_eq!(summary.total_margin_used, d("11"));
    }

    #[test]
    fn isolated_margin_moves_with_the_position() {
        let isolated = Leverage {
            is_cross: false,
            value: 5,
        };
        let mut account = Account {
            usdc: d("1000"),
            ..Account::default()
        };
        account.apply_perp_fill(1, isolated, true, d("100"), d("5"), Decimal::ZERO);
        assert_eq!(account.positions[&1].isolated_margin, d("100"));
        assert_eq!(account.usdc, d("900"));
        account.apply_perp_fill(1, isolated, false, d("100"), d("5"), Decimal::ZERO);
        assert!(account.positions.is_empty());
        assert_eq!(account.usdc, d("1000"));
    }
}
