"""The compatibility proxy (tests/support/es_compat_proxy.py, in front of the engine here and in the rehearsal's
Elasticsearch stand-in) answers a bulk that names a pipeline the cluster does not have as Elasticsearch does: each
item refused for good (400, `illegal_argument_exception`, "pipeline with id [x] does not exist",
IngestService), not a 503 that every client retries forever."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from tests.support.search_engine import SearchEngine

pytestmark = pytest.mark.engine


def bulk(engine: SearchEngine, index: str, pipeline: str, n: int = 2) -> httpx.Response:
    lines = [line for i in range(n) for line in ({"create": {"_index": index}}, {"message": f"m{i}"})]
    body = "".join(json.dumps(line) + "\n" for line in lines)
    return httpx.post(
        f"{engine.client_url}/_bulk?pipeline={pipeline}",
        content=body,
        headers={"Content-Type": "application/x-ndjson"},
        timeout=30,
    )


def test_a_bulk_naming_a_missing_pipeline_is_refused_per_item_as_elasticsearch_refuses_it(
    engine: SearchEngine,
) -> None:
    index = f"proxy-missing-{uuid.uuid4().hex[:8]}"
    missing = f"no-such-pipeline-{uuid.uuid4().hex[:8]}"
    answer = bulk(engine, index, missing)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["errors"] is True
    for item in result["items"]:
        refused = item["create"]
        assert refused["status"] == 400
        assert refused["error"]["type"] == "illegal_argument_exception"
        assert refused["error"]["reason"] == f"pipeline with id [{missing}] does not exist"


def test_a_bulk_through_a_pipeline_the_cluster_has_still_goes_through(engine: SearchEngine) -> None:
    name = f"proxy-present-{uuid.uuid4().hex[:8]}"
    engine.cluster.ok("PUT", f"/_ingest/pipeline/{name}", {"processors": [{"set": {"field": "seen", "value": 1}}]})
    try:
        index = f"proxy-present-{uuid.uuid4().hex[:8]}"
        answer = bulk(engine, index, name)
        assert answer.status_code == 200 and answer.json()["errors"] is False, answer.text
        engine.cluster.request("DELETE", f"/{index}")
    finally:
        engine.cluster.request("DELETE", f"/_ingest/pipeline/{name}")
