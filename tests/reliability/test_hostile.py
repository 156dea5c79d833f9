"""Hostile input: every entry of the corpus gets a clear 4xx, valid events beside a bad one are kept, the
server stays up; property-based tests of the event model; mapping explosion cannot grow the mapping."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.events import SEED_EXAMPLE, Accepted, Limits, Rejected, check_event
from tests.support.backend_app import Backend
from tests.support.search_engine import SearchEngine

CORPUS = [json.loads(line) for line in (Path(__file__).parent / "hostile" / "corpus.jsonl").read_text().splitlines()]
GOOD = {"service": "auth-service", "level": "INFO", "message": "a valid event beside a bad one"}


def build_body(case: dict[str, Any]) -> bytes:
    recipe = case.get("recipe")
    if recipe is None:
        return base64.b64decode(case["body_b64"]) if "body_b64" in case else case["body"].encode()
    kind = recipe["kind"]
    if kind == "many_keys":
        meta = {f"k{i}": i for i in range(recipe["count"])}
        return json.dumps({"service": "a", "message": "b", "meta": meta}).encode()
    if kind == "big_message":
        return json.dumps({"service": "a", "message": "x" * recipe["bytes"]}).encode()
    if kind == "many_events":
        return json.dumps([SEED_EXAMPLE] * recipe["count"]).encode()
    if kind == "gzip_bomb":
        return gzip.compress(b"[" + b" " * recipe["bytes"] + b"]", compresslevel=9)
    if kind == "deflate_bomb":
        return zlib.compress(b"[" + b" " * recipe["bytes"] + b"]", 9)
    if kind == "gzip_members_bomb":  # members each within the limit, together over it
        return gzip.compress(b" " * recipe["bytes"], compresslevel=9) * recipe["members"]
    if kind == "gzip_truncated":
        return gzip.compress(json.dumps([SEED_EXAMPLE] * 50).encode())[:-20]
    raise AssertionError(kind)


def post(backend: Backend, case: dict[str, Any], body: bytes):
    headers = {"X-API-Key": backend.key}
    if case.get("content_type") is not None:
        headers["Content-Type"] = case["content_type"]
    if case.get("encoding"):
        headers["Content-Encoding"] = case["encoding"]
    return backend.client.post("/logs", content=body, headers=headers)


def test_the_corpus_is_big_and_varied() -> None:
    assert len(CORPUS) >= 200
    assert len({c["name"] for c in CORPUS}) == len(CORPUS)
    assert {c["status"] for c in CORPUS} == {400, 413, 415, 422}


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_each_bad_input_gets_a_clear_4xx(memory_backend: Backend, case: dict[str, Any]) -> None:
    r = post(memory_backend, case, build_body(case))
    assert r.status_code == case["status"], r.text[:300]
    body = r.json()
    if r.status_code == 422:
        assert all(
            i["status"] == "rejected" and i["errors"][0]["field"] and i["errors"][0]["reason"] for i in body["items"]
        )
    else:
        assert body["field"] and body["reason"] and body["status"] == r.status_code
    assert memory_backend.sink.lines == []  # nothing of it was indexed
    if case["scope"] == "event":
        # the same bad event in a batch: refused with its position, the valid events kept
        bad = json.loads(build_body(case))
        batch = json.dumps([GOOD, bad, GOOD]).encode()
        r = post(memory_backend, {"content_type": "application/json"}, batch)
        if r.status_code == 413:  # the bad event alone fills the body limit
            return
        assert r.status_code == 200, r.text[:300]
        items = r.json()["items"]
        assert [i["status"] for i in items] == ["indexed", "rejected", "indexed"]
        assert items[1]["index"] == 1 and items[1]["errors"][0]["reason"]
    assert memory_backend.client.get("/healthz").status_code == 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(
            ["service", "message", "level", "@timestamp", "meta", "event", "service.name", "event.id", "extra", "user"]
        ),
        json_values,
        max_size=8,
    )
)
def test_the_event_model_never_raises_and_accepted_lines_are_json(event: dict[str, Any]) -> None:
    result = check_event(0, event, Limits())
    assert isinstance(result, (Accepted, Rejected))
    if isinstance(result, Accepted):
        line = json.loads(result.line)
        assert line["event"]["id"] == result.event_id and line["@timestamp"]
        assert "\n" not in result.line
    else:
        assert result.errors and all(e.field and e.reason for e in result.errors)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=400),
    content_type=st.sampled_from(["application/json", "application/x-ndjson", "text/plain", None]),
)
def test_no_body_makes_the_server_answer_5xx(memory_backend: Backend, body: bytes, content_type: str | None) -> None:
    headers = {"X-API-Key": memory_backend.key}
    if content_type:
        headers["Content-Type"] = content_type
    r = memory_backend.client.post("/logs", content=body, headers=headers)
    assert r.status_code < 500, r.text


@pytest.mark.engine
def test_mapping_explosion_does_not_grow_the_mapping(installed: SearchEngine, data_stream: str) -> None:
    """3,000 events with 30 distinct meta keys each (90,000 keys) are all indexed; the mapping stays put."""
    from logplatform import names

    def field_count() -> int:
        mapping = installed.cluster.ok("GET", f"/{data_stream}/_mapping")
        return len(json.dumps(next(iter(mapping.values()))["mappings"]))

    ops = []
    for i in range(3000):
        event = {"service": "wide", "message": f"event {i}", "meta": {f"key_{i}_{k}": k for k in range(30)}}
        ops += [json.dumps({"create": {"_index": data_stream}}), json.dumps({"message": json.dumps(event)})]
    first = installed.cluster.ok("POST", f"/_bulk?pipeline={names.PIPELINE}&refresh=true", "\n".join(ops[:2]) + "\n")
    assert not first["errors"]
    before = field_count()
    result = installed.cluster.ok("POST", f"/_bulk?pipeline={names.PIPELINE}&refresh=true", "\n".join(ops[2:]) + "\n")
    assert not result["errors"], [i for i in result["items"] if i["create"].get("error")][:1]
    assert field_count() == before
    hits = installed.search(data_stream, {"query": {"term": {"labels.key_2999_7": "7"}}})["hits"]["hits"]
    assert len(hits) == 1 and hits[0]["_source"]["message"] == "event 2999"
