"""Every document a search matches, however many: a scroll in index order (one search stops at 10,000 hits, and
our id fields have no doc values to sort or page on)."""

from __future__ import annotations

from typing import Any

from logplatform.cluster import Cluster


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
