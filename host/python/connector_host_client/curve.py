"""CURVE keys for a host with ``zmq.curve``: this client's key pair and the
host's public key, read from the files ``connector-host keygen`` writes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import zmq

_LINE = re.compile(r'^\s*(public_key|secret_key)\s*=\s*"([^"]{40})"\s*$')


def read_key_file(path: str | Path) -> dict[str, str]:
    """The Z85 keys in a key file: ``public_key``, and ``secret_key`` in a
    ``.key`` file."""
    keys: dict[str, str] = {}
    for line in Path(path).read_text().splitlines():
        found = _LINE.match(line)
        if found:
            keys[found.group(1)] = found.group(2)
    if "public_key" not in keys:
        raise ValueError(f"{path}: no public_key = \"<40 Z85 characters>\" line")
    return keys


@dataclass(frozen=True)
class CurveKeys:
    """This client's key pair (listed in the host's ``zmq.curve.clients``)
    and the host's public key, all in Z85."""

    public_key: str
    secret_key: str
    server_key: str

    @classmethod
    def from_files(cls, client_key: str | Path, server_key: str | Path) -> CurveKeys:
        """``client_key``: this client's ``.key`` file; ``server_key``: the
        host's ``.pub`` (or ``.key``) file."""
        client = read_key_file(client_key)
        if "secret_key" not in client:
            raise ValueError(f"{client_key}: no secret_key (this is a public key file)")
        return cls(client["public_key"], client["secret_key"], read_key_file(server_key)["public_key"])

    def apply(self, socket: zmq.Socket) -> None:
        """Makes ``socket`` a CURVE client with these keys; before connecting."""
        socket.curve_publickey = self.public_key.encode()
        socket.curve_secretkey = self.secret_key.encode()
        socket.curve_serverkey = self.server_key.encode()
