"""`logplatform export`: more events than a search page may hold, into a file, every one once — also when the export
is killed halfway and resumed."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from logplatform.cli import main
from logplatform.export import state_file
from tests.support.backend_process import BackendProcess
from tests.support.documents import index_events
from tests.support.search_engine import SearchEngine

pytestmark = pytest.mark.engine
REPO = Path(__file__).resolve().parents[2]


def test_an_export_killed_halfway_resumes_and_holds_every_event_once(
    installed: SearchEngine, data_stream: str, tmp_path: Path
) -> None:
    index_events(installed, data_stream, 10_050)  # past the 10,000 hits one search may page through
    backend = BackendProcess(tmp_path, installed.client_url, tmp_path / "volume", data_stream)
    backend.start()
    output = tmp_path / "all.ndjson"
    args = ["export", "--output", str(output), "--url", backend.url, "--api-key", backend.key]
    try:
        first = subprocess.Popen([sys.executable, "-m", "logplatform.cli", *args], cwd=REPO,
                                 env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 60
        while (not output.exists() or output.stat().st_size < 1_000_000) and time.monotonic() < deadline:
            time.sleep(0.05)
        first.kill()  # mid-page, maybe mid-line: what a crash leaves
        first.wait()
        assert state_file(output).exists() and output.stat().st_size > 0
        resumed = CliRunner().invoke(main, [*args, "--resume"])
    finally:
        backend.stop()
    assert resumed.exit_code == 0, resumed.output
    messages = [json.loads(line)["message"] for line in output.read_text().splitlines()]
    assert len(messages) == 10_050 and len(set(messages)) == 10_050
    assert not state_file(output).exists()  # the export ended: nothing left to resume


def test_csv_export_has_a_header_and_a_row_an_event(installed: SearchEngine, data_stream: str, tmp_path: Path) -> None:
    index_events(installed, data_stream, 30)
    backend = BackendProcess(tmp_path, installed.client_url, tmp_path / "volume", data_stream)
    backend.start()
    output = tmp_path / "some.csv"
    try:
        args = ["export", "message : event", "--format", "csv", "--output", str(output)]
        result = CliRunner().invoke(main, [*args, "--url", backend.url, "--api-key", backend.key])
    finally:
        backend.stop()
    assert result.exit_code == 0 and "exported 30 events" in result.output
    rows = list(csv.reader(output.open(newline="")))
    assert rows[0] == ["@timestamp", "service.name", "log.level", "message", "_id"] and len(rows) == 31
    assert {row[3] for row in rows[1:]} == {f"event {i}" for i in range(30)}
