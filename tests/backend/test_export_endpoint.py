"""GET /logs/export: every matching event streamed, past the engine's result window, each once, newest first, through
a point in time that is closed when the export ends."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.support.backend_app import Backend
from tests.support.documents import index_events
from tests.support.search_engine import SearchEngine

pytestmark = pytest.mark.engine


def _open_points_in_time(engine: SearchEngine) -> int:
    status, body = engine.cluster.request("GET", "/_search/point_in_time/_all")  # OpenSearch's listing
    return len(body.get("pits", [])) if status == 200 else 0


def test_an_export_past_the_result_window_streams_every_event_once_newest_first(
    installed: SearchEngine, data_stream: str, backend: Backend
) -> None:
    index_events(installed, data_stream, 10_050)  # past the 10,000 hits one search may page through
    with backend.client.stream("GET", "/logs/export", headers={"X-API-Key": backend.key}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
        assert r.headers["x-logplatform-total"] == "10050"
        docs = [json.loads(line) for line in r.iter_lines() if line]
    assert len(docs) == 10_050 and len({d["_id"] for d in docs}) == 10_050
    assert {d["message"] for d in docs} == {f"event {i}" for i in range(10_050)}
    stamps = [d["@timestamp"] for d in docs]
    assert stamps == sorted(stamps, reverse=True)
    assert _open_points_in_time(installed) == 0, "the export left its point in time open"


def test_csv_with_filters_has_a_header_and_a_row_an_event(
    installed: SearchEngine, data_stream: str, backend: Backend
) -> None:
    index_events(installed, data_stream, 40)
    r = backend.client.get(
        "/logs/export",
        params={"format": "csv", "kql": 'message : "event 7" or message : "event 12"', "service": "pager"},
        headers={"X-API-Key": backend.key},
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["@timestamp", "service.name", "log.level", "message", "_id"]
    assert [row[3] for row in rows[1:]] == ["event 12", "event 7"]  # newest first
    assert r.headers["x-logplatform-total"] == str(len(rows) - 1)


def test_an_ingest_key_cannot_export_and_a_bad_query_is_named(backend: Backend) -> None:
    shipper = backend.keys.create("shipper")  # ingest alone
    r = backend.client.get("/logs/export", headers={"X-API-Key": shipper})
    assert r.status_code == 403 and r.json()["field"] == "api_key"
    r = backend.client.get("/logs/export", params={"kql": "a : (b"}, headers={"X-API-Key": backend.key})
    assert r.status_code == 422 and r.json()["field"] == "kql"
    r = backend.client.get("/logs/export", params={"format": "xml"}, headers={"X-API-Key": backend.key})
    assert r.status_code == 422 and r.json()["field"] == "format"


def test_no_data_stream_yet_is_an_empty_export(backend: Backend) -> None:
    r = backend.client.get("/logs/export", headers={"X-API-Key": backend.key})
    assert r.status_code == 200 and r.text == "" and r.headers["x-logplatform-total"] == "0"
