"""One rule for every outcome of POST /logs: what a retry can fix is queued or 503 + Retry-After; what it cannot
(the engine refuses the document as sent) is a per-event rejection with its field and reason."""

from __future__ import annotations

import asyncio
import json

from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import BadRequestError

from backend.delivery import ElasticsearchSink, ItemStatus, item_status
from backend.events import SEED_EXAMPLE
from tests.support.backend_app import Backend

MAPPING_FAILURE = {
    "create": {
        "status": 400,
        "error": {
            "type": "document_parsing_exception",
            "reason": "[1:120] failed to parse field [http.response.status_code] of type [long] in document",
        },
    }
}


def test_an_engine_refusal_is_permanent_and_names_the_field() -> None:
    status = item_status(MAPPING_FAILURE)
    assert status.kind == "error" and status.field == "http.response.status_code"
    assert "document_parsing_exception" in status.reason
    for retryable in (429, 500, 503):
        assert item_status({"create": {"status": retryable, "error": {"type": "x"}}}).kind == "retry"
    assert item_status({"create": {"status": 409}}).kind == "duplicate"  # stored before: answered duplicate
    conflict = {
        "create": {
            "status": 400,
            "error": {
                "type": "mapper_parsing_exception",
                "reason": (
                    "object mapping for [http.response] tried to parse field [response] as object, "
                    "but found a concrete value"
                ),
            },
        }
    }
    assert item_status(conflict).field == "http.response"


def test_an_event_kept_in_the_failure_store_is_rejected_not_indexed() -> None:
    # Elasticsearch 9.1+ answers a document it redirected to the failure store with a 2xx and this flag
    redirected = {
        "create": {"_index": ".fs-logs-logplatform-default-2026.12.01-000001", "status": 201, "failure_store": "used"}
    }
    status = item_status(redirected)
    assert status.kind == "error" and "failure store" in status.reason
    assert item_status({"create": {"status": 201, "failure_store": "not_applicable_or_unknown"}}).kind == "ok"


def test_a_refused_event_is_rejected_not_retryable(memory_backend: Backend) -> None:
    memory_backend.sink.scripted = [
        [ItemStatus("error", "refused by Elasticsearch: mapper_parsing_exception", "http.response.status_code")]
    ]
    r = memory_backend.post(SEED_EXAMPLE)
    assert r.status_code == 422 and "Retry-After" not in r.headers
    body = r.json()
    assert (body["accepted"], body["rejected"], body["failed"]) == (0, 1, 0)
    assert body["items"][0]["status"] == "rejected"
    assert body["items"][0]["errors"] == [
        {"field": "http.response.status_code", "reason": "refused by Elasticsearch: mapper_parsing_exception"}
    ]


def test_a_refused_event_does_not_take_the_batch_down(memory_backend: Backend) -> None:
    memory_backend.sink.scripted = [
        [ItemStatus("ok"), ItemStatus("error", "refused", "url.original"), ItemStatus("ok")]
    ]
    r = memory_backend.post([SEED_EXAMPLE, {**SEED_EXAMPLE, "message": "poison"}, SEED_EXAMPLE])
    assert r.status_code == 200 and "Retry-After" not in r.headers
    assert [i["status"] for i in r.json()["items"]] == ["indexed", "rejected", "indexed"]
    assert r.json()["accepted"] + r.json()["rejected"] == 3


class _OneBadLineClient:
    """A client whose whole _bulk fails with 400 while a poison line is in it, as a malformed request would."""

    def __init__(self) -> None:
        self.calls = 0

    async def bulk(self, operations: str, pipeline: str) -> object:
        self.calls += 1
        if "poison" in operations:
            meta = ApiResponseMeta(400, "1.1", HttpHeaders(), 0.0, NodeConfig("http", "localhost", 9200))
            raise BadRequestError("parse_exception", meta, {"error": "parse_exception"})
        lines = operations.count("\n") // 2
        return type("Resp", (), {"body": {"items": [{"create": {"status": 201}}] * lines}})()

    async def close(self) -> None:
        pass


def test_a_whole_bulk_refused_for_the_clusters_reasons_is_retryable() -> None:
    from backend.delivery import SinkUnavailable

    class Refusing(_OneBadLineClient):
        def __init__(self, status: int) -> None:
            super().__init__()
            self.status = status

        async def bulk(self, operations: str, pipeline: str) -> object:
            meta = ApiResponseMeta(self.status, "1.1", HttpHeaders(), 0.0, NodeConfig("http", "localhost", 9200))
            raise BadRequestError("refused", meta, {"error": "security_exception"})

    for status in (401, 403, 404, 429, 503):
        sink = ElasticsearchSink(Refusing(status), "logs-x-default", "p")
        try:
            asyncio.run(sink.bulk(["{}", "{}"]))
        except SinkUnavailable:
            continue
        raise AssertionError(f"a whole _bulk answered {status} made events permanent failures")


def test_a_whole_bulk_refused_is_halved_until_the_poison_line_is_alone() -> None:
    client = _OneBadLineClient()
    sink = ElasticsearchSink(client, "logs-x-default", "p")
    lines = [json.dumps({"message": f"m{i}"}) for i in range(7)]
    lines[5] = json.dumps({"message": "poison"})
    statuses = asyncio.run(sink.bulk(lines))
    assert [s.kind for s in statuses] == ["ok"] * 5 + ["error", "ok"]
    assert "refused by Elasticsearch" in statuses[5].reason
    assert client.calls <= 1 + 2 * 3  # log2(7) levels of halving, not one call per line
