"""The client and subscriber for asyncio, over ``zmq.asyncio``: only their
waiting differs from the blocking ones; requests, replies and gap repair
are the same code."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import TypeVar

import zmq
import zmq.asyncio

from .client import decode, encode, idle_wait, subscribe_socket
from .commands import Request
from .curve import CurveKeys
from .errors import NoReply
from .events import Event, Position
from .repair import GapRepair, Item, Steps

T = TypeVar("T")


class AsyncClient:
    """``Client`` for asyncio: ``await client.call(request)``."""

    def __init__(
        self,
        endpoint: str,
        *,
        timeout: float = 5.0,
        context: zmq.asyncio.Context | None = None,
        curve: CurveKeys | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self._socket = (context or zmq.asyncio.Context.instance()).socket(zmq.DEALER)
        self._socket.setsockopt(zmq.LINGER, 0)
        if curve is not None:
            curve.apply(self._socket)
        self._socket.connect(endpoint)

    async def call(self, request: Request[T]) -> T:
        """Sends ``request`` and waits for its reply."""
        request_id, frames = encode(request)
        await self._socket.send_multipart(frames)
        while await self._socket.poll(int(self.timeout * 1000)):
            done, result = decode(request, request_id, await self._socket.recv_multipart())
            if done:
                return result  # type: ignore[return-value]
        raise NoReply(self.endpoint, self.timeout)

    def close(self) -> None:
        self._socket.close()


class AsyncSubscriber:
    """``Subscriber`` for asyncio: ``async for item in subscriber``. Call
    ``await subscriber.start()`` first when resuming families."""

    def __init__(
        self,
        events: str,
        client: AsyncClient,
        *,
        topics: Iterable[str] = ("orders.", "account."),
        resume: Mapping[str, Position | None] | None = None,
        context: zmq.asyncio.Context | None = None,
        curve: CurveKeys | None = None,
    ) -> None:
        self._client = client
        self._socket = subscribe_socket(
            context or zmq.asyncio.Context.instance(), events, topics, curve
        )
        self._repair = GapRepair(resume)
        self._ready: deque[Item] = deque()
        self._started = False

    @property
    def positions(self) -> dict[str, Position]:
        return dict(self._repair.positions)

    async def _run(self, steps: Steps) -> list[Item]:
        try:
            request = next(steps)
            while True:
                request = steps.send(await self._client.call(request))
        except StopIteration as done:
            return done.value

    async def start(self) -> None:
        """Catches up the families given in ``resume``."""
        if not self._started:
            self._started = True
            self._ready.extend(await self._run(self._repair.start()))

    async def next(self, timeout: float | None = None) -> Item | None:
        """The next item, or ``None`` when nothing came within ``timeout``
        seconds. Each second without an event the host's history is checked
        for events the socket missed."""
        await self.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._ready:
            wait = idle_wait(deadline)
            if await self._socket.poll(int(wait * 1000)):
                topic, body = await self._socket.recv_multipart()
                self._ready.extend(await self._run(self._repair.live(Event.from_frames(topic, body))))
                continue
            self._ready.extend(await self._run(self._repair.idle()))
            if not self._ready and deadline is not None and time.monotonic() >= deadline:
                return None
        return self._ready.popleft()

    async def __aiter__(self) -> AsyncIterator[Item]:
        while True:
            item = await self.next()
            if item is not None:
                yield item

    def close(self) -> None:
        self._socket.close()
