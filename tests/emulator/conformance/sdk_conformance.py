#!/usr/bin/env python3
"""Conformance of hl-emulator with the official Hyperliquid Python SDK (0.24.0).

Starts the emulator binary on a free loopback port (testnet signing: the SDK
signs as testnet for any base URL other than mainnet's), points the SDK's
`Info` and `Exchange` at it, and checks that every call succeeds and that the
state seen through different calls agrees.

Usage: python sdk_conformance.py --emulator PATH/TO/hl-emulator
Exit status 0 and the line "SDK conformance: all checks passed" on success.
"""

import argparse
import json
import subprocess
import sys
import threading
import time
import urllib.request

import eth_account
from eth_utils import keccak
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.types import Cloid

FAILURES = []


def check(condition, what, detail=None):
    status = "ok  " if condition else "FAIL"
    print(f"{status} {what}" + ("" if condition or detail is None else f": {detail}"), flush=True)
    if not condition:
        FAILURES.append(what)


def key(label):
    return eth_account.Account.from_key(keccak(text=label))


def start_emulator(path, funded):
    args = [path, "--listen", "127.0.0.1:0", "--network", "testnet", "--seed", "7"]
    for address, amount in funded:
        args += ["--fund", f"{address}:{amount}"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline().strip()
    if not line.startswith("listening on 127.0.0.1:"):
        process.kill()
        raise RuntimeError(f"unexpected first line from the emulator: {line!r}")
    return process, "http://" + line.split()[-1]


def admin(base_url, path, body):
    request = urllib.request.Request(
        base_url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def statuses(result):
    return result.get("response", {}).get("data", {}).get("statuses", [])


def wait_for(event, seconds=10):
    return event.wait(seconds)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--emulator", required=True)
    args = parser.parse_args()

    wallet = key("sdk-conformance-trader")
    address = wallet.address
    process, base_url = start_emulator(args.emulator, [(address, 1_000_000)])
    info = None
    try:
        info = Info(base_url, skip_ws=False)
        exchange = Exchange(wallet, base_url)

        # --- Info: metadata and market data -------------------------------------------
        meta = info.meta()
        names = [asset["name"] for asset in meta["universe"]]
        check(names[:3] == ["BTC", "ETH", "SOL"], "meta lists BTC, ETH, SOL", names)
        check(info.name_to_asset("BTC") == 0 and info.name_to_asset("PURR/USDC") == 10000, "asset ids from meta/spotMeta")
        check(info.name_to_asset("HYPE/USDC") == 10107, "spot display name maps to @107", info.name_to_coin.get("HYPE/USDC"))
        book = info.l2_snapshot("BTC")
        check(len(book["levels"][0]) == 20 and len(book["levels"][1]) == 20, "l2_snapshot has 20 levels a side")
        best_bid, best_ask = float(book["levels"][0][0]["px"]), float(book["levels"][1][0]["px"])
        check(best_bid < best_ask, "book is not crossed", (best_bid, best_ask))
        mids = info.all_mids()
        check(all(coin in mids for coin in ["BTC", "ETH", "SOL", "PURR/USDC", "@107"]), "all_mids covers every market")
        btc_mid = float(mids["BTC"])

        # --- WebSocket subscriptions ---------------------------------------------------
        seen = {name: threading.Event() for name in ["l2Book", "trades", "allMids", "bbo", "userFills", "orderUpdates", "user"]}
        messages = {name: [] for name in seen}

        def recorder(name):
            def record(message):
                messages[name].append(message)
                seen[name].set()

            return record

        info.subscribe({"type": "l2Book", "coin": "ETH"}, recorder("l2Book"))
        info.subscribe({"type": "trades", "coin": "BTC"}, recorder("trades"))
        info.subscribe({"type": "allMids"}, recorder("allMids"))
        info.subscribe({"type": "bbo", "coin": "SOL"}, recorder("bbo"))
        info.subscribe({"type": "userFills", "user": address}, recorder("userFills"))
        info.subscribe({"type": "orderUpdates", "user": address}, recorder("orderUpdates"))
        info.subscribe({"type": "userEvents", "user": address}, recorder("user"))
        for name in ["l2Book", "allMids", "bbo", "userFills"]:
            check(wait_for(seen[name]), f"websocket {name} arrives")
        check(messages["userFills"][0]["data"].get("isSnapshot") is True, "userFills starts with a snapshot")
        check(len(messages["l2Book"][-1]["data"]["levels"][0]) == 20, "websocket l2Book has 20 bids")

        # --- Exchange: limit order, status by oid and cloid, modify, cancels ------------
        far_bid = round(btc_mid * 0.8)
        cloid = Cloid.from_int(1)
        placed = exchange.order("BTC", True, 0.001, far_bid, {"limit": {"tif": "Gtc"}}, cloid=cloid)
        check(placed["status"] == "ok" and "resting" in statuses(placed)[0], "limit order rests", placed)
        oid = statuses(placed)[0]["resting"]["oid"]
        open_orders = info.open_orders(address)
        check([o["oid"] for o in open_orders] == [oid], "open_orders shows the order", open_orders)
        by_oid = info.query_order_by_oid(address, oid)
        by_cloid = info.query_order_by_cloid(address, cloid)
        check(by_oid["status"] == "order" and by_oid["order"]["status"] == "open", "query_order_by_oid: open", by_oid)
        check(by_cloid["order"]["order"]["oid"] == oid, "query_order_by_cloid finds the same order", by_cloid)
        check(info.query_order_by_oid(address, 1)["status"] == "unknownOid", "unknown oid")
        check(seen["orderUpdates"].wait(5), "orderUpdates for the new order")

        modified = exchange.modify_order(oid, "BTC", True, 0.002, far_bid - 100, {"limit": {"tif": "Gtc"}}, cloid=cloid)
        check(modified["status"] == "ok" and "resting" in statuses(modified)[0], "modify_order", modified)
        new_oid = statuses(modified)[0]["resting"]["oid"]
        open_orders = info.open_orders(address)
        check(
            len(open_orders) == 1 and float(open_orders[0]["sz"]) == 0.002 and float(open_orders[0]["limitPx"]) == far_bid - 100,
            "open_orders shows the modified order",
            open_orders,
        )
        check(info.query_order_by_oid(address, oid)["order"]["status"] == "canceled", "the replaced order is canceled")
        cancelled = exchange.cancel("BTC", new_oid)
        check(statuses(cancelled) == ["success"], "cancel", cancelled)
        check(info.open_orders(address) == [], "no open orders after cancel")
        again = exchange.cancel("BTC", new_oid)
        check(
            statuses(again)[0].get("error", "").startswith("Order was never placed, already canceled, or filled."),
            "second cancel is refused with the exchange's text",
            again,
        )
        cloid2 = Cloid.from_int(2)
        exchange.order("ETH", False, 0.01, round(float(mids["ETH"]) * 1.3, 1), {"limit": {"tif": "Alo"}}, cloid=cloid2)
        by_cloid = exchange.cancel_by_cloid("ETH", cloid2)
        check(statuses(by_cloid) == ["success"], "cancel_by_cloid", by_cloid)

        # --- Market orders, fills, positions ------------------------------------------
        seen["userFills"].clear()
        opened = exchange.market_open("BTC", True, 0.01)
        check(opened["status"] == "ok" and "filled" in statuses(opened)[0], "market_open fills", opened)
        filled = statuses(opened)[0].get("filled", {})
        check(float(filled.get("totalSz", 0)) == 0.01, "market_open filled 0.01", filled)
        fills = info.user_fills(address)
        check(any(f["oid"] == filled.get("oid") for f in fills), "user_fills has the market order's fill", fills[:2])
        check(all(k in fills[0] for k in ["tid", "hash", "crossed", "fee", "feeToken", "dir", "closedPnl", "startPosition"]), "fill fields")
        since = info.user_fills_by_time(address, int(time.time() * 1000) - 60_000)
        check(len(since) == len(fills), "user_fills_by_time agrees with user_fills")
        state = info.user_state(address)
        positions = {p["position"]["coin"]: p["position"] for p in state["assetPositions"]}
        check("BTC" in positions and float(positions["BTC"]["szi"]) == 0.01, "user_state shows the long", state["assetPositions"])
        check(wait_for(seen["userFills"]), "websocket userFills after the trade")
        check(seen["user"].wait(5), "websocket userEvents after the trade")
        closed = exchange.market_close("BTC")
        check(closed["status"] == "ok" and "filled" in statuses(closed)[0], "market_close fills", closed)
        state = info.user_state(address)
        check(all(p["position"]["coin"] != "BTC" for p in state["assetPositions"]), "closed position is omitted")
        check(wait_for(seen["trades"]), "websocket trades")

        # --- An entry with its TP/SL (normalTpsl) -------------------------------------
        take_px, stop_px = round(btc_mid * 1.2), round(far_bid * 0.95)
        group = [
            {"coin": "BTC", "is_buy": True, "sz": 0.001, "limit_px": far_bid,
             "order_type": {"limit": {"tif": "Gtc"}}, "reduce_only": False, "cloid": Cloid.from_int(10)},
            {"coin": "BTC", "is_buy": False, "sz": 0.001, "limit_px": take_px,
             "order_type": {"trigger": {"triggerPx": take_px, "isMarket": True, "tpsl": "tp"}},
             "reduce_only": True, "cloid": Cloid.from_int(11)},
            {"coin": "BTC", "is_buy": False, "sz": 0.001, "limit_px": stop_px,
             "order_type": {"trigger": {"triggerPx": stop_px, "isMarket": True, "tpsl": "sl"}},
             "reduce_only": True, "cloid": Cloid.from_int(12)},
        ]
        grouped = exchange.bulk_orders(group, grouping="normalTpsl")
        check(
            grouped["status"] == "ok" and "resting" in statuses(grouped)[0]
            and statuses(grouped)[1:] == ["waitingForFill", "waitingForFill"],
            "bulk_orders normalTpsl: the entry rests, its TP/SL wait for it",
            grouped,
        )
        entry_oid = statuses(grouped)[0].get("resting", {}).get("oid")
        check(statuses(exchange.cancel("BTC", entry_oid)) == ["success"], "the grouped entry is cancelled")
        check(
            info.query_order_by_cloid(address, Cloid.from_int(11))["status"] == "unknownOid",
            "the TP/SL of an entry cancelled unfilled were never placed",
        )

        # --- Spot, leverage, scheduled cancel, agent ----------------------------------
        admin(base_url, "/admin/fund", {"user": address, "spot": {"USDC": "1000"}})
        spot = exchange.order("PURR/USDC", True, 100, round(float(mids["PURR/USDC"]) * 0.5, 5), {"limit": {"tif": "Gtc"}})
        check("resting" in statuses(spot)[0], "spot order on PURR/USDC rests", spot)
        hype = exchange.order("HYPE/USDC", True, 1, round(float(mids["@107"]) * 0.5, 3), {"limit": {"tif": "Gtc"}})
        check("resting" in statuses(hype)[0], "spot order on @107 by display name", hype)
        spot_state = info.spot_user_state(address)
        check(any(b["coin"] == "USDC" and float(b["hold"]) > 0 for b in spot_state["balances"]), "spot hold", spot_state)
        check(exchange.update_leverage(10, "ETH")["status"] == "ok", "update_leverage")
        soon = int(time.time() * 1000) + 60_000
        check(exchange.schedule_cancel(soon) == {"status": "ok", "response": {"type": "default"}}, "schedule_cancel set")
        check(exchange.schedule_cancel(None)["status"] == "ok", "schedule_cancel cleared")
        too_early = exchange.schedule_cancel(int(time.time() * 1000) + 1_000)
        check(too_early["status"] == "err", "schedule_cancel too early is refused", too_early)

        approval, agent_key = exchange.approve_agent("sdk-bot")
        check(approval == {"status": "ok", "response": {"type": "default"}}, "approve_agent", approval)
        agent = Exchange(eth_account.Account.from_key(agent_key), base_url, account_address=address)
        by_agent = agent.order("SOL", True, 1, round(float(mids["SOL"]) * 0.7, 2), {"limit": {"tif": "Gtc"}})
        check("resting" in statuses(by_agent)[0], "agent places an order for its master", by_agent)
        agent_oid = statuses(by_agent)[0].get("resting", {}).get("oid")
        check(any(o["oid"] == agent_oid for o in info.open_orders(address)), "the master's open_orders show it")
        check(info.open_orders(eth_account.Account.from_key(agent_key).address) == [], "the agent has no orders of its own")
        frontend = info.frontend_open_orders(address)
        check(len(frontend) == 3 and all("orderType" in o for o in frontend), "frontend_open_orders", frontend)

        stranger = Exchange(key("sdk-conformance-stranger"), base_url)
        refused = stranger.order("BTC", True, 0.001, far_bid, {"limit": {"tif": "Gtc"}})
        check(
            refused["status"] == "err" and "does not exist" in refused["response"],
            "an unfunded signer is refused",
            refused,
        )
    finally:
        if info is not None and info.ws_manager is not None:
            info.disconnect_websocket()
        process.terminate()
        process.wait(timeout=10)

    if FAILURES:
        print(f"SDK conformance: {len(FAILURES)} check(s) failed: {FAILURES}")
        return 1
    print("SDK conformance: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
