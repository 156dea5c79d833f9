"""The backend gives an event its receive time only when the pipeline would find no time of the event's own: the
two lists of where that time is must stay the same."""

from __future__ import annotations

import re

from backend.events import OWN_TIME_FIELDS, has_own_time
from logplatform import assets


def normalize_script() -> str:
    return assets.script_source("event/fields.painless")


def test_the_backend_knows_every_field_the_pipeline_takes_an_events_time_from() -> None:
    script = normalize_script()
    body = script[script.index("void takeTimestamp(") :]
    body = body[: body.index("\n}\n")]
    found = re.search(r"takeFirst\(ev, \[([^\]]*)\]\)", body)
    assert found is not None, "takeTimestamp reads its fields with takeFirst(ev, [...])"
    fields = [f.strip().strip("'") for f in found.group(1).split(",")]
    fields += re.findall(r"ev\.remove\('(\w+)'\)", body)  # log4j2's instant
    assert tuple(fields) == OWN_TIME_FIELDS
    assert "rec.get('time').get('timestamp')" in script  # loguru's record.time, which has_own_time checks too


def test_an_event_with_a_time_of_its_own_is_not_given_the_receive_time() -> None:
    for name in OWN_TIME_FIELDS:
        assert has_own_time({name: 1770091509000}), name
    assert has_own_time({"text": "x", "record": {"time": {"timestamp": 1770091509.5}}})
    assert not has_own_time({"record": {"time": {"timestamp": 1770091509.5}}})  # not loguru's shape
    assert not has_own_time({"message": "x", "event": {"created": "2026-01-01T00:00:00Z"}})
    assert not has_own_time({"time": None})
