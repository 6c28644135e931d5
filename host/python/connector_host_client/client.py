"""Blocking client: commands over the host's command socket, and a
subscriber that repairs its gaps by replay."""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

import zmq

from . import wire
from .commands import Request
from .curve import CurveKeys
from .errors import HostError, NoReply
from .events import Event, Position
from .repair import GapRepair, Item, Steps

T = TypeVar("T")

_ids = itertools.count(1)


def encode(request: Request[Any]) -> tuple[int, list[bytes]]:
    """A request's id and DEALER frames."""
    request_id = next(_ids)
    return request_id, [b"", wire.dumps(request.message(request_id))]


def decode(request: Request[T], request_id: int, frames: list[bytes]) -> tuple[bool, T | None]:
    """``(True, result)`` for the reply to ``request_id``; ``(False, None)``
    for a late reply to an earlier request (skipped). A refusal raises."""
    reply = wire.loads(frames[-1])
    if reply.get("id") != request_id:
        return False, None
    if not reply.get("ok"):
        error = reply.get("error") or {}
        raise HostError(error.get("code", "unknown"), error.get("message", ""))
    return True, request.result(reply.get("result"))


class Client:
    """Sends commands to a host and returns their typed results; a refusal
    raises ``HostError`` with the host's code, silence ``NoReply``."""

    def __init__(
        self,
        endpoint: str,
        *,
        timeout: float = 5.0,
        context: zmq.Context | None = None,
        curve: CurveKeys | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self._socket = (context or zmq.Context.instance()).socket(zmq.DEALER)
        self._socket.setsockopt(zmq.LINGER, 0)
        if curve is not None:
            curve.apply(self._socket)
        self._socket.connect(endpoint)

    def call(self, request: Request[T]) -> T:
        """Sends ``request`` and waits for its reply."""
        request_id, frames = encode(request)
        self._socket.send_multipart(frames)
        while self._socket.poll(int(self.timeout * 1000)):
            done, result = decode(request, request_id, self._socket.recv_multipart())
            if done:
                return result  # type: ignore[return-value]
        raise NoReply(self.endpoint, self.timeout)

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def subscribe_socket(
    context: zmq.Context, endpoint: str, topics: Iterable[str], curve: CurveKeys | None = None
) -> zmq.Socket:
    """A SUB socket subscribed before it connects (nothing published from
    then on is missed)."""
    socket = context.socket(zmq.SUB)
    socket.setsockopt(zmq.LINGER, 0)
    if curve is not None:
        curve.apply(socket)
    for topic in topics:
        socket.setsockopt_string(zmq.SUBSCRIBE, topic)
    socket.connect(endpoint)
    return socket


#: Seconds without an event after which a subscriber checks the host's
#: history for events its socket missed.
IDLE_CHECK_S = 1.0


def idle_wait(deadline: float | None) -> float:
    """How long to wait for the next event before an idle check (or the
    deadline, whichever comes first)."""
    if deadline is None:
        return IDLE_CHECK_S
    return max(0.0, min(IDLE_CHECK_S, deadline - time.monotonic()))


class Subscriber:
    """Events from a host's publisher, each order and account event once and
    in order: a jump in ``seq``, a new run, or a family given in ``resume``
    is repaired by replaying what the host kept (``Missing`` is handed on
    when it kept too little). ``positions`` is where each family stands:
    store it with what you did with the events, and give it as ``resume``
    when you start again."""

    def __init__(
        self,
        events: str,
        client: Client,
        *,
        topics: Iterable[str] = ("orders.", "account."),
        resume: Mapping[str, Position | None] | None = None,
        context: zmq.Context | None = None,
        curve: CurveKeys | None = None,
    ) -> None:
        self._client = client
        self._socket = subscribe_socket(context or zmq.Context.instance(), events, topics, curve)
        self._repair = GapRepair(resume)
        self._ready: deque[Item] = deque(self._run(self._repair.start()))

    @property
    def positions(self) -> dict[str, Position]:
        return dict(self._repair.positions)

    def _run(self, steps: Steps) -> list[Item]:
        try:
            request = next(steps)
            while True:
                request = steps.send(self._client.call(request))
        except StopIteration as done:
            return done.value

    def next(self, timeout: float | None = None) -> Item | None:
        """The next item, or ``None`` when nothing came within ``timeout``
        seconds (``None``: wait for ever). Each second without an event the
        host's history is checked for events the socket missed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._ready:
            wait = idle_wait(deadline)
            if self._socket.poll(int(wait * 1000)):
                topic, body = self._socket.recv_multipart()
                self._ready.extend(self._run(self._repair.live(Event.from_frames(topic, body))))
                continue
            self._ready.extend(self._run(self._repair.idle()))
            if not self._ready and deadline is not None and time.monotonic() >= deadline:
                return None
        return self._ready.popleft()

    def __iter__(self) -> Iterator[Item]:
        while True:
            item = self.next()
            if item is not None:
                yield item

    def close(self) -> None:
        self._socket.close()
