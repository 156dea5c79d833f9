"""The search engine a benchmark runs against: a fresh test engine with our assets installed and the
compatibility proxy in front of it (Elastic's clients and Filebeat refuse OpenSearch without it), stopped after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from logplatform import assets
from logplatform.cluster import Cluster
from tests.engine.engine import TestEngine
from tests.support.es_compat_proxy import CompatProxy
from tests.support.search_engine import SearchEngine


def documents(cluster: Cluster, data_stream: str, query: dict[str, Any] | None = None) -> int:
    """How many documents of a data stream a search finds now (refreshed first); 0 while it does not exist."""
    if cluster.request("POST", f"/{data_stream}/_refresh")[0] != 200:
        return 0
    return int(cluster.ok("POST", f"/{data_stream}/_count", {"query": query or {"match_all": {}}})["count"])


@contextmanager
def installed_engine(heap: str = "1g") -> Iterator[SearchEngine]:
    local = TestEngine(heap=heap)
    local.start()
    proxy = CompatProxy(local.url).start()
    cluster = Cluster(local.url, timeout=600)
    try:
        assets.install(cluster, "opensearch")
        yield SearchEngine(cluster, "opensearch", proxy.url, local)
    finally:
        proxy.stop()
        cluster.close()
        local.cleanup()
