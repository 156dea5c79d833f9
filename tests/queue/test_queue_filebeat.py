"""The queue path for real: the volume's Filebeat ships to a real Kafka broker with our filebeat.yml's Kafka output,
the indexer (filebeat/indexer.yml, the real Filebeat's Kafka input) takes the topic into the engine through our
pipeline. Every line once, the same document as on the direct path; an indexer killed mid-stream and an engine
down for a minute lose and duplicate nothing, and the lag doctor reports drains to zero."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from logplatform import queue
from tests.kafka.broker import TestBroker
from tests.support.filebeat import Filebeat, generate, lines_on_volume, wait_for_docs
from tests.support.queue import indexer, shipper
from tests.support.search_engine import SearchEngine

pytestmark = pytest.mark.engine


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """A document without what differs from one shipping run to another: which Filebeat process, which of its
    inputs read it last (the indexer's kafka input on the queue path), and when it was indexed."""
    doc = {k: v for k, v in doc.items() if k not in ("agent", "input")}
    doc["event"] = {k: v for k, v in doc["event"].items() if k != "ingested"}
    return doc


def _wait_for_lag(broker: TestBroker, lag: int, timeout: float = 60) -> queue.QueueStatus:
    deadline = time.monotonic() + timeout
    while True:
        state = queue.status(broker.bootstrap)
        if state.lag == lag or time.monotonic() > deadline:
            return state
        time.sleep(1)


def test_every_line_arrives_once_and_as_on_the_direct_path(
    installed: SearchEngine, stream: str, broker: TestBroker, tmp_path: Path
) -> None:
    volume = tmp_path / "volume"
    events = generate(volume, "--count", "400", "--seed", "21")
    total = lines_on_volume(volume)
    ship = shipper(installed, broker, volume, tmp_path / "shipper")
    index = indexer(installed, broker, tmp_path / "indexer")
    ship.start()
    index.start()
    try:
        docs = wait_for_docs(installed, stream, total)
        state = _wait_for_lag(broker, 0)
    finally:
        ship.stop()
        index.stop()
    assert ship.errors() == [] and index.errors() == []
    assert len(docs) == total and max(Counter(d["_id"] for d in docs).values()) == 1
    assert {e["event"]["id"] for e in events} <= {d["event"]["id"] for d in docs}
    assert state.topic_exists and state.lag == 0
    assert all("kafka" not in d and "extra" not in d["logplatform"] for d in docs), "the queue left its marks"
    assert {d["input"]["type"] for d in docs} == {"kafka"}  # the input it came in through, last

    # the same files shipped straight to the engine, as without the queue: the same documents, the same ids
    queued = {d["_id"]: _comparable(d) for d in docs}
    installed.cluster.request("DELETE", f"/_data_stream/{stream}")
    direct = Filebeat(installed, volume, tmp_path / "direct")
    direct.start()
    try:
        again = wait_for_docs(installed, stream, total)
    finally:
        direct.stop()
    assert {d["_id"]: _comparable(d) for d in again} == queued


def test_an_indexer_killed_midstream_and_an_engine_down_for_a_minute_lose_and_duplicate_nothing(
    installed: SearchEngine, stream: str, broker: TestBroker, tmp_path: Path
) -> None:
    volume = tmp_path / "volume"
    ship = shipper(installed, broker, volume, tmp_path / "shipper")
    index = indexer(installed, broker, tmp_path / "indexer")
    ship.start()
    index.start()
    try:
        generate(volume, "--count", "3000", "--seed", "5")
        wait_for_docs(installed, stream, 200, timeout=60)
        assert index.proc is not None
        index.proc.kill()  # mid-stream, before it committed what it indexed last: those are read again
        index.proc.wait()
        index.start()
        wait_for_docs(installed, stream, 1000, timeout=90)

        installed.stop()  # the cluster down for a minute: the topic holds what keeps coming
        down_at = time.monotonic()
        generate(volume, "--count", "2000", "--seed", "6")
        total = lines_on_volume(volume)
        time.sleep(max(0.0, 60 - (time.monotonic() - down_at)))
        backlog = queue.status(broker.bootstrap)
        assert backlog.lag > 0, "nothing waited in the topic while the engine was down"
        installed.start()
        docs = wait_for_docs(installed, stream, total, timeout=180)
        drained = _wait_for_lag(broker, 0)
    finally:
        ship.stop()
        index.stop()
    ids = Counter(d["_id"] for d in docs)
    assert len(ids) == total, f"{len(ids)} events indexed of {total} lines"
    assert max(ids.values()) == 1, "an event was indexed twice"
    assert drained.lag == 0, f"the indexer's lag did not drain: {drained}"
