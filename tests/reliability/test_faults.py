"""Faults with nothing lost: 100,000 events through POST /logs by retrying clients while the engine is
killed and restarted twice and the backend is restarted; the real Filebeat ships the spool. Afterwards
exactly 100,000 documents: none lost, none duplicated."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.support.backend_process import BackendProcess
from tests.support.documents import every_document
from tests.support.filebeat import Filebeat
from tests.support.search_engine import SearchEngine

pytestmark = pytest.mark.engine

TOTAL = 100_000
BATCH = 250
CLIENTS = 4


def count(engine: SearchEngine, stream: str, query: dict) -> int:
    status, _ = engine.cluster.request("POST", f"/{stream}/_refresh")
    if status != 200:
        return 0
    return engine.cluster.ok("POST", f"/{stream}/_count", {"query": query})["count"]


def test_engine_crashes_and_backend_restart_lose_and_duplicate_nothing(
    installed: SearchEngine, stream: str, tmp_path: Path
) -> None:
    if installed.local is None:
        pytest.skip("needs the local test engine to kill and restart it")
    volume = tmp_path / "volume"
    volume.mkdir()
    backend = BackendProcess(tmp_path, installed.client_url, volume, stream)
    backend.start()
    # test-only: Filebeat retries a down Elasticsearch after at most 5 s (default up to 60 s)
    filebeat = Filebeat(installed, volume, tmp_path / "filebeat", ("-E", "output.elasticsearch.backoff.max=5s"))
    filebeat.start()

    batches = [
        [
            {
                "service": "load",
                "level": "INFO",
                "message": f"event {b * BATCH + i}",
                "event": {"id": str(uuid.uuid4())},
                "meta": {"n": b * BATCH + i},
            }
            for i in range(BATCH)
        ]
        for b in range(TOTAL // BATCH)
    ]
    acked: list[str] = []
    outcomes = {"attempts": 0, "retries": 0, "queued": 0}
    lock = threading.Lock()
    next_batch = iter(range(len(batches)))

    def client() -> None:
        http = httpx.Client(timeout=30, headers={"X-API-Key": backend.key, "Content-Type": "application/x-ndjson"})
        while True:
            with lock:
                index = next(next_batch, None)
            if index is None:
                return
            body = "\n".join(json.dumps(e) for e in batches[index])
            while True:  # a retrying client: the same events (same event.id) until they are acknowledged
                with lock:
                    outcomes["attempts"] += 1
                try:
                    r = http.post(f"{backend.url}/logs/ndjson", content=body)
                    answer = r.json() if r.status_code in (200, 202, 503) else {}
                except (httpx.HTTPError, ValueError):
                    answer, r = {}, None
                if r is not None and r.status_code in (200, 202) and answer.get("failed") == 0:
                    with lock:
                        acked.extend(e["event"]["id"] for e in batches[index])
                        outcomes["queued"] += answer["queued"]
                    break
                with lock:
                    outcomes["retries"] += 1
                time.sleep(0.5)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()

    def when_acked(fraction: float) -> None:
        while len(acked) < TOTAL * fraction and any(t.is_alive() for t in threads):
            time.sleep(0.1)

    when_acked(0.2)
    installed.stop(kill=True)  # a crash
    time.sleep(3)
    installed.start()
    when_acked(0.5)
    backend.stop()  # like docker compose restart backend
    backend.start()
    when_acked(0.7)
    installed.stop()
    time.sleep(3)
    installed.start()
    for t in threads:
        t.join(timeout=600)
    assert len(acked) == TOTAL
    assert outcomes["queued"] > 0, "the outages must have sent events through the spool"

    deadline = time.monotonic() + 240
    found = 0
    while time.monotonic() < deadline:
        found = count(installed, stream, {"term": {"service.name": "load"}})
        if found >= TOTAL:
            break
        time.sleep(2)
    time.sleep(3)
    backend.stop()
    filebeat.stop()
    total = count(installed, stream, {"term": {"service.name": "load"}})
    print(
        f"faults: sent {TOTAL}, acknowledged {len(acked)}, documents {total}, "
        f"{outcomes['retries']} client retries, {outcomes['queued']} events via the spool"
    )
    dropped = [
        line for f in (tmp_path / "filebeat" / "logs").glob("*events-data*") for line in f.read_text().splitlines()
    ]
    assert not dropped, f"Filebeat dropped {len(dropped)} events, e.g. {dropped[0][:400]}"
    assert total == TOTAL, f"{total} documents for {TOTAL} acknowledged events"
    installed.refresh(stream)
    seen = [
        d["event"]["id"]
        for d in every_document(installed.cluster, stream, {"term": {"service.name": "load"}}, ["event.id"])
    ]
    assert len(seen) == len(set(seen)) and set(seen) == set(acked)
