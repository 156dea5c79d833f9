"""Event ids under hostile and unlucky clients, the backend in front of the engine (issue 40, findings 1, 5, 7, 14;
docs/event-schema.md, "Event ids and duplicates"): each answer, and exactly the documents stored, each once."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from logplatform.api_keys import SCOPES
from logplatform.event_ids import new_event_id
from tests.support.backend_app import Backend
from tests.support.documents import every_document
from tests.support.search_engine import SearchEngine

pytestmark = pytest.mark.engine


def stored(engine: SearchEngine, data_stream: str) -> list[dict[str, Any]]:
    engine.refresh(data_stream)
    return every_document(engine.cluster, data_stream)


def statuses(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["status"] for item in answer.json()["items"]]


def test_windows_event_ids_are_type_codes_not_ids(installed: SearchEngine, backend: Backend, data_stream: str) -> None:
    """Every failed logon is EventID 4625: each is its own event, answered indexed and stored."""
    logons = [
        {"service": "winlog", "message": f"An account failed to log on: user{n}", "EventID": 4625} for n in range(3)
    ]
    logons.append({"service": "winlog", "message": "another", "Event_ID": 4625, "meta": {"event_id": 4625}})
    answers = [statuses(backend.post(e)) for e in logons]
    assert answers == [["indexed"]] * 4
    docs = stored(installed, data_stream)
    assert sorted(d["message"] for d in docs) == sorted(e["message"] for e in logons)
    assert all(d["labels"].get("EventID", d["labels"].get("Event_ID")) == "4625" for d in docs)


def test_one_key_cannot_shadow_anothers_events(installed: SearchEngine, backend: Backend, data_stream: str) -> None:
    """Key B sending key A's event.id (even writing A's scope in the event) stores B's event; A sending it again is
    answered duplicate, success, and stored once."""
    other = backend.keys.create("other", scopes=SCOPES)
    a_scope = backend.key.split("_")[1]
    event_id = str(uuid.uuid4())
    event = {"service": "pay", "message": "from A", "event": {"id": event_id}}
    assert statuses(backend.post(event)) == ["indexed"]
    taken = {"service": "pay", "message": "from B", "event": {"id": event_id}}
    forged = {"service": "pay", "message": "B as A", "event": {"id": event_id}, "logplatform": {"scope": a_scope}}
    dotted = {"service": "pay", "message": "B as A, dotted", "event.id": event_id, "logplatform.scope": a_scope}
    assert statuses(backend.post(taken, key=other)) == ["indexed"]
    assert statuses(backend.post(forged, key=other)) == ["duplicate"]  # B's own scope: B's event.id again
    assert statuses(backend.post(dotted, key=other)) == ["duplicate"]
    again = backend.post(event)
    assert statuses(again) == ["duplicate"]
    body = again.json()
    assert body["accepted"] == 1 and body["duplicate"] == 1 and body["indexed"] == 0 and not body["errors"]
    docs = stored(installed, data_stream)
    assert sorted(d["message"] for d in docs) == ["from A", "from B"]
    assert all(d["event"]["id"] == event_id and "scope" not in d.get("logplatform", {}) for d in docs)


def test_an_otlp_record_cannot_be_claimed_by_another_key(
    installed: SearchEngine, backend: Backend, data_stream: str
) -> None:
    """An OTLP record's event.id comes from its content: the same record from two keys is two events, and an
    exporter's retry under one key is stored once."""
    other = backend.keys.create("other", scopes=SCOPES)
    record = {"timeUnixNano": "1770091509000000000", "severityText": "INFO", "body": {"stringValue": "otlp hello"}}
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "otel-svc"}}]}
    body = {"resourceLogs": [{"resource": resource, "scopeLogs": [{"logRecords": [record]}]}]}
    for key in (None, other, None):
        answer = backend.post(body, path="/v1/logs", key=key)
        assert answer.status_code == 200, answer.text
    docs = stored(installed, data_stream)
    assert [d["message"] for d in docs] == ["otlp hello", "otlp hello"]
    assert docs[0]["event"]["id"] == docs[1]["event"]["id"] and docs[0]["_id"] != docs[1]["_id"]


@pytest.mark.parametrize(
    "extra",
    [
        {"message": "x" * 1_000_000},
        {"message": "m", "meta": {"blob": "é" * 600_000, "trace": "at a.b(c.java:1)\n" * 40_000}},
        # the backend refuses an epoch @timestamp out of range (422); a line on the volume is not: the pipeline's tests
        {"message": "m", "bytes_sent": 2**64},
        {"message": "m", "meta": {"offset": -(2**63) - 1}},
    ],
    ids=["million-character-message", "huge-meta", "integer-2^64", "integer-below-minus-2^63"],
)
def test_huge_values_and_timestamps_are_stored_once(
    installed: SearchEngine, backend: Backend, data_stream: str, extra: dict[str, Any]
) -> None:
    """A retry of an event with values the pipeline must cut is answered duplicate, never stored twice."""
    event = {"service": "big", "event": {"id": str(uuid.uuid4())}, **extra}
    assert statuses(backend.post(event)) == ["indexed"]
    assert statuses(backend.post(event)) == ["duplicate"]
    [doc] = stored(installed, data_stream)
    assert len(doc["message"]) <= 32_768
    assert "type" not in doc.get("error", {}), doc["error"]
    if len(str(extra)) > 32_768:
        assert "_lp_value_cut" in doc["tags"]


def test_a_client_cannot_forge_the_pipelines_bookkeeping(
    installed: SearchEngine, backend: Backend, data_stream: str
) -> None:
    event = {
        "service": "forger",
        "message": "nothing to see",
        "logplatform": {"masked": {"card": 9}, "cut_fields": ["message"]},
        "tags": ["_lp_value_cut", "_lp_type_mismatch", "ok"],
    }
    assert statuses(backend.post(event)) == ["indexed"]
    [doc] = stored(installed, data_stream)
    assert doc["tags"] == ["ok"]
    platform = doc["logplatform"]
    assert set(platform) == {"extra", "pattern"}, platform
    assert platform["extra"]["logplatform"] == {"masked": {"card": 9}, "cut_fields": ["message"]}
    assert platform["extra"]["tags"] == ["_lp_value_cut", "_lp_type_mismatch"]


CORPUS = Path(__file__).parent / "hostile" / "ids.jsonl"
CASES = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]
RESERVED = ("masked", "cut_fields", "dead_letter")


def built(value: Any, names: dict[str, str]) -> Any:
    """A corpus event as sent: {"$repeat": [text, n]} is text n times; "$id", "$uuid7", "$scope_a" the case's own."""
    if isinstance(value, dict):
        if set(value) == {"$repeat"}:
            text, times = value["$repeat"]
            return text * times
        return {k: built(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [built(v, names) for v in value]
    return names.get(value, value) if isinstance(value, str) else value


def test_the_id_corpus_covers_its_categories() -> None:
    categories = {c["category"] for c in CASES}
    assert categories == {"id fields", "duplicates across keys", "huge values", "reserved fields"}
    assert len({c["name"] for c in CASES}) == len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_each_id_attack_is_answered_and_stored_as_it_should(
    installed: SearchEngine, backend: Backend, data_stream: str, case: dict[str, Any]
) -> None:
    """Each step's answer (indexed, or duplicate for this key's own event sent again), then exactly the documents
    expected, each once: no event lost to another's id, none stored twice, no bookkeeping forged."""
    keys = {"a": backend.key, "b": backend.keys.create("other", scopes=SCOPES)}
    names = {"$id": str(uuid.uuid4()), "$uuid7": new_event_id(), "$scope_a": backend.key.split("_")[1]}
    for step in case["steps"]:
        assert statuses(backend.post(built(step["event"], names), key=keys[step["key"]])) == [step["answer"]], step
    docs = stored(installed, data_stream)
    if case["stored"] == ["$cut"]:
        [doc] = docs
        assert "_lp_value_cut" in doc["tags"] and len(doc["message"]) <= 32_768
    else:
        assert sorted(d["message"] for d in docs) == sorted(case["stored"])
    for doc in docs:
        assert "type" not in doc.get("error", {}), doc["error"]
        platform = doc.get("logplatform", {})
        assert "scope" not in platform, platform
        if case["category"] == "reserved fields":  # the pipeline's own: none of what the event wrote there
            assert not any(k in platform for k in RESERVED), platform
        assert platform.get("pattern", {}).get("id") != "forged"
        assert not any(t.startswith("_lp_") and t != "_lp_value_cut" for t in doc.get("tags", [])), doc["tags"]
