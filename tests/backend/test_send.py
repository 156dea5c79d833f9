"""`logplatform send`: lines from a pipe or a file into the backend, every one stored once or reported."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from logplatform.cli import main
from logplatform.send import SendError, events, send
from tests.support.backend_process import BackendProcess
from tests.support.documents import at_least
from tests.support.search_engine import SearchEngine


def test_plain_lines_become_events_and_json_lines_keep_their_fields() -> None:
    got = [(n, json.loads(line)) for n, line in events(["plain text\n", "\n", '{"message": "j", "service": "own"}\n',
                                                        '{"message": "k"}', "[1, 2]"], "job")]  # fmt: skip
    assert [n for n, _ in got] == [1, 3, 4, 5]  # the empty line is skipped, numbers stay the file's
    assert got[0][1]["message"] == "plain text" and got[0][1]["service"] == "job"
    assert got[1][1]["service"] == "own" and got[2][1]["service"] == "job"
    assert got[3][1]["message"] == "[1, 2]"  # JSON that is not an object is a line like any other
    assert len({e["event"]["id"] for _, e in got}) == 4  # each its own id, made here


def test_a_batch_is_sent_again_with_the_same_ids_after_a_503() -> None:
    bodies: list[bytes] = []

    def backend(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        if len(bodies) == 1:
            return httpx.Response(503, headers={"Retry-After": "1"}, json={"status": 503, "field": "", "reason": "x"})
        n = len(request.content.splitlines())
        return httpx.Response(200, json={"items": [{"index": i, "status": "indexed"} for i in range(n)]})

    waits: list[float] = []
    client = httpx.Client(transport=httpx.MockTransport(backend))
    summary = send(["a", "b"], "job", "http://backend", "k", client=client, sleep=waits.append)
    assert (summary.indexed, summary.failed, waits) == (2, 0, [1.0])
    assert bodies[0] == bodies[1]  # same events, same ids: the backend indexes them once


def test_a_refusal_no_retry_can_fix_stops_with_the_reason() -> None:
    def backend(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"status": 403, "field": "api_key", "reason": "this API key may not send logs"})

    with pytest.raises(SendError, match="may not send logs"):
        send(["x"], "job", "http://backend", "k", client=httpx.Client(transport=httpx.MockTransport(backend)))


@pytest.mark.engine
def test_a_pipe_is_indexed_line_by_line_and_a_bad_line_named(
    installed: SearchEngine, data_stream: str, tmp_path: Path
) -> None:
    backend = BackendProcess(tmp_path, installed.client_url, tmp_path / "volume", data_stream)
    backend.start()
    try:
        piped = "job started\n" + json.dumps({"message": "rows copied", "level": "warning"}) + "\nbell \x07 here\n"
        piped += "".join(f"row {i}\n" for i in range(1200))  # more than two batches
        args = ["send", "-", "--service", "my-job", "--url", backend.url, "--api-key", backend.key]
        stdin_name = CliRunner().invoke(
            main, ["send", "-", "--url", backend.url, "--api-key", backend.key], input="x\n"
        )
        assert stdin_name.exit_code == 0 and "1 indexed" in stdin_name.stderr  # no --service: named stdin
        result = CliRunner().invoke(main, args, input=piped)
    finally:
        backend.stop()
    assert result.exit_code == 1  # a line was not stored: said, and the exit code says so
    assert "sent 1203 lines: 1202 indexed, 0 queued, 1 rejected, 0 failed" in result.stderr
    assert "line 3: message: control character U+0007" in result.stderr
    docs = at_least(installed.cluster, data_stream, 1203)
    assert len(docs) == 1203 and {d["service"]["name"] for d in docs} == {"my-job", "stdin"}
    warning = next(d for d in docs if d["message"] == "rows copied")
    assert warning["log"]["level"] == "warning"
