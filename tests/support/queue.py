"""The queue path in tests: a real Kafka broker (tests/kafka/broker.py), the real Filebeat shipping the volume to
it with our filebeat.yml's Kafka output, and the real Filebeat as the indexer (filebeat/indexer.yml) into the engine.

The only overrides are those of tests/support/filebeat.py, plus the two switches kafka/queue.compose.yml sets
(LOGPLATFORM_OUTPUT_ELASTICSEARCH=false, LOGPLATFORM_OUTPUT_KAFKA=true) and where the broker is (KAFKA_BOOTSTRAP).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from logplatform import names, queue
from tests.kafka.broker import TestBroker
from tests.support.filebeat import Filebeat
from tests.support.reference import REPO
from tests.support.search_engine import SearchEngine

INDEXER_CONFIG = REPO / "filebeat" / "indexer.yml"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TestBroker]:
    """A broker of the test's own (it starts in a few seconds), with the topic setup creates."""
    b = TestBroker(tmp_path / "broker")
    b.start()
    queue.ensure_topic(b.bootstrap)
    yield b
    b.cleanup()


def produce(bootstrap: str, values: list[str]) -> None:
    """Messages onto the queue's topic as a shipper writes them (acks=all)."""
    from aiokafka import AIOKafkaProducer

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for value in values:
                await producer.send_and_wait(names.QUEUE_TOPIC, value.encode())
        finally:
            await producer.stop()

    asyncio.run(send())


def shipper(engine: SearchEngine, broker: TestBroker, volume: Path, home: Path) -> Filebeat:
    fb = Filebeat(engine, volume, home)
    fb.env.update(
        {
            "LOGPLATFORM_OUTPUT_ELASTICSEARCH": "false",
            "LOGPLATFORM_OUTPUT_KAFKA": "true",
            "KAFKA_BOOTSTRAP": broker.bootstrap,
        }
    )
    return fb


def indexer(engine: SearchEngine, broker: TestBroker, home: Path) -> Filebeat:
    # its HTTP endpoint off: the shipper beside it has the port (each runs in a container of its own in compose)
    fb = Filebeat(engine, home / "unused-volume", home, ("-E", "http.enabled=false"), config=INDEXER_CONFIG)
    fb.env["KAFKA_BOOTSTRAP"] = broker.bootstrap
    return fb
