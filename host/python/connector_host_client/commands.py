"""The host's commands as typed requests: build one here, send it with
``Client.call`` (or ``await AsyncClient.call``), get its typed result.
Names and fields are the command protocol's (docs/command-protocol.md)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any, Callable, Generic, Literal, TypeVar

from .errors import HostError
from .events import Position, ReplayPage

T = TypeVar("T")

#: An order as the host reports it (the ``data`` of ``orders.*`` events).
Order = dict[str, Any]

Number = Decimal | str | int


@dataclass(frozen=True)
class Request(Generic[T]):
    """A command and how to read its result."""

    cmd: str
    fields: dict[str, Any]
    result: Callable[[Any], T]

    def message(self, request_id: int) -> dict[str, Any]:
        """The JSON request (fields left out when ``None``)."""
        message = {"cmd": self.cmd, "id": request_id}
        message.update({k: v for k, v in self.fields.items() if v is not None})
        return message


def _nothing(_: Any) -> None:
    return None


@dataclass(frozen=True)
class Exit:
    """A take-profit or stop-loss attached to a new order: its trigger
    price, its limit once fired (``None``: at market) and the price its
    trigger watches."""

    trigger_price: Number
    price: Number | None = None
    trigger_reference: Literal["MARK", "LAST"] | None = None

    def fields(self) -> dict[str, Any]:
        """The command's object for this exit."""
        return {
            "trigger_price": str(self.trigger_price),
            "price": None if self.price is None else str(self.price),
            "trigger_reference": self.trigger_reference,
        }


def order(
    side: Literal["buy", "sell"],
    trading_pair: str,
    amount: Number,
    price: Number | None = None,
    *,
    order_type: str = "LIMIT",
    time_in_force: str | None = None,
    reduce_only: bool = False,
    client_order_id: str | None = None,
    max_slippage_percent: Number | None = None,
    trigger_price: Number | None = None,
    trigger_reference: Literal["MARK", "LAST"] | None = None,
    take_profit: "Exit | None" = None,
    stop_loss: "Exit | None" = None,
    exchange: str | None = None,
) -> Request[str]:
    """A new order (``buy`` and ``sell`` fix the side); the result is its
    client order id (the order is tracked: its life follows on
    ``orders.<exchange>.*``). Stops and take-profits (``order_type``
    ``STOP_MARKET``, ``STOP_LIMIT``, ``TAKE_PROFIT_MARKET``,
    ``TAKE_PROFIT_LIMIT``) take a ``trigger_price`` and watch the mark
    price, or the last price with ``trigger_reference="LAST"`` where the
    exchange allows it. ``take_profit`` and ``stop_loss`` (``Exit``) are
    placed by the host, reduce-only, for what filled once the order is done;
    when one fills, the other is cancelled."""
    return Request(
        side,
        {
            "trading_pair": trading_pair,
            "amount": str(amount),
            "price": None if price is None else str(price),
            "order_type": order_type,
            "time_in_force": time_in_force,
            "reduce_only": reduce_only or None,
            "client_order_id": client_order_id,
            "max_slippage_percent": None
            if max_slippage_percent is None
            else str(max_slippage_percent),
            "trigger_price": None if trigger_price is None else str(trigger_price),
            "trigger_reference": trigger_reference,
            "take_profit": None if take_profit is None else take_profit.fields(),
            "stop_loss": None if stop_loss is None else stop_loss.fields(),
            "exchange": exchange,
        },
        lambda result: result["client_order_id"],
    )


#: A buy order: ``buy(trading_pair, amount, price=None, *, order_type=...,
#: exchange=...)``, as ``order`` takes them.
buy = partial(order, "buy")

#: A sell order, as ``buy``.
sell = partial(order, "sell")


def cancel(client_order_id: str, *, exchange: str | None = None) -> Request[None]:
    """Asks the exchange to cancel an order."""
    return Request("cancel", {"client_order_id": client_order_id, "exchange": exchange}, _nothing)


def cancel_all(
    trading_pair: str | None = None, *, exchange: str | None = None
) -> Request[list[str]]:
    """Cancels every live order (of one pair, of one exchange); the result
    is the ids whose cancel was requested."""
    return Request(
        "cancel_all",
        {"trading_pair": trading_pair, "exchange": exchange},
        lambda result: result["cancel_requested"],
    )


def modify(
    client_order_id: str,
    *,
    price: Number | None = None,
    amount: Number | None = None,
    exchange: str | None = None,
) -> Request[str]:
    """Changes an order's price or total amount; the result is
    ``"requested"`` or ``"queued"`` (behind a modify under way)."""
    return Request(
        "modify",
        {
            "client_order_id": client_order_id,
            "price": None if price is None else str(price),
            "amount": None if amount is None else str(amount),
            "exchange": exchange,
        },
        lambda result: result["modify"],
    )


def get_order(client_order_id: str, *, exchange: str | None = None) -> Request[Order]:
    """One order as the host knows it."""
    return Request(
        "get_order", {"client_order_id": client_order_id, "exchange": exchange}, lambda r: r
    )


def open_orders(
    trading_pair: str | None = None, *, exchange: str | None = None
) -> Request[list[Order]]:
    """Every live order (of one pair, of one exchange)."""
    return Request(
        "open_orders",
        {"trading_pair": trading_pair, "exchange": exchange},
        lambda result: result["orders"],
    )


def status(*, exchange: str | None = None) -> Request[dict[str, Any]]:
    """The host's state per exchange."""
    return Request("status", {"exchange": exchange}, lambda result: result)


def kill_switch(reason: str | None = None, *, exchange: str | None = None) -> Request[list[str]]:
    """Cancels every live order and refuses new ones until released; the
    result is the ids whose cancel was requested."""
    return Request(
        "kill_switch",
        {"reason": reason, "exchange": exchange},
        lambda result: result["cancel_requested"],
    )


def release_kill_switch(*, exchange: str | None = None) -> Request[None]:
    """Takes new orders again after a kill switch."""
    return Request("release_kill_switch", {"exchange": exchange}, _nothing)


def heartbeat(*, exchange: str | None = None) -> Request[None]:
    """Tells the host a strategy is alive (for its dead man's switch)."""
    return Request("heartbeat", {"exchange": exchange}, _nothing)


def snapshot(*, exchange: str | None = None) -> Request[dict[str, Any]]:
    """Open orders, balances, positions and books' state now, each with the
    seq of its family it includes."""
    return Request("snapshot", {"exchange": exchange}, lambda result: result)


def replay(
    family: str, after: Position | None = None, *, limit: int | None = None
) -> Request[ReplayPage]:
    """A page of the kept events of ``family`` (``orders.<exchange>`` or
    ``account.<exchange>``) after ``after``. ``Subscriber`` does this for
    you."""
    return Request(
        "replay",
        {"family": family, "after": after.as_json() if after else None, "limit": limit},
        ReplayPage.from_result,
    )


def balances(*, exchange: str | None = None) -> Request[list[dict[str, Any]]]:
    """Balances now: ``{exchange, asset, total, available}`` each."""
    return Request("balances", {"exchange": exchange}, lambda result: result["balances"])


def positions(
    trading_pair: str | None = None, *, exchange: str | None = None
) -> Request[list[dict[str, Any]]]:
    """Positions now (of one pair, of one exchange)."""
    return Request(
        "positions",
        {"trading_pair": trading_pair, "exchange": exchange},
        lambda result: result["positions"],
    )


def markets(
    trading_pair: str | None = None, *, exchange: str | None = None
) -> Request[list[dict[str, Any]]]:
    """Per exchange: its capabilities and its configured markets' rules
    (tick, lot, minimum notional, ...)."""
    return Request(
        "markets",
        {"trading_pair": trading_pair, "exchange": exchange},
        lambda result: result["exchanges"],
    )


@dataclass(frozen=True)
class JournalPage:
    """Orders (``history``) or fills (``fills``) from the host's journal:
    the newest ``limit`` of those that matched, oldest first; ``complete``
    when that is all of them (otherwise ask again with ``until_ms`` at the
    oldest one's time)."""

    items: list[dict[str, Any]]
    complete: bool


def _journal(
    cmd: str,
    key: str,
    trading_pair: str | None,
    since_ms: int | None,
    until_ms: int | None,
    limit: int | None,
    exchange: str | None,
) -> Request[JournalPage]:
    return Request(
        cmd,
        {
            "trading_pair": trading_pair,
            "since_ms": since_ms,
            "until_ms": until_ms,
            "limit": limit,
            "exchange": exchange,
        },
        lambda result: JournalPage(result[key], result["complete"]),
    )


def history(
    trading_pair: str | None = None,
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    limit: int | None = None,
    exchange: str | None = None,
) -> Request[JournalPage]:
    """The orders alive at some time in ``[since_ms, until_ms)``, by
    creation time."""
    return _journal("history", "orders", trading_pair, since_ms, until_ms, limit, exchange)


def fills(
    trading_pair: str | None = None,
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    limit: int | None = None,
    exchange: str | None = None,
) -> Request[JournalPage]:
    """The fills executed in ``[since_ms, until_ms)``, each once, by time."""
    return _journal("fills", "fills", trading_pair, since_ms, until_ms, limit, exchange)


def set_leverage(
    trading_pair: str,
    leverage: int,
    margin_mode: Literal["cross", "isolated"],
    *,
    exchange: str | None = None,
) -> Request[dict[str, Any]]:
    """Sets a market's leverage and margin mode on the exchange (the venues
    set them together); the result is what was set, a refusal raises
    ``HostError`` (``rejected``, ``invalid_setting``, ``outcome_unknown``)."""
    return _setting("set_leverage", trading_pair, leverage, margin_mode, exchange)


def set_margin_mode(
    trading_pair: str,
    margin_mode: Literal["cross", "isolated"],
    leverage: int,
    *,
    exchange: str | None = None,
) -> Request[dict[str, Any]]:
    """Sets a market's margin mode and leverage (as ``set_leverage``)."""
    return _setting("set_margin_mode", trading_pair, leverage, margin_mode, exchange)


def _setting(
    cmd: str, trading_pair: str, leverage: int, margin_mode: str, exchange: str | None
) -> Request[dict[str, Any]]:
    return Request(
        cmd,
        {
            "trading_pair": trading_pair,
            "leverage": leverage,
            "margin_mode": margin_mode,
            "exchange": exchange,
        },
        lambda result: result,
    )


def batch(
    elements: list[Request[Any]], *, exchange: str | None = None
) -> Request[list[Any]]:
    """Several ``buy``, ``sell``, ``cancel`` and ``modify`` requests for one
    exchange in one command, sent as the venue's batches. The result has
    one item per element, in order: its typed result, or the ``HostError``
    that refused it (one element's refusal never fails the others)."""
    def results(result: dict[str, Any]) -> list[Any]:
        items: list[Any] = []
        for element, answer in zip(elements, result["results"]):
            if answer["ok"]:
                items.append(element.result(answer["result"]))
            else:
                error = answer["error"]
                items.append(HostError(error["code"], error["message"]))
        return items

    return Request(
        "batch",
        {
            "exchange": exchange,
            "commands": [
                {"cmd": e.cmd, **{k: v for k, v in e.fields.items() if v is not None}}
                for e in elements
            ],
        },
        results,
    )
