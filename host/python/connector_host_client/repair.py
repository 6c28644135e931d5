"""Gap repair without I/O, shared by the blocking and the asyncio
subscribers: which live events to hand on, and when to replay what was
missed (docs/events.md, "Never blind")."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, Union

from . import commands
from .commands import Request
from .events import Event, Missing, Position, ReplayPage, is_kept

#: What a subscriber hands on.
Item = Union[Event, Missing]

#: A step that needs the host: it yields requests, is sent their results,
#: and returns the items to hand on.
Steps = Generator[Request[Any], Any, list[Item]]


class GapRepair:
    """Keeps each kept family's last position; a live event that does not
    follow it (a jump in seq, a new run, or the first event of a family to
    resume) is preceded by a replay of what lies between, and events already
    handed on are skipped."""

    def __init__(self, resume: Mapping[str, Position | None] | None = None) -> None:
        self.positions: dict[str, Position] = {}
        self._pending: dict[str, Position | None] = dict(resume or {})
        self._followed: set[str] = set(self._pending)

    def start(self) -> Steps:
        """Catches up the families to resume before any live event."""
        items: list[Item] = []
        for family, after in list(self._pending.items()):
            items += yield from self._catch_up(family, after)
        self._pending.clear()
        return items

    def idle(self) -> Steps:
        """When nothing came for a while: what the host kept of each followed
        family after its position. An event published while the subscription
        was still being set up (or the last of a burst lost) is found here,
        instead of waiting for the next event of its family to show the
        gap."""
        items: list[Item] = []
        for family in sorted(self._followed | set(self.positions)):
            items += yield from self._catch_up(family, self.positions.get(family))
        return items

    def live(self, event: Event) -> Steps:
        """The items to hand on for one live event, in order."""
        family = event.family
        if not is_kept(family):
            return [event]
        last = self.positions.get(family)
        if last is None:
            self.positions[family] = event.position
            return [event]
        if event.run == last.run and event.seq <= last.seq:
            return []
        if event.position == Position(last.run, last.seq + 1):
            self.positions[family] = event.position
            return [event]
        items = yield from self._catch_up(family, last)
        now = self.positions.get(family)
        if now is None or event.position > now:
            self.positions[family] = event.position
            items.append(event)
        return items

    def _catch_up(self, family: str, after: Position | None) -> Steps:
        """Replays after ``after``. When the host no longer has what followed
        it (older than its retention, or its history was replaced — then an
        event of an earlier run comes live), ``Missing`` is handed on with a
        snapshot, and everything the host keeps follows it."""
        items: list[Item] = []
        while True:
            page: ReplayPage = yield commands.replay(family, after)
            if page.missing:
                snapshot = yield commands.snapshot()
                items.append(Missing(family, after, snapshot))
                self.positions.pop(family, None)
                after = None
                continue
            for event in page.events:
                if after is None or event.position > after:
                    items.append(event)
                    after = event.position
            if after is not None:
                self.positions[family] = after
            if page.complete:
                return items
