#!/usr/bin/env python3
"""Side-by-side reference numbers for the official Hyperliquid Python SDK.

A Rust benchmark runs this script in the same run as its own measurements
and divides the two, so both sides are measured on the same machine at the
same time. Three things are measured, each with a warm-up that is not timed
and then one `time.perf_counter_ns` reading around every single call:

1. signatures: `hyperliquid.utils.signing.sign_l1_action` on one order
   action built the way `Exchange.order` builds it
   (`order_request_to_order_wire` + `order_wires_to_order_action`), with a
   new nonce for every call, no vault and no expiry, testnet signing.
2. l2book: `WebsocketManager.on_message` (JSON parse, channel to subscription
   lookup, callback) on l2Book frames read from `--frame-file`, one frame
   per line exactly as the venue sends them, cycled to reach `--frames`.
   The manager is never connected; see `make_book_manager` for how the
   subscription is registered.
3. order_round_trip: `Exchange.order` (sign + HTTP POST + JSON answer) of
   a far-from-the-mid resting BTC buy against the emulator given by
   `--emulator-url`; every answer must be a resting status.

Usage (the emulator must already run, with the account below funded):

    target/test-venv/bin/python host/benches/sdk_side_by_side.py \\
        --emulator-url http://127.0.0.1:PORT --frame-file frames.jsonl \\
        [--signatures 300] [--frames 20000] [--orders 200] [--price 90000]

The trading account's key is keccak("side-by-side sdk"); its address is
printed on the first line. Start an emulator for it with e.g.
`hl-emulator --listen 127.0.0.1:0 --network testnet --fund 0xADDRESS:1000000`
(testnet, because the SDK signs as testnet for any non-mainnet URL).

Human-readable lines come first; the last stdout line is one JSON object:
{"sdk_version": ..., "signatures": {"n", "median_us", "per_second",
"mean_per_second"}, "l2book": {"n", "median_us", "per_second",
"mean_per_second"}, "order_round_trip": {"n", "p50_us", "p99_us", "failed"}}.
`per_second` is 1e6 / median; `mean_per_second` is n / total timed seconds.
Any failure exits non-zero with the reason on stderr.
"""

import argparse
import json
import math
import statistics
import sys
import time
from importlib import metadata
from urllib.parse import urlparse

import eth_account
from eth_utils import keccak
from hyperliquid.exchange import Exchange
from hyperliquid.utils.constants import MAINNET_API_URL
from hyperliquid.utils.signing import (
    order_request_to_order_wire,
    order_wires_to_order_action,
    recover_agent_or_user_from_l1_action,
    sign_l1_action,
)
from hyperliquid.websocket_manager import WebsocketManager

ACCOUNT_LABEL = "side-by-side sdk"
COIN = "BTC"
BTC_ASSET = 0
ORDER_SIZE = 0.001
GTC = {"limit": {"tif": "Gtc"}}
# A fixed, plausible millisecond nonce for the offline signature loop.
FIRST_SIGNATURE_NONCE = 1_700_000_000_000


class BenchError(Exception):
    """A measurement could not be made or its result is wrong."""


def trading_wallet():
    return eth_account.Account.from_key(keccak(text=ACCOUNT_LABEL))


def warmup_count(n, cap):
    """A warm-up of about a tenth of the timed calls, between 1 and `cap`."""
    return max(1, min(cap, n // 10))


def rate_summary(samples_ns):
    """Median in µs, the median-based rate and the mean-based rate."""
    median_us = statistics.median(samples_ns) / 1_000
    total_s = sum(samples_ns) / 1e9
    return {
        "n": len(samples_ns),
        "median_us": round(median_us, 3),
        "per_second": round(1e6 / median_us, 1),
        "mean_per_second": round(len(samples_ns) / total_s, 1),
    }


def percentile_ns(sorted_ns, pct):
    """Nearest-rank percentile of already sorted samples."""
    rank = max(1, math.ceil(pct / 100 * len(sorted_ns)))
    return sorted_ns[rank - 1]


# --- 1. signatures -------------------------------------------------------------


def order_action(price):
    """The action `Exchange.order(COIN, True, ORDER_SIZE, price, GTC)` signs."""
    request = {
        "coin": COIN,
        "is_buy": True,
        "sz": ORDER_SIZE,
        "limit_px": price,
        "order_type": GTC,
        "reduce_only": False,
    }
    return order_wires_to_order_action([order_request_to_order_wire(request, BTC_ASSET)], None)


def measure_signatures(wallet, n, price):
    action = order_action(price)
    nonce = FIRST_SIGNATURE_NONCE

    def sign_once():
        nonlocal nonce
        nonce += 1
        start = time.perf_counter_ns()
        signature = sign_l1_action(wallet, action, None, nonce, None, False)
        return time.perf_counter_ns() - start, signature

    for _ in range(warmup_count(n, 50)):
        sign_once()
    samples = []
    for _ in range(n):
        elapsed, signature = sign_once()
        samples.append(elapsed)

    # The last signature must recover to the wallet, or we timed the wrong thing.
    signer = recover_agent_or_user_from_l1_action(action, signature, None, nonce, None, False)
    if signer.lower() != wallet.address.lower():
        raise BenchError(f"signature recovers to {signer}, not {wallet.address}")
    return rate_summary(samples)


# --- 2. l2book ------------------------------------------------------------------


def read_frames(path):
    """The non-empty lines of the frame file, each checked to be a BTC l2Book frame."""
    with open(path, encoding="utf-8") as file:
        frames = [line.rstrip("\r\n") for line in file if line.strip()]
    if not frames:
        raise BenchError(f"{path} holds no frames")
    for number, frame in enumerate(frames, 1):
        message = json.loads(frame)
        if message.get("channel") != "l2Book" or message.get("data", {}).get("coin") != COIN:
            raise BenchError(f"{path}:{number} is not a {COIN} l2Book frame")
    return frames


def make_book_manager(base_url, on_book):
    """A never-connected WebsocketManager with an l2Book BTC subscription.

    `WebsocketManager.__init__` only builds the `websocket.WebSocketApp`; the
    connection is made by `run()`, i.e. when the thread is started, which we
    never do. Before the socket opens, `subscribe()` merely queues the
    subscription and `on_open()` later replays it with `ws_ready` set. We
    take that second path directly: mark the manager ready and replace the
    socket's `send` with a recorder, so the SDK's own `subscribe()` records
    the subscription in `active_subscriptions` (where `on_message` looks it
    up) and its outgoing subscribe request is captured instead of sent.
    """
    manager = WebsocketManager(base_url)
    sent = []
    manager.ws.send = sent.append
    manager.ws_ready = True
    subscription = {"type": "l2Book", "coin": COIN}
    manager.subscribe(subscription, on_book)
    expected = {"method": "subscribe", "subscription": subscription}
    if [json.loads(text) for text in sent] != [expected]:
        raise BenchError(f"unexpected subscribe request(s) from the SDK: {sent}")
    return manager


def measure_l2book(base_url, frames, n):
    received = {"count": 0, "last": None}

    def on_book(message):  # kept minimal: count and keep the parsed message
        received["count"] += 1
        received["last"] = message

    manager = make_book_manager(base_url, on_book)
    on_message = manager.on_message

    def run(count, offset):
        samples = []
        for i in range(offset, offset + count):
            frame = frames[i % len(frames)]
            start = time.perf_counter_ns()
            on_message(None, frame)
            samples.append(time.perf_counter_ns() - start)
        return samples

    warmup = warmup_count(n, 1_000)
    run(warmup, 0)
    samples = run(n, warmup)

    if received["count"] != warmup + n:
        raise BenchError(f"l2Book callback fired {received['count']} times for {warmup + n} frames")
    last = received["last"]
    if last["data"]["coin"] != COIN or len(last["data"]["levels"]) != 2:
        raise BenchError(f"the callback got an unexpected message: {str(last)[:200]}")
    return rate_summary(samples)


# --- 3. order_round_trip ----------------------------------------------------------


def resting_error(answer):
    """None when `answer` is an ok order answer whose first status rests, else why not."""
    try:
        status = answer["response"]["data"]["statuses"][0]
    except (KeyError, IndexError, TypeError):
        return f"unexpected answer: {answer}"
    if answer.get("status") != "ok" or "resting" not in status:
        return f"not resting: {answer}"
    return None


def wait_for_next_millisecond(after_ms):
    """Spin until the wall-clock millisecond is past `after_ms`.

    `Exchange` uses the current time in ms as the nonce, and the exchange
    (like the emulator) refuses a duplicate nonce; two orders sent within the
    same millisecond would collide. This runs outside the timed region.
    """
    while int(time.time() * 1000) <= after_ms:
        pass


def measure_orders(wallet, base_url, n, price):
    try:
        exchange = Exchange(wallet, base_url)  # fetches meta and spotMeta once, here
    except Exception as error:
        raise BenchError(f"cannot reach the emulator at {base_url}: {error!r}") from error
    last_ms = 0

    def place_once():
        nonlocal last_ms
        wait_for_next_millisecond(last_ms)
        start = time.perf_counter_ns()
        try:
            answer = exchange.order(COIN, True, ORDER_SIZE, price, GTC)
        except Exception as error:  # the SDK raises ClientError/ServerError on HTTP errors
            answer = {"exception": repr(error)}
        elapsed = time.perf_counter_ns() - start
        last_ms = int(time.time() * 1000)
        return elapsed, resting_error(answer)

    # Warm-up: any refusal here means the setup is wrong (price, funding, URL).
    for _ in range(warmup_count(n, 10)):
        _, error = place_once()
        if error:
            raise BenchError(f"warm-up order at {price} refused: {error}")

    samples, failures = [], []
    for _ in range(n):
        elapsed, error = place_once()
        if error:
            failures.append(error)
        else:
            samples.append(elapsed)
    if not samples:
        raise BenchError(f"all {n} orders failed, first: {failures[0]}")
    samples.sort()
    result = {
        "n": n,
        "p50_us": round(percentile_ns(samples, 50) / 1_000, 1),
        "p99_us": round(percentile_ns(samples, 99) / 1_000, 1),
        "failed": len(failures),
    }
    return result, failures


# --- driver -------------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emulator-url", required=True, help="e.g. http://127.0.0.1:PORT (loopback only)")
    parser.add_argument("--frame-file", required=True, help="one l2Book frame (JSON text) per line")
    parser.add_argument("--signatures", type=int, default=300, help="timed signatures (default 300)")
    parser.add_argument("--frames", type=int, default=20_000, help="timed l2Book frames (default 20000)")
    parser.add_argument("--orders", type=int, default=200, help="timed orders (default 200)")
    parser.add_argument("--price", type=float, default=90_000, help="resting buy price (default 90000)")
    args = parser.parse_args()
    if min(args.signatures, args.frames, args.orders) < 1:
        parser.error("--signatures, --frames and --orders must be at least 1")
    return args


def check_loopback(url):
    """Refuse anything but a plain-HTTP loopback URL: this must never reach the real venue."""
    parsed = urlparse(url)
    if url.rstrip("/") == MAINNET_API_URL or parsed.scheme != "http" or parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise BenchError(f"--emulator-url must be a loopback http URL, got {url!r}")
    return url.rstrip("/")


def main():
    args = parse_args()
    base_url = check_loopback(args.emulator_url)
    wallet = trading_wallet()
    version = metadata.version("hyperliquid-python-sdk")
    print(f"hyperliquid-python-sdk {version}, account {wallet.address}, emulator {base_url}", flush=True)

    frames = read_frames(args.frame_file)
    signatures = measure_signatures(wallet, args.signatures, args.price)
    print(f"signatures: {signatures}", flush=True)
    l2book = measure_l2book(base_url, frames, args.frames)
    print(f"l2book ({len(frames)} distinct frames): {l2book}", flush=True)
    orders, failures = measure_orders(wallet, base_url, args.orders, args.price)
    print(f"order_round_trip: {orders}", flush=True)

    print(json.dumps({
        "sdk_version": version,
        "signatures": signatures,
        "l2book": l2book,
        "order_round_trip": orders,
    }), flush=True)
    if failures:
        print(f"error: {len(failures)} of {args.orders} orders failed, first: {failures[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
