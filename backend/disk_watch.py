"""Warns, in the backend's own ECS log, about every Elasticsearch node past its low or high disk watermark.

The log line travels like any other (the log volume, Filebeat, the data stream), and the alerting rule
`disk-filling-up` fires on it. It has to fire before the flood stage: from there on every index is read-only,
and no line (this warning included) is indexed until space is freed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from logplatform import disk

if TYPE_CHECKING:
    from elasticsearch import AsyncElasticsearch

log = logging.getLogger("backend.disk")
ACTION = "disk-watermark-passed"  # event.action of the warning; alerting/rules/disk-filling-up.yaml reads it


async def nodes_past_a_watermark(client: AsyncElasticsearch) -> list[disk.NodeDisk]:
    settings = await client.cluster.get_settings(include_defaults=True, flat_settings=True)
    stats = await client.nodes.stats(metric="fs")
    return [node for node in disk.nodes(dict(stats), disk.watermarks(dict(settings))) if node.passed]


def warn(node: disk.NodeDisk) -> None:
    watermark = node.passed[-1]
    log.warning(
        "Elasticsearch node %s is past its %s disk watermark: %s free of %s; below the flood stage "
        "every index turns read-only",
        node.name,
        watermark.replace("_", " "),
        disk.human(node.free),
        disk.human(node.total),
        extra={
            "event.action": ACTION,
            "event.kind": "alert",
            "labels.elasticsearch_node": node.name,
            "labels.watermark": watermark,
            "labels.disk_free_bytes": str(node.free),
        },
    )


async def watch(client: AsyncElasticsearch, every_s: float) -> None:
    """Checks every `every_s` seconds until cancelled; a cluster that does not answer is checked next time."""
    while True:
        try:
            for node in await nodes_past_a_watermark(client):
                warn(node)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the delivery and readiness report an unreachable cluster already
            log.debug("disk watch: %s", exc)
        await asyncio.sleep(every_s)
