"""Test-only HTTP proxy that makes the test engine (OpenSearch) acceptable to Elastic's clients.

Why it exists: no Elasticsearch binary can be installed on our development and CI machines, so the
suite runs against OpenSearch. Elastic's own clients refuse it:
- elasticsearch-py 8/9 sends `application/vnd.elasticsearch+json; compatible-with=N` as Content-Type
  and Accept, which OpenSearch answers with 406, and raises UnsupportedProductError unless every
  response carries `X-Elastic-Product: Elasticsearch`;
- Filebeat reads the version from `GET /` (an OpenSearch 3.x number makes it add `_type` to bulk
  items, which OpenSearch rejects) and checks `GET /_license` for an active license.
- after a restart, Elasticsearch (since 8.11, elastic/elasticsearch#99797) makes a `_bulk` wait until the
  cluster state is recovered, so its ingest pipelines are there; OpenSearch answers "pipeline with id
  [...] does not exist" for a moment instead, and Filebeat drops such events as non-retryable. Until a
  one-document probe `_bulk` through the named pipeline succeeds after the engine (re)started, the proxy
  answers that `_bulk` with 503, which every client retries, as Elasticsearch's waiting amounts to. A pipeline
  the cluster does not have at all (`GET /_ingest/pipeline/<id>` answers 404) is no such window: the bulk goes
  through and every item is refused for good, 400 `illegal_argument_exception` "pipeline with id [<id>] does
  not exist", as Elasticsearch's IngestService refuses it.
- Elasticsearch opens and closes a point in time at `POST /<index>/_pit` and `DELETE /_pit` (`id`); OpenSearch at
  `/<index>/_search/point_in_time` and `DELETE /_search/point_in_time` (`pit_id`). The proxy translates those two.
This proxy rewrites those headers, adds the product header, answers `GET /` with an Elasticsearch
9.x version and `GET /_license` with an active basic license, holds `_bulk` as just said, and passes
everything else through untouched. It is never part of the product: the compose stack talks to real
Elasticsearch. The rehearsal's Elasticsearch stand-in (tests/stack/standins/elasticsearch) runs it with
TLS and `Hooks` of its own (security and lifecycle APIs).
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, urlsplit

from logplatform.stack_version import ELASTIC_STACK_VERSION

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    # answers are rewritten here, so they must come back uncompressed
    "accept-encoding",
}


def _plain_media_type(value: str) -> str:
    if "vnd.elasticsearch+x-ndjson" in value:
        return "application/x-ndjson"
    if "vnd.elasticsearch+json" in value:
        return "application/json"
    return value


def _point_in_time(method: str, path: str, body: bytes | None) -> tuple[str, bytes | None, bool]:
    """Elasticsearch's point-in-time open and close in OpenSearch's names (a search naming `pit` is the same on
    both). Returns the path and body to forward, and whether the answer is an opened point in time."""
    split = urlsplit(path)
    bare = split.path.rstrip("/")
    if method == "POST" and bare.endswith("/_pit"):
        query = f"?{split.query}" if split.query else ""
        return bare.removesuffix("/_pit") + "/_search/point_in_time" + query, body, True
    if method == "DELETE" and bare == "/_pit":
        pit_id = json.loads(body or b"{}").get("id")
        return "/_search/point_in_time", json.dumps({"pit_id": [pit_id]}).encode(), False
    return path, body, False


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]


# what Elasticsearch answers while a node that just started has not loaded the ingest pipeline: retryable
PIPELINE_NOT_LOADED = Reply(
    503,
    json.dumps(
        {
            "error": {
                "type": "unavailable_shards_exception",
                "reason": "engine restarting: ingest pipeline not loaded yet",
            },
            "status": 503,
        }
    ).encode(),
    {"Content-Type": "application/json"},
)


class Hooks(Protocol):
    """What a user of the proxy may add: answer a request itself, change it, change the answer."""

    def before(self, request: Request) -> Reply | None:
        """A Reply answers the request without forwarding; None forwards `request` (which may be changed)."""

    def after(self, request: Request, reply: Reply) -> Reply: ...


class _TLSServer(ThreadingHTTPServer):
    """The TLS handshake happens in the request's own thread, so a slow client holds up nobody else."""

    context: ssl.SSLContext

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            request = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away mid-request is not the server's error


class CompatProxy:
    """Listens on host:<port> (127.0.0.1 unless told) and forwards to upstream_url (the test engine)."""

    def __init__(
        self,
        upstream_url: str,
        port: int = 0,
        host: str = "127.0.0.1",
        ssl_context: ssl.SSLContext | None = None,
        hooks: Hooks | None = None,
    ) -> None:
        self.upstream = urlsplit(upstream_url)
        self.scheme = "https" if ssl_context else "http"
        proxy = self
        local = threading.local()
        self.ready_pipelines: set[str] = set()  # emptied whenever the engine is unreachable

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
                pass

            def setup(self) -> None:
                super().setup()
                # no Nagle: headers and body go out as separate writes, which would otherwise wait for
                # the peer's delayed ACK (~40 ms) on every request
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _upstream(self) -> http.client.HTTPConnection:
                conn = getattr(local, "conn", None)
                if conn is None:
                    conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=120)
                    conn.connect()
                    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    local.conn = conn
                return conn

            def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    self.command,
                    self.path,
                    {
                        k: _plain_media_type(v) if k.lower() in ("content-type", "accept") else v
                        for k, v in self.headers.items()
                        if k.lower() not in _HOP_BY_HOP
                    },
                    self.rfile.read(length) if length else None,
                )
                if hooks is not None:
                    answer = hooks.before(request)
                    if answer is not None:
                        self._reply(answer.status, answer.body, answer.headers)
                        return
                reply = self._answer(request)
                if hooks is not None:
                    reply = hooks.after(request, reply)
                self._reply(reply.status, reply.body, reply.headers)

            def _answer(self, request: Request) -> Reply:
                path, body, headers = request.path, request.body, request.headers
                bare = path.split("?", 1)[0].rstrip("/")
                if bare.endswith("/_bulk") and not self._pipeline_ready(path):
                    return PIPELINE_NOT_LOADED
                path, body, opens_pit = _point_in_time(self.command, path, body)
                try:
                    status, resp_headers, data = self._forward(self.command, path, body, headers)
                except OSError as exc:
                    proxy.ready_pipelines.clear()
                    local.conn = None
                    msg = json.dumps(
                        {"error": {"type": "proxy_upstream_unavailable", "reason": str(exc)}, "status": 503}
                    ).encode()
                    return Reply(503, msg, {"Content-Type": "application/json"})
                missing = (
                    set(re.findall(rb"pipeline with id \[([^\]]*)\] does not exist", data))
                    if bare.endswith("/_bulk") and status == 200 and b"does not exist" in data
                    else set()
                )
                if missing and not all(self._pipeline_absent(name.decode()) for name in missing):
                    # the same window seen from inside the answer: retryable as a whole; items that did get
                    # in are refused as duplicates (409) on the retry, by their document id
                    proxy.ready_pipelines.clear()
                    return PIPELINE_NOT_LOADED
                if opens_pit and status == 200:
                    data = json.dumps({"id": json.loads(data)["pit_id"]}).encode()
                elif self.command in ("GET", "HEAD") and bare == "" and status == 200:
                    info = json.loads(data)
                    info["version"] = {
                        **info.get("version", {}),
                        "number": ELASTIC_STACK_VERSION,
                        "build_flavor": "default",
                        "minimum_wire_compatibility_version": "8.19.0",
                        "minimum_index_compatibility_version": "8.0.0",
                    }
                    info["tagline"] = "You Know, for Search"
                    data = json.dumps(info).encode()
                elif bare == "/_license" and self.command == "GET":
                    status, data = (
                        200,
                        json.dumps(
                            {
                                "license": {
                                    "status": "active",
                                    "uid": "logplatform-test-engine",
                                    "type": "basic",
                                    "issue_date_in_millis": 0,
                                    "max_nodes": 1000,
                                    "issued_to": "logplatform-tests",
                                    "issuer": "elasticsearch",
                                    "start_date_in_millis": -1,
                                }
                            }
                        ).encode(),
                    )
                    resp_headers = {"Content-Type": "application/json"}
                return Reply(status, data, resp_headers)

            def _pipeline_ready(self, path: str) -> bool:
                query = parse_qs(urlsplit(path).query)
                pipeline = (query.get("pipeline") or [""])[0]
                if not pipeline or pipeline in proxy.ready_pipelines:
                    return True
                # the probe takes the very path that fails: a one-document _bulk through the pipeline, into a
                # scratch index of the proxy's own (_simulate answers before the bulk path has the pipeline)
                probe = (
                    json.dumps({"index": {"_index": "logplatform-proxy-probe"}})
                    + "\n"
                    + json.dumps({"message": "{}"})
                    + "\n"
                ).encode()
                try:
                    status, _, data = self._forward(
                        "POST", f"/_bulk?pipeline={pipeline}", probe, {"Content-Type": "application/x-ndjson"}
                    )
                except OSError:
                    local.conn = None
                    return False
                if status == 200 and not json.loads(data).get("errors"):
                    proxy.ready_pipelines.add(pipeline)
                    return True
                # a pipeline the cluster does not have is not a window to wait out: the engine refuses each item
                return self._pipeline_absent(pipeline)

            def _pipeline_absent(self, pipeline: str) -> bool:
                """The cluster state has no such pipeline (GET answers 404; during recovery it answers 503)."""
                try:
                    status, _, _ = self._forward("GET", f"/_ingest/pipeline/{quote(pipeline, safe='')}", None, {})
                except OSError:
                    local.conn = None
                    return False
                return status == 404

            def _forward(
                self, method: str, path: str, body: bytes | None, headers: dict[str, str]
            ) -> tuple[int, dict[str, str], bytes]:
                for attempt in (1, 2):  # a kept-alive upstream connection may have been closed
                    conn = self._upstream()
                    try:
                        conn.request(method, path, body=body, headers=headers)
                        resp = conn.getresponse()
                        data = resp.read()
                        out = {k: v for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP}
                        return resp.status, out, data
                    except (http.client.HTTPException, ConnectionError):
                        conn.close()
                        local.conn = None
                        if attempt == 2:
                            raise
                raise AssertionError("unreachable")

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle  # noqa: N815 - stdlib names

        if ssl_context is not None:
            self.server: ThreadingHTTPServer = _TLSServer((host, port), Handler)
            self.server.context = ssl_context  # type: ignore[attr-defined]
        else:
            self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="es-compat-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> CompatProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    """python -m tests.support.es_compat_proxy UPSTREAM_URL PORT: run the proxy in its own process."""
    import sys
    import time

    proxy = CompatProxy(sys.argv[1], int(sys.argv[2])).start()
    print(f"compat proxy {proxy.url} -> {sys.argv[1]}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        proxy.stop()


if __name__ == "__main__":
    main()
