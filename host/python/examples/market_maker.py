#!/usr/bin/env python3
"""Quote both sides of one market around its mid, and move the quotes with
the market by modifying them in place.

    python3 market_maker.py --exchange hl-local --pair BTC-USD --size 0.001 --spread-bps 20 --seconds 60

Keeps one post-only bid and one post-only ask at mid ∓ half the spread;
when the mid moves by more than --requote-bps, each quote is modified to
the new price (one modify at a time per order; a quote that ends is placed
anew). Cancels both at exit. Prints a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from connector_host_client import Client, Event, HostError, Subscriber, commands

LIVE = {"PENDING_CREATE", "PENDING_SUBMIT", "OPEN", "PARTIALLY_FILLED", "PENDING_CANCEL"}


class Quoter:
    """The two quotes and what was done with them."""

    def __init__(self, host: Client, args: argparse.Namespace) -> None:
        self.host = host
        self.args = args
        self.orders: dict[str, str | None] = {"buy": None, "sell": None}
        self.prices: dict[str, Decimal] = {}
        self.anchor: Decimal | None = None
        self.counts = {"placed": 0, "modified": 0, "refused": 0, "fills": 0}

    def price(self, side: str, mid: Decimal) -> Decimal:
        half = mid * Decimal(self.args.spread_bps) / Decimal(20_000)
        raw = mid - half if side == "buy" else mid + half
        return raw.quantize(self.args.tick, rounding=ROUND_DOWN if side == "buy" else ROUND_UP)

    def quote(self, mid: Decimal) -> None:
        moved = self.anchor is None or abs(mid - self.anchor) / self.anchor * 10_000 > self.args.requote_bps
        for side in ("buy", "sell"):
            order_id = self.orders[side]
            price = self.price(side, mid)
            try:
                if order_id is None:
                    self.orders[side] = self.host.call(commands.order(
                        side, self.args.pair, self.args.size, price, order_type="LIMIT_MAKER",
                        exchange=self.args.exchange))
                    self.counts["placed"] += 1
                elif moved and self.prices.get(side) != price:
                    self.host.call(commands.modify(order_id, price=price, exchange=self.args.exchange))
                    self.counts["modified"] += 1
                else:
                    continue
                self.prices[side] = price
            except HostError as error:
                # A quote that ended meanwhile, a price the limits refuse:
                # placed anew on the next mid.
                self.counts["refused"] += 1
                if error.code in ("unknown_order", "order_closed", "cancel_pending"):
                    self.orders[side] = None
        if moved:
            self.anchor = mid

    def order_event(self, data: dict) -> None:
        for side, order_id in self.orders.items():
            if order_id == data.get("client_order_id"):
                if data.get("trade") is not None:
                    self.counts["fills"] += 1
                if data["order_state"] not in LIVE:
                    self.orders[side] = None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", default="tcp://127.0.0.1:5556")
    parser.add_argument("--events", default="tcp://127.0.0.1:5555")
    parser.add_argument("--exchange", required=True)
    parser.add_argument("--pair", required=True)
    parser.add_argument("--size", type=Decimal, required=True)
    parser.add_argument("--spread-bps", type=int, default=20)
    parser.add_argument("--requote-bps", type=int, default=2)
    parser.add_argument("--tick", type=Decimal, default=Decimal("1"))
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()

    with Client(args.commands) as host:
        quoter = Quoter(host, args)
        subscriber = Subscriber(args.events, host, topics=[
            f"market.{args.exchange}.bbo.{args.pair}", f"orders.{args.exchange}."])
        mids = 0
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            item = subscriber.next(max(0.0, deadline - time.monotonic()))
            if not isinstance(item, Event):
                continue
            if item.family.startswith("orders."):
                quoter.order_event(item.data)
            elif item.data["bid_price"] is not None and item.data["ask_price"] is not None:
                mids += 1
                quoter.quote((Decimal(item.data["bid_price"]) + Decimal(item.data["ask_price"])) / 2)
        left = host.call(commands.cancel_all(args.pair, exchange=args.exchange))
        subscriber.close()
    print(json.dumps({"mids": mids, **quoter.counts, "cancelled_at_exit": len(left)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
