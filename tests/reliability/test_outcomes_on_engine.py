"""The outcome rule on the real engine: an event that can never be indexed as sent is rejected with its field and
reason, never answered 503 (which every well-behaved client would retry forever), and never takes the events
beside it down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.backend_app import Backend, live_backend
from tests.support.search_engine import SearchEngine

pytestmark = pytest.mark.engine
GOOD = {"service": {"name": "outcomes"}, "log.level": "info", "message": "a good event"}
RAW_PIPELINE = "logplatform-test-raw"


def test_a_lone_surrogate_is_rejected_and_the_good_events_are_indexed(
    backend: Backend, installed: SearchEngine, data_stream: str
) -> None:
    raw = '{"service":"a","level":"info","message":"\\ud800 x"}'
    alone = backend.client.post(
        "/logs", content=raw, headers={"X-API-Key": backend.key, "Content-Type": "application/json"}
    )
    assert alone.status_code == 422 and "Retry-After" not in alone.headers, alone.text
    assert alone.json()["items"][0]["errors"][0]["field"] == "message"
    assert "lone surrogate" in alone.json()["items"][0]["errors"][0]["reason"]
    batch = f"[{json.dumps(GOOD)}, {raw}, {json.dumps(GOOD)}]"
    r = backend.client.post(
        "/logs", content=batch, headers={"X-API-Key": backend.key, "Content-Type": "application/json"}
    )
    assert r.status_code == 200, r.text
    assert [i["status"] for i in r.json()["items"]] == ["indexed", "rejected", "indexed"]
    hits = installed.search(data_stream, {"query": {"term": {"service.name": "outcomes"}}})["hits"]["hits"]
    assert len(hits) == 2


@pytest.fixture
def raw_pipeline_backend(installed: SearchEngine, data_stream: str, tmp_path: Path) -> Iterator[Backend]:
    """A pipeline that parses the line without our type guards, so the engine's mapping refuses a type conflict
    (our pipeline absorbs every conflict we know of; this stands for the ones nobody has found yet)."""
    installed.cluster.ok(
        "PUT",
        f"/_ingest/pipeline/{RAW_PIPELINE}",
        {"processors": [{"json": {"field": "message", "add_to_root": True}}]},
    )
    yield from live_backend(tmp_path, installed.client_url, data_stream, pipeline=RAW_PIPELINE)
    installed.cluster.request("DELETE", f"/_ingest/pipeline/{RAW_PIPELINE}")


def test_a_document_the_engine_refuses_is_rejected_with_its_field(
    raw_pipeline_backend: Backend, installed: SearchEngine, data_stream: str
) -> None:
    poison = {**GOOD, "message": "a value where the mapping has an object", "http": {"response": "oops"}}
    alone = raw_pipeline_backend.post(poison)
    assert alone.status_code == 422 and "Retry-After" not in alone.headers, alone.text
    [item] = alone.json()["items"]
    assert item["status"] == "rejected" and item["errors"][0]["field"] == "http.response"
    assert "refused by Elasticsearch" in item["errors"][0]["reason"]
    r = raw_pipeline_backend.post([GOOD, poison, GOOD])
    assert r.status_code == 200 and r.json()["indexed"] == 2 and r.json()["rejected"] == 1, r.text
    assert (
        not list((raw_pipeline_backend.settings.log_dir / "spool").glob("*")) or not raw_pipeline_backend.spool_lines()
    ), "a refused event must not be spooled for a retry"
