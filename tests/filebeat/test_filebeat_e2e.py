"""The file path for real: the real Filebeat (built from its Go module) runs OUR filebeat.yml, reads a
temporary log volume and ships through our pipeline into the test engine.

The overrides are in tests/support/filebeat.py, kept minimal and visible there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from backend.events import SEED_EXAMPLE, Limits, check_events
from backend.spool import Spool
from tests.conftest import SearchEngine
from tests.support.backend_app import Backend, live_backend
from tests.support.filebeat import Filebeat, lines_on_volume, wait_for_docs
from tests.support.reference import REPO

pytestmark = pytest.mark.engine

SHIPPER_FIELDS = ("log", "input", "agent", "host", "event.ingested", "event.original")


def generate(volume: Path, *args: str) -> list[dict]:
    """The generator in a process of its own, as in compose (it configures logging for its process)."""
    result = subprocess.run([sys.executable, "-m", "generator", "--log-dir", str(volume), "--rate", "0", "--quiet",
                             *args], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return [json.loads(x) for f in sorted((volume / "services").glob("*.log*")) for x in f.read_text().splitlines()]


def backend_log_lines(volume: Path, n: int) -> None:
    """The backend's own logger, in a process of its own (it configures the root logger)."""
    code = ("import logging, sys; from pathlib import Path; from logplatform.ecs_logging import setup_logging; "
            f"setup_logging('backend', Path({str(volume)!r})); log = logging.getLogger('backend'); "
            f"[log.warning('backend line %d', i) for i in range({n})]")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, capture_output=True)


def test_every_line_arrives_once_as_the_expected_document(installed: SearchEngine, stream: str,
                                                          filebeat: Filebeat, tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    events = generate(volume, "--count", "300", "--seed", "11")
    backend_log_lines(volume, 20)
    spool = Spool(volume / "spool", 10**9, 10**9)
    checked = check_events([{**SEED_EXAMPLE, "message": f"spooled {i}"} for i in range(30)], Limits())
    spool.append([a.line for a in checked.accepted])
    total = lines_on_volume(volume)
    assert total >= 350  # and the generator's own log lines
    filebeat.start()
    docs = wait_for_docs(installed, stream, total)
    assert not filebeat.errors(), filebeat.errors()[:3]
    assert len(docs) == total, f"{len(docs)} documents for {total} lines"
    ids = Counter(d["event"]["id"] for d in docs)
    assert max(ids.values()) == 1, "a line was indexed twice"
    by_id = {d["event"]["id"]: d for d in docs}
    for e in events:
        doc = by_id[e["event"]["id"]]
        assert doc["service"]["name"] == e["service"] and doc["message"] == e["message"]
        assert doc["log"]["level"] == e["level"].lower() and doc["@timestamp"] == e["@timestamp"]
        assert doc["source"]["ip"] == e["meta"]["ip"] and doc["agent"]["type"] == "filebeat"
        assert doc["log"]["file"]["path"].startswith(str(volume / "services"))
    backend_docs = [d for d in docs if d["service"]["name"] == "backend"]
    assert len(backend_docs) == 20 and all(d["log"]["level"] == "warning" for d in backend_docs)
    spooled = [d for d in docs if d.get("message", "").startswith("spooled ")]
    assert {d["event"]["id"] for d in spooled} == {a.event_id for a in checked.accepted}
    assert all(d["user"]["id"] == "123" for d in spooled)


def test_restart_and_rotation_lose_nothing_and_duplicate_nothing(installed: SearchEngine, stream: str,
                                                                 filebeat: Filebeat, tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    rotate = ("--max-file-bytes", "20000", "--backups", "100")
    filebeat.start()
    first = generate(volume, "--count", "300", "--seed", "1", *rotate)
    total = lines_on_volume(volume)
    assert len(wait_for_docs(installed, stream, total)) == total
    filebeat.stop()
    # while Filebeat is down: more lines, more renames
    generate(volume, "--count", "300", "--seed", "2", *rotate)
    rotated = list((volume / "services").glob("*.log.*"))
    assert len(rotated) >= 6, "the files must have been rotated by rename"
    total = lines_on_volume(volume)
    filebeat.start()
    docs = wait_for_docs(installed, stream, total)
    assert not filebeat.errors(), filebeat.errors()[:3]
    ids = Counter(d["event"]["id"] for d in docs)
    assert len(docs) == total and len(ids) == total, f"{len(docs)} documents, {len(ids)} events, {total} lines"
    assert {e["event"]["id"] for e in first} <= set(ids)


def test_filebeat_and_post_make_the_same_document(installed: SearchEngine, stream: str, filebeat: Filebeat,
                                                  data_stream: str, tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    events = generate(volume, "--count", "40", "--seed", "5", "--start-time", "2026-03-01T12:00:00")
    gen = live_backend(tmp_path / "backend", installed.client_url, data_stream)
    backend: Backend = next(gen)
    try:
        assert backend.post(events).json()["indexed"] == 40
    finally:
        gen.close()
    filebeat.start()
    shipped = {d["_id"]: d for d in wait_for_docs(installed, stream, lines_on_volume(volume))
               if d["service"]["name"] != "generator"}
    posted = {d["_id"]: d for d in wait_for_docs(installed, data_stream, 40)}
    assert shipped.keys() == posted.keys() and len(shipped) == 40

    def strip(doc: dict) -> dict:
        doc = json.loads(json.dumps(doc))
        for field in SHIPPER_FIELDS:
            head, _, leaf = field.partition(".")
            if leaf:
                doc.get(head, {}).pop(leaf, None)
            else:
                doc.pop(head, None)
        return doc

    for doc_id, doc in shipped.items():
        assert strip(doc) == strip(posted[doc_id])
        assert json.loads(doc["event"]["original"]) == json.loads(posted[doc_id]["event"]["original"])
