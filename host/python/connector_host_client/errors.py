"""Errors: the host's refusals carry its error code."""

from __future__ import annotations


class HostError(Exception):
    """The host refused a command; ``code`` is its stable error code
    (``invalid_order``, ``unknown_order``, ``not_accepting``, ...; see
    docs/command-protocol.md)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class NoReply(HostError):
    """The host did not answer within the timeout (it may be down, or the
    endpoint wrong). Whether the command was carried out is unknown: ask
    (``get_order``, ``open_orders``) before sending it again."""

    def __init__(self, endpoint: str, timeout: float) -> None:
        super().__init__("no_reply", f"no reply from {endpoint} within {timeout} s")
