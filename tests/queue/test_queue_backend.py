"""The backend with the queue on: POST /logs acknowledges an event once Kafka has it (acks=all), the indexer makes
the same document of it as the direct path does, and with the broker down the spool holds the events until the
volume's Filebeat ships them to the broker once it is back: each indexed once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.kafka.broker import TestBroker
from tests.support.backend_app import Backend, live_backend
from tests.support.filebeat import wait_for_docs
from tests.support.queue import indexer, shipper
from tests.support.search_engine import SearchEngine

pytestmark = pytest.mark.engine


def _events(prefix: str, n: int) -> list[dict[str, Any]]:
    return [
        {"@timestamp": f"2026-12-01T10:00:{i % 60:02d}.{i:03d}Z", "service": "checkout", "level": "warning",
         "message": f"{prefix} {i}", "meta": {"order_id": f"ORD-{i}", "ip": "10.0.0.7"},
         "event": {"id": f"{prefix}-{i}"}}
        for i in range(n)
    ]  # fmt: skip


@pytest.fixture
def queued_backend(installed: SearchEngine, broker: TestBroker, tmp_path: Path) -> Iterator[Backend]:
    yield from live_backend(
        tmp_path / "queued", installed.client_url, "logs-logplatform-default", kafka_bootstrap=broker.bootstrap
    )


def _strip(doc: dict[str, Any]) -> dict[str, Any]:
    """Without how it travelled: the indexer's Filebeat fields, when, and into which stream's namespace."""
    doc = {k: v for k, v in doc.items() if k not in ("agent", "input", "host", "_id")}
    doc["event"] = {k: v for k, v in doc["event"].items() if k != "ingested"}
    doc["data_stream"] = {k: v for k, v in doc["data_stream"].items() if k != "namespace"}
    return doc


def test_a_posted_event_is_queued_and_indexed_as_on_the_direct_path(
    installed: SearchEngine,
    stream: str,
    data_stream: str,
    broker: TestBroker,
    queued_backend: Backend,
    backend: Backend,
    tmp_path: Path,
) -> None:
    events = _events("via the queue", 50)
    answer = queued_backend.post(events)
    assert answer.status_code == 202, answer.text
    assert {item["status"] for item in answer.json()["items"]} == {"queued"}
    index = indexer(installed, broker, tmp_path / "indexer")
    index.start()
    try:
        queued = wait_for_docs(installed, stream, 50)
    finally:
        index.stop()
    assert len(queued) == 50 and index.errors() == []
    assert backend.post(events).status_code == 200  # the same events straight to Elasticsearch
    direct = wait_for_docs(installed, data_stream, 50)
    # the same events, the same documents (each backend has a key of its own, and a posted event's _id is scoped to
    # its key: docs/event-schema.md)
    by_event = {d["event"]["id"]: _strip(d) for d in direct}
    assert {d["event"]["id"]: _strip(d) for d in queued} == by_event


def test_with_the_broker_down_events_wait_in_the_spool_and_arrive_once(
    installed: SearchEngine, stream: str, broker: TestBroker, queued_backend: Backend, tmp_path: Path
) -> None:
    volume = queued_backend.settings.log_dir
    ship = shipper(installed, broker, volume, tmp_path / "shipper")
    index = indexer(installed, broker, tmp_path / "indexer")
    ship.start()
    index.start()
    try:
        before = _events("before", 100)
        assert queued_backend.post(before).status_code == 202
        wait_for_docs(installed, stream, 100, timeout=60)
        broker.stop()
        during = _events("during", 300)
        answers = [queued_backend.post(during[i : i + 100]) for i in range(0, 300, 100)]
        assert [a.status_code for a in answers] == [202, 202, 202]
        assert len(queued_backend.spool_lines()) == 300, "the events Kafka could not take are not in the spool"
        time.sleep(3)
        broker.start()
        docs = wait_for_docs(installed, stream, 400, timeout=180)
    finally:
        ship.stop()
        index.stop()
    messages = Counter(d["message"] for d in docs)
    assert len(docs) == 400 and max(messages.values()) == 1
    assert {e["message"] for e in before + during} == set(messages)
