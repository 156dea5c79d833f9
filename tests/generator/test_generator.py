"""The generator: contract-valid events that the real pipeline turns into the expected documents,
reproducible with a seed, lossless rotation, scenarios that tell their story, HTTP retries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import SWITCHED_OFF, main
from generator.outputs import HttpOutput, Stats
from generator.pacing import Pacer
from generator.scenarios import TrafficModel
from logplatform import names
from tests.support.reference import REPO
from tests.support.search_engine import SearchEngine
from tests.support.shipper import FILEBEAT, filebeat_doc

START = "2026-03-01T12:00:00"


def run(tmp_path: Path, *args: str) -> list[dict]:
    result = CliRunner().invoke(main, ["--log-dir", str(tmp_path), "--rate", "0", "--quiet", *args])
    assert result.exit_code == 0, result.output
    lines = []
    for f in sorted((tmp_path / "services").glob("*.log*")):
        lines += [json.loads(x) for x in f.read_text().splitlines()]
    return lines


@pytest.mark.engine
@pytest.mark.parametrize("scenario", ["steady", "incident", "attack", "silence"])
def test_events_become_the_expected_documents(installed: SearchEngine, tmp_path: Path, scenario: str) -> None:
    run(tmp_path, "--scenario", scenario, "--count", "300", "--seed", "7", "--start-time", START)
    docs = []
    for f in sorted((tmp_path / "services").glob("*.log")):
        offset = 0
        for raw in f.read_text().splitlines():
            docs.append((json.loads(raw), filebeat_doc(raw, f, offset, agent=FILEBEAT)))
            offset += len(raw.encode()) + 1
    assert len(docs) >= 250
    out = installed.cluster.ok(
        "POST", f"/_ingest/pipeline/{names.PIPELINE}/_simulate", {"docs": [{"_source": d} for _, d in docs]}
    )["docs"]
    for (event, _), result in zip(docs, out, strict=True):
        doc = result["doc"]["_source"]
        meta = event["meta"]
        assert "error" not in doc and doc["tags"] == ["demo"], doc  # the demo marker, kept by the pipeline
        assert doc["@timestamp"] == event["@timestamp"]
        assert doc["service"]["name"] == event["service"]
        assert doc["log"]["level"] == event["level"].lower()
        assert doc["message"] == event["message"]
        assert doc["event"]["id"] == event["event"]["id"]
        assert doc["event"]["outcome"] == event["event"]["outcome"]
        assert doc["user"]["id"] == str(meta["user_id"])
        assert doc["source"]["ip"] == meta["ip"]
        assert doc["user_agent"]["device"]["name"] == meta["device"]
        assert doc["http"]["request"]["method"] == meta["method"]
        assert doc["http"]["response"]["status_code"] == meta["status_code"]
        assert doc["url"]["path"] == meta["path"]
        assert doc["event"]["duration"] == int(meta["duration_ms"] * 1_000_000)
        assert doc["trace"]["id"] == meta["trace_id"]


def test_seed_reproduces_the_output_byte_for_byte(tmp_path: Path) -> None:
    args = ("--count", "500", "--seed", "42", "--start-time", START, "--scenario", "incident")
    run(tmp_path / "a", *args)
    run(tmp_path / "b", *args)
    run(tmp_path / "c", *args[:3], "43", *args[4:])
    files = sorted(p.name for p in (tmp_path / "a" / "services").iterdir())
    assert files
    for name in files:
        assert (tmp_path / "a" / "services" / name).read_bytes() == (tmp_path / "b" / "services" / name).read_bytes()
    differs = any(
        (tmp_path / "a" / "services" / n).read_bytes() != (tmp_path / "c" / "services" / n).read_bytes() for n in files
    )
    assert differs


def test_rotation_by_rename_loses_no_line(tmp_path: Path) -> None:
    events = run(
        tmp_path,
        "--count",
        "3000",
        "--services",
        "payment-service",
        "--max-file-bytes",
        "50000",
        "--backups",
        "100",
        "--seed",
        "1",
    )
    files = sorted((tmp_path / "services").iterdir())
    assert len(files) > 10, [f.name for f in files]
    assert all(f.stat().st_size <= 50000 for f in files)
    ids = [e["event"]["id"] for e in events]
    assert len(ids) == 3000 and len(set(ids)) == 3000
    for event in events:  # time-ordered ids (logplatform/event_ids.py) that start with the event's own millisecond
        made, at = uuid.UUID(event["event"]["id"]), datetime.fromisoformat(event["@timestamp"])
        assert made.version == 7 and int.from_bytes(made.bytes[:6], "big") == int(at.timestamp() * 1000)


def test_filebeat_tells_every_file_apart_even_those_begun_in_one_millisecond(tmp_path: Path) -> None:
    """Filebeat knows a file by a fingerprint of its first bytes (filebeat/filebeat.yml): two files with the same
    first bytes are one file to it, and the second is never read. Six services' files and their rotations, all begun
    within a millisecond or two, must differ there (time-ordered ids start alike)."""
    config = yaml.safe_load((REPO / "filebeat" / "filebeat.yml").read_text())
    (volume_input,) = [i for i in config["filebeat.inputs"] if i.get("id") == "logplatform-log-volume"]
    length = volume_input["prospector.scanner.fingerprint.length"]
    run(tmp_path, "--count", "600", "--seed", "5", "--max-file-bytes", "20000", "--backups", "100")
    files = sorted((tmp_path / "services").glob("*.log*"))
    assert len(files) > 12
    assert len({f.read_bytes()[:length] for f in files}) == len(files)


def test_scenarios_tell_their_story() -> None:
    def levels(model: TrafficModel, lo: float, hi: float, n: int = 6000) -> list[dict]:
        return [e for i in range(n) if (e := model.event("t", lo + (hi - lo) * i / n, 0)) is not None]

    steady = levels(TrafficModel("steady", seed=1), 0, 1)
    steady_errors = sum(e["level"] == "ERROR" for e in steady) / len(steady)
    assert 0.01 < steady_errors < 0.08

    incident = TrafficModel("incident", seed=1)
    during = [e for e in levels(incident, 0.3, 0.6) if e["service"] == "payment-service"]
    before = [e for e in levels(incident, 0.0, 0.3) if e["service"] == "payment-service"]
    assert sum(e["level"] == "ERROR" for e in during) / len(during) > 0.5
    assert sum(e["level"] == "ERROR" for e in before) / len(before) < 0.1
    slow = sorted(e["meta"]["duration_ms"] for e in during)[len(during) // 2]
    fast = sorted(e["meta"]["duration_ms"] for e in before)[len(before) // 2]
    assert slow > 5 * fast

    attack = TrafficModel("attack", seed=1)
    failed = [e for e in levels(attack, 0.4, 0.7) if e["message"] == "Login failed"]
    by_ip = Counter(e["meta"]["ip"] for e in failed)
    ip, hits = by_ip.most_common(1)[0]
    assert ip == attack.attacker_ip and hits > 2000
    assert len({e["meta"]["username"] for e in failed if e["meta"]["ip"] == ip}) > 1000  # spraying
    by_user = Counter(e["meta"]["username"] for e in failed)
    user, tries = by_user.most_common(1)[0]
    assert user == attack.victim and tries > 1000  # brute force, from many addresses
    assert len({e["meta"]["ip"] for e in failed if e["meta"]["username"] == user}) > 10

    silence = TrafficModel("silence", seed=1)
    assert any(e["service"] == "payment-service" for e in levels(silence, 0, 0.5))
    assert not any(e["service"] == "payment-service" for e in levels(silence, 0.5, 1))


def test_pacing_is_accurate_with_a_virtual_clock() -> None:
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    pacer = Pacer(1000, clock=lambda: now[0], sleep=sleep)
    emitted = 0
    while now[0] < 30:
        emitted += pacer.next_batch()
    assert abs(emitted - 30000) <= 2
    slow = Pacer(1 / 3, clock=lambda: now[0], sleep=sleep)
    t0 = now[0]
    assert slow.next_batch() == 1  # the first event at once
    slow.next_batch()
    assert now[0] - t0 == pytest.approx(3.0, abs=0.01)


class _Backend(BaseHTTPRequestHandler):
    plan: ClassVar[list[int]] = []
    received: ClassVar[list[int]] = []
    lines: ClassVar[list[bytes]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        n = len(body.splitlines())
        self.lines.extend(body.splitlines())
        status = self.plan.pop(0) if self.plan else 200
        self.received.append(status)
        payload = (
            {"indexed": n, "queued": 0, "rejected": 0, "failed": 0}
            if status == 200
            else {"status": status, "field": "body", "reason": "scripted"}
        )
        data = json.dumps(payload).encode()
        self.send_response(status)
        if status == 503:
            self.send_header("Retry-After", "0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _serve(plan: list[int]) -> tuple[ThreadingHTTPServer, type[_Backend]]:
    handler = type("Scripted", (_Backend,), {"plan": list(plan), "received": [], "lines": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, handler


def test_http_mode_retries_then_delivers() -> None:
    server, handler = _serve([503, 503])
    try:
        stats = Stats()
        out = HttpOutput(f"http://127.0.0.1:{server.server_address[1]}", "lp_x_y", stats, batch_size=50)
        model = TrafficModel(seed=2)
        out.write([model.event("2026-01-01T00:00:00Z", 0.1, 1_767_225_600_000) for _ in range(120)])
        out.close()
    finally:
        server.shutdown()
    assert (stats.delivered, stats.failed, stats.retries) == (120, 0, 2)
    assert handler.received[:2] == [503, 503]


def test_http_mode_reports_what_it_could_not_deliver(tmp_path: Path) -> None:
    server, _ = _serve([400] * 10)
    try:
        result = CliRunner().invoke(
            main,
            [
                "--mode",
                "http",
                "--backend-url",
                f"http://127.0.0.1:{server.server_address[1]}",
                "--api-key",
                "lp_x_y",
                "--count",
                "30",
                "--rate",
                "0",
                "--log-dir",
                str(tmp_path),
                "--batch-size",
                "10",
            ],
        )
    finally:
        server.shutdown()
    assert result.exit_code == 1
    assert "failed 30" in result.output and "HTTP 400" in result.output


def test_every_event_is_tagged_demo_in_file_and_http_mode(tmp_path: Path) -> None:
    """The generator's events are told from real ones by `tags: ["demo"]` (the pipeline keeps it: the test above),
    whichever way they travel; users filter on it and alerting leaves it out."""
    server, handler = _serve([])
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        both = ["--mode", "both", "--backend-url", url, "--api-key", "lp_x_y", "--log-dir", str(tmp_path)]
        story = ["--count", "400", "--seed", "3", "--start-time", START, "--scenario", "attack"]
        result = CliRunner().invoke(main, [*both, *story, "--rate", "0", "--quiet"])
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    files = [json.loads(x) for f in (tmp_path / "services").glob("*.log") for x in f.read_text().splitlines()]
    posted = [json.loads(x) for x in handler.lines]
    assert len(files) == len(posted) == 400
    assert {json.dumps(e["tags"]) for e in files + posted} == {'["demo"]'}
    assert any(e["message"] == "Login failed" and "category" in e["event"] for e in posted)  # the attack's own too


def test_switched_off_it_writes_nothing_and_waits_to_be_stopped(tmp_path: Path) -> None:
    """GENERATOR_ENABLED=false (compose runs it with `--enabled false`): one line of its own saying so (demo-tagged,
    like every line it writes), the file its healthcheck reads, no event, and it runs until stopped, so that
    `up -d --wait` finds it as with the switch on; SIGTERM ends it cleanly."""
    (tmp_path / "tmp").mkdir()
    logs = tmp_path / "logs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "--enabled", "false", "--rate", "100", "--log-dir", str(logs)],
        env={**os.environ, "TMPDIR": str(tmp_path / "tmp")},
        cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "tmp" / SWITCHED_OFF).exists():
            assert proc.poll() is None and time.monotonic() < deadline, "it did not say it was switched off"
            time.sleep(0.1)
        time.sleep(1)
        assert proc.poll() is None, "it exited: compose would restart it, or up --wait fail on it"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert not (logs / "services").exists()
    (own,) = [json.loads(x) for x in (logs / "generator.log").read_text().splitlines()]
    assert own["message"].startswith("switched off (GENERATOR_ENABLED=false)") and own["tags"] == ["demo"]


def test_http_mode_needs_a_key(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--mode", "http", "--count", "1", "--log-dir", str(tmp_path)])
    assert result.exit_code == 2 and "api-key" in result.output
