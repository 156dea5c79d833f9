"""The search engine every integration test runs against (`SearchEngine`, and the fixtures `engine`, `installed`
and `data_stream`).

By default the test engine (OpenSearch 3 in one JVM, tests/engine/) is built, started once and
stopped at the end. With ELASTICSEARCH_URL set (plus ELASTICSEARCH_USERNAME / ELASTICSEARCH_PASSWORD
and ELASTICSEARCH_CA_CERTS as needed) the same suite runs against that cluster instead, e.g. the
compose stack's real Elasticsearch.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from logplatform import assets
from logplatform.cluster import Cluster
from tests.engine.engine import TestEngine
from tests.support.es_compat_proxy import CompatProxy


@dataclass
class SearchEngine:
    """The cluster under test. `client_url` is what Elastic's own clients (elasticsearch-py, Filebeat) use."""

    cluster: Cluster
    kind: str  # "opensearch" (test engine) or "elasticsearch"
    client_url: str
    local: TestEngine | None = None

    def restart(self) -> None:
        if self.local is None:
            pytest.skip("restarting the engine needs the local test engine, not an external cluster")
        self.local.stop()
        self.local.start()

    def stop(self, kill: bool = False) -> None:
        if self.local is None:
            pytest.skip("stopping the engine needs the local test engine, not an external cluster")
        self.local.stop(kill=kill)

    def start(self) -> None:
        assert self.local is not None
        self.local.start()

    def refresh(self, target: str) -> None:
        self.cluster.ok("POST", f"/{target}/_refresh")

    def search(self, target: str, body: dict) -> dict:
        self.refresh(target)
        return self.cluster.ok("POST", f"/{target}/_search", body)


@pytest.fixture(scope="session")
def engine() -> Iterator[SearchEngine]:
    url = os.environ.get("ELASTICSEARCH_URL")
    if url:
        cluster = Cluster(
            url,
            os.environ.get("ELASTICSEARCH_USERNAME"),
            os.environ.get("ELASTICSEARCH_PASSWORD"),
            ca_certs=os.environ.get("ELASTICSEARCH_CA_CERTS"),
        )
        kind = assets.detect_engine(cluster)
        proxy = CompatProxy(url).start() if kind == "opensearch" else None
        yield SearchEngine(cluster, kind, proxy.url if proxy else url)
        if proxy:
            proxy.stop()
        return
    local = TestEngine()
    local.start()
    proxy = CompatProxy(local.url).start()
    cluster = Cluster(local.url)
    try:
        yield SearchEngine(cluster, "opensearch", proxy.url, local)
    finally:
        proxy.stop()
        cluster.close()
        local.cleanup()


@pytest.fixture(scope="session")
def installed(engine: SearchEngine) -> SearchEngine:
    """The engine with our pipeline, script and templates installed (setup's first run)."""
    assets.install(engine.cluster, engine.kind)
    return engine


@pytest.fixture
def data_stream(installed: SearchEngine) -> Iterator[str]:
    """A fresh data stream that our index template matches, deleted after the test."""
    name = f"logs-logplatform-t{uuid.uuid4().hex[:12]}"
    yield name
    installed.cluster.request("DELETE", f"/_data_stream/{name}")
