#!/usr/bin/env python3
"""Conformance of bybit-emulator, binance-emulator and hl-emulator with ccxt
4.5.90 (`bybit`, `binanceusdm`, `hyperliquid`), configured as a user would
for linear perpetuals with the REST base URLs pointed at the emulator
(`hyperliquid` with its default options: its `load_markets` asks `/info` for
`perpDexs` and `spotMetaAndAssetCtxs` too).

For each: load markets, order book, balance, create a resting limit order,
fetch open orders, cancel, a market order, fills, positions.

Usage: python ccxt_conformance.py --bybit PATH --binance PATH --hyperliquid PATH
Exit status 0 and "ccxt conformance: all checks passed" on success.
"""

import argparse
import subprocess

import ccxt
import eth_account
from eth_utils import keccak

KEY, SECRET = "ccxt-key", "ccxt-secret"
FAILURES = []


def check(condition, what, detail=None):
    status = "ok  " if condition else "FAIL"
    print(f"{status} {what}" + ("" if condition or detail is None else f": {detail}"), flush=True)
    if not condition:
        FAILURES.append(what)


WALLET = eth_account.Account.from_key(keccak(text="ccxt-conformance-hyperliquid"))


def start(path, fund=f"{KEY}:{SECRET}:100000"):
    args = [path, "--listen", "127.0.0.1:0", "--seed", "3", "--fund", fund]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline().strip()
    if not line.startswith("listening on 127.0.0.1:"):
        process.kill()
        raise RuntimeError(f"unexpected first line: {line!r}")
    return process, "http://" + line.split()[-1]


def common(exchange, name, symbol, quote="USDT"):
    markets = exchange.load_markets()
    check(symbol in markets and markets[symbol]["swap"], f"{name}: load_markets has {symbol}", list(markets)[:5])
    book = exchange.fetch_order_book(symbol)
    bid, ask = book["bids"][0][0], book["asks"][0][0]
    check(bid < ask, f"{name}: order book", (bid, ask))
    balance = exchange.fetch_balance()
    check(balance[quote]["total"] == 100000, f"{name}: balance", balance.get(quote))
    limit_price = round(bid * 0.95, 1) if quote == "USDT" else round(bid * 0.95)
    order = exchange.create_order(symbol, "limit", "buy", 0.002, limit_price)
    check(bool(order["id"]), f"{name}: create limit order", order)
    open_orders = exchange.fetch_open_orders(symbol)
    check(any(o["id"] == order["id"] for o in open_orders), f"{name}: fetch_open_orders", open_orders)
    exchange.cancel_order(order["id"], symbol)
    open_orders = exchange.fetch_open_orders(symbol)
    check(not any(o["id"] == order["id"] for o in open_orders), f"{name}: cancel_order", open_orders)
    exchange.create_order(symbol, "market", "buy", 0.002, ask)
    trades = exchange.fetch_my_trades(symbol)
    check(sum(t["amount"] for t in trades) >= 0.002, f"{name}: fetch_my_trades", trades[-1:])
    positions = exchange.fetch_positions([symbol])
    long = [p for p in positions if p["symbol"] == symbol and p["contracts"]]
    check(long and long[0]["side"] == "long" and abs(long[0]["contracts"] - 0.002) < 1e-9,
          f"{name}: fetch_positions", positions)


def bybit(base):
    exchange = ccxt.bybit({"apiKey": KEY, "secret": SECRET, "options": {
        "fetchMarkets": {"types": ["linear"]},
        "enableUnifiedMargin": False, "enableUnifiedAccount": True,
    }})
    exchange.has["fetchCurrencies"] = False
    for key in ("public", "private", "spot", "futures", "v2"):
        exchange.urls["api"][key] = base
    common(exchange, "bybit", "BTC/USDT:USDT")


def binanceusdm(base):
    exchange = ccxt.binanceusdm({"apiKey": KEY, "secret": SECRET, "options": {
        "fetchCurrencies": False, "fetchMargins": False,
    }})
    exchange.has["fetchCurrencies"] = False
    api = exchange.urls["api"]
    for key, suffix in (("fapiPublic", "/fapi/v1"), ("fapiPublicV2", "/fapi/v2"), ("fapiPublicV3", "/fapi/v3"),
                        ("fapiPrivate", "/fapi/v1"), ("fapiPrivateV2", "/fapi/v2"), ("fapiPrivateV3", "/fapi/v3"),
                        ("fapiData", "/futures/data")):
        api[key] = base + suffix
    common(exchange, "binanceusdm", "BTC/USDT:USDT")


def hyperliquid(base):
    exchange = ccxt.hyperliquid({"walletAddress": WALLET.address, "privateKey": "0x" + WALLET.key.hex()})
    exchange.urls["api"]["public"] = base
    exchange.urls["api"]["private"] = base
    common(exchange, "hyperliquid", "BTC/USDC:USDC", quote="USDC")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bybit", required=True)
    parser.add_argument("--binance", required=True)
    parser.add_argument("--hyperliquid", required=True)
    args = parser.parse_args()
    runs = ((args.bybit, bybit, None), (args.binance, binanceusdm, None),
            (args.hyperliquid, hyperliquid, f"{WALLET.address}:100000"))
    for path, run, fund in runs:
        process, base = start(path, fund) if fund else start(path)
        try:
            run(base)
        except Exception as error:  # report and go on to the next venue
            check(False, f"{run.__name__} raised", repr(error))
        finally:
            process.terminate()
            process.wait(timeout=10)
    if FAILURES:
        print(f"ccxt conformance: {len(FAILURES)} check(s) failed: {FAILURES}")
        raise SystemExit(1)
    print("ccxt conformance: all checks passed")


if __name__ == "__main__":
    main()
