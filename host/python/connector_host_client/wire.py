"""JSON as the host writes and reads it: numbers with a fraction become
``Decimal`` (never ``float``), decimals are sent as strings."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def loads(data: bytes | str) -> Any:
    """Parses host JSON; ``65000.5`` is ``Decimal("65000.5")``, whole
    numbers are ``int``."""
    return json.loads(data, parse_float=Decimal)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: Any) -> bytes:
    """Encodes a request; a ``Decimal`` is written as a string, exactly."""
    return json.dumps(value, default=_default, separators=(",", ":")).encode()
