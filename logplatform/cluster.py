"""A small JSON-over-HTTP client for Elasticsearch's REST API, used by setup, doctor and the tests.

Deliberately not elasticsearch-py: setup must talk to a cluster before anything is installed and
print plain answers, and the same code must run against the test engine without a proxy.
"""

from __future__ import annotations

import json
from typing import Any

import httpx


class Cluster:
    def __init__(self, url: str, username: str | None = None, password: str | None = None,
                 api_key: str | None = None, ca_certs: str | None = None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"ApiKey {api_key}"
        auth = (username, password) if username and password and not api_key else None
        self._client = httpx.Client(base_url=self.url, headers=headers, auth=auth,
                                    verify=ca_certs if ca_certs else True, timeout=timeout)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Returns (status, decoded JSON or text). Raises httpx.TransportError when unreachable."""
        content: bytes | None = None
        headers = {}
        if isinstance(body, (bytes, str)):
            content = body.encode() if isinstance(body, str) else body
            headers["Content-Type"] = "application/x-ndjson"
        elif body is not None:
            content = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        resp = self._client.request(method, path, content=content, headers=headers)
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
