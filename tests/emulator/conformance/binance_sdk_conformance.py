#!/usr/bin/env python3
"""Conformance of binance-emulator with Binance's official
binance-sdk-derivatives-trading-usds-futures 18.1.0.

Starts the emulator with one HMAC key and one Ed25519 key (a fresh key pair
written to a temporary directory), points the SDK's REST `base_path` and
WebSocket API `stream_url` at it, and checks: exchange info, depth, balance,
new / query / modify / cancel orders, trades, positions, listen key, a wrong
signature refused with -1022, REST with the Ed25519 key, and the WebSocket
API with `session.logon` (sent by hand: the SDK has no method for it).

Usage: python binance_sdk_conformance.py --emulator PATH/TO/binance-emulator
Exit status 0 and "Binance SDK conformance: all checks passed" on success.
"""

import argparse
import asyncio
import os
import subprocess
import tempfile
from decimal import Decimal

from Crypto.PublicKey import ECC
from binance_common.configuration import ConfigurationRestAPI, ConfigurationWebSocketAPI
from binance_common.errors import BadRequestError
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)
from binance_sdk_derivatives_trading_usds_futures.rest_api.models import (
    ModifyOrderSideEnum,
    NewOrderSideEnum,
    NewOrderTimeInForceEnum,
    NewOrderTypeEnum,
)

HMAC_KEY, HMAC_SECRET = "sdk-hmac-key", "sdk-hmac-secret"
ED_KEY = "sdk-ed25519-key"
FAILURES = []


def check(condition, what, detail=None):
    status = "ok  " if condition else "FAIL"
    print(f"{status} {what}" + ("" if condition or detail is None else f": {detail}"), flush=True)
    if not condition:
        FAILURES.append(what)


def start_emulator(path, public_pem_path):
    args = [path, "--listen", "127.0.0.1:0", "--seed", "5",
            "--fund", f"{HMAC_KEY}:{HMAC_SECRET}:100000",
            "--fund-ed25519", f"{ED_KEY}:{public_pem_path}:100000"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline().strip()
    if not line.startswith("listening on 127.0.0.1:"):
        process.kill()
        raise RuntimeError(f"unexpected first line from the emulator: {line!r}")
    return process, line.split()[-1]


def error_code(call):
    try:
        call()
    except BadRequestError as error:
        text = str(error)
        for code in ("-1022", "-2013", "-2011", "-4116", "-5022", "-1021"):
            if code in text:
                return int(code)
        return text
    return 0


def rest_checks(rest, bad, ed_rest):
    info = rest.exchange_information().data()
    symbols = {s.symbol: s for s in info.symbols}
    check({"BTCUSDT", "ETHUSDT", "SOLUSDT"} <= set(symbols), "exchangeInfo lists the three perps", list(symbols))
    filters = {f.filter_type: f for f in symbols["BTCUSDT"].filters}
    check(filters["PRICE_FILTER"].tick_size == "0.1" and filters["LOT_SIZE"].step_size == "0.001",
          "BTCUSDT tick 0.1 and step 0.001", filters)

    depth = rest.order_book(symbol="BTCUSDT", limit=50).data()
    bid, ask = Decimal(depth.bids[0][0]), Decimal(depth.asks[0][0])
    check(depth.last_update_id > 0 and bid < ask, "depth has lastUpdateId and both sides", (depth.last_update_id, bid, ask))

    balance = rest.futures_account_balance_v3().data()
    check(Decimal(balance[0].balance) == 100000 and balance[0].asset == "USDT", "balance shows the funded USDT", balance)

    check(error_code(lambda: bad.futures_account_balance_v3()) == -1022, "a wrong signature is refused with -1022")

    price = float((bid * Decimal("0.95")).quantize(Decimal("0.1")))
    placed = rest.new_order(symbol="BTCUSDT", side=NewOrderSideEnum.BUY, type=NewOrderTypeEnum.LIMIT,
                            time_in_force=NewOrderTimeInForceEnum.GTC, quantity=0.002, price=price,
                            new_client_order_id="sdk:rest/1").data()
    check(placed.status == "NEW" and placed.client_order_id == "sdk:rest/1", "new_order rests NEW", placed)
    duplicate = error_code(lambda: rest.new_order(
        symbol="BTCUSDT", side=NewOrderSideEnum.BUY, type=NewOrderTypeEnum.LIMIT,
        time_in_force=NewOrderTimeInForceEnum.GTC, quantity=0.002, price=price, new_client_order_id="sdk:rest/1"))
    check(duplicate == -4116, "a duplicate open clientOrderId gives -4116", duplicate)
    queried = rest.query_order(symbol="BTCUSDT", order_id=placed.order_id).data()
    check(queried.order_id == placed.order_id and queried.status == "NEW", "query_order finds it", queried)
    new_price = float((bid * Decimal("0.94")).quantize(Decimal("0.1")))
    modified = rest.modify_order(symbol="BTCUSDT", side=ModifyOrderSideEnum.BUY, quantity=0.003, price=new_price,
                                 order_id=placed.order_id).data()
    check(modified.order_id == placed.order_id and Decimal(modified.price) == Decimal(str(new_price))
          and modified.orig_qty == "0.003", "modify_order keeps the orderId", modified)
    cancelled = rest.cancel_order(symbol="BTCUSDT", orig_client_order_id="sdk:rest/1").data()
    check(cancelled.status == "CANCELED", "cancel_order by client id", cancelled)
    check(error_code(lambda: rest.query_order(symbol="BTCUSDT", order_id=10**12)) == -2013,
          "an unknown order gives -2013")
    cross = float((ask * Decimal("1.01")).quantize(Decimal("0.1")))
    post_only = error_code(lambda: rest.new_order(
        symbol="BTCUSDT", side=NewOrderSideEnum.BUY, type=NewOrderTypeEnum.LIMIT,
        time_in_force=NewOrderTimeInForceEnum.GTX, quantity=0.002, price=cross))
    check(post_only == -5022, "a post-only order that would take gives -5022", post_only)

    market = ed_rest.new_order(symbol="ETHUSDT", side=NewOrderSideEnum.BUY, type=NewOrderTypeEnum.MARKET,
                               quantity=0.05).data()
    check(market.status == "FILLED", "a market order with the Ed25519 key fills", market)
    trades = ed_rest.account_trade_list(symbol="ETHUSDT").data()
    check(trades and sum(Decimal(t.qty) for t in trades) == Decimal("0.05"), "account trades list the fills", trades)
    positions = ed_rest.position_information_v3(symbol="ETHUSDT").data()
    check(positions and positions[0].position_amt == "0.05", "position is long 0.05", positions)
    listen_key = rest.start_user_data_stream().data()
    check(len(listen_key.listen_key) > 10, "a listen key is issued", listen_key)
    again = rest.keepalive_user_data_stream().data()
    check(again.listen_key == listen_key.listen_key, "keep-alive returns the same listen key", again)


async def ws_api_checks(address, private_pem):
    config = ConfigurationWebSocketAPI(api_key=ED_KEY, private_key=private_pem, stream_url=f"ws://{address}/ws-fapi/v1")
    client = DerivativesTradingUsdsFutures(config_ws_api=config)
    ws = client.websocket_api
    connection = await ws.create_connection()
    logon = await ws.send_signed_message({"method": "session.logon", "params": {}}, signer=ws.signer, session_logon=True)
    answer = logon.data()
    answer = answer if isinstance(answer, dict) else getattr(answer, "__dict__", {})
    check("error" not in answer, "session.logon with the Ed25519 key", answer)
    book = DerivativesTradingUsdsFutures(config_rest_api=ConfigurationRestAPI(base_path=f"http://{address}"))
    bid = Decimal(book.rest_api.order_book(symbol="SOLUSDT").data().bids[0][0])
    price = float((bid * Decimal("0.9")).quantize(Decimal("0.01")))
    placed = (await ws.new_order(symbol="SOLUSDT", side="BUY", type="LIMIT", time_in_force="GTC",
                                 quantity=1.0, price=price)).data()
    order = placed.result
    check(order.status == "NEW" and order.symbol == "SOLUSDT", "order.place over the WebSocket API", placed)
    status = (await ws.query_order(symbol="SOLUSDT", order_id=order.order_id)).data()
    check(status.result.order_id == order.order_id, "order.status over the WebSocket API", status)
    modified = (await ws.modify_order(symbol="SOLUSDT", side="BUY", quantity=2.0, price=price,
                                      order_id=order.order_id)).data()
    check(modified.result.orig_qty == "2", "order.modify over the WebSocket API", modified)
    cancelled = (await ws.cancel_order(symbol="SOLUSDT", order_id=order.order_id)).data()
    check(cancelled.result.status == "CANCELED", "order.cancel over the WebSocket API", cancelled)
    await ws.close_connection()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--emulator", required=True)
    args = parser.parse_args()
    key = ECC.generate(curve="ed25519")
    private_pem = key.export_key(format="PEM")
    with tempfile.TemporaryDirectory() as folder:
        public_path = os.path.join(folder, "ed25519-public.pem")
        with open(public_path, "w") as handle:
            handle.write(key.public_key().export_key(format="PEM"))
        process, address = start_emulator(args.emulator, public_path)
        try:
            base = f"http://{address}"
            rest = DerivativesTradingUsdsFutures(config_rest_api=ConfigurationRestAPI(
                api_key=HMAC_KEY, api_secret=HMAC_SECRET, base_path=base, retries=1)).rest_api
            bad = DerivativesTradingUsdsFutures(config_rest_api=ConfigurationRestAPI(
                api_key=HMAC_KEY, api_secret="wrong", base_path=base, retries=1)).rest_api
            ed_rest = DerivativesTradingUsdsFutures(config_rest_api=ConfigurationRestAPI(
                api_key=ED_KEY, private_key=private_pem, base_path=base, retries=1)).rest_api
            rest_checks(rest, bad, ed_rest)
            asyncio.run(ws_api_checks(address, private_pem))
        finally:
            process.terminate()
            process.wait(timeout=10)
    if FAILURES:
        print(f"Binance SDK conformance: {len(FAILURES)} check(s) failed: {FAILURES}")
        raise SystemExit(1)
    print("Binance SDK conformance: all checks passed")


if __name__ == "__main__":
    main()
