#!/usr/bin/env python3
"""Buy or sell an amount evenly over a time: one market order per slice,
each followed to its end before the next.

    python3 twap.py --exchange hl-local --pair BTC-USD --side buy --amount 0.01 --slices 5 --seconds 60

A slice that fills only in part leaves the rest to the next ones; the last
slice takes what is left. Prints a JSON summary: filled amount, average
price, slices.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from decimal import Decimal

from connector_host_client import Client, Event, Subscriber, commands

FINAL = {"FILLED", "CANCELLED", "EXPIRED", "FAILED"}


def follow(subscriber: Subscriber, order_id: str, timeout: float) -> dict:
    """The order's last state, once final."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = subscriber.next(max(0.0, deadline - time.monotonic()))
        if isinstance(item, Event) and item.data.get("client_order_id") == order_id:
            if item.data["order_state"] in FINAL:
                return item.data
    raise SystemExit(f"order {order_id} did not end within {timeout} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", default="tcp://127.0.0.1:5556")
    parser.add_argument("--events", default="tcp://127.0.0.1:5555")
    parser.add_argument("--exchange", required=True)
    parser.add_argument("--pair", required=True)
    parser.add_argument("--side", choices=["buy", "sell"], required=True)
    parser.add_argument("--amount", type=Decimal, required=True)
    parser.add_argument("--slices", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--lot", type=Decimal, default=Decimal("0.00001"),
                        help="slices are rounded down to this step")
    args = parser.parse_args()

    interval = args.seconds / args.slices
    filled = Decimal(0)
    notional = Decimal(0)
    slices = []
    with Client(args.commands) as host:
        subscriber = Subscriber(args.events, host, topics=[f"orders.{args.exchange}."])
        for index in range(args.slices):
            started = time.monotonic()
            left = args.amount - filled
            size = left if index == args.slices - 1 else min(left, args.amount / args.slices)
            size = size.quantize(args.lot, rounding="ROUND_DOWN")
            if size > 0:
                order_id = host.call(commands.order(args.side, args.pair, size, order_type="MARKET",
                                                    exchange=args.exchange))
                final = follow(subscriber, order_id, timeout=max(10.0, interval))
                done = Decimal(final["filled_amount"])
                filled += done
                if done:
                    notional += done * Decimal(final["average_executed_price"])
                slices.append({"asked": str(size), "filled": str(done), "state": final["order_state"]})
            if index < args.slices - 1:
                time.sleep(max(0.0, interval - (time.monotonic() - started)))
        subscriber.close()
    average = notional / filled if filled else None
    print(json.dumps({
        "filled": str(filled),
        "average_price": None if average is None else str(average.quantize(Decimal("0.0001"))),
        "slices": slices,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
