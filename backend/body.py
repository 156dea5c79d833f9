"""Reads a request body within limits and decodes it into a list of raw events.

Starlette has no body size limit of its own, so the limit is enforced here while streaming, before
anything is buffered past it; gzip bodies are inflated with the same limit (no gzip bombs).
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson


class BodyError(Exception):
    def __init__(self, status: int, reason: str, field: str = "body") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.field = field


JSON_TYPES = ("application/json",)
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/json-seq")


async def read_limited(
    stream: AsyncIterator[bytes], encoding: str | None, max_bytes: int, timeout_s: float | None = None
) -> bytes:
    """The body, inflated, within max_bytes and (when given) timeout_s seconds for all of it to arrive."""
    if timeout_s is None:
        return await _read(stream, encoding, max_bytes)
    try:
        async with asyncio.timeout(timeout_s):
            return await _read(stream, encoding, max_bytes)
    except TimeoutError:
        raise BodyError(408, f"the body did not arrive within {timeout_s:g} s; send it at once") from None


async def _read(stream: AsyncIterator[bytes], encoding: str | None, max_bytes: int) -> bytes:
    encoding = (encoding or "identity").strip().lower()
    if encoding not in ("identity", "gzip", "deflate"):
        raise BodyError(
            415, f"unsupported Content-Encoding {encoding!r}: use gzip, deflate or none", "content-encoding"
        )
    inflater = (
        zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
        if encoding != "identity"
        else None
    )
    received = 0
    out = bytearray()
    async for chunk in stream:
        received += len(chunk)
        if received > max_bytes:
            raise BodyError(413, f"request body larger than {max_bytes} bytes")
        if inflater is None:
            out += chunk
            continue
        while chunk:
            try:
                out += inflater.decompress(chunk, max_bytes + 1 - len(out))
            except zlib.error as exc:
                raise BodyError(400, f"body is not valid {encoding}: {exc}", "content-encoding") from None
            if len(out) > max_bytes or inflater.unconsumed_tail:
                raise BodyError(413, f"decompressed body larger than {max_bytes} bytes")
            chunk = b""
            if inflater.eof and inflater.unused_data:
                if encoding != "gzip":
                    raise BodyError(400, "bytes after the end of the deflate stream", "content-encoding")
                # gzip members back to back are one file (RFC 1952 2.2), as `gzip -d` reads them: the bytes after
                # a member's end start the next one, within the same decompressed limit
                chunk, inflater = inflater.unused_data, zlib.decompressobj(16 + zlib.MAX_WBITS)
    if inflater is not None:
        if not inflater.eof:
            raise BodyError(400, f"body is not valid {encoding}: truncated", "content-encoding")
        out += inflater.flush()
    return bytes(out)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _loads(text: str) -> Any:
    """orjson for what parses (a third of the standard library's time); anything it refuses goes to the standard
    library, whose answer is the one every client has had: its error message, or the value where JSON allows what
    orjson does not (integers beyond 64 bits, a lone surrogate, which is then judged per event)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text, parse_constant=_reject_constant)


@dataclass(frozen=True)
class BadLine:
    """An NDJSON line that is not JSON: it keeps its position in the batch and says why."""

    reason: str


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def decode(body: bytes, content_type: str | None) -> list[Any]:
    """The events of the body; an NDJSON line that is not JSON becomes a BadLine, the others go on."""
    kind = media_type(content_type)
    if kind not in JSON_TYPES + NDJSON_TYPES:
        raise BodyError(
            415,
            f"Content-Type must be application/json or application/x-ndjson, not {kind or 'missing'}",
            "content-type",
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(400, f"body is not valid UTF-8 at byte {exc.start}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if kind in JSON_TYPES:
        if not text.strip():
            raise BodyError(400, "empty body: send an event object or an array of events")
        try:
            value = _loads(text)
        except (ValueError, RecursionError) as exc:
            raise BodyError(400, f"body is not valid JSON: {_short(exc)}") from None
        if isinstance(value, list):
            return value
        if isinstance(value, dict):
            return [value]
        raise BodyError(400, "body must be an event object or an array of events")
    events: list[Any] = []
    # only LF (and CR LF) ends a line: str.splitlines would also split at U+2028, U+2029, U+0085 and others,
    # which JSON allows raw inside a string
    for line in text.split("\n"):
        if not line.strip():
            continue
        try:
            events.append(_loads(line))
        except (ValueError, RecursionError) as exc:
            events.append(BadLine(f"line is not valid JSON: {_short(exc)}"))
    return events


def _short(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)[:200]
