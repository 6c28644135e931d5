"""Events as the host publishes them, and where each stands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import wire

#: The families whose events the host keeps for replay.
KEPT_PREFIXES = ("orders.", "account.")


class Position(NamedTuple):
    """Where an event stands in its family: the host's run and its seq in
    that run. Positions compare run first, then seq."""

    run: int
    seq: int

    def as_json(self) -> dict[str, int]:
        return {"run": self.run, "seq": self.seq}


def family_of(topic: str) -> str:
    """``orders.<exchange>``, ``account.<exchange>``, ``market.<exchange>``
    or ``host``: the scope of ``seq``."""
    parts = topic.split(".")
    return parts[0] if parts[0] == "host" else ".".join(parts[:2])


def is_kept(family: str) -> bool:
    """Whether the host keeps the family's events (they can be replayed)."""
    return family.startswith(KEPT_PREFIXES)


@dataclass(frozen=True)
class Event:
    """One published event: its topic, envelope and ``data`` (numbers with a
    fraction as ``Decimal``)."""

    topic: str
    event_type: str
    timestamp: int
    run: int
    seq: int
    data: dict[str, Any] = field(repr=False)

    @property
    def family(self) -> str:
        return family_of(self.topic)

    @property
    def position(self) -> Position:
        return Position(self.run, self.seq)

    @classmethod
    def from_body(cls, topic: str, body: Any) -> Event:
        """An event from its topic and parsed body."""
        return cls(
            topic=topic,
            event_type=body["event_type"],
            timestamp=body["timestamp"],
            run=body.get("run", 0),
            seq=body["seq"],
            data=body["data"],
        )

    @classmethod
    def from_frames(cls, topic: bytes, body: bytes) -> Event:
        """An event as it comes off the SUB socket."""
        return cls.from_body(topic.decode(), wire.loads(body))


@dataclass(frozen=True)
class Missing:
    """Events of ``family`` after ``after`` are no longer kept by the host
    (older than its retention, or lost to a crash): ``snapshot`` is the
    state now (the ``snapshot`` command's result), to rebuild from. Events
    continue after this item."""

    family: str
    after: Position | None
    snapshot: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class ReplayPage:
    """One page of a family's kept events (the ``replay`` command)."""

    family: str
    events: list[Event]
    next: Position | None
    complete: bool
    missing: bool

    @classmethod
    def from_result(cls, result: Any) -> ReplayPage:
        nxt = result.get("next")
        return cls(
            family=result["family"],
            events=[Event.from_body(e["topic"], e["body"]) for e in result["events"]],
            next=Position(nxt["run"], nxt["seq"]) if nxt else None,
            complete=result["complete"],
            missing=result["missing"],
        )
