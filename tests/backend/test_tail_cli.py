"""`logplatform tail -f`: under events arriving all the time, every one shown once, in the order they arrived, and
Ctrl-C ends it cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from logplatform.cli import main
from tests.support.backend_process import BackendProcess
from tests.support.search_engine import SearchEngine

pytestmark = pytest.mark.engine
REPO = Path(__file__).resolve().parents[2]


def test_tail_follows_every_event_once_in_order_and_stops_on_ctrl_c(
    installed: SearchEngine, data_stream: str, tmp_path: Path
) -> None:
    backend = BackendProcess(tmp_path, installed.client_url, tmp_path / "volume", data_stream)
    backend.start()
    try:
        post = lambda batch: httpx.post(  # noqa: E731
            f"{backend.url}/logs", json=batch, headers={"X-API-Key": backend.key}, timeout=30
        ).raise_for_status()
        start = time.time() - 60
        post([{"service": "tailed", "message": f"before {i}", "@timestamp": start + i} for i in range(5)])
        installed.refresh(data_stream)
        args = ["tail", "-f", "-n", "3", "--service", "tailed", "--url", backend.url, "--api-key", backend.key]
        out_file, err_file = (tmp_path / "tail.out").open("w"), (tmp_path / "tail.err").open("w")
        tail = subprocess.Popen(  # into files: a pipe nobody reads would stall it once full
            [sys.executable, "-m", "logplatform.cli", *args],
            cwd=REPO,
            stdout=out_file,
            stderr=err_file,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            # Ctrl-C as in a terminal: a suite started in the background (`.ci/run &`) hands its children SIGINT
            # ignored, and Python keeps an ignored SIGINT ignored
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        sent: list[str] = []

        def producer() -> None:  # ten events every 100 ms for about six seconds, each batch indexed before the next
            for n in range(60):
                batch = [{"service": "tailed", "message": f"live {n * 10 + i}"} for i in range(10)]
                post(batch)
                sent.extend(e["message"] for e in batch)
                time.sleep(0.1)

        time.sleep(2)  # the backlog shown first
        worker = threading.Thread(target=producer)
        worker.start()
        worker.join()
        time.sleep(4)  # the last events become searchable and are polled
        tail.send_signal(signal.SIGINT)
        tail.wait(timeout=30)
    finally:
        backend.stop()
    out, err = (tmp_path / "tail.out").read_text(), (tmp_path / "tail.err").read_text()
    assert tail.returncode == 0 and "Traceback" not in err, err[-2000:]
    shown = [json.loads(line)["message"] for line in out.splitlines()]
    assert shown[:3] == ["before 2", "before 3", "before 4"]  # the last three, oldest first
    assert shown[3:] == sent  # every event after them once, in the order it arrived


def test_tail_without_follow_prints_the_last_lines_oldest_first(
    installed: SearchEngine, data_stream: str, tmp_path: Path
) -> None:
    backend = BackendProcess(tmp_path, installed.client_url, tmp_path / "volume", data_stream)
    backend.start()
    try:
        events = [{"service": "t2", "message": f"n {i}", "@timestamp": f"2026-03-01T10:00:0{i}Z"} for i in range(5)]
        httpx.post(f"{backend.url}/logs", json=events, headers={"X-API-Key": backend.key}, timeout=30)
        installed.refresh(data_stream)
        args = ["tail", "-n", "2", "--url", backend.url, "--api-key", backend.key]
        result = CliRunner().invoke(main, args)
    finally:
        backend.stop()
    assert [json.loads(line)["message"] for line in result.stdout.splitlines()] == ["n 3", "n 4"]
