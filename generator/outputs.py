"""Where generated events go: files on the log volume (one per service), the backend over HTTP, or both."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
from pythonjsonlogger.orjson import OrjsonFormatter

log = logging.getLogger("generator")


@dataclass
class Stats:
    written: int = 0  # lines written to files
    delivered: int = 0  # acknowledged by the backend (indexed or queued)
    queued: int = 0  # of those, spooled by the backend for later indexing
    failed: int = 0  # given up on (rejected by the backend, or retries exhausted)
    retries: int = 0
    last_error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class Output(Protocol):
    def write(self, events: list[dict[str, Any]]) -> None: ...

    def close(self) -> None: ...

    def describe(self) -> str: ...


def _formatter() -> OrjsonFormatter:
    # python-json-logger's orjson formatter: the same lines, several times faster than the stdlib encoder
    return OrjsonFormatter()


class RotatingLineFile:
    """Appends lines to one file and rotates it by rename (<name> -> <name>.1 -> <name>.2 ...), like
    logging's RotatingFileHandler, but with one write per batch instead of one per line. Filebeat follows
    a renamed file by its identity, so rotation neither loses nor re-reads a line (never copy-truncate)."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open between batches
        self._size = self._file.tell()

    def write(self, lines: list[str]) -> None:
        chunk: list[str] = []
        for line in lines:
            size = len(line) + 1 if line.isascii() else len(line.encode("utf-8")) + 1
            if self._size and self._size + size > self.max_bytes:
                self._file.write("".join(chunk))
                chunk = []
                self._rotate()
            chunk.append(line + "\n")
            self._size += size
        self._file.write("".join(chunk))
        self._file.flush()

    def _rotate(self) -> None:
        self._file.close()
        for n in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                older.rename(self.path.with_name(f"{self.path.name}.{n + 1}"))
        if self.backups > 0:
            self.path.rename(self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink()
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        self._size = 0

    def close(self) -> None:
        self._file.close()


class FileOutput:
    """ECS JSON lines, one file per service (<dir>/<service>.log), each line rendered by python-json-logger's
    formatter from the event the generator made, rotated by rename."""

    def __init__(self, directory: Path, stats: Stats, max_bytes: int = 50 * 1024 * 1024, backups: int = 5) -> None:
        self.directory = directory
        self.stats = stats
        self.max_bytes = max_bytes
        self.backups = backups
        directory.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, RotatingLineFile] = {}
        self._render = _formatter().jsonify_log_record

    def write(self, events: list[dict[str, Any]]) -> None:
        by_service: dict[str, list[str]] = {}
        for event in events:
            by_service.setdefault(event["service"], []).append(self._render(event))
        for service, lines in by_service.items():
            out = self._files.get(service)
            if out is None:
                out = self._files[service] = RotatingLineFile(
                    self.directory / f"{service}.log", self.max_bytes, self.backups
                )
            out.write(lines)
        with self.stats.lock:
            self.stats.written += len(events)

    def close(self) -> None:
        for f in self._files.values():
            f.close()

    def describe(self) -> str:
        return f"files in {self.directory}"


class HttpOutput:
    """POST /logs/ndjson to the backend with an API key, in batches, retrying with backoff.

    A background thread sends, so pacing is not held up by the network; when the backend falls far
    behind, write() blocks (bounded queue) and the achieved rate drops rather than memory growing.
    """

    def __init__(
        self,
        url: str,
        api_key: str | None,
        stats: Stats,
        batch_size: int = 200,
        linger_s: float = 0.5,
        max_retries: int = 8,
        timeout_s: float = 30.0,
    ) -> None:
        self.url = url.rstrip("/") + "/logs/ndjson"
        self.stats = stats
        self.batch_size = batch_size
        self.linger_s = linger_s
        self.max_retries = max_retries
        headers = {"Content-Type": "application/x-ndjson"}
        if api_key:
            headers["X-API-Key"] = api_key
        self._client = httpx.Client(headers=headers, timeout=timeout_s)
        self._queue: queue.Queue[list[str] | None] = queue.Queue(maxsize=64)
        self._pending: list[str] = []
        self._pending_since = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="generator-http", daemon=True)
        self._thread.start()

    def write(self, events: list[dict[str, Any]]) -> None:
        if not self._pending:
            self._pending_since = time.monotonic()
        self._pending += [json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in events]
        while len(self._pending) >= self.batch_size:
            self._queue.put(self._pending[: self.batch_size])
            self._pending = self._pending[self.batch_size :]
        if self._pending and time.monotonic() - self._pending_since >= self.linger_s:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._queue.put(self._pending)
            self._pending = []

    def close(self) -> None:
        self.flush()
        self._queue.put(None)
        self._thread.join()
        self._client.close()

    def describe(self) -> str:
        return f"backend {self.url}"

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            self._send(batch)

    def _send(self, lines: list[str]) -> None:
        body = ("\n".join(lines) + "\n").encode()
        delay = 0.5
        for attempt in range(self.max_retries + 1):
            retry_after = None
            try:
                resp = self._client.post(self.url, content=body)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            else:
                if resp.status_code in (200, 202, 422):
                    self._account(resp.json(), len(lines))
                    return
                error = f"HTTP {resp.status_code}: {resp.text[:200]}"
                if resp.status_code not in (429, 502, 503, 504):
                    self._fail(len(lines), error)
                    return
                retry_after = resp.headers.get("Retry-After")
            if attempt == self.max_retries:
                self._fail(len(lines), f"gave up after {attempt + 1} attempts: {error}")
                return
            with self.stats.lock:
                self.stats.retries += 1
                self.stats.last_error = error
            wait = float(retry_after) if retry_after and retry_after.isdigit() else delay
            log.warning("backend not accepting events (%s), retrying in %.1fs", error, wait)
            time.sleep(wait)
            delay = min(delay * 2, 30.0)

    def _account(self, answer: dict[str, Any], sent: int) -> None:
        with self.stats.lock:
            self.stats.delivered += answer.get("indexed", 0) + answer.get("queued", 0) + answer.get("duplicate", 0)
            self.stats.queued += answer.get("queued", 0)
            bad = answer.get("rejected", 0) + answer.get("failed", 0)
            self.stats.failed += bad
            if bad:
                first = next((i for i in answer.get("items", []) if i.get("errors")), None)
                self.stats.last_error = json.dumps(first["errors"][0]) if first else "rejected"
        if bad:
            log.error("backend refused %d of %d events: %s", bad, sent, self.stats.last_error)

    def _fail(self, n: int, error: str) -> None:
        with self.stats.lock:
            self.stats.failed += n
            self.stats.last_error = error
        log.error("%d events not delivered: %s", n, error)
