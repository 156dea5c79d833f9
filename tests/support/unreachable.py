"""A node that is down, for the tests of clients that are given every node of a cluster."""

from __future__ import annotations

import socket


def unreachable_url() -> str:
    """A URL nothing listens on: a port taken from the kernel and given back."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"
