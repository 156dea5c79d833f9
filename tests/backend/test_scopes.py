"""API key scopes: a key sends logs (`ingest`), reads them (`read`), or both; the other is refused with 403."""

from __future__ import annotations

import json
from pathlib import Path

from logplatform.api_keys import KeyStore
from tests.support.backend_app import Backend

EVENT = {"service": "scoped", "message": "hello"}
# every route that takes an API key: (path, method) in the OpenAPI document
KEYED_ROUTES = [("/logs", "post"), ("/logs/ndjson", "post"), ("/v1/logs", "post"), ("/logs", "get"),
                ("/logs/{event_id}/context", "get")]  # fmt: skip


def test_an_ingest_key_sends_but_cannot_read(memory_backend: Backend) -> None:
    key = memory_backend.keys.create("shipper")  # ingest alone: the default
    assert memory_backend.post(EVENT, key=key).status_code == 200
    ndjson = {"Content-Type": "application/x-ndjson"}
    assert (
        memory_backend.post(path="/logs/ndjson", content=json.dumps(EVENT), headers=ndjson, key=key).status_code == 200
    )
    r = memory_backend.client.get("/logs", headers={"X-API-Key": key})
    assert r.status_code == 403
    assert r.json()["field"] == "api_key" and "--scope read" in r.json()["reason"]


def test_a_read_key_cannot_send(memory_backend: Backend) -> None:
    key = memory_backend.keys.create("viewer", scopes=("read",))
    for path, headers in (("/logs", {}), ("/logs/ndjson", {"Content-Type": "application/x-ndjson"}),
                          ("/v1/logs", {"Content-Type": "application/x-protobuf"})):  # fmt: skip
        r = memory_backend.post(path=path, content=b"{}", headers=headers, key=key)
        assert r.status_code == 403 and "--scope ingest" in r.json()["reason"], path
    assert memory_backend.sink is not None and memory_backend.sink.lines == []


def test_a_key_stored_before_scopes_keeps_what_it_could_do(tmp_path: Path) -> None:
    store_file = tmp_path / "keys.json"
    key = KeyStore(store_file).create("old", scopes=("ingest",))
    data = json.loads(store_file.read_text())
    del data["keys"][0]["scopes"]  # the store as earlier versions wrote it
    store_file.write_text(json.dumps(data))
    entry = KeyStore(store_file).verify(key)
    assert entry is not None and entry.allows("ingest") and entry.allows("read")


def test_the_api_document_says_which_routes_answer_403(memory_backend: Backend) -> None:
    paths = memory_backend.client.get("/openapi.json").json()["paths"]
    for path, method in KEYED_ROUTES:
        assert "403" in paths[path][method]["responses"], (path, method)


def test_the_api_document_says_every_logs_route_takes_the_api_key_header(memory_backend: Backend) -> None:
    document = memory_backend.client.get("/openapi.json").json()
    scheme = document["components"]["securitySchemes"]["APIKeyHeader"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-API-Key")
    for path, method in KEYED_ROUTES:
        assert document["paths"][path][method]["security"] == [{"APIKeyHeader": []}], (path, method)
