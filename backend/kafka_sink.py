"""The queue's sink (kafka/queue.compose.yml): accepted events produced to the Kafka topic the indexer reads.

An event counts as stored (QUEUED) once every in-sync replica has it (acks=all), with the idempotent producer (a
retry inside the producer writes a message once). Each message is exactly the document the Elasticsearch sink
would send (delivery.document), so the indexer (filebeat/indexer.yml) makes the same document of it, with the
same id. When Kafka cannot take a batch in time the delivery spools it, as for Elasticsearch; should the producer
still deliver a message it had buffered, the event id makes the second copy a duplicate the index refuses.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from backend.delivery import QUEUED, ItemStatus, SinkUnavailable, document
from logplatform.queue import MAX_MESSAGE_BYTES

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer


class KafkaSink:
    stored_as = QUEUED

    def __init__(self, bootstrap: str, topic: str, timeout_s: float) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.timeout_s = timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()

    async def _ready(self) -> AIOKafkaProducer:
        from aiokafka import AIOKafkaProducer
        from aiokafka.errors import KafkaError

        async with self._starting:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.bootstrap,
                    acks="all",
                    enable_idempotence=True,
                    max_request_size=MAX_MESSAGE_BYTES,
                    request_timeout_ms=int(self.timeout_s * 1000),
                    linger_ms=0,
                )
                try:
                    await asyncio.wait_for(producer.start(), self.timeout_s)
                except (KafkaError, OSError, TimeoutError) as exc:
                    await producer.stop()
                    raise SinkUnavailable(f"Kafka at {self.bootstrap}: {type(exc).__name__}: {exc}") from exc
                self._producer = producer
            return self._producer

    async def bulk(self, lines: list[str]) -> list[ItemStatus]:
        from aiokafka.errors import KafkaError, MessageSizeTooLargeError

        producer = await self._ready()

        async def produce() -> list[Any]:
            sent = [await producer.send(self.topic, document(line).encode()) for line in lines]
            return list(await asyncio.gather(*sent, return_exceptions=True))

        try:
            results = await asyncio.wait_for(produce(), self.timeout_s)
        except (KafkaError, OSError, TimeoutError) as exc:
            raise SinkUnavailable(f"Kafka did not take the batch: {type(exc).__name__}: {exc}") from exc
        statuses = []
        for result in results:
            if isinstance(result, MessageSizeTooLargeError):
                statuses.append(ItemStatus("error", f"refused by Kafka: {result}"))
            elif isinstance(result, BaseException):
                statuses.append(ItemStatus("retry", f"{type(result).__name__}: {result}"))
            else:
                statuses.append(ItemStatus("ok"))
        return statuses

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
