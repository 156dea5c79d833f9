"""Container output for real: `logplatform containers watch` writes the inputs, the real Filebeat (our
filebeat.yml) reloads them and ships Docker json-file logs through our pipeline into the test engine.
The rehearsal does the same with a real dockerd (tests/stack/rehearsal)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logplatform import containers
from tests.support.docker_files import make_container, print_lines
from tests.support.filebeat import Filebeat, wait_for_docs
from tests.support.search_engine import SearchEngine

pytestmark = pytest.mark.engine

TRACEBACK = [
    "Traceback (most recent call last):",
    '  File "/app/worker.py", line 12, in <module>',
    "    run(rows)",
    '  File "/app/worker.py", line 8, in run',
    '    raise ValueError(f"bad row {n}")',
    "ValueError: bad row 17",
]


def _by_service(docs: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for d in sorted(docs, key=lambda d: (d["@timestamp"], d["log"]["offset"])):
        out.setdefault(d["service"]["name"], []).append(d)
    return out


def test_marked_containers_arrive_parsed_and_attributed_and_unmarked_ones_do_not(
    installed: SearchEngine, stream: str, filebeat: Filebeat, tmp_path: Path
) -> None:
    docker, inputs = tmp_path / "containers", tmp_path / "inputs"
    compose = {"com.docker.compose.project": "shop", "com.docker.compose.service": "payments"}
    api = make_container(docker, "shop-payments-1", "shop/payments:2.1", {containers.LABEL: "true", **compose})
    worker = make_container(docker, "nightly-worker", "python:3.13-slim", {containers.LABEL: "true"})
    quiet = make_container(docker, "db", "postgres:17")
    print_lines(
        docker,
        api,
        [
            json.dumps({"level": "info", "msg": "payment accepted", "order_id": "ORD-1"}),
            json.dumps({"level": "error", "msg": "card declined", "http": {"response": {"status_code": 402}}}),
        ],
    )
    print_lines(docker, worker, ["2026-12-01 10:00:00,001 WARN starting with 3 rows left over"])
    # Docker writes both streams into one file as its readers get them: a stdout line can fall inside a traceback
    print_lines(docker, worker, TRACEBACK[:2], stream="stderr")
    print_lines(docker, worker, ["INFO: retry scheduled"])
    print_lines(docker, worker, TRACEBACK[2:], stream="stderr")
    print_lines(docker, quiet, ["LOG:  database system is ready to accept connections"])

    containers.sync(docker, inputs)
    filebeat.env["LOGPLATFORM_CONTAINER_INPUTS"] = str(inputs)
    filebeat.start()
    docs = wait_for_docs(installed, stream, 5)

    assert filebeat.errors() == []
    services = _by_service(docs)
    assert set(services) == {"payments", "nightly-worker"}, "the unmarked container's lines were shipped"
    accepted, declined = services["payments"]
    assert accepted["message"] == "payment accepted" and accepted["log"]["level"] == "info"
    assert accepted["container"] == {
        "id": api,
        "name": "shop-payments-1",
        "image": {"name": "shop/payments:2.1"},
        "labels": {"com_docker_compose_project": "shop", "com_docker_compose_service": "payments"},
    }
    assert accepted["labels"]["order_id"] == "ORD-1" and accepted["labels"]["stream"] == "stdout"
    assert declined["log"]["level"] == "error" and declined["http"]["response"]["status_code"] == 402
    assert "error" not in accepted, "a JSON line from a container is no error"

    started, crash, retry = services["nightly-worker"]
    assert started["message"] == "2026-12-01 10:00:00,001 WARN starting with 3 rows left over"
    assert started["log"]["level"] == "warning" and "error" not in started  # plain text is no error
    assert crash["message"] == "ValueError: bad row 17"  # six printed lines, one event
    assert crash["error"] == {
        "type": "ValueError",
        "message": "bad row 17",
        "stack_trace": "\n".join(TRACEBACK),
    }
    assert crash["log"]["level"] == "error" and crash["labels"]["stream"] == "stderr"
    assert crash["log"]["flags"] == ["multiline"] and "extra" not in crash["logplatform"]  # every field mapped
    assert crash["container"]["name"] == "nightly-worker" and crash["container"]["image"]["name"] == "python:3.13-slim"
    assert retry["message"] == "INFO: retry scheduled" and retry["log"]["level"] == "info"
    assert len(docs) == 5


def test_a_container_started_while_filebeat_runs_is_picked_up(
    installed: SearchEngine, stream: str, filebeat: Filebeat, tmp_path: Path
) -> None:
    docker, inputs = tmp_path / "containers", tmp_path / "inputs"
    inputs.mkdir()
    filebeat.env["LOGPLATFORM_CONTAINER_INPUTS"] = str(inputs)
    filebeat.start()
    late = make_container(docker, "late", labels={containers.LABEL: "true"})
    print_lines(docker, late, [json.dumps({"message": f"line {i}"}) for i in range(20)])
    containers.sync(docker, inputs)
    docs = wait_for_docs(installed, stream, 20)
    assert sorted(d["message"] for d in docs) == sorted(f"line {i}" for i in range(20))
    assert {d["service"]["name"] for d in docs} == {"late"}
