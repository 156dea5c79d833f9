"""Event ids in the pipeline (issue 40, findings 1, 7, 14; docs/event-schema.md, "Event ids and duplicates"): only
`event.id` carries an event's id (a Windows `EventID` is a type code, kept as data); a line the pipeline cannot make
a document of still gets a deterministic id, so a retry is stored once; a client cannot write the fields the pipeline
keeps for its own bookkeeping; ids sent under a key (logplatform.scope, set by the backend) are that key's own.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.pipeline_cases import simulate
from tests.support.search_engine import SearchEngine

pytestmark = pytest.mark.engine

PATH = "/var/log/logplatform/winlog.log"


def line(event: dict[str, Any] | str, offset: int | None = 0) -> dict[str, Any]:
    """What Filebeat sends for a line at `offset` of PATH (no place when offset is None: the backend's document)."""
    doc: dict[str, Any] = {"message": event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)}
    if offset is not None:
        doc["log"] = {"file": {"path": PATH}, "offset": offset}
    return doc


def one(engine: SearchEngine, doc: dict[str, Any]) -> dict[str, Any]:
    [made] = simulate(engine, [doc])
    return made


@pytest.mark.parametrize(
    "event",
    [
        {"EventID": 4625, "message": "An account failed to log on"},
        {"Event_ID": 4625, "message": "An account failed to log on"},
        {"eventid": "4625", "message": "An account failed to log on"},
        {"meta": {"event_id": 4625}, "message": "An account failed to log on"},
        {"meta": {"EventID": 4625}, "message": "An account failed to log on"},
    ],
    ids=["EventID", "Event_ID", "eventid", "meta.event_id", "meta.EventID"],
)
def test_an_event_type_code_is_data_not_the_events_id(installed: SearchEngine, event: dict[str, Any]) -> None:
    """Two failed logons (Windows writes EventID 4625 for every one) are two documents: the code is kept as a label,
    the id comes from each line's place in its file."""
    first, second = simulate(installed, [line(event, 0), line(event, 120)])
    for made in (first, second):
        source = made["_source"]
        assert "id" not in source.get("event", {}), source
        assert "4625" in source["labels"].values(), source
        assert "error" not in source, source
    assert first["_id"] != second["_id"]


def test_the_clients_event_id_wins_over_any_id_like_field(installed: SearchEngine) -> None:
    event = {"event": {"id": "mine-1"}, "EventID": 4625, "Event_ID": 1, "meta": {"event_id": "theirs"}, "message": "m"}
    reference = one(installed, line({"event": {"id": "mine-1"}, "message": "other"}, 0))
    for offset in (0, 99):
        made = one(installed, line(event, offset))
        assert made["_source"]["event"]["id"] == "mine-1"
        assert made["_id"] == reference["_id"]


def test_a_client_cannot_write_the_pipelines_bookkeeping(installed: SearchEngine) -> None:
    """logplatform.masked.*, logplatform.cut_fields, logplatform.pattern and _lp_* tags are the pipeline's: what a
    line brings there is moved to logplatform.extra, where it is data; the pipeline's own values are its own."""
    event = {
        "message": "order 42 shipped",
        "logplatform": {
            "masked": {"email": 7},
            "cut_fields": ["message"],
            "pattern": {"id": "forged"},
            "extra": {"note": "kept"},
        },
        "logplatform.masked.card": 3,
        "tags": ["_lp_value_cut", "_lp_timestamp_invalid", "mine"],
    }
    source = one(installed, line(event))["_source"]
    assert source["tags"] == ["mine"], source
    platform = source["logplatform"]
    assert "masked" not in platform and "cut_fields" not in platform, platform
    assert platform["pattern"]["id"] != "forged"
    extra = platform["extra"]
    assert extra["note"] == "kept"
    assert extra["logplatform"] == {
        "masked": {"email": 7, "card": 3},
        "cut_fields": ["message"],
        "pattern": {"id": "forged"},
    }
    assert extra["tags"] == ["_lp_value_cut", "_lp_timestamp_invalid"]


def test_the_scope_is_not_data_and_keeps_keys_apart(installed: SearchEngine) -> None:
    """The backend writes its key's scope into the line (logplatform.scope): the same event.id under two scopes is two
    documents, under one scope one; the scope is not kept in the document."""
    ordered = "01890a5d-ac96-774b-bcce-b302099a8057"
    for event_id in (ordered, "client-chosen-7"):
        made = {
            scope: one(
                installed, line({"event": {"id": event_id}, "message": "m", "logplatform": {"scope": scope}}, None)
            )
            for scope in ("key-a", "key-b")
        }
        assert made["key-a"]["_id"] != made["key-b"]["_id"]
        again = one(
            installed, line({"event": {"id": event_id}, "message": "m2", "logplatform": {"scope": "key-a"}}, None)
        )
        assert again["_id"] == made["key-a"]["_id"]
        unscoped = one(installed, line({"event": {"id": event_id}, "message": "m"}, None))
        assert unscoped["_id"] not in (made["key-a"]["_id"], made["key-b"]["_id"])
        for doc in made.values():
            assert "logplatform" not in doc["_source"] or "scope" not in doc["_source"]["logplatform"]
            assert doc["_source"]["event"]["id"] == event_id
    # a version 7 UUID stays time-ordered under a scope: its 16 bytes first
    a = one(installed, line({"event": {"id": ordered}, "message": "m", "logplatform": {"scope": "key-a"}}, None))
    bare = one(installed, line({"event": {"id": ordered}, "message": "m"}, None))
    assert a["_id"].startswith(bare["_id"][:21])


HUGE = 1_000_000


@pytest.mark.parametrize(
    ("event", "error_type", "tag"),
    [
        ({"event": {"id": "huge-1"}, "message": "x" * HUGE}, None, "_lp_value_cut"),
        ({"message": "m", "stack_trace": "at a.b(c.java:1)\n" * (HUGE // 17)}, None, "_lp_value_cut"),
        ({"message": "m", "meta": {"blob": "é" * HUGE}}, None, "_lp_value_cut"),
        ({"message": "m", "labels": {"a": "y" * HUGE, "b": "z" * 300_000}}, None, "_lp_value_cut"),
        # a key over the json parser's 50,000 characters: a line that is not valid JSON, kept as it came (step 2)
        ({"message": "m", "k" * HUGE: 1}, "logplatform.invalid_json", None),
        ({"event": {"id": "big-ts"}, "@timestamp": str(2**64), "message": "m"}, None, "_lp_timestamp_invalid"),
        # an integer past 2^63 cannot be in any document the engine holds: the line is kept as it came
        ({"event": {"id": "big-ts"}, "@timestamp": 2**64, "message": "m"}, "logplatform.pipeline_failure", None),
        (
            {"event": {"id": "big-ts-2"}, "ts": 9_300_000_000_000_000_000, "message": "m"},
            "logplatform.pipeline_failure",
            None,
        ),
    ],
    ids=["message", "stack-trace", "meta-value", "labels", "key", "timestamp-text", "timestamp-2^64", "timestamp-2^63"],
)
@pytest.mark.parametrize("offset", [0, None], ids=["file", "posted"])
def test_huge_values_and_timestamps_are_stored_once_cut_or_flagged(
    installed: SearchEngine, event: dict[str, Any], error_type: str | None, tag: str | None, offset: int | None
) -> None:
    """Values of a million characters and integer timestamps past 2^63 make a document like any other (values cut,
    the timestamp flagged) or the line kept as it came, under the same id every time the line is sent: a retry is
    refused as a duplicate, not stored twice."""
    if offset is None:  # the backend gives every event it takes an event.id
        event = {"event": {"id": "posted-1"}, **event}
    first, second = simulate(installed, [line(event, offset), line(event, offset)])
    assert first["_id"] == second["_id"] and first["_id"] != "_id"  # _simulate's placeholder: no id was set
    source = first["_source"]
    assert source.get("error", {}).get("type") == error_type, source.get("error")
    if tag is not None:
        assert tag in source["tags"]
        assert len(json.dumps(source)) < 200_000
    if error_type is None and "id" in event.get("event", {}):
        assert source["event"]["id"] == event["event"]["id"]


def test_a_line_the_pipeline_fails_on_keeps_a_deterministic_id(installed: SearchEngine) -> None:
    """Should a step ever fail, the line kept as it came still gets an id from the event's id, its place or its
    content: a retry is refused as a duplicate rather than stored twice."""
    from tests.pipeline.test_pipeline_steps import _forced_to_fail

    body = {
        "pipeline": _forced_to_fail("within", "document"),
        "docs": [
            {"_index": "logs-logplatform-default", "_source": line({"event": {"id": "e-1"}, "message": "a"}, None)},
            {"_index": "logs-logplatform-default", "_source": line({"event": {"id": "e-1"}, "message": "a"}, None)},
            {"_index": "logs-logplatform-default", "_source": line({"message": "no id"}, None)},
            {"_index": "logs-logplatform-default", "_source": line({"message": "no id"}, None)},
            {"_index": "logs-logplatform-default", "_source": line({"message": "no id"}, 5)},
            {"_index": "logs-logplatform-default", "_source": line({"message": "no id"}, 6)},
        ],
    }
    docs = [d["doc"] for d in installed.cluster.ok("POST", "/_ingest/pipeline/_simulate", body)["docs"]]
    assert all(d["_source"]["error"]["type"] == "logplatform.pipeline_failure" for d in docs)
    ids = [d["_id"] for d in docs]
    assert ids[0] == ids[1] and ids[2] == ids[3]
    assert len({ids[0], ids[2], ids[4], ids[5]}) == 4
