"""`logplatform send`: lines from a file or a pipe into the backend's `POST /logs/ndjson`, in batches.

A JSON object line is sent as the event it is (given the service when it names none); any other line becomes
`{"service": ..., "message": line}`. Every event gets its `event.id` here, before the first try, so a batch sent
again after a 503, a 429 or a lost connection is indexed once. What a retry cannot fix (an invalid line) is
reported with its line number and reason; what could not be stored after the retries is counted as failed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import httpx

from logplatform.event_ids import new_event_id

RETRYABLE = {429, 502, 503, 504}


class SendError(Exception):
    """A refusal no retry can fix (no or wrong key, a limit): sending stops."""


@dataclass
class Summary:
    lines: int = 0
    indexed: int = 0
    queued: int = 0
    failed: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)

    def text(self) -> str:
        head = (
            f"sent {self.lines} lines: {self.indexed} indexed, {self.queued} queued, "
            f"{len(self.rejected)} rejected, {self.failed} failed"
        )
        return "\n".join([head, *(f"line {n}: {reason}" for n, reason in self.rejected)])


def events(lines: Iterable[str], service: str) -> Iterator[tuple[int, str]]:
    """(line number, the event as one JSON line) for each non-empty line."""
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        event: dict[str, object] | None = None
        if line.lstrip().startswith("{"):
            try:
                parsed = json.loads(line)
            except ValueError:
                parsed = None
            event = parsed if isinstance(parsed, dict) else None
        if event is None:
            event = {"message": line}
        event.setdefault("service", service)
        meta = event.get("event")
        if not isinstance(meta, dict) or "id" not in meta:
            event["event"] = {**(meta if isinstance(meta, dict) else {}), "id": new_event_id()}
        yield number, json.dumps(event, ensure_ascii=False)


def send(
    lines: Iterable[str],
    service: str,
    url: str,
    api_key: str,
    batch: int = 500,
    retries: int = 5,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[Summary], None] = lambda _summary: None,
) -> Summary:
    summary = Summary()
    http = client or httpx.Client(timeout=60)
    try:
        chunk: list[tuple[int, str]] = []
        for item in events(lines, service):
            chunk.append(item)
            if len(chunk) == batch:
                _send_batch(http, url, api_key, chunk, summary, retries, sleep)
                progress(summary)
                chunk = []
        if chunk:
            _send_batch(http, url, api_key, chunk, summary, retries, sleep)
            progress(summary)
    finally:
        if client is None:
            http.close()
    return summary


def _send_batch(
    http: httpx.Client,
    url: str,
    api_key: str,
    chunk: list[tuple[int, str]],
    summary: Summary,
    retries: int,
    sleep: Callable[[float], None],
) -> None:
    body = "\n".join(line for _, line in chunk).encode()
    headers = {"X-API-Key": api_key, "Content-Type": "application/x-ndjson"}
    summary.lines += len(chunk)
    for attempt in range(retries + 1):
        try:
            answer = http.post(f"{url.rstrip('/')}/logs/ndjson", content=body, headers=headers)
        except httpx.TransportError:
            answer = None
        if answer is not None and answer.status_code not in RETRYABLE:
            _count(answer, chunk, summary)
            return
        if attempt < retries:
            wait = answer.headers.get("Retry-After") if answer is not None else None
            sleep(float(wait) if wait and wait.isdigit() else min(2.0**attempt, 30.0))
    summary.failed += len(chunk)


def _count(answer: httpx.Response, chunk: list[tuple[int, str]], summary: Summary) -> None:
    try:
        payload = answer.json()
    except ValueError:
        payload = {}
    if "items" not in payload:
        raise SendError(f"the backend answered {answer.status_code}: {payload.get('reason') or answer.text[:200]}")
    for item in payload["items"]:
        status = item["status"]
        if status in ("indexed", "duplicate"):  # a duplicate: this event is already stored (an earlier try)
            summary.indexed += 1
        elif status == "queued":
            summary.queued += 1
        elif status == "failed":
            summary.failed += 1
        else:
            reason = "; ".join(f"{e['field']}: {e['reason']}" for e in item.get("errors") or [])
            summary.rejected.append((chunk[item["index"]][0], reason))
