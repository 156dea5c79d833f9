"""alerting/first_node.py, the node of ES_HOSTS that entrypoint.sh hands to elastalert-create-index, without
ElastAlert2: nodes that do not answer are passed over, and with none answering the first is named (create-index
then fails on it with its own error, as before)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from alerting.first_node import first_node, nodes
from tests.support.unreachable import unreachable_url

PLAIN = {"use_ssl": False, "es_port": 9200}


def node(status: int) -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


@pytest.fixture
def live() -> Iterator[int]:
    yield from node(200)


@pytest.fixture
def unavailable() -> Iterator[int]:
    yield from node(503)


@pytest.fixture
def refusing() -> Iterator[int]:
    yield from node(401)


def dead_port() -> int:
    return int(unreachable_url().rsplit(":", 1)[1])


def test_es_hosts_read_as_elastalert_reads_them() -> None:
    assert nodes("es01:9200,es02:9201, es03", 9200) == [("es01", 9200), ("es02", 9201), ("es03", 9200)]


def test_the_first_node_that_answers_is_chosen(live: int, unavailable: int) -> None:
    hosts = f"127.0.0.1:{dead_port()},127.0.0.1:{unavailable},127.0.0.1:{live}"
    assert first_node(hosts, PLAIN, {}) == ("127.0.0.1", live)


def test_a_node_that_answers_first_is_kept(live: int) -> None:
    assert first_node(f"127.0.0.1:{live},127.0.0.1:{dead_port()}", PLAIN, {}) == ("127.0.0.1", live)


def test_with_no_node_answering_the_first_is_named() -> None:
    first, second = dead_port(), dead_port()
    assert first_node(f"127.0.0.1:{first},127.0.0.1:{second}", PLAIN, {}) == ("127.0.0.1", first)


def test_a_refused_login_still_counts_as_an_answer(refusing: int) -> None:
    """create-index then fails on that node with the error that says what is wrong (the password)."""
    hosts = f"127.0.0.1:{dead_port()},127.0.0.1:{refusing}"
    assert first_node(hosts, {**PLAIN, "es_username": "logplatform_alerting"}, {}) == ("127.0.0.1", refusing)
