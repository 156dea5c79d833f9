"""The file path for real: the real Filebeat (built from its Go module) runs OUR filebeat.yml, reads a
temporary log volume and ships through our pipeline into the test engine.

The overrides are in tests/support/filebeat.py, kept minimal and visible there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from backend.events import SEED_EXAMPLE, Limits, check_events
from backend.spool import Spool
from logplatform import assets, doctor, names
from tests.filebeat import hostile_lines
from tests.support.backend_app import Backend, live_backend
from tests.support.filebeat import Filebeat, generate, lines_on_volume, wait_for_docs
from tests.support.reference import REPO
from tests.support.search_engine import SearchEngine
from tests.support.unreachable import unreachable_url

pytestmark = pytest.mark.engine

# what only the shipper adds, and the namespace of the stream written to (these tests write the two copies
# of an event to two streams)
SHIPPER_FIELDS = ("log", "input", "agent", "host", "event.ingested", "data_stream.namespace")


def backend_log_lines(volume: Path, n: int) -> None:
    """The backend's own logger, in a process of its own (it configures the root logger)."""
    code = (
        "import logging, sys; from pathlib import Path; from logplatform.ecs_logging import setup_logging; "
        f"setup_logging('backend', Path({str(volume)!r})); log = logging.getLogger('backend'); "
        f"[log.warning('backend line %d', i) for i in range({n})]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, capture_output=True)


def test_every_line_arrives_once_as_the_expected_document(
    installed: SearchEngine, stream: str, filebeat: Filebeat, tmp_path: Path
) -> None:
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


def test_restart_and_rotation_lose_nothing_and_duplicate_nothing(
    installed: SearchEngine, stream: str, filebeat: Filebeat, tmp_path: Path
) -> None:
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


def test_filebeat_and_post_make_the_same_document(
    installed: SearchEngine, stream: str, filebeat: Filebeat, data_stream: str, tmp_path: Path
) -> None:
    volume = tmp_path / "volume"
    events = generate(volume, "--count", "40", "--seed", "5", "--start-time", "2026-03-01T12:00:00")
    gen = live_backend(tmp_path / "backend", installed.client_url, data_stream)
    backend: Backend = next(gen)
    try:
        assert backend.post(events).json()["indexed"] == 40
    finally:
        gen.close()
    filebeat.start()
    # the same event by its event.id: a posted event's _id is scoped to its API key (docs/event-schema.md)
    shipped = {
        d["event"]["id"]: d
        for d in wait_for_docs(installed, stream, lines_on_volume(volume))
        if d["service"]["name"] != "generator"
    }
    posted = {d["event"]["id"]: d for d in wait_for_docs(installed, data_stream, 40)}
    assert shipped.keys() == posted.keys() and len(shipped) == 40

    for event_id, doc in shipped.items():
        assert strip(doc) == strip(posted[event_id])
        assert "original" not in doc["event"]  # a line that parsed is stored once, as its fields


def strip(doc: dict) -> dict:
    """A document without what only the shipper adds (Filebeat's fields, ingest time), its stream's namespace and its
    _id (a posted event's is scoped to its API key: docs/event-schema.md)."""
    doc = json.loads(json.dumps(doc))
    doc.pop("_id", None)
    for field in SHIPPER_FIELDS:
        head, _, leaf = field.partition(".")
        if leaf:
            doc.get(head, {}).pop(leaf, None)
        else:
            doc.pop(head, None)
    return doc


def test_a_long_stack_trace_is_kept_cut_the_same_way_from_a_file_and_from_post(
    installed: SearchEngine, stream: str, filebeat: Filebeat, data_stream: str, tmp_path: Path
) -> None:
    frames = "".join(f"\tat com.example.shop.Frame{i}.call(Frame{i}.java:{i})\n" for i in range(900))
    trace = f"java.lang.IllegalStateException: order 4711 failed\n{frames}Caused by: java.io.IOException: disk full\n"
    assert len(trace) > 40_000
    event = {
        "@timestamp": "2026-03-01T12:00:00.000Z",
        "service": "checkout",
        "level": "error",
        "message": "order failed",
        "event": {"id": "long-trace-1"},
        "error": {"stack_trace": trace},
        "url": {"original": "https://shop.example/search?q=" + "a" * 40_000},
    }
    volume = tmp_path / "volume"
    (volume / "services").mkdir(parents=True)
    (volume / "services" / "checkout.log").write_text(json.dumps(event) + "\n")
    gen = live_backend(tmp_path / "backend", installed.client_url, data_stream)
    backend: Backend = next(gen)
    try:
        answer = backend.post([event]).json()
        assert answer["indexed"] == 1, answer
    finally:
        gen.close()
    filebeat.start()
    (shipped,) = wait_for_docs(installed, stream, 1)
    (posted,) = wait_for_docs(installed, data_stream, 1)
    assert strip(shipped) == strip(posted)
    kept = shipped["error"]["stack_trace"]
    assert len(kept) <= 32_768 and kept.startswith("java.lang.IllegalStateException: order 4711 failed")
    assert kept.endswith("Caused by: java.io.IOException: disk full\n")  # the root cause survives the cut
    assert "characters cut]" in kept
    assert "_lp_value_cut" in shipped["tags"]
    assert shipped["logplatform"]["cut_fields"] == ["error.stack_trace", "url.original"]


@contextmanager
def refused_field(engine: SearchEngine, parent: str, leaf: str, mapped_as: str) -> Iterator[None]:
    """Makes the engine refuse one kind of line: the template maps `parent.leaf` with a type the pipeline
    does not expect, as a mapping edited by hand would. Put back afterwards."""
    asset = next(a for a in assets.assets_for(engine.kind) if a.name == names.MAPPINGS_COMPONENT)
    drifted = json.loads(json.dumps(asset.body))
    drifted["template"]["mappings"]["properties"][parent]["properties"][leaf] = {"type": mapped_as}
    engine.cluster.ok("PUT", asset.path, drifted)
    try:
        yield
    finally:
        engine.cluster.ok("PUT", asset.path, asset.body)


def test_a_line_the_engine_refuses_is_set_aside_and_the_lines_around_it_arrive_once(
    installed: SearchEngine, stream: str, filebeat: Filebeat, tmp_path: Path
) -> None:
    volume = tmp_path / "volume"
    installed.cluster.request("DELETE", f"/_data_stream/{names.DEAD_LETTER_STREAM}")
    before = [
        a.line for a in check_events([{**SEED_EXAMPLE, "message": f"before {i}"} for i in range(10)], Limits()).accepted
    ]
    after = [
        a.line for a in check_events([{**SEED_EXAMPLE, "message": f"after {i}"} for i in range(10)], Limits()).accepted
    ]
    poison = json.dumps(
        {
            "service": {"name": "checkout", "version": "1.2.3"},
            "level": "error",
            "message": "a version the engine cannot take",
            "event": {"id": "poison-1"},
        }
    )
    Spool(volume / "spool", 10**9, 10**9).append([*before, poison, *after])
    try:
        with refused_field(installed, "service", "version", "long"):
            filebeat.start()
            docs = wait_for_docs(installed, stream, 20)
            set_aside = wait_for_docs(installed, names.DEAD_LETTER_STREAM, 1)
            filebeat.stop()
            # Filebeat restarted from its registry: nothing is sent twice, the set-aside line included
            filebeat.start()
            time.sleep(5)
            docs = wait_for_docs(installed, stream, 20)
            set_aside = wait_for_docs(installed, names.DEAD_LETTER_STREAM, 1)
        assert sorted(d["message"] for d in docs) == sorted(json.loads(x)["message"] for x in before + after)
        assert len({d["event"]["id"] for d in docs}) == 20
        (dead,) = set_aside
        assert dead["message"] == poison  # the line as it was in the spool
        assert dead["logplatform"]["dead_letter"]["status"] == 400
        assert "service.version" in dead["error"]["message"]
        assert dead["log"]["file"]["path"] == str(volume / "spool" / Spool.NAME)
        with pytest.raises(RuntimeError, match=r"1 lines refused .* set aside in logs-logplatform\.deadletter"):
            doctor.dead_letters(installed.cluster)
        assert doctor.dead_letters(installed.cluster, hours=0) == "1 lines set aside, none in the last 0 h"
    finally:
        installed.cluster.request("DELETE", f"/_data_stream/{names.DEAD_LETTER_STREAM}")


def test_every_hostile_line_is_indexed_or_set_aside_none_unaccounted_for(
    installed: SearchEngine, stream: str, filebeat: Filebeat, tmp_path: Path
) -> None:
    volume = tmp_path / "volume"
    (volume / "services").mkdir(parents=True)
    installed.cluster.request("DELETE", f"/_data_stream/{names.DEAD_LETTER_STREAM}")
    path = volume / "services" / "hostile.log"
    offsets, offset = {}, 0
    with open(path, "w", encoding="utf-8") as f:
        for name, line in hostile_lines.LINES:
            offsets[offset] = name
            offset += len(line.encode("utf-8")) + 1
            f.write(line + "\n")
    try:
        filebeat.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            indexed = _offsets(installed, stream, path)
            set_aside = _offsets(installed, names.DEAD_LETTER_STREAM, path)
            if len(indexed) + len(set_aside) >= len(offsets):
                break
            time.sleep(2)
        time.sleep(3)  # anything sent twice would show up now
        indexed = _offsets(installed, stream, path)
        set_aside = _offsets(installed, names.DEAD_LETTER_STREAM, path)
        missing = [offsets[o] for o in offsets if o not in indexed and o not in set_aside]
        assert not missing, f"lines neither indexed nor set aside: {missing}"
        twice = [offsets[o] for o in offsets if indexed.count(o) + set_aside.count(o) > 1]
        assert not twice, f"lines stored twice: {twice}"
        assert sorted(indexed + set_aside) == sorted(offsets)
        print(
            f"\n{len(offsets)} hostile lines: {len(indexed)} indexed, {len(set_aside)} set aside "
            f"({', '.join(offsets[o] for o in set_aside) or 'none'})"
        )
        assert not filebeat.errors(), filebeat.errors()[:3]
    finally:
        installed.cluster.request("DELETE", f"/_data_stream/{names.DEAD_LETTER_STREAM}")


def _offsets(engine: SearchEngine, stream: str, path: Path) -> list[int]:
    """The file offsets of the documents in `stream` that came from `path`, one per document."""
    status, _ = engine.cluster.request("POST", f"/{stream}/_refresh")
    if status == 404:
        return []
    body = engine.cluster.ok(
        "POST",
        f"/{stream}/_search",
        {
            "size": 1000,
            "_source": False,
            "docvalue_fields": ["log.offset"],
            "query": {"term": {"log.file.path": str(path)}},
        },
    )
    return [h["fields"]["log.offset"][0] for h in body["hits"]["hits"]]


def test_every_line_arrives_once_while_one_of_the_nodes_is_down(
    installed: SearchEngine, stream: str, tmp_path: Path
) -> None:
    """The three-node profile gives Filebeat every node, comma-separated in ELASTICSEARCH_HOSTS: with one of
    them down, Filebeat ships through the others, and nothing twice."""
    dead = unreachable_url()
    volume = tmp_path / "volume"
    generate(volume, "--count", "200", "--seed", "5")
    total = lines_on_volume(volume)
    filebeat = Filebeat(installed, volume, tmp_path / "filebeat")
    filebeat.env["ELASTICSEARCH_HOSTS"] = f"{dead},{installed.client_url}"
    filebeat.start()
    try:
        docs = wait_for_docs(installed, stream, total, timeout=180)
    finally:
        filebeat.stop()
    ids = Counter(d["event"]["id"] for d in docs)
    assert len(docs) == total and len(ids) == total, f"{len(docs)} documents, {len(ids)} events, {total} lines"
    assert "127.0.0.1:" + dead.rsplit(":", 1)[1] in filebeat.log.read_text()  # it did try the node that is down
