"""`logplatform setup queue` makes the topic once; `logplatform doctor` reports the queue's hops (topic, indexer,
lag) with what to do when one fails."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from logplatform import doctor, queue
from logplatform.cli import main
from tests.kafka.broker import TestBroker
from tests.support.filebeat import wait_for_docs
from tests.support.queue import indexer, produce
from tests.support.search_engine import SearchEngine

pytestmark = pytest.mark.engine


def test_setup_creates_the_topic_once_with_room_for_the_longest_line(tmp_path: Path) -> None:
    b = TestBroker(tmp_path / "broker")
    b.start()
    try:
        runner = CliRunner()
        first = runner.invoke(main, ["setup", "queue", "--bootstrap", b.bootstrap, "--partitions", "4"])
        again = runner.invoke(main, ["setup", "queue", "--bootstrap", b.bootstrap])
        state = queue.status(b.bootstrap)
    finally:
        b.cleanup()
    assert first.exit_code == 0 and "created (4 partitions, 1 copies)" in first.output, first.output
    assert again.exit_code == 0 and "already there" in again.output
    assert state.topic_exists and state.partitions == 4


def test_doctor_reports_the_queue_hops_and_says_what_to_do(
    installed: SearchEngine, stream: str, broker: TestBroker, tmp_path: Path
) -> None:
    def queue_hops() -> dict[str, doctor.Check]:
        checks = doctor.run_checks(installed.cluster, None, None, kafka_bootstrap=broker.bootstrap)
        return {c.hop: c for c in checks if c.hop.startswith("queue")}

    idle = queue_hops()
    assert idle["queue topic"].ok and "3 partitions" in idle["queue topic"].detail
    assert not idle["queue indexer"].ok and "docker compose logs indexer" in idle["queue indexer"].fix
    index = indexer(installed, broker, tmp_path / "indexer")
    index.start()
    try:
        produce(broker.bootstrap, [json.dumps({"message": '{"msg": "hi"}'})])
        wait_for_docs(installed, stream, 1)
        deadline = time.monotonic() + 30
        drained = "0 messages not yet indexed"
        while (hops := queue_hops())["queue lag"].detail != drained and time.monotonic() < deadline:
            time.sleep(1)  # the indexer commits once Elasticsearch has acknowledged
    finally:
        index.stop()
    assert hops["queue indexer"].ok and hops["queue indexer"].detail == "1 indexer(s) reading"
    assert hops["queue lag"].ok and hops["queue lag"].detail == "0 messages not yet indexed"
