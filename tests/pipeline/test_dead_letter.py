"""The dead-letter pipeline: a line the engine refused, re-sent by Filebeat to the dead-letter stream,
is stored as the line it was, with the engine's reason and where it came from.

The input is built the way libbeat builds it (outputs/elasticsearch/event_encoder.go, setDeadLetter):
`message` = the event Filebeat had sent, as JSON; `error.type` = the item's HTTP status;
`error.message` = the engine's error object, as JSON. The real Filebeat sends it in tests/filebeat/.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from logplatform import names
from tests.support.pipeline_cases import simulate
from tests.support.search_engine import SearchEngine
from tests.support.shipper import filebeat_doc

pytestmark = pytest.mark.engine

LINE = json.dumps({"service": {"name": "checkout", "version": "1.2.3"}, "message": "refused"})
REFUSAL = {
    "type": "document_parsing_exception",
    "reason": "[1:60] failed to parse field [service.version] of type [long]",
    "caused_by": {"type": "illegal_argument_exception", "reason": 'For input string: "1.2.3"'},
}


def dead_letter(line: str = LINE, offset: int = 120) -> dict[str, Any]:
    shipped = filebeat_doc(
        line,
        "/var/log/logplatform/spool/backend-spool.ndjson",
        offset,
        host="filebeat-1",
        timestamp="2026-12-01T10:00:00.000Z",
        agent={"type": "filebeat", "version": "9.3.0"},
        fingerprint="ab12",
        inode="7",
        device_id="64769",
    ) | {"ecs": {"version": "8.0.0"}}
    return {
        "@timestamp": "2026-12-01T10:00:00.000Z",
        "message": json.dumps(shipped),
        "error.type": 400,
        "error.message": json.dumps(REFUSAL),
    }


def test_a_dead_letter_keeps_the_raw_line_the_reason_and_its_place(installed: SearchEngine) -> None:
    (doc,) = simulate(installed, [dead_letter()], names.DEAD_LETTER_STREAM)
    source = doc["_source"]
    assert source["message"] == LINE  # the line as it was on the volume, not Filebeat's wrapper
    assert source["error"] == {
        "type": "document_parsing_exception",
        "message": REFUSAL["reason"] + ": " + REFUSAL["caused_by"]["reason"],
    }
    assert source["logplatform"]["dead_letter"]["status"] == 400
    assert source["log"]["file"]["path"].endswith("backend-spool.ndjson") and source["log"]["offset"] == 120
    assert source["host"] == {"name": "filebeat-1"} and source["event"]["kind"] == "pipeline_error"
    assert "lp_tmp" not in source and "service" not in source  # not normalized as an event: kept as refused


def test_a_re_sent_dead_letter_has_the_same_id_and_another_line_another(installed: SearchEngine) -> None:
    first, again, other = simulate(
        installed, [dead_letter(), dead_letter(), dead_letter(offset=400)], names.DEAD_LETTER_STREAM
    )
    assert first["_id"] == again["_id"] != other["_id"]


def test_the_same_document_sent_to_the_logs_stream_is_normalized_as_an_event(installed: SearchEngine) -> None:
    (doc,) = simulate(installed, [{"message": LINE}])
    assert doc["_source"]["service"] == {"name": "checkout", "version": "1.2.3"}


def test_what_filebeat_did_not_shape_is_still_kept(installed: SearchEngine) -> None:
    (doc,) = simulate(
        installed,
        [{"message": "not Filebeat's JSON", "error.type": 400, "error.message": "plain text"}],
        names.DEAD_LETTER_STREAM,
    )
    source = doc["_source"]
    assert source["message"] == "not Filebeat's JSON"
    assert source["error"] == {"type": "unknown", "message": "plain text"}
