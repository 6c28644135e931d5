"""The client against a running host (run by host/tests/python_client.rs):
commands with typed results and coded errors, a blocking subscriber that
resumes from the start of the kept history, and the asyncio pair. Prints
a JSON summary on its last line."""

import argparse
import asyncio
import json
import sys
from decimal import Decimal

from connector_host_client import (
    AsyncClient,
    AsyncSubscriber,
    Client,
    Event,
    HostError,
    Subscriber,
    commands,
)


def order_events_of(subscriber, order_id, final, timeout=10.0):
    """Events of one order until one of ``final`` states."""
    seen = []
    while True:
        item = subscriber.next(timeout)
        if item is None:
            raise SystemExit(f"no event of {order_id} within {timeout} s: {seen}")
        if isinstance(item, Event) and item.data.get("client_order_id") == order_id:
            seen.append(item)
            if item.data["order_state"] in final:
                return seen


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--exchange", required=True)
    args = parser.parse_args()
    family = f"orders.{args.exchange}"
    summary = {}

    with Client(args.commands) as host:
        # An order placed before anyone subscribes.
        early = host.call(commands.buy("BTC-USD", "0.001", Decimal("90000"), exchange=args.exchange))
        try:
            host.call(commands.cancel("0x" + "f" * 32, exchange=args.exchange))
            summary["unknown_order_code"] = None
        except HostError as error:
            summary["unknown_order_code"] = error.code

        # A subscriber resuming from the start of the kept history sees it.
        subscriber = Subscriber(args.events, host, topics=[family + "."], resume={family: None})
        early_events = order_events_of(subscriber, early, {"OPEN"})
        summary["early_topics"] = [e.topic.rsplit(".", 1)[1] for e in early_events]
        summary["early_price_is_decimal"] = isinstance(early_events[-1].data["price"], (Decimal, int))
        order = host.call(commands.get_order(early, exchange=args.exchange))
        summary["get_order_state"] = order["order_state"]

        # Live from here: a new order, then its cancel, in order, once each.
        live = host.call(commands.buy("BTC-USD", "0.001", "90001", exchange=args.exchange))
        order_events_of(subscriber, live, {"OPEN"})
        host.call(commands.cancel(live, exchange=args.exchange))
        cancelled = order_events_of(subscriber, live, {"CANCELLED"})
        summary["live_final"] = cancelled[-1].data["order_state"]
        positions = subscriber.positions[family]
        summary["open_after"] = [o["client_order_id"] for o in host.call(commands.open_orders(exchange=args.exchange))]
        summary["early"] = early
        history = host.call(commands.history("BTC-USD", exchange=args.exchange))
        summary["history"] = [(o["client_order_id"], o["order_state"]) for o in history.items]
        summary["history_complete"] = history.complete
        summary["fills"] = len(host.call(commands.fills(exchange=args.exchange, limit=10)).items)
        summary["markets"] = [m["symbol"] for e in host.call(commands.markets()) for m in e["markets"]]
        summary["balances_is_list"] = isinstance(host.call(commands.balances()), list)
        summary["positions_is_list"] = isinstance(host.call(commands.positions("BTC-USD")), list)
        summary["leverage_set"] = host.call(
            commands.set_leverage("BTC-USD", 2, "isolated", exchange=args.exchange)
        )["leverage"]
        try:
            host.call(commands.set_margin_mode("BTC-USD", "cross", 0, exchange=args.exchange))
            summary["zero_leverage_code"] = None
        except HostError as error:
            summary["zero_leverage_code"] = error.code
        subscriber.close()

        # Resuming from a stored position gives exactly what followed it.
        again = Subscriber(args.events, host, topics=[family + "."], resume={family: positions})
        summary["nothing_after_position"] = again.next(0.5) is None
        again.close()

        answers = host.call(
            commands.batch(
                [
                    commands.buy("BTC-USD", "0.001", "90003"),
                    commands.cancel("0x" + "e" * 32),
                ],
                exchange=args.exchange,
            )
        )
        summary["batch"] = [
            answer.code if isinstance(answer, HostError) else "placed" for answer in answers
        ]
        host.call(commands.cancel(answers[0], exchange=args.exchange))

    async def asynchronous():
        host = AsyncClient(args.commands)
        subscriber = AsyncSubscriber(args.events, host, topics=[family + "."], resume={family: positions})
        await subscriber.start()
        order_id = await host.call(commands.buy("BTC-USD", "0.001", "90002", exchange=args.exchange))
        while True:
            item = await subscriber.next(10.0)
            if item is None:
                raise SystemExit("the asyncio subscriber saw nothing")
            if item.data.get("client_order_id") == order_id and item.data["order_state"] == "OPEN":
                break
        snapshot = await host.call(commands.snapshot(exchange=args.exchange))
        subscriber.close()
        host.close()
        return order_id, snapshot

    order_id, snapshot = asyncio.run(asynchronous())
    open_ids = [o["client_order_id"] for o in snapshot["exchanges"][0]["orders"]["open"]]
    summary["async_order_open"] = order_id in open_ids
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
