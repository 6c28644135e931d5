"""A client for connector-host: typed commands, and event subscriptions
that never miss an order or account event (gaps are repaired by replay).

    from connector_host_client import Client, Subscriber, commands

    with Client("tcp://127.0.0.1:5556") as host:
        order_id = host.call(commands.buy("BTC-USD", "0.001", "90000", exchange="hl-local"))
        for event in Subscriber("tcp://127.0.0.1:5555", host):
            ...

Decimals are ``Decimal``; a refusal raises ``HostError`` (``.code``).
See host/python/README.md.
"""

from . import commands
from .aio import AsyncClient, AsyncSubscriber
from .client import Client, Subscriber
from .curve import CurveKeys
from .errors import HostError, NoReply
from .events import Event, Missing, Position, ReplayPage

__all__ = [
    "AsyncClient",
    "AsyncSubscriber",
    "Client",
    "CurveKeys",
    "Event",
    "HostError",
    "Missing",
    "NoReply",
    "Position",
    "ReplayPage",
    "Subscriber",
    "commands",
]
