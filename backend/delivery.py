"""Delivery: events to Elasticsearch with _bulk, micro-batched across requests, spooled when it cannot.

Each accepted event is one JSON line (events.py). Requests submit their lines and wait; workers
gather lines from all concurrent requests into one _bulk (bounded by count, bytes and a few
milliseconds of waiting), retry what Elasticsearch answers with 429/5xx, and spool (fsynced) what
they could not index within the retry budget. Every line carries an event.id from which the pipeline
derives the document id, so retries, spool replays and races count once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from backend.metrics import Metrics
from backend.spool import Spool, SpoolFull

if TYPE_CHECKING:
    from elasticsearch import AsyncElasticsearch

log = logging.getLogger("backend.delivery")

INDEXED = "indexed"
QUEUED = "queued"
# an event whose document id is already taken: the same event (same key scope and event.id) stored before, by an
# earlier try or a spool replay; success for a client that retries (docs/event-schema.md, "Event ids and duplicates")
DUPLICATE = "duplicate"
FAILED = "failed"  # not durable, and a retry can fix it (the answer is 503 with Retry-After)
REJECTED = "rejected"  # the engine refused this event as sent: a retry cannot fix it


@dataclass
class ItemStatus:
    """What the sink said of one line: ok (created or already there), retry, or error (refused for good)."""

    kind: str  # "ok" | "duplicate" | "retry" | "error"
    reason: str = ""
    field: str = "$"


class SinkUnavailable(Exception):
    """The whole bulk request failed (connection refused, timeout, 5xx, 429)."""


class Sink(Protocol):
    # what an "ok" line is then: INDEXED (Elasticsearch has it) or QUEUED (the queue has it; the indexer indexes it)
    stored_as: str

    async def bulk(self, lines: list[str]) -> list[ItemStatus]: ...

    async def close(self) -> None: ...


@dataclass
class Result:
    status: str  # INDEXED | QUEUED | DUPLICATE | FAILED | REJECTED
    reason: str = ""
    field: str = "$"


@dataclass
class _Item:
    line: str
    future: asyncio.Future[Result]


class Delivery:
    def __init__(
        self,
        sink: Sink,
        spool: Spool,
        metrics: Metrics,
        *,
        max_events: int = 1000,
        max_bytes: int = 8 * 1024 * 1024,
        max_wait_s: float = 0.0,
        concurrency: int = 2,
        parallel_min_events: int = 100,
        retry_budget_s: float = 2.0,
        outage_probe_s: float = 2.0,
    ) -> None:
        self.sink = sink
        self.spool = spool
        self.metrics = metrics
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.max_wait_s = max_wait_s
        self.concurrency = concurrency
        self.parallel_min_events = parallel_min_events
        self.retry_budget_s = retry_budget_s
        self.outage_probe_s = outage_probe_s
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._backlog = asyncio.Event()  # set when parallel_min_events are queued
        self._workers: list[asyncio.Task[None]] = []
        # while Elasticsearch is known down, spool at once instead of making every client wait
        self._down_since: float | None = None
        self._next_probe = 0.0
        self._probing = False

    async def start(self) -> None:
        self._workers = [asyncio.create_task(self._worker(i), name=f"delivery-{i}") for i in range(self.concurrency)]

    async def stop(self) -> None:
        """Delivers (or spools) what is queued, then stops the workers."""
        await self._queue.join()
        for w in self._workers:
            w.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        await self.sink.close()

    async def submit(self, lines: list[str]) -> list[Result]:
        loop = asyncio.get_running_loop()
        items = [_Item(line, loop.create_future()) for line in lines]
        for item in items:
            self._queue.put_nowait(item)
        if self._queue.qsize() >= self.parallel_min_events:
            self._backlog.set()
        return list(await asyncio.gather(*(i.future for i in items)))

    async def _worker(self, number: int) -> None:
        """The first worker sends whatever is queued; the others send only a backlog of parallel_min_events.

        A bulk's cost to the engine is mostly fixed for a few events, so a handful waiting while a bulk is in flight
        are sent together once it returns rather than in a second bulk at once (single events from 32 clients, one
        in flight against two: +5% and +8% in two rounds of three, -8% in the third; bench/backend_ingest.py earlier
        measured +26%); batches of hundreds gain 15-30% from a second bulk in flight."""
        while True:
            if number:
                first = await self._backlogged()
            else:
                first = await self._queue.get()
            batch = [first]
            size = len(first.line)
            deadline = time.monotonic() + self.max_wait_s
            while len(batch) < self.max_events and size < self.max_bytes:
                try:
                    item = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        item = await asyncio.wait_for(self._queue.get(), remaining)
                    except TimeoutError:
                        break
                batch.append(item)
                size += len(item.line)
            try:
                await self._deliver(batch)
            except Exception as exc:  # never leave a client waiting
                log.exception("delivery failed unexpectedly")
                for item in batch:
                    if not item.future.done():
                        item.future.set_result(Result(FAILED, f"internal error: {type(exc).__name__}"))
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _backlogged(self) -> _Item:
        """The first queued item once parallel_min_events are queued."""
        while True:
            if self._queue.qsize() >= self.parallel_min_events:
                return self._queue.get_nowait()
            self._backlog.clear()
            await self._backlog.wait()

    async def _deliver(self, batch: list[_Item]) -> None:
        pending = batch
        started = time.monotonic()
        attempt = 0
        while pending and not self._skip_elasticsearch():
            attempt += 1
            t0 = time.monotonic()
            try:
                statuses = await self.sink.bulk([i.line for i in pending])
            except SinkUnavailable as exc:
                self._mark_down(str(exc))
                break
            finally:
                self.metrics.bulk_seconds.observe(time.monotonic() - t0)
                self.metrics.bulk_size.observe(len(pending))
            self._mark_up()
            retry = []
            stored = refused = duplicates = 0
            for item, status in zip(pending, statuses, strict=True):
                if status.kind == "ok":
                    item.future.set_result(Result(self.sink.stored_as))
                    stored += 1
                elif status.kind == "duplicate":
                    item.future.set_result(Result(DUPLICATE))
                    duplicates += 1
                elif status.kind == "retry":
                    retry.append(item)
                else:
                    item.future.set_result(Result(REJECTED, status.reason, status.field))
                    refused += 1
            self.metrics.events.labels("indexed" if self.sink.stored_as == INDEXED else "queued").inc(stored)
            self.metrics.events.labels("refused").inc(refused)
            self.metrics.events.labels("duplicate").inc(duplicates)
            pending = retry
            if not pending:
                return
            backoff = min(0.05 * 2**attempt, 1.0) * (0.5 + random.random())
            if time.monotonic() - started + backoff > self.retry_budget_s:
                break
            await asyncio.sleep(backoff)
        if pending:
            await self._spool(pending)

    def _skip_elasticsearch(self) -> bool:
        """While Elasticsearch is down, one batch every outage_probe_s probes it; the others are spooled at once."""
        if self._down_since is None:
            return False
        if not self._probing and time.monotonic() >= self._next_probe:
            self._probing = True
            return False
        return True

    def _mark_down(self, reason: str) -> None:
        now = time.monotonic()
        if self._down_since is None:
            log.warning("Elasticsearch unavailable, spooling events: %s", reason)
            self._down_since = now
        self._next_probe = now + self.outage_probe_s
        self._probing = False
        self.metrics.elasticsearch_up.set(0)

    def _mark_up(self) -> None:
        if self._down_since is not None:
            log.info("Elasticsearch reachable again after %.1fs", time.monotonic() - self._down_since)
        self._down_since = None
        self._probing = False
        self.metrics.elasticsearch_up.set(1)

    async def _spool(self, items: list[_Item]) -> None:
        try:
            await asyncio.to_thread(self.spool.append, [i.line for i in items])
        except SpoolFull as exc:
            log.error("events could not be made durable: %s", exc)
            for item in items:
                item.future.set_result(Result(FAILED, f"unavailable: {exc}"))
            self.metrics.events.labels("failed").inc(len(items))
            return
        for item in items:
            item.future.set_result(Result(QUEUED))
        self.metrics.events.labels("spooled").inc(len(items))
        self.metrics.spool_bytes.set(self.spool.size())


def document(line: str) -> str:
    """What the pipeline receives for one accepted event: the line as `message`, as Filebeat sends a line."""
    return orjson.dumps({"message": line}).decode()


def bulk_body(lines: list[str], data_stream: str) -> str:
    action = json.dumps({"create": {"_index": data_stream}})
    parts = []
    for line in lines:
        parts.append(action)
        parts.append(document(line))
    return "\n".join(parts) + "\n"


# the engine names the field as "failed to parse field [a.b]" or "object mapping for [a.b] tried to parse ..."
_FIELD_IN_REASON = re.compile(r"(?:object mapping for|failed to parse field|field) \[([^\]]+)\]")


def item_status(item: dict[str, Any]) -> ItemStatus:
    """One item of a _bulk response. A 200 response can hold failed items."""
    result = next(iter(item.values()))
    status = result.get("status", 500)
    if status < 300 and result.get("failure_store") == "used":
        # Elasticsearch 9.1+ with the failure store on (es/lifecycle/failure-store.json): the document was
        # refused, and kept in <stream>::failures instead of the data stream; a retry would be refused again
        return ItemStatus(
            "error",
            "refused by Elasticsearch, kept in the data stream's failure store "
            f"({result.get('_index', 'the data stream')}); see logplatform doctor",
            "$",
        )
    if status == 409:  # the document id is taken: this event (its scope and event.id) is already stored
        return ItemStatus("duplicate")
    if status < 300:
        return ItemStatus("ok")
    reason = _reason(result)
    # a missing pipeline is transient (a node that just started has not loaded it yet, or setup has not run):
    # retry, then spool, rather than fail the event
    if status == 429 or status >= 500 or "pipeline with id" in reason:
        return ItemStatus("retry", reason)
    # any other 4xx is about this document (it does not parse, map or fit): refused for good, field named if known
    found = _FIELD_IN_REASON.search(reason)
    return ItemStatus("error", f"refused by Elasticsearch: {reason}", found.group(1) if found else "$")


def _reason(result: dict[str, Any]) -> str:
    error = result.get("error") or {}
    if isinstance(error, dict):
        return f"{error.get('type', 'error')}: {error.get('reason', '')}"[:500]
    return str(error)[:500]


class ElasticsearchSink:
    """_bulk through elasticsearch-py's async client, create operations into the data stream, our pipeline."""

    stored_as = INDEXED

    def __init__(self, client: AsyncElasticsearch, data_stream: str, pipeline: str) -> None:
        self.client = client
        self.data_stream = data_stream
        self.pipeline = pipeline

    async def bulk(self, lines: list[str]) -> list[ItemStatus]:
        from elasticsearch import ApiError, TransportError

        try:
            # a prebuilt NDJSON body, which the client sends as it is (its type hints only know lists of dicts)
            body: Any = bulk_body(lines, self.data_stream)
            resp = await self.client.bulk(operations=body, pipeline=self.pipeline)
        except ApiError as exc:
            # only a malformed or oversized request can be the events' fault; 401/403 (credentials, or a security
            # index still recovering after a restart), 404, 429 and 5xx are the cluster's: a retry can fix them
            if exc.meta.status not in (400, 413):
                raise SinkUnavailable(f"_bulk answered {exc.meta.status}") from exc
            if len(lines) > 1:  # one line can spoil a whole request: halve until it is alone, the others go in
                half = len(lines) // 2
                return [*await self.bulk(lines[:half]), *await self.bulk(lines[half:])]
            return [
                ItemStatus("error", f"refused by Elasticsearch: _bulk answered {exc.meta.status}: {str(exc)[:300]}")
            ]
        except TransportError as exc:
            raise SinkUnavailable(f"{type(exc).__name__}: {exc}") from exc
        items = resp.body["items"]
        if len(items) != len(lines):
            raise SinkUnavailable(f"_bulk answered {len(items)} items for {len(lines)} events")
        return [item_status(i) for i in items]

    async def close(self) -> None:
        await self.client.close()
