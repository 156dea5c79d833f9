"""Clients that misbehave on the wire, against the backend as it runs in compose (uvicorn, its own process):
a body that stops coming, a body that never ends, and many of them at once while others send logs."""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.events import SEED_EXAMPLE
from tests.support.backend_process import BackendProcess
from tests.support.search_engine import SearchEngine

pytestmark = pytest.mark.engine
BODY_TIMEOUT_S = 3


@pytest.fixture
def backend(installed: SearchEngine, data_stream: str, tmp_path: Path) -> Iterator[BackendProcess]:
    proc = BackendProcess(tmp_path, installed.client_url, tmp_path / "volume", data_stream)
    proc.env["LOGPLATFORM_BODY_TIMEOUT_S"] = str(BODY_TIMEOUT_S)
    # 200 slow clients come from one loopback address here: this is the body timeout's test, the per-address
    # connection limit has its own (test_hostile_clients.py)
    proc.env["LOGPLATFORM_MAX_CONNECTIONS_PER_CLIENT"] = "0"
    proc.start()
    yield proc
    proc.stop()


def _partial_request(proc: BackendProcess, declared: int, sent: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", proc.port), timeout=BODY_TIMEOUT_S + 10)
    sock.sendall(
        f"POST /logs HTTP/1.1\r\nHost: x\r\nX-API-Key: {proc.key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n\r\n".encode()
        + sent
    )
    return sock


def _answer(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _log(proc: BackendProcess) -> str:
    return (proc.workdir / "backend.out").read_text()


def test_a_client_gone_mid_body_is_counted_and_not_an_error(backend: BackendProcess) -> None:
    for _ in range(3):
        sock = _partial_request(backend, 1000, b'{"service": "a", "mess')
        time.sleep(0.2)
        sock.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        metrics = httpx.get(f"{backend.url}/metrics").text
        if "logplatform_client_disconnects_total 3.0" in metrics:
            break
        time.sleep(0.2)
    assert "logplatform_client_disconnects_total 3.0" in metrics
    log = _log(backend)
    assert "Traceback" not in log and '"log.level":"error"' not in log.replace(" ", "").lower(), log[-2000:]
    assert "Exception in ASGI application" not in log


def test_a_body_that_never_arrives_gets_408_and_the_connection_closes(backend: BackendProcess) -> None:
    started = time.monotonic()
    sock = _partial_request(backend, 1000, b"{")
    answer = _answer(sock)  # returns when the server closes the connection
    took = time.monotonic() - started
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"field":"body"' in answer and b"did not arrive within" in answer
    assert BODY_TIMEOUT_S - 0.5 <= took <= BODY_TIMEOUT_S + 5


def test_the_server_as_it_runs_sends_the_security_headers_and_does_not_name_itself(backend: BackendProcess) -> None:
    answer = httpx.post(f"{backend.url}/logs", json=SEED_EXAMPLE, headers={"X-API-Key": backend.key}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "server" not in answer.headers, answer.headers


def test_200_slow_clients_do_not_slow_down_the_others(backend: BackendProcess) -> None:
    client = httpx.Client(base_url=backend.url, headers={"X-API-Key": backend.key}, timeout=10)

    def latencies(n: int) -> list[float]:
        out = []
        for i in range(n):
            t0 = time.monotonic()
            r = client.post("/logs", json={**SEED_EXAMPLE, "message": f"normal {i}"})
            out.append(time.monotonic() - t0)
            assert r.status_code == 200, r.text
        return out

    latencies(20)  # warm
    alone = latencies(50)
    slow = []
    opened = threading.Event()

    def hold() -> None:
        for _ in range(200):  # each sends one byte of a 1,000-byte body, then nothing
            slow.append(_partial_request(backend, 1000, b"["))
        opened.set()

    threading.Thread(target=hold, daemon=True).start()
    assert opened.wait(30)
    crowded = latencies(50)
    answers = [_answer(s) for s in slow]  # every slow client is answered and let go, within the timeout
    for s in slow:
        s.close()
    client.close()
    assert sum(a.startswith(b"HTTP/1.1 408") for a in answers) == 200
    p95 = statistics.quantiles(crowded, n=20)[-1]
    bound = max(0.25, 4 * statistics.quantiles(alone, n=20)[-1])
    figures = {
        "alone_p95_ms": round(statistics.quantiles(alone, n=20)[-1] * 1000, 1),
        "crowded_p95_ms": round(p95 * 1000, 1),
    }
    assert p95 <= bound, f"with 200 slow clients: {figures}"
    print(json.dumps(figures))
