"""Backend fixtures: an app with an in-memory sink (unit) or wired to the search engine (integration)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app, elasticsearch_client
from backend.settings import Settings
from logplatform.api_keys import SCOPES, KeyStore
from tests.support.memory_sink import MemorySink
from tests.support.search_engine import SearchEngine


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "elasticsearch_url": "http://127.0.0.1:9",
        "log_dir": tmp_path / "logs",
        "api_keys_file": tmp_path / "keys" / "api-keys.json",
        "retry_budget_s": 0.3,
        "outage_probe_s": 0.2,
        "disk_watch_s": 0.0,  # tests/backend/test_disk_watch.py turns it on
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


class Backend:
    def __init__(self, client: TestClient, settings: Settings, sink: MemorySink | None, key: str) -> None:
        self.client = client
        self.settings = settings
        self.sink = sink
        self.key = key
        self.keys = KeyStore(settings.api_keys_file)

    def post(self, body: object = None, *, path: str = "/logs", key: str | None = None, **kw: object):
        headers = dict(kw.pop("headers", {}) or {})  # type: ignore[arg-type]
        headers.setdefault("X-API-Key", self.key if key is None else key)
        if body is not None:
            kw["json"] = body
        return self.client.post(path, headers=headers, **kw)  # type: ignore[arg-type]

    def spool_lines(self) -> list[str]:
        lines: list[str] = []
        for p in sorted((self.settings.log_dir / "spool").glob("backend-spool.ndjson*")):
            lines += [ln for ln in p.read_text().splitlines() if ln]
        return lines


@pytest.fixture
def memory_backend(tmp_path: Path) -> Iterator[Backend]:
    settings = make_settings(tmp_path)
    key = KeyStore(settings.api_keys_file).create("tests", scopes=SCOPES)
    sink = MemorySink()
    app = create_app(settings, sink=sink, search_client=object())
    with TestClient(app) as client:
        yield Backend(client, settings, sink, key)


def live_backend(tmp_path: Path, client_url: str, data_stream: str, **overrides: object) -> Iterator[Backend]:
    settings = make_settings(tmp_path, elasticsearch_url=client_url, data_stream=data_stream, **overrides)
    key = KeyStore(settings.api_keys_file).create("tests", scopes=SCOPES)
    app = create_app(settings, search_client=elasticsearch_client(settings))
    with TestClient(app) as client:
        yield Backend(client, settings, None, key)


@pytest.fixture(name="backend")
def backend_on_engine(installed: SearchEngine, data_stream: str, tmp_path: Path) -> Iterator[Backend]:
    """The backend app against the engine under test, writing to a data stream of the test's own."""
    yield from live_backend(tmp_path, installed.client_url, data_stream)
