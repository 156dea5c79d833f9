"""Bounds on what a client can hold before the app sees its request, in uvicorn's HTTP protocol (httptools).

uvicorn bounds neither the time to send a request head nor its size (httptools buffers a header of any length),
and has one connection limit for everyone: a thousand sockets that never send a byte, or a few 32 MB headers, cost
every other client its service. This protocol adds, per connection:

- a head timeout: a connection that has sent nothing within `head_timeout_s` of opening (or of the first byte of
  a later request) is closed; one that sent part of a head is answered 408 and closed;
- a head size: a head over `max_head_bytes` is answered 431 and the connection closed, before more is buffered;
- a per-address limit: a client address holding `max_connections_per_client` connections is answered 429 on any
  further one, which is closed at once.

Answers carry the error body of every route (backend/errors.py). Idle time between requests on a kept-alive
connection is uvicorn's own `timeout_keep_alive`. `python -m backend` (the image's command) serves with it.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from backend.settings import Settings

_REASONS = {408: b"Request Timeout", 429: b"Too Many Requests", 431: b"Request Header Fields Too Large"}


def _answer(status: int, field: str, reason: str, extra: bytes = b"") -> bytes:
    body = json.dumps({"status": status, "field": field, "reason": reason}).encode()
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n%s\r\n"
        % (status, _REASONS[status], len(body), extra)
    ) + body


def limited_protocol(settings: Settings) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol with the bounds of `settings` (one class per server: the per-address counts
    are the server's)."""
    head_timeout_s = settings.head_timeout_s
    max_head_bytes = settings.max_head_bytes
    per_client = settings.max_connections_per_client
    open_by_address: Counter[str] = Counter()
    too_big = _answer(431, "headers", f"the request head (request line and headers) is over {max_head_bytes} bytes")
    too_slow = _answer(408, "headers", f"the request head did not arrive within {head_timeout_s:g} s")
    too_many = _answer(
        429,
        "connection",
        f"this address has {per_client} connections open, the most it may: reuse them (keep-alive)",
        b"retry-after: 1\r\n",
    )

    class LimitedHttpToolsProtocol(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._address: str | None = None  # counted against the per-address limit
            self._in_head = True  # between a message's end (or the connection's start) and its next head's end
            self._head_bytes = 0
            self._head_started = False
            self._head_timer: asyncio.TimerHandle | None = None
            self._refused = False  # answered and closing: whatever is still in the parser is ignored

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            address = self.client[0] if self.client else None
            if per_client and address is not None:
                if open_by_address[address] >= per_client:
                    self._refuse(too_many)
                    return
                open_by_address[address] += 1
                self._address = address
            self._arm_head_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head_timer()
            if self._address is not None:
                open_by_address[self._address] -= 1
                if open_by_address[self._address] <= 0:
                    del open_by_address[self._address]
                self._address = None
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            if self._in_head:
                self._head_bytes += len(data)
                self._head_started = True
            super().data_received(data)
            # a head still incomplete after this chunk: httptools has buffered it, refuse before the next one
            if self._in_head and self._head_bytes > max_head_bytes and not self.transport.is_closing():
                self._refuse(too_big)

        def on_message_begin(self) -> None:
            if self._refused:
                return
            super().on_message_begin()
            if self._head_timer is None:
                self._arm_head_timer()

        def on_url(self, url: bytes) -> None:
            if not self._refused:
                super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            if not self._refused:
                super().on_header(name, value)

        def on_headers_complete(self) -> None:
            if self._refused:
                return
            self._in_head = False
            self._head_bytes = 0
            self._cancel_head_timer()
            # the exact size, for a head that arrived whole within one chunk
            size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
            if size > max_head_bytes:
                self._refuse(too_big)
                return
            super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            if not self._refused:
                super().on_body(body)

        def on_message_complete(self) -> None:
            if self._refused:
                return
            super().on_message_complete()
            self._in_head = True
            self._head_started = False

        def _arm_head_timer(self) -> None:
            if head_timeout_s > 0:
                self._head_timer = self.loop.call_later(head_timeout_s, self._head_timed_out)

        def _cancel_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if not self._in_head or self.transport.is_closing():
                return
            if self._head_started:
                self._refuse(too_slow)
            else:  # nothing sent: a connection opened ahead of use; closed without an answer nobody asked for
                self.transport.close()

        def _refuse(self, answer: bytes) -> None:
            self._cancel_head_timer()
            self._refused = True
            self._in_head = False
            self.transport.write(answer)
            self.transport.close()

    return LimitedHttpToolsProtocol
