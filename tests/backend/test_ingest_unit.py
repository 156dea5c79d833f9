"""POST /logs with an in-memory sink: validation, limits, authentication, spooling, answers."""

from __future__ import annotations

import gzip
import json
import logging
import uuid

import pytest

from backend.delivery import ItemStatus
from backend.events import SEED_EXAMPLE
from tests.support.backend_app import Backend


def test_seed_example_is_indexed_with_an_id_and_a_timestamp(memory_backend: Backend) -> None:
    r = memory_backend.post(SEED_EXAMPLE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["indexed"], body["rejected"], body["errors"]) == (1, 1, 0, False)
    item = body["items"][0]
    assert item["status"] == "indexed" and len(item["id"]) == 36
    [line] = memory_backend.sink.lines
    event = json.loads(line)
    assert event["event"]["id"] == item["id"] and uuid.UUID(item["id"]).version == 7  # time-ordered: event_ids.py
    assert event["@timestamp"].endswith("Z")
    assert {k: event[k] for k in SEED_EXAMPLE} == SEED_EXAMPLE


def test_client_event_id_and_timestamp_are_kept(memory_backend: Backend) -> None:
    event = {**SEED_EXAMPLE, "event": {"id": "my-id-1"}, "@timestamp": "2026-01-02T03:04:05.678Z"}
    r = memory_backend.post(event)
    assert r.json()["items"][0]["id"] == "my-id-1"
    # the line is the event as sent, with the scope of the key it came with (the pipeline's id is that key's own)
    assert json.loads(memory_backend.sink.lines[0]) == {
        **event,
        "logplatform": {"scope": memory_backend.key.split("_")[1]},
    }


@pytest.mark.parametrize(
    "headers", [{}, {"X-API-Key": "lp_nope_nope"}, {"X-API-Key": "garbage"}, {"Authorization": "Bearer x"}]
)
def test_write_needs_a_valid_key(memory_backend: Backend, headers: dict) -> None:
    r = memory_backend.client.post("/logs", json=SEED_EXAMPLE, headers=headers)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "ApiKey"
    assert memory_backend.sink.lines == []


def test_authorization_header_works_and_revoked_key_does_not(memory_backend: Backend) -> None:
    auth = {"Authorization": f"ApiKey {memory_backend.key}"}
    r = memory_backend.client.post("/logs", json=SEED_EXAMPLE, headers=auth)
    assert r.status_code == 200
    key_id = memory_backend.key.split("_")[1]
    assert memory_backend.keys.revoke(key_id) == [key_id]
    served = memory_backend.client.app.state.logplatform.keys  # the store the app verifies keys with
    now = served.clock()
    served.clock = lambda: now + served.RELOAD_EVERY_S + 0.1  # a second later: the store is read again
    assert memory_backend.post(SEED_EXAMPLE).status_code == 401


def test_keys_are_stored_hashed(memory_backend: Backend) -> None:
    stored = memory_backend.keys.path.read_text()
    secret = memory_backend.key.split("_", 2)[2]
    assert secret not in stored
    assert oct(memory_backend.keys.path.stat().st_mode & 0o777) == "0o600"


def test_batch_keeps_good_events_and_explains_each_bad_one(memory_backend: Backend) -> None:
    batch = [
        SEED_EXAMPLE,
        {"service": "a"},
        "not an object",
        {**SEED_EXAMPLE, "level": 5, "@timestamp": "nope"},
        {**SEED_EXAMPLE, "message": "ok too"},
    ]
    r = memory_backend.post(batch)
    assert r.status_code == 200
    body = r.json()
    assert (body["indexed"], body["rejected"], body["errors"]) == (2, 3, True)
    items = {i["index"]: i for i in body["items"]}
    assert items[0]["status"] == items[4]["status"] == "indexed"
    assert items[1]["errors"] == [{"field": "message", "reason": "Field required"}]
    assert items[2]["errors"][0]["field"] == "$"
    assert items[3]["errors"][0]["field"] == "@timestamp"
    assert [json.loads(x)["message"] for x in memory_backend.sink.lines] == ["Login failed", "ok too"]


def test_all_bad_is_422(memory_backend: Backend) -> None:
    r = memory_backend.post([{"message": "no service"}])
    assert r.status_code == 422
    assert r.json()["items"][0]["errors"][0]["field"] == "service"


def test_ndjson_bad_line_is_rejected_alone(memory_backend: Backend) -> None:
    lines = [json.dumps(SEED_EXAMPLE), "{broken", json.dumps({**SEED_EXAMPLE, "message": "third"})]
    r = memory_backend.post(
        path="/logs/ndjson", content="\n".join(lines) + "\n", headers={"Content-Type": "application/x-ndjson"}
    )
    assert r.status_code == 200
    body = r.json()
    assert [i["status"] for i in body["items"]] == ["indexed", "rejected", "indexed"]
    assert "not valid JSON" in body["items"][1]["errors"][0]["reason"]
    # the same NDJSON on /logs, by Content-Type
    r2 = memory_backend.post(content="\n".join(lines), headers={"Content-Type": "application/x-ndjson"})
    assert r2.json()["indexed"] == 2


@pytest.mark.parametrize(
    ("kwargs", "status", "field"),
    [
        ({"content": b"{}", "headers": {"Content-Type": "text/plain"}}, 415, "content-type"),
        ({"content": b'{"service": "a", "message": ', "headers": {"Content-Type": "application/json"}}, 400, "body"),
        ({"content": b'{"service": "\xff"}', "headers": {"Content-Type": "application/json"}}, 400, "body"),
        (
            {"content": b'{"service": "a", "message": NaN}', "headers": {"Content-Type": "application/json"}},
            400,
            "body",
        ),
        ({"content": b"[" * 100000, "headers": {"Content-Type": "application/json"}}, 400, "body"),
        ({"content": b"42", "headers": {"Content-Type": "application/json"}}, 400, "body"),
        ({"content": b"", "headers": {"Content-Type": "application/json"}}, 400, "body"),
        (
            {"content": b"{}", "headers": {"Content-Type": "application/json", "Content-Encoding": "br"}},
            415,
            "content-encoding",
        ),
        (
            {"content": b"not gzip", "headers": {"Content-Type": "application/json", "Content-Encoding": "gzip"}},
            400,
            "content-encoding",
        ),
    ],
)
def test_bad_bodies_get_a_clear_4xx(memory_backend: Backend, kwargs: dict, status: int, field: str) -> None:
    r = memory_backend.post(**kwargs)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field and r.json()["reason"]


def test_body_limit_is_413(memory_backend: Backend) -> None:
    big = json.dumps([{**SEED_EXAMPLE, "message": "x" * 30000}] * 200).encode()
    assert len(big) > memory_backend.settings.max_body_bytes
    r = memory_backend.post(content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_gzip_works_and_a_gzip_bomb_is_413(memory_backend: Backend) -> None:
    ok = gzip.compress(json.dumps([SEED_EXAMPLE] * 3).encode())
    r = memory_backend.post(content=ok, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert r.json()["indexed"] == 3
    bomb = gzip.compress(b"[" + b" " * (50 * 1024 * 1024) + b"]")
    assert len(bomb) < 100_000
    r = memory_backend.post(content=bomb, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert r.status_code == 413


def test_too_many_events_is_413(memory_backend: Backend) -> None:
    r = memory_backend.post([SEED_EXAMPLE] * (memory_backend.settings.max_events_per_request + 1))
    assert r.status_code == 413 and "at most" in r.json()["reason"]


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({**SEED_EXAMPLE, "meta": {f"k{i}": i for i in range(300)}}, "meta"),
        ({**SEED_EXAMPLE, "meta": json.loads('{"a":' * 12 + "1" + "}" * 12)}, "meta.a.a.a.a.a.a.a"),
        ({**SEED_EXAMPLE, "service": ""}, "service"),
        ({**SEED_EXAMPLE, "event": {"id": 5}}, "event.id"),
        ({**SEED_EXAMPLE, "meta": {"tags": ["ok", "\x1b[31mred"]}}, "meta.tags[1]"),
        ({**SEED_EXAMPLE, "meta": {"k" * 300: 1}}, "meta." + "k" * 32 + "…"),
    ],
)
def test_event_limits_name_the_field(memory_backend: Backend, event: dict, field: str) -> None:
    r = memory_backend.post([event, SEED_EXAMPLE])
    assert r.status_code == 200
    rejected = r.json()["items"][0]
    assert rejected["status"] == "rejected"
    assert rejected["errors"][0]["field"] == field, rejected


def test_a_long_value_is_accepted_as_sent_for_the_pipeline_to_cut(memory_backend: Backend) -> None:
    long = {**SEED_EXAMPLE, "message": "x" * 40000, "meta": {"note": "y" * 9000}}
    r = memory_backend.post([long])
    assert r.status_code == 200 and r.json()["items"][0]["status"] == "indexed"
    (line,) = memory_backend.sink.lines
    assert json.loads(line)["message"] == "x" * 40000  # the pipeline, not the backend, cuts it


def test_retryable_items_are_retried(memory_backend: Backend) -> None:
    memory_backend.sink.scripted = [[ItemStatus("retry", "es_rejected_execution_exception")]]
    r = memory_backend.post(SEED_EXAMPLE)
    assert r.json()["items"][0]["status"] == "indexed"
    assert memory_backend.sink.calls == 2 and len(memory_backend.sink.lines) == 1


def test_outage_spools_durably_and_says_queued(memory_backend: Backend) -> None:
    memory_backend.sink.down = True
    r = memory_backend.post([SEED_EXAMPLE, {**SEED_EXAMPLE, "message": "second"}])
    assert r.status_code == 202
    body = r.json()
    assert body["queued"] == 2 and body["indexed"] == 0
    spooled = [json.loads(x) for x in memory_backend.spool_lines()]
    assert [e["event"]["id"] for e in spooled] == [i["id"] for i in body["items"]]
    # back up: indexed directly again
    memory_backend.sink.down = False
    import time

    time.sleep(0.25)
    assert memory_backend.post(SEED_EXAMPLE).json()["indexed"] == 1


def test_spool_full_is_503_with_retry_after(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from backend.main import create_app
    from logplatform.api_keys import KeyStore
    from tests.support.backend_app import make_settings
    from tests.support.memory_sink import MemorySink

    settings = make_settings(tmp_path, spool_max_bytes=300)
    key = KeyStore(settings.api_keys_file).create("t")
    sink = MemorySink()
    sink.down = True
    with TestClient(create_app(settings, sink=sink, search_client=object())) as client:
        first = client.post("/logs", json=SEED_EXAMPLE, headers={"X-API-Key": key})
        assert first.status_code == 202
        r = client.post("/logs", json=[SEED_EXAMPLE] * 3, headers={"X-API-Key": key})
        assert r.status_code == 503
        assert r.headers["Retry-After"]
        assert r.json()["failed"] == 3 and "unavailable" in r.json()["items"][0]["errors"][0]["reason"]


def test_rate_limit_is_429_with_retry_after(memory_backend: Backend) -> None:
    limited = memory_backend.keys.create("slow", rate_limit_per_s=5)
    ok = memory_backend.post([SEED_EXAMPLE] * 10, key=limited)
    assert ok.status_code == 200
    r = memory_backend.post([SEED_EXAMPLE] * 5, key=limited)
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1
    assert memory_backend.post([SEED_EXAMPLE] * 5).status_code == 200  # other keys are not limited


def test_no_key_in_logs(memory_backend: Backend, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    memory_backend.post(SEED_EXAMPLE)
    memory_backend.post(SEED_EXAMPLE, key=memory_backend.key + "x")
    secret = memory_backend.key.split("_", 2)[2]
    assert secret not in caplog.text


def test_health_metrics_and_headers(memory_backend: Backend) -> None:
    assert memory_backend.client.get("/healthz").json() == {"status": "ok"}
    memory_backend.post(SEED_EXAMPLE)
    memory_backend.post([{"message": "bad"}])
    text = memory_backend.client.get("/metrics").text
    assert 'logplatform_events_total{outcome="indexed"} 1.0' in text
    assert 'logplatform_events_total{outcome="rejected"} 1.0' in text
    assert "logplatform_bulk_seconds_bucket" in text
    r = memory_backend.client.get("/healthz")
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_openapi_documents_the_examples(memory_backend: Backend) -> None:
    spec = memory_backend.client.get("/openapi.json").json()
    body = spec["paths"]["/logs"]["post"]["requestBody"]["content"]
    assert body["application/json"]["examples"]["seed"]["value"] == SEED_EXAMPLE
    assert "application/x-ndjson" in spec["paths"]["/logs/ndjson"]["post"]["requestBody"]["content"]
    assert memory_backend.client.get("/docs").status_code == 200


def test_several_bad_ndjson_lines_are_reported_at_their_own_positions(memory_backend: Backend) -> None:
    good = json.dumps(SEED_EXAMPLE)
    r = memory_backend.post(
        path="/logs/ndjson",
        content="\n".join([good, "{bad", good, "{bad again", good]),
        headers={"Content-Type": "application/x-ndjson"},
    )
    body = r.json()
    assert [i["status"] for i in body["items"]] == ["indexed", "rejected", "indexed", "rejected", "indexed"]
    assert (body["indexed"], body["rejected"]) == (3, 2)
    assert all("not valid JSON" in body["items"][i]["errors"][0]["reason"] for i in (1, 3))


def test_json_the_fast_parser_refuses_is_judged_as_before(memory_backend: Backend) -> None:
    """orjson parses the bodies; what it refuses (an integer beyond 64 bits, a lone surrogate, NaN, a syntax error)
    gets the answer the standard library's parser gives: kept, rejected alone with its reason, or its message."""
    big = 2**70
    lines = [
        json.dumps({**SEED_EXAMPLE, "meta": {"order": big}}),
        '{"service": "a", "message": "half \\ud800 a pair"}',
        '{"service": "a", "message": NaN}',
        '{"service": "a", "message": "x",}',
    ]
    r = memory_backend.post(
        path="/logs/ndjson", content="\n".join(lines), headers={"Content-Type": "application/x-ndjson"}
    )
    items = r.json()["items"]
    assert [i["status"] for i in items] == ["indexed", "rejected", "rejected", "rejected"]
    assert json.loads(memory_backend.sink.lines[0])["meta"]["order"] == big
    assert "lone surrogate" in items[1]["errors"][0]["reason"]
    assert items[2]["errors"][0]["reason"] == "line is not valid JSON: NaN is not valid JSON"
    assert items[3]["errors"][0]["reason"] == (
        "line is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 33 (char 32)"
    )
