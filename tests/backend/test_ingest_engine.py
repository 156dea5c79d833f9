"""The backend against the real search engine: documents, parity with the file path, outage."""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from pathlib import Path

import pytest

from backend.events import SEED_EXAMPLE
from tests.support.backend_app import Backend, live_backend
from tests.support.documents import every_document
from tests.support.search_engine import SearchEngine
from tests.support.shipper import ship_files
from tests.support.unreachable import unreachable_url

pytestmark = pytest.mark.engine

# what only the shipper adds, and the namespace of the stream written to (the two copies go to two streams)
SHIPPER_FIELDS = ("log.file", "log.offset", "input", "agent", "host", "event.ingested", "data_stream.namespace")


def docs(engine: SearchEngine, data_stream: str, query: dict | None = None) -> list[dict]:
    engine.refresh(data_stream)
    return every_document(engine.cluster, data_stream, query)


def without(doc: dict, fields: tuple[str, ...]) -> dict:
    """A copy of doc without the given dotted fields (and parents they leave empty)."""
    doc = copy.deepcopy(doc)
    for field in fields:
        *parents, leaf = field.split(".")
        chain = [doc]
        for part in parents:
            nxt = chain[-1].get(part)
            if not isinstance(nxt, dict):
                break
            chain.append(nxt)
        else:
            chain[-1].pop(leaf, None)
            for holder, key in reversed(list(zip(chain[:-1], parents, strict=True))):
                if holder[key] == {}:
                    del holder[key]
    return doc


def test_curl_the_seed_example_and_find_it(installed: SearchEngine, backend: Backend, data_stream: str) -> None:
    r = backend.post(SEED_EXAMPLE)
    assert r.status_code == 200, r.text
    event_id = r.json()["items"][0]["id"]
    [doc] = docs(installed, data_stream, {"term": {"event.id": event_id}})
    assert doc["service"]["name"] == "auth-service"
    assert doc["log"]["level"] == "error"
    assert doc["message"] == "Login failed"
    assert doc["user"]["id"] == "123"
    assert doc["source"]["ip"] == "1.1.1.1"
    assert doc["ecs"]["version"] == "9.4.0"
    # and the read endpoint finds it with filters
    found = backend.client.get(
        "/logs", params={"service": "auth-service", "level": "ERROR", "q": "login"}, headers={"X-API-Key": backend.key}
    ).json()
    assert found["total"] == 1 and found["hits"][0]["message"] == "Login failed"
    none = backend.client.get("/logs", params={"service": "other"}, headers={"X-API-Key": backend.key}).json()
    assert none["total"] == 0


def test_posted_event_and_written_line_become_the_same_document(
    installed: SearchEngine, backend: Backend, data_stream: str, tmp_path: Path
) -> None:
    events = [
        {**SEED_EXAMPLE, "event": {"id": str(uuid.uuid4())}, "@timestamp": "2026-02-03T04:05:06.789Z"},
        {
            "@timestamp": "2026-02-03T04:05:07.000Z",
            "event.id": str(uuid.uuid4()),
            "service.name": "checkout",
            "log.level": "warn",
            "message": "slow",
            "meta": {"duration_ms": 812, "path": "/pay", "method": "post", "order": "o-1"},
        },
        # an event's own time in the loggers' fields, not @timestamp: it stays the event's time on both paths
        {"time": 1770091509000, "level": 30, "service": "pino-svc", "message": "pino's epoch millis"},
        {"ts": 1770091510.25, "level": "info", "service": "zap-svc", "message": "zap's epoch seconds"},
        {"asctime": "2026-02-03 04:05:11,123", "levelname": "INFO", "service": "py-svc", "message": "asctime"},
        {"timestamp": "2026-02-03T05:05:12+01:00", "service": "logback-svc", "message": "offset"},
        {"instant": {"epochSecond": 1770091513, "nanoOfSecond": 0}, "service": "log4j-svc", "message": "instant"},
    ]
    for e in events[2:]:
        e["event.id"] = str(uuid.uuid4())
    assert backend.post(events).json()["indexed"] == len(events)
    volume = tmp_path / "volume"
    volume.mkdir()
    log_file = volume / "service.log"
    log_file.write_text("".join(json.dumps(e) + "\n" for e in events))
    line_stream = data_stream + "-file"
    try:
        assert ship_files(installed.cluster, [log_file], line_stream)["created"] == len(events)
        posted = sorted(docs(installed, data_stream), key=lambda d: d["@timestamp"])
        written = sorted(docs(installed, line_stream), key=lambda d: d["@timestamp"])
    finally:
        installed.cluster.request("DELETE", f"/_data_stream/{line_stream}")
    assert [d["@timestamp"] for d in posted] == [
        "2026-02-03T04:05:06.789Z",
        "2026-02-03T04:05:07.000Z",
        "2026-02-03T04:05:09.000Z",
        "2026-02-03T04:05:10.250Z",
        "2026-02-03T04:05:11.123Z",
        "2026-02-03T04:05:12.000Z",
        "2026-02-03T04:05:13.000Z",
    ]
    for p, w in zip(posted, written, strict=True):
        # the same document, but not the same id: a posted event's id is its key's own (docs/event-schema.md,
        # "Event ids and duplicates"), so one key cannot make another's event, or a line on the volume, a duplicate
        assert p["_id"] != w["_id"]
        assert without(p, (*SHIPPER_FIELDS, "_id")) == without(w, (*SHIPPER_FIELDS, "_id"))
        # a line that parsed is stored once, as its fields, on both paths (LOG_KEEP_ORIGINAL is off by default)
        assert "original" not in p["event"] and "original" not in w["event"]


def test_outage_loses_and_duplicates_nothing(installed: SearchEngine, data_stream: str, tmp_path: Path) -> None:
    """Stop the engine mid-stream, keep posting, restart: every acknowledged event is indexed exactly once."""
    if installed.local is None:
        pytest.skip("needs the local test engine to stop and start it")
    gen = live_backend(tmp_path, installed.client_url, data_stream, request_timeout_s=3.0)
    backend = next(gen)
    acked: list[str] = []
    errors: list[str] = []
    stop = threading.Event()

    def client(n: int) -> None:
        i = 0
        while not stop.is_set():
            batch = [{**SEED_EXAMPLE, "message": f"c{n}-{i}-{j}"} for j in range(5)]
            i += 1
            r = backend.post(batch)
            if r.status_code in (200, 202):
                acked.extend(it["id"] for it in r.json()["items"] if it["status"] in ("indexed", "queued", "duplicate"))
            else:
                errors.append(f"{r.status_code} {r.text[:1000]}")
            time.sleep(0.01)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    installed.stop()
    time.sleep(2.0)
    installed.start()
    time.sleep(1.5)
    stop.set()
    for t in threads:
        t.join()
    gen.close()  # stops the backend: queued deliveries finish first
    assert not errors, [e[-600:] for e in errors[:2]]
    spooled = sorted((tmp_path / "logs" / "spool").glob("backend-spool.ndjson*"))
    assert spooled, "the outage must have sent events to the spool"
    shipped = ship_files(installed.cluster, spooled, data_stream)  # what Filebeat does with the spool
    assert shipped["failed"] == 0, shipped
    found = docs(installed, data_stream)
    ids = [d["event"]["id"] for d in found]
    assert len(ids) == len(set(ids)), "no event indexed twice"
    assert set(ids) == set(acked), f"missing: {len(set(acked) - set(ids))}, unexpected: {len(set(ids) - set(acked))}"
    assert len(acked) > 100


def test_readyz_reports_each_hop(installed: SearchEngine, backend: Backend) -> None:
    r = backend.client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["checks"]["pipeline"] == "ok" and r.json()["checks"]["index_template"] == "ok"


def test_a_node_that_is_down_is_passed_over(installed: SearchEngine, data_stream: str, tmp_path: Path) -> None:
    """The three-node profile gives the backend every node: with one of them down, events are still indexed
    at once (not spooled), whichever node the client tries first."""
    nodes = f"{unreachable_url()},{installed.client_url},{unreachable_url()}"
    for backend in live_backend(tmp_path, nodes, data_stream, retry_budget_s=0.0):
        for i in range(6):  # the client takes the nodes in turn
            r = backend.post({"service": "failover", "message": f"event {i}"})
            assert r.status_code == 200 and r.json()["items"][0]["status"] == "indexed", r.text
        assert backend.spool_lines() == []
    installed.refresh(data_stream)
    assert len(docs(installed, data_stream, {"term": {"service.name": "failover"}})) == 6
