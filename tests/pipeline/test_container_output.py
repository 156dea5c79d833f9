"""A container's output, as Filebeat sends it (logplatform/containers.py's input), through the pipeline on the
engine: plain lines are messages with a level, Python tracebacks become error.*, the service comes from compose."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.pipeline_cases import simulate
from tests.support.search_engine import SearchEngine
from tests.support.shipper import filebeat_doc

pytestmark = pytest.mark.engine

CONTAINER = {
    "id": "c0ffee" * 10 + "abcd",
    "name": "shop-payments-1",
    "image": {"name": "shop/payments:2.1"},
    "labels": {"com_docker_compose_project": "shop", "com_docker_compose_service": "payments"},
}


def _from_container(engine: SearchEngine, line: str, container: dict[str, Any] = CONTAINER) -> dict[str, Any]:
    doc = filebeat_doc(line + "\n", f"/var/lib/docker/containers/{container['id']}/x-json.log", 0)
    doc["container"] = container
    doc["labels"] = {"stream": "stderr"}
    return dict(simulate(engine, [doc])[0]["_source"])


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("ERROR:payments:card declined", "error"),  # Python logging's default format
        ("2026-12-01 10:00:00,123 WARN [main] c.e.Pool - pool low", "warning"),  # logback / log4j
        ("[INFO] listening on :8080", "info"),
        ("10:00:00.123 [main] INFO  c.e.App - started", "info"),  # logback's default pattern
        ("2026-12-01 10:00:00,123 - payments.api - ERROR - refund failed", "error"),
        ("time=2026-12-01T10:00:00Z level=debug msg=tick", "debug"),  # logrus / slog text
        ('time="2026-12-01T10:00:00Z" level=error msg="db down"', "error"),
        ('INFO:     127.0.0.1:5000 - "GET / HTTP/1.1" 200 OK', "info"),  # uvicorn
        ("FATAL: password authentication failed", "critical"),
        ("Error connecting to the database, retrying", None),  # a capitalized word is no level
        ("the job moved 3 INFO rows", None),  # beyond the first words: not the line's level
        ("listening on port 8080", None),
    ],
)
def test_a_plain_line_is_its_message_with_the_level_it_starts_with(
    installed: SearchEngine, line: str, level: str | None
) -> None:
    doc = _from_container(installed, line)
    assert doc["message"] == line
    assert doc.get("log", {}).get("level") == level
    assert "error" not in doc
    assert "original" not in doc.get("event", {})  # the message is the line: no second copy
    assert doc["service"]["name"] == "payments"
    assert doc["container"] == CONTAINER and doc["labels"]["stream"] == "stderr"


def test_an_uncaught_python_exception_is_one_error_event(installed: SearchEngine) -> None:
    trace = (
        'Traceback (most recent call last):\n  File "/app/job.py", line 3, in <module>\n    1/0\n'
        "ZeroDivisionError: division by zero"
    )
    doc = _from_container(installed, trace)
    assert doc["message"] == "ZeroDivisionError: division by zero"
    assert doc["error"] == {"type": "ZeroDivisionError", "message": "division by zero", "stack_trace": trace}
    assert doc["log"]["level"] == "error"
    assert doc["logplatform"]["pattern"]["text"] == "ZeroDivisionError: division by zero"


def test_a_logged_exception_keeps_what_was_logged_as_its_message(installed: SearchEngine) -> None:
    trace = "Traceback (most recent call last):\n  File \"/app/job.py\", line 9, in run\nKeyError: 'sku'"
    doc = _from_container(installed, "WARNING:job:row skipped\n" + trace)
    assert doc["message"] == "WARNING:job:row skipped" and doc["log"]["level"] == "warning"
    assert doc["error"] == {"type": "KeyError", "message": "'sku'", "stack_trace": trace}


def test_a_json_line_is_parsed_and_named_after_its_compose_service_or_container(installed: SearchEngine) -> None:
    doc = _from_container(installed, json.dumps({"level": "warn", "msg": "slow query", "duration_ms": 1200}))
    assert doc["message"] == "slow query" and doc["log"]["level"] == "warning"
    assert doc["service"]["name"] == "payments"
    own = _from_container(installed, json.dumps({"msg": "hi", "service": "checkout"}))
    assert own["service"]["name"] == "checkout"  # the line's own service wins
    plain_container = {k: v for k, v in CONTAINER.items() if k != "labels"} | {"name": "nightly-job"}
    assert _from_container(installed, "done", plain_container)["service"]["name"] == "nightly-job"


def test_a_file_on_the_volume_still_flags_a_plain_line(installed: SearchEngine) -> None:
    """Only containers print plain text by nature; on the volume, where JSON lines are the contract, it is flagged."""
    doc = simulate(installed, [filebeat_doc("ERROR not json", "/var/log/logplatform/services/a.log", 0)])[0]
    assert doc["_source"]["error"]["type"] == "logplatform.not_json"
