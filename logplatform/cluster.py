"""A small JSON-over-HTTP client for Elasticsearch's REST API, used by setup, doctor and the tests.

Deliberately not elasticsearch-py: setup must talk to a cluster before anything is installed and
print plain answers, and the same code must run against the test engine without a proxy.

`url` may name several nodes, comma-separated (the three-node profile): a request goes to the node that
answered last, and to the next one when a node cannot be reached, so setup and doctor work while any node is up.
"""

from __future__ import annotations

import json
from typing import Any

import httpx


class Cluster:
    def __init__(
        self,
        url: str,
        username: str | None = None,
        password: str | None = None,
        api_key: str | None = None,
        ca_certs: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.nodes = [node.strip().rstrip("/") for node in url.split(",") if node.strip()]
        if not self.nodes:
            raise ValueError("no Elasticsearch URL given")
        self._current = 0
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"ApiKey {api_key}"
        auth = (username, password) if username and password and not api_key else None
        self._client = httpx.Client(headers=headers, auth=auth, verify=ca_certs if ca_certs else True, timeout=timeout)

    @property
    def url(self) -> str:
        """The node requests go to now."""
        return self.nodes[self._current]

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Returns (status, decoded JSON or text). Raises httpx.TransportError when no node can be reached."""
        content: bytes | None = None
        headers = {}
        if isinstance(body, (bytes, str)):
            content = body.encode() if isinstance(body, str) else body
            headers["Content-Type"] = "application/x-ndjson"
        elif body is not None:
            content = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(len(self.nodes)):
            try:
                resp = self._client.request(method, self.url + path, content=content, headers=headers)
                break
            except httpx.TransportError:
                if attempt == len(self.nodes) - 1:
                    raise
                self._current = (self._current + 1) % len(self.nodes)
        try:
            return resp.status_code, resp.json()
        except ValueError:
            return resp.status_code, resp.text

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, data = self.request(method, path, body)
        if status >= 300:
            raise RuntimeError(f"{method} {path} answered {status}: {data}")
        return data

    def close(self) -> None:
        self._client.close()
