#!/usr/bin/env python3
"""Subscribe to connector-host events with pyzmq.

    python3 subscriber.py [--endpoint tcp://127.0.0.1:5555] [--topic orders.] [--count N]

Prints one line per event and watches the per-family sequence numbers: a
jump means events were lost (the host's queue was full or this subscriber
was too slow), and is reported. With --count it stops after N events and
prints a JSON summary on the last line.
"""

import argparse
import json
import sys
from decimal import Decimal

import zmq


def family(topic: str) -> str:
    """orders.<exchange>, market.<exchange> or host: the scope of `seq`."""
    parts = topic.split(".")
    return parts[0] if parts[0] == "host" else ".".join(parts[:2])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default="tcp://127.0.0.1:5555")
    parser.add_argument("--topic", default="", help="topic prefix, e.g. orders.")
    parser.add_argument("--count", type=int, default=0, help="stop after N events")
    parser.add_argument("--timeout-ms", type=int, default=0, help="give up after this long without an event")
    args = parser.parse_args()

    socket = zmq.Context.instance().socket(zmq.SUB)
    socket.connect(args.endpoint)
    socket.setsockopt_string(zmq.SUBSCRIBE, args.topic)
    if args.timeout_ms:
        socket.setsockopt(zmq.RCVTIMEO, args.timeout_ms)

    last_seq = {}
    gaps = 0
    topics = {}
    received = 0
    while not args.count or received < args.count:
        try:
            topic, body = socket.recv_multipart()
        except zmq.Again:
            print("no event within the timeout", file=sys.stderr)
            break
        topic = topic.decode()
        # Decimal keeps prices and sizes exact.
        event = json.loads(body, parse_float=Decimal)
        received += 1
        topics[topic] = topics.get(topic, 0) + 1
        scope = family(topic)
        expected = last_seq.get(scope)
        if expected is not None and event["seq"] != expected + 1:
            gaps += 1
            print(f"gap in {scope}: {expected} then {event['seq']}", file=sys.stderr)
        last_seq[scope] = event["seq"]
        data = event["data"]
        if topic.startswith("orders."):
            print(f"{topic} {data['client_order_id']} {data['order_state']} "
                  f"filled {data['filled_amount']}/{data['amount']} @ {data['average_executed_price']}")
        else:
            print(f"{topic} {json.dumps(data, default=str)[:160]}")
        sys.stdout.flush()
    if args.count:
        print(json.dumps({"received": received, "gaps": gaps, "topics": topics}))
    return 0 if received else 1


if __name__ == "__main__":
    sys.exit(main())
