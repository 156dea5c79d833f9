"""What a hostile-client review still found (issue 40, the backend's findings): each case is answered as
docs/reliability.md says, stores exactly the events it should, and leaves the backend healthy."""

from __future__ import annotations

import base64
import gzip
import json
import socket
import struct
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from logplatform import names
from tests.support.backend_app import Backend
from tests.support.backend_process import BackendProcess
from tests.support.documents import index_events
from tests.support.search_engine import SearchEngine

GOOD = {"service": "auth-service", "level": "INFO", "message": "a valid event"}


def _messages(backend: Backend) -> list[str]:
    assert backend.sink is not None
    return [json.loads(line)["message"] for line in backend.sink.lines]


def test_gzip_members_back_to_back_are_all_read(memory_backend: Backend) -> None:
    """Finding 8: `gzip -d` reads every member of a concatenated gzip file; so does the backend."""
    members = b"".join(gzip.compress(json.dumps({**GOOD, "message": f"member {i}"}).encode() + b"\n") for i in range(3))
    r = memory_backend.post(
        content=members, headers={"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}
    )
    assert r.status_code == 200, r.text
    assert [i["status"] for i in r.json()["items"]] == ["indexed"] * 3
    assert _messages(memory_backend) == ["member 0", "member 1", "member 2"]


def test_gzip_members_share_one_decompressed_limit(memory_backend: Backend) -> None:
    limit = memory_backend.settings.max_body_bytes
    member = gzip.compress(b" " * (limit // 2 + 1))  # each member alone within the limit, the three not
    r = memory_backend.post(
        content=member * 3, headers={"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}
    )
    assert r.status_code == 413, r.text
    assert r.json()["field"] == "body" and "decompressed" in r.json()["reason"]
    assert memory_backend.sink is not None and memory_backend.sink.lines == []


@pytest.mark.parametrize(
    ("tail", "reason"),
    [(b"\0" * 8, "content-encoding"), (gzip.compress(b"{}")[:-4], "content-encoding")],
    ids=["garbage-after-a-member", "second-member-truncated"],
)
def test_what_follows_a_gzip_member_is_a_member_or_refused(memory_backend: Backend, tail: bytes, reason: str) -> None:
    body = gzip.compress(json.dumps(GOOD).encode()) + tail
    r = memory_backend.post(content=body, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == reason
    assert memory_backend.sink is not None and memory_backend.sink.lines == []


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085"])
def test_an_ndjson_line_ends_only_at_a_line_feed(memory_backend: Backend, separator: str) -> None:
    """Finding 9: a raw U+2028 (and the other characters str.splitlines splits at) inside a JSON string is part of
    the string: the event keeps its index, and the events after it keep theirs."""
    lines = [
        json.dumps({**GOOD, "message": f"before{separator}after"}, ensure_ascii=False),
        "not json",
        json.dumps({**GOOD, "message": "third"}),
    ]
    r = memory_backend.post(content="\r\n".join(lines).encode(), headers={"Content-Type": "application/x-ndjson"})
    items = r.json()["items"]
    assert [i["index"] for i in items] == [0, 1, 2], items
    assert items[1]["status"] == "rejected" and "not valid JSON" in items[1]["errors"][0]["reason"]
    assert items[2]["status"] == "indexed"
    if separator in ("\u2028", "\u2029"):  # printable: the event is valid and stored as sent
        assert items[0]["status"] == "indexed"
        assert _messages(memory_backend) == [f"before{separator}after", "third"]
    else:  # a control character: refused with its position (the event model's rule), not split
        assert items[0]["status"] == "rejected" and "control character" in items[0]["errors"][0]["reason"]
        assert _messages(memory_backend) == ["third"]


DEEP_CURSOR = base64.urlsafe_b64encode(b'{"t": 1, "ids": ' + b"[" * 20000 + b"]" * 20000 + b"}").decode()


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/logs", {"kql": "(" * 1000 + "a:b" + ")" * 1000}, "kql"),
        ("/logs/export", {"kql": "(" * 1000 + "a:b" + ")" * 1000}, "kql"),
        ("/logs", {"cursor": DEEP_CURSOR}, "cursor"),
    ],
    ids=["kql-parentheses", "export-kql", "cursor"],
)
def test_deep_nesting_in_a_query_is_refused_naming_the_parameter(
    memory_backend: Backend, path: str, params: dict[str, str], field: str
) -> None:
    """Finding 10: Python's recursion limit is no answer for a client (it was a 500)."""
    r = memory_backend.client.get(path, params=params, headers={"X-API-Key": memory_backend.key})
    assert r.status_code == 422, r.text
    assert r.json() == {"status": 422, "field": field, "reason": r.json()["reason"]} and r.json()["reason"]


def test_deep_nesting_in_otlp_json_is_400(memory_backend: Backend) -> None:
    deep = b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]}]}]}"
    r = memory_backend.post(content=deep, path="/v1/logs", headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "body" and "nested too deeply" in r.json()["reason"]
    assert memory_backend.client.get("/healthz").status_code == 200


def _otlp_request(records: int, resource_attributes: int, value_bytes: int) -> bytes:
    resource = Resource(
        attributes=[KeyValue(key="service.name", value=AnyValue(string_value="fan-out"))]
        + [
            KeyValue(key=f"a{i}", value=AnyValue(string_value=f"{i:08d}".ljust(value_bytes, "x")))
            for i in range(resource_attributes)
        ]
    )
    logs = [
        LogRecord(time_unix_nano=1_772_357_406_000_000_000 + i, body=AnyValue(string_value=f"r{i}"))
        for i in range(records)
    ]
    request = ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(resource=resource, scope_logs=[ScopeLogs(log_records=logs)])]
    )
    return request.SerializeToString()


def test_otlp_fan_out_is_counted_before_any_event_is_built(memory_backend: Backend) -> None:
    """Finding 2: a 184 KB request (2,000 resource attributes, 1,000 records) was 2,000,000 fields built before any
    limit applied. Now it is refused with 413 from the counts alone, and the backend's memory barely moves."""
    body = _otlp_request(records=1000, resource_attributes=2000, value_bytes=72)
    assert len(body) < 200_000
    tracemalloc.start()
    try:
        r = memory_backend.post(content=body, path="/v1/logs", headers={"Content-Type": "application/x-protobuf"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status_code == 413, r.text[:300]
    assert r.json()["field"] == "body" and "resource attributes copied" in r.json()["reason"]
    assert peak < 20 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB of Python objects for a {len(body)}-byte request"
    assert memory_backend.sink is not None and memory_backend.sink.lines == []
    assert memory_backend.client.get("/healthz").status_code == 200


def test_otlp_a_full_request_within_the_fan_out_bound_is_stored_whole(memory_backend: Backend) -> None:
    """1,000 records under a resource of 40 attributes (4 KiB): every record stored, each with the resource."""
    r = memory_backend.post(
        content=_otlp_request(records=1000, resource_attributes=40, value_bytes=100),
        path="/v1/logs",
        headers={"Content-Type": "application/x-protobuf"},
    )
    assert r.status_code == 200, r.text[:300]
    assert memory_backend.sink is not None
    stored = [json.loads(line) for line in memory_backend.sink.lines]
    assert len(stored) == 1000 and len({e["event"]["id"] for e in stored}) == 1000
    assert all(e["service"]["name"] == "fan-out" and e["a39"].startswith("00000039") for e in stored)


# --- the engine decides ---------------------------------------------------------------------------------------


def _stored(installed: SearchEngine, data_stream: str, events: list[dict[str, Any]]) -> list[str]:
    """The events, indexed through our pipeline as the backend does (refreshed); their ids."""
    ops: list[str] = []
    for event in events:
        ops += [json.dumps({"create": {"_index": data_stream}}), json.dumps({"message": json.dumps(event)})]
    answer = installed.cluster.ok("POST", f"/_bulk?pipeline={names.PIPELINE}&refresh=true", "\n".join(ops) + "\n")
    assert not answer["errors"], answer["items"][:1]
    return [item["create"]["_id"] for item in answer["items"]]


@pytest.mark.engine
def test_the_context_of_an_event_with_a_list_of_file_paths(
    installed: SearchEngine, backend: Backend, data_stream: str
) -> None:
    """Finding 11: a list-valued `log.file.path` (any client may send one) was a term query the engine refused: 500."""
    around = [
        {"service": "ctx", "message": f"line {i}", "@timestamp": f"2026-03-01T10:00:0{i}Z", "log": {"offset": i}}
        for i in range(5)
    ]
    odd = {**around[2], "message": "the odd one", "log": {"offset": 2, "file": {"path": ["/a.log", "/b.log"]}}}
    ids = _stored(installed, data_stream, [*around[:2], odd, *around[3:]])
    r = backend.client.get(f"/logs/{ids[2]}/context", params={"before": 2, "after": 2}, headers=_read(backend))
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["event"]["message"] == "the odd one"
    assert [h["message"] for h in answer["before"]] == ["line 0", "line 1"]
    assert [h["message"] for h in answer["after"]] == ["line 3", "line 4"]


def _read(backend: Backend) -> dict[str, str]:
    return {"X-API-Key": backend.key}


@pytest.mark.engine
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kql": "@timestamp : yesterday"}, "kql"),  # a date field given a word
        ({"kql": "log.offset : abc"}, "kql"),
        ({"kql": "log.offset : 99999999999999999999999"}, "kql"),  # out of range
        ({"kql": "message : " + "*a" * 400 + "*"}, "kql"),  # a runaway wildcard
        ({"cursor": base64.urlsafe_b64encode(b'{"t": 99999999999999999999, "ids": []}').decode()}, "cursor"),
    ],
    ids=["date-word", "number-word", "number-out-of-range", "runaway-wildcard", "cursor-out-of-range"],
)
def test_a_query_the_engine_refuses_is_400_naming_it(
    installed: SearchEngine, backend: Backend, data_stream: str, params: dict[str, str], field: str
) -> None:
    """Finding 12: what the engine refuses in a query is the client's to fix (a retry cannot): 400, the field and
    the engine's reason, never a 5xx."""
    _stored(installed, data_stream, [{"service": "q", "message": "aaaa", "log": {"offset": 3}}])
    for path in ("/logs", "/logs/export") if field == "kql" else ("/logs",):
        r = backend.client.get(path, params=params, headers=_read(backend))
        assert r.status_code in (400, 422), r.text
        body = r.json()
        assert body["status"] == r.status_code and body["field"] == field and body["reason"], body
        if r.status_code == 400:  # the engine's reason, not only its status
            assert "refused the query: " in body["reason"] and "answered 400" not in body["reason"], body
    assert backend.client.get("/logs", headers=_read(backend)).json()["total"] == 1


# --- on the wire: the backend as it runs (uvicorn, its own process) -------------------------------------------


@pytest.fixture
def process(installed: SearchEngine, data_stream: str, tmp_path: Path) -> Iterator[BackendProcess]:
    proc = BackendProcess(tmp_path, installed.client_url, tmp_path / "volume", data_stream)
    proc.start()
    yield proc
    proc.stop()


def _open_contexts(installed: SearchEngine) -> int:
    """Search contexts the engine holds open (points in time and scrolls), over every node."""
    stats = installed.cluster.ok("GET", "/_nodes/stats/indices/search")
    return sum(node["indices"]["search"]["open_contexts"] for node in stats["nodes"].values())


def _abandon_export(proc: BackendProcess) -> bytes:
    """GET /logs/export, read the head and a little of the stream, then hang up."""
    sock = socket.create_connection(("127.0.0.1", proc.port), timeout=10)
    sock.sendall(f"GET /logs/export HTTP/1.1\r\nHost: x\r\nX-API-Key: {proc.key}\r\n\r\n".encode())
    got = sock.recv(4096)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # a reset, as a killed client
    sock.close()
    return got


@pytest.mark.engine
def test_an_abandoned_export_closes_its_point_in_time(
    installed: SearchEngine, process: BackendProcess, data_stream: str
) -> None:
    """Finding 6: a client that hangs up mid-export left the point in time open on the engine (for its keep-alive,
    two minutes a page); ten of them now leave none."""
    index_events(installed, data_stream, 5_000)  # five pages
    before = _open_contexts(installed)
    for _ in range(10):
        assert _abandon_export(process).startswith(b"HTTP/1.1 200")
    deadline = time.monotonic() + 10
    while (left := _open_contexts(installed) - before) > 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left <= 0, f"{left} search contexts still open 10 s after 10 abandoned exports"
    whole = httpx.get(f"{process.url}/logs/export", headers={"X-API-Key": process.key}, timeout=30)
    assert whole.status_code == 200 and len(whole.text.splitlines()) == 5_000
    assert _open_contexts(installed) <= before
