"""What a hostile-client review still found (issue 40, the backend's findings): each case is answered as
docs/reliability.md says, stores exactly the events it should, and leaves the backend healthy."""

from __future__ import annotations

import base64
import contextlib
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
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import ApiError
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from backend.main import create_app
from logplatform import names
from logplatform.api_keys import SCOPES, KeyStore
from tests.support.backend_app import Backend, make_settings
from tests.support.backend_process import BackendProcess
from tests.support.documents import index_events
from tests.support.memory_sink import MemorySink
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


class _Refusing:
    """A search client whose engine answers every search with `status` (the engine's error body)."""

    def __init__(self, status: int) -> None:
        self.status = status

    async def search(self, **_: Any) -> dict[str, Any]:
        meta = ApiResponseMeta(self.status, "1.1", HttpHeaders(), 0.0, NodeConfig("http", "localhost", 9200))
        raise ApiError("refused", meta, {"error": {"root_cause": [{"reason": "the engine's words"}]}})


@pytest.mark.parametrize(("engine_status", "answer"), [(400, 400), (401, 502), (403, 502), (404, 502), (500, 502)])
def test_only_the_engine_refusing_the_query_is_the_clients_to_fix(
    tmp_path: Path, engine_status: int, answer: int
) -> None:
    """A 400 from the engine is the query's fault (the client's: 400 naming it); its other statuses are the
    backend's or the engine's (wrong credentials, overload): 502, and never the client's parameter named."""
    settings = make_settings(tmp_path)
    key = KeyStore(settings.api_keys_file).create("t", scopes=SCOPES)
    app = create_app(settings, sink=MemorySink(), search_client=_Refusing(engine_status))  # type: ignore[arg-type]
    with TestClient(app) as client:
        r = client.get("/logs", params={"kql": "message : a"}, headers={"X-API-Key": key})
    assert r.status_code == answer, r.text
    if answer == 400:
        assert r.json() == {
            "status": 400,
            "field": "kql",
            "reason": "Elasticsearch refused the query: the engine's words",
        }
    else:
        assert r.json()["field"] == ""


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


def _connect(proc: BackendProcess, source: str = "127.0.0.1") -> socket.socket:
    """A TCP connection from a loopback address of our choosing (all of 127.0.0.0/8 is this machine)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(15)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", proc.port))
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts as closed)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def _one_response(sock: socket.socket) -> bytes:
    """One whole response (head and Content-Length body) from a connection that stays open."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def _error_body(answer: bytes) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    return body


def _health(proc: BackendProcess) -> int:
    return httpx.get(f"{proc.url}/healthz", timeout=10).status_code


HEAD_TIMEOUT_S = 2


@pytest.fixture
def guarded(installed: SearchEngine, data_stream: str, tmp_path: Path) -> Iterator[BackendProcess]:
    """The backend with a small connection budget, so that a test can fill it: 60 in all, 20 per address."""
    proc = BackendProcess(tmp_path, installed.client_url, tmp_path / "volume", data_stream)
    proc.env |= {
        "LOGPLATFORM_MAX_CONNECTIONS": "60",
        "LOGPLATFORM_MAX_CONNECTIONS_PER_CLIENT": "20",
        "LOGPLATFORM_HEAD_TIMEOUT_S": str(HEAD_TIMEOUT_S),
        "LOGPLATFORM_KEEP_ALIVE_S": "1",
    }
    proc.start()
    yield proc
    proc.stop()


@pytest.mark.engine
def test_idle_connections_from_one_address_cannot_take_the_service(guarded: BackendProcess) -> None:
    """Finding 3: sockets that never send a byte were never closed, and enough of them made the backend answer 503
    to everyone, its health check included. One address now holds at most its share, and idle ones are closed
    after the head timeout."""
    idle = [_connect(guarded, "127.0.0.2") for _ in range(60)]  # the whole budget, from one address
    time.sleep(0.5)
    assert _health(guarded) == 200  # another client is served meanwhile
    started = time.monotonic()
    answers = [_read_all(s) for s in idle]  # each returns when the server closes it
    took = time.monotonic() - started
    for s in idle:
        s.close()
    refused = [a for a in answers if a]
    assert len(refused) == 40 and all(_status(a) == 429 for a in refused), {a[:60] for a in answers}
    assert _error_body(refused[0])["field"] == "connection"
    assert took <= HEAD_TIMEOUT_S + 3, f"the 20 idle connections were closed after {took:.1f} s"


@pytest.mark.engine
def test_idle_connections_from_many_addresses_are_closed_after_the_head_timeout(guarded: BackendProcess) -> None:
    idle = [_connect(guarded, f"127.0.0.{10 + i}") for i in range(60)]  # the whole budget, one per address
    time.sleep(0.5)
    assert _health(guarded) == 503  # the global limit, as before: full for now
    deadline = time.monotonic() + HEAD_TIMEOUT_S + 3
    while _health(guarded) != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _health(guarded) == 200, f"still full {HEAD_TIMEOUT_S + 3} s after the idle connections opened"
    assert all(_read_all(s) == b"" for s in idle)  # closed without an answer: they asked nothing
    for s in idle:
        s.close()


@pytest.mark.engine
def test_a_head_that_stops_coming_is_408(guarded: BackendProcess) -> None:
    sock = _connect(guarded)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    started = time.monotonic()
    answer = _read_all(sock)
    sock.close()
    assert _status(answer) == 408 and _error_body(answer)["field"] == "headers", answer[:200]
    assert time.monotonic() - started <= HEAD_TIMEOUT_S + 3


@pytest.mark.engine
def test_a_kept_alive_connection_is_closed_when_idle_and_its_next_head_is_timed_too(guarded: BackendProcess) -> None:
    """Idle time between requests is `LOGPLATFORM_KEEP_ALIVE_S` (1 s here); a later request's head has the same
    time to arrive as the first one's."""
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    idle = _connect(guarded)
    idle.sendall(request)
    first = _one_response(idle)
    started = time.monotonic()
    assert _status(first) == 200 and _read_all(idle) == b""  # then nothing more: closed
    assert time.monotonic() - started <= 3, "the idle kept-alive connection stayed open"
    idle.close()
    slow = _connect(guarded)
    slow.sendall(request)
    assert _status(_one_response(slow)) == 200
    slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # the second head, never finished
    started = time.monotonic()
    answer = _read_all(slow)
    slow.close()
    assert _status(answer) == 408 and _error_body(answer)["field"] == "headers", answer[:200]
    assert time.monotonic() - started <= HEAD_TIMEOUT_S + 3


def _peak_rss_kb(proc: BackendProcess) -> int:
    assert proc.proc is not None
    status = Path(f"/proc/{proc.proc.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


@pytest.mark.engine
@pytest.mark.parametrize(
    "head",
    [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (32 * 1024 * 1024) + b"\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-%d: %s\r\n" % (i, b"b" * 40) for i in range(2000))
        + b"\r\n",
        b"GET /healthz?" + b"q" * (1024 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    ids=["one-32MB-header", "2000-headers", "1MB-url"],
)
def test_a_request_head_over_the_limit_is_431_without_a_key(process: BackendProcess, head: bytes) -> None:
    """Finding 4: a 32 MB header was read whole (httptools has no head limit) by anyone, key or none. The head is
    now refused once it passes 64 KiB, and the backend's memory stays where it was."""
    before = _peak_rss_kb(process)
    answers = []
    for _ in range(4):
        sock = _connect(process)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # refused before it was all sent
            sock.sendall(head)
        answers.append(_read_all(sock))
        sock.close()
    grown_mb = (_peak_rss_kb(process) - before) / 1024
    assert all(_status(a) == 431 for a in answers), {a[:80] for a in answers}
    assert _error_body(answers[0]) == {
        "status": 431,
        "field": "headers",
        "reason": "the request head (request line and headers) is over 65536 bytes",
    }
    assert grown_mb < 16, f"peak memory grew {grown_mb:.0f} MB"
    assert _health(process) == 200


@pytest.mark.engine
def test_a_key_in_the_query_string_is_refused_and_kept_out_of_the_logs(process: BackendProcess) -> None:
    """Finding 13: a key sent in the URL was written to the access log. Keys are read from headers only, so a
    key-like query parameter is refused (400 naming it), and its value never reaches a log line."""
    r = httpx.get(f"{process.url}/logs", params={"api_key": process.key}, timeout=10)
    assert r.status_code == 400 and r.json()["field"] == "api_key", r.text
    assert httpx.get(f"{process.url}/healthz", params={"token": "s3cr3t-in-the-url"}, timeout=10).status_code == 200
    with_header = httpx.get(f"{process.url}/logs", params={"size": 1}, headers={"X-API-Key": process.key})
    assert with_header.status_code == 200
    time.sleep(0.5)
    logs = (process.workdir / "backend.out").read_text() + "".join(
        p.read_text() for p in (process.workdir / "volume").glob("backend.log*")
    )
    assert '"GET /logs?api_key=[redacted] HTTP/1.1" 400' in logs, logs[-2000:]
    assert process.key not in logs and "s3cr3t-in-the-url" not in logs
