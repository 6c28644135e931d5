#!/usr/bin/env python3
"""Write every fill of a host's orders into SQLite, once, and survive
restarts (yours and the host's).

    python3 fill_logger.py --db fills.sqlite [--exchange hl-local ...]

Each fill is stored with its trade id as the key, in the same transaction
as the position (run, seq) of the event that carried it; a restarted
logger resumes from the stored positions, so the host replays exactly what
it missed. With --count N it stops once N fills are stored, and prints a
JSON summary.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys

from connector_host_client import Client, Event, Missing, Position, Subscriber, commands

SCHEMA = """
CREATE TABLE IF NOT EXISTS fills (
    trade_id TEXT PRIMARY KEY,
    exchange TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    trading_pair TEXT NOT NULL,
    side TEXT NOT NULL,
    price TEXT NOT NULL,
    amount TEXT NOT NULL,
    fee TEXT NOT NULL,
    fee_asset TEXT NOT NULL,
    timestamp INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS positions (
    family TEXT PRIMARY KEY,
    run INTEGER NOT NULL,
    seq INTEGER NOT NULL
);
"""


def stored_positions(db: sqlite3.Connection, families: list[str]) -> dict[str, Position | None]:
    """Where each family stands; from the oldest kept event when new."""
    known = {f: Position(r, s) for f, r, s in db.execute("SELECT family, run, seq FROM positions")}
    return {family: known.get(family) for family in families}


def store(db: sqlite3.Connection, event: Event) -> bool:
    """Stores the event's fill, if it carries one, and its position, in one
    transaction; true when a fill was new."""
    trade = event.data.get("trade")
    with db:
        new = False
        if trade is not None:
            exchange = event.family.split(".", 1)[1]
            cursor = db.execute(
                "INSERT OR IGNORE INTO fills VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    trade["trade_id"], exchange, event.data["client_order_id"],
                    event.data["trading_pair"], event.data["trade_type"],
                    str(trade["fill_price"]), str(trade["fill_amount"]),
                    str(trade["fee"]), trade["fee_asset"], trade["timestamp"],
                ),
            )
            new = cursor.rowcount == 1
        db.execute(
            "INSERT OR REPLACE INTO positions VALUES (?, ?, ?)",
            (event.family, event.run, event.seq),
        )
    return new


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", default="tcp://127.0.0.1:5556")
    parser.add_argument("--events", default="tcp://127.0.0.1:5555")
    parser.add_argument("--exchange", action="append", default=None,
                        help="an exchange whose fills to log (repeat; default: every one in the host)")
    parser.add_argument("--db", required=True)
    parser.add_argument("--count", type=int, default=0, help="stop once this many fills are stored")
    parser.add_argument("--idle", type=float, default=0, help="stop after this many seconds without an event")
    args = parser.parse_args()

    db = sqlite3.connect(args.db)
    db.executescript(SCHEMA)
    with Client(args.commands) as host:
        exchanges = args.exchange or [e["exchange"] for e in host.call(commands.status())["exchanges"]]
        families = [f"orders.{exchange}" for exchange in exchanges]
        subscriber = Subscriber(args.events, host, topics=[f + "." for f in families],
                                resume=stored_positions(db, families))
        new_fills = 0
        while True:
            stored = db.execute("SELECT COUNT(*) FROM fills").fetchone()[0]
            if args.count and stored >= args.count:
                break
            item = subscriber.next(args.idle or None)
            if item is None:
                break
            if isinstance(item, Missing):
                print(f"events of {item.family} after {item.after} are no longer kept; "
                      "fills among them are not in the database", file=sys.stderr)
                continue
            new_fills += store(db, item)
        subscriber.close()
    stored = db.execute("SELECT COUNT(*) FROM fills").fetchone()[0]
    print(json.dumps({"new_fills": new_fills, "stored_fills": stored}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
