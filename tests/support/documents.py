"""Every document a search matches, however many: a scroll in index order (one search stops at 10,000 hits, and
our id fields have no doc values to sort or page on)."""

from __future__ import annotations

import json
import time
from typing import Any

from logplatform.cluster import Cluster
from tests.support.search_engine import SearchEngine


def every_document(
    cluster: Cluster, target: str, query: dict[str, Any] | None = None, source: list[str] | None = None
) -> list[dict[str, Any]]:
    """The matching documents' _source, each with its _id."""
    body: dict[str, Any] = {"size": 5000, "query": query or {"match_all": {}}, "sort": ["_doc"]}
    if source is not None:
        body["_source"] = source
    page = cluster.ok("POST", f"/{target}/_search?scroll=1m", body)
    scroll_id = page["_scroll_id"]
    out: list[dict[str, Any]] = []
    try:
        while page["hits"]["hits"]:
            out += [hit["_source"] | {"_id": hit["_id"]} for hit in page["hits"]["hits"]]
            page = cluster.ok("POST", "/_search/scroll", {"scroll": "1m", "scroll_id": scroll_id})
            scroll_id = page["_scroll_id"]
    finally:
        cluster.request("DELETE", "/_search/scroll", {"scroll_id": scroll_id})
    return out


def at_least(cluster: Cluster, target: str, count: int, timeout_s: float = 30) -> list[dict[str, Any]]:
    """Every document of target once there are `count` of them (refreshing as it waits), or all there are when the
    time is up: the caller's assertion says what was missing."""
    deadline = time.monotonic() + timeout_s
    while True:
        cluster.request("POST", f"/{target}/_refresh")
        docs = every_document(cluster, target)
        if len(docs) >= count or time.monotonic() > deadline:
            return docs
        time.sleep(0.5)


def index_events(engine: SearchEngine, data_stream: str, count: int) -> None:
    """count events through the pipeline, ten to a millisecond (so pages end inside a shared timestamp)."""
    lines = []
    for i in range(count):
        moment = f"2026-03-01T10:{i // 10 // 60000 % 60:02d}:{i // 10 // 1000 % 60:02d}.{i // 10 % 1000:03d}Z"
        event = {"@timestamp": moment, "service": "pager", "message": f"event {i}", "event": {"id": f"p-{i}"}}
        lines += [json.dumps({"create": {"_index": data_stream}}), json.dumps({"message": json.dumps(event)})]
    for start in range(0, len(lines), 4000):
        answer = engine.cluster.ok("POST", "/_bulk", "\n".join(lines[start : start + 4000]) + "\n")
        assert not answer["errors"]
    engine.refresh(data_stream)
