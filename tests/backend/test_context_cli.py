"""`logplatform context`: the lines around one event — in its file for a shipped line, by file offset even where
the timestamps say otherwise; in its service's time otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from logplatform.cli import main
from tests.support.backend_process import BackendProcess
from tests.support.documents import every_document
from tests.support.search_engine import SearchEngine
from tests.support.shipper import ship_files

pytestmark = pytest.mark.engine


def test_context_shows_a_shipped_lines_neighbours_in_file_order(
    installed: SearchEngine, data_stream: str, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"  # every line has the same timestamp: only the file says which comes first
    log.write_text("".join(json.dumps({"@timestamp": "2026-03-01T10:00:00Z", "message": f"step {i}"}) + "\n"
                           for i in range(10)))  # fmt: skip
    other = tmp_path / "other.log"
    other.write_text(json.dumps({"@timestamp": "2026-03-01T10:00:00Z", "message": "elsewhere"}) + "\n")
    assert ship_files(installed.cluster, [log, other], data_stream)["failed"] == 0
    installed.refresh(data_stream)
    (target,) = every_document(installed.cluster, data_stream, {"term": {"message.keyword": "step 5"}})
    backend = BackendProcess(tmp_path, installed.client_url, tmp_path / "volume", data_stream)
    backend.start()
    try:
        args = ["context", target["_id"], "-B", "2", "-A", "3", "--url", backend.url, "--api-key", backend.key]
        result = CliRunner().invoke(main, args)
        missing = CliRunner().invoke(main, ["context", "no-such-id", "--url", backend.url, "--api-key", backend.key])
    finally:
        backend.stop()
    assert result.exit_code == 0, result.output
    shown = [json.loads(line)["message"] for line in result.stdout.splitlines()]
    assert shown == ["step 3", "step 4", "step 5", "step 6", "step 7", "step 8"]
    assert missing.exit_code == 1 and "404" in missing.output and "event_id" in missing.output


def test_context_of_a_posted_event_is_its_services_events_in_time(
    installed: SearchEngine, data_stream: str, tmp_path: Path
) -> None:
    backend = BackendProcess(tmp_path, installed.client_url, tmp_path / "volume", data_stream)
    backend.start()
    try:
        events = [{"service": "api", "message": f"m {i}", "@timestamp": f"2026-03-01T10:00:0{i}Z"} for i in range(6)]
        events.append({"service": "other", "message": "not its service", "@timestamp": "2026-03-01T10:00:03Z"})
        answer = httpx.post(f"{backend.url}/logs", json=events, headers={"X-API-Key": backend.key}, timeout=30)
        installed.refresh(data_stream)
        middle = answer.json()["items"][3]["id"]
        (doc,) = every_document(installed.cluster, data_stream, {"term": {"event.id": middle}})
        args = ["context", doc["_id"], "-B", "1", "-A", "1", "--url", backend.url, "--api-key", backend.key]
        result = CliRunner().invoke(main, args)
    finally:
        backend.stop()
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["message"] for line in result.stdout.splitlines()] == ["m 2", "m 3", "m 4"]
