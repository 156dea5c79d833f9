"""The queue's topic and what doctor reports of it (kafka/queue.compose.yml, docs/scaling.md).

`logplatform setup queue` creates the topic the shippers write and the indexer reads, idempotently: partitions
to share among indexers, as many copies as asked (1 on one broker, 3 on three) with min.insync.replicas one
fewer (at least 1), and messages as large as the longest line Filebeat reads. `status` gives doctor its three
hops: the topic, the indexer's consumer group (members), and its lag (messages not yet indexed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from logplatform import names

MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # the topic's and the backend producer's (Filebeat's output: filebeat.yml)
T = TypeVar("T")


@dataclass
class QueueStatus:
    topic_exists: bool
    partitions: int
    members: int  # indexers in the consumer group now
    lag: int  # messages written to the topic and not yet committed by the indexer (acknowledged by Elasticsearch)


async def _with_admin(bootstrap: str, timeout_s: float, work: Callable[[Any], Awaitable[T]]) -> T:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    await asyncio.wait_for(admin.start(), timeout_s)
    try:
        return await asyncio.wait_for(work(admin), timeout_s)
    finally:
        await admin.close()


def ensure_topic(
    bootstrap: str,
    topic: str = names.QUEUE_TOPIC,
    partitions: int = 3,
    replication: int = 1,
    timeout_s: float = 30.0,
) -> bool:
    """Creates the topic unless it exists; True when it was created."""
    from aiokafka.admin import NewTopic

    async def work(admin: Any) -> bool:
        if topic in await admin.list_topics():
            return False
        configs = {"max.message.bytes": str(MAX_MESSAGE_BYTES), "min.insync.replicas": str(max(1, replication - 1))}
        await admin.create_topics([NewTopic(topic, partitions, replication, topic_configs=configs)])
        return True

    return asyncio.run(_with_admin(bootstrap, timeout_s, work))


def status(
    bootstrap: str, topic: str = names.QUEUE_TOPIC, group: str = names.QUEUE_GROUP, timeout_s: float = 10.0
) -> QueueStatus:
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.errors import GroupCoordinatorNotAvailableError

    async def work(admin: Any) -> QueueStatus:
        described = await admin.describe_topics([topic])
        found = [t for t in described if t.get("topic") == topic and t.get("error_code", 0) == 0]
        if not found:
            return QueueStatus(False, 0, 0, 0)
        partitions = [TopicPartition(topic, p["partition"]) for p in found[0]["partitions"]]
        try:
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
            groups = await admin.describe_consumer_groups([group])
            members = sum(len(g[5]) for response in groups for g in response.groups if g[1] == group)
        except GroupCoordinatorNotAvailableError:  # no consumer group has ever met on this broker
            committed, members = {}, 0
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            ends = await consumer.end_offsets(partitions)
            starts = await consumer.beginning_offsets(partitions)
        finally:
            await consumer.stop()
        lag = 0
        for tp in partitions:
            done = committed.get(tp)
            position = done.offset if done is not None and done.offset >= 0 else starts[tp]
            lag += max(0, ends[tp] - position)
        return QueueStatus(True, len(partitions), members, lag)

    return asyncio.run(_with_admin(bootstrap, timeout_s, work))
