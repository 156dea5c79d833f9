"""One error body for every refusal of the API, `{"status", "field", "reason"}`, on every route, and the same
shape in the OpenAPI document (schemathesis checks the answers against it: tests/reliability)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.events import SEED_EXAMPLE
from tests.support.backend_app import Backend


def error_body(response: Any, status: int, field: str) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert response.status_code == status and set(body) == {"status", "field", "reason"}, body
    assert body["status"] == status and body["field"] == field and body["reason"], body
    return body


@pytest.mark.parametrize(("method", "path"), [("POST", "/logs"), ("POST", "/logs/ndjson"), ("GET", "/logs")])
def test_a_request_without_a_key_is_refused_with_the_error_body(
    memory_backend: Backend, method: str, path: str
) -> None:
    r = memory_backend.client.request(method, path, json=SEED_EXAMPLE if method == "POST" else None)
    assert "API key" in error_body(r, 401, "api_key")["reason"] and r.headers["www-authenticate"] == "ApiKey"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": 0}, "page"),
        ({"size": "many"}, "size"),
        ({"since": "yesterday"}, "since"),
        ({"page": 100, "size": 500}, "page"),
    ],
)
def test_an_invalid_query_parameter_is_named(memory_backend: Backend, params: dict[str, Any], field: str) -> None:
    r = memory_backend.client.get("/logs", params=params, headers={"X-API-Key": memory_backend.key})
    error_body(r, 422, field)


def test_unknown_routes_methods_and_bodies_answer_the_same_shape(memory_backend: Backend) -> None:
    error_body(memory_backend.client.get("/nowhere"), 404, "")
    error_body(memory_backend.client.delete("/logs", headers={"X-API-Key": memory_backend.key}), 405, "")
    error_body(memory_backend.post(content=b"{not json", headers={"Content-Type": "application/json"}), 400, "body")


def test_an_unexpected_failure_answers_500_with_the_error_body(memory_backend: Backend) -> None:
    # the memory backend has no search client: a search fails in a way no route expects (and the test client
    # answers as the server does instead of raising the exception)
    client = TestClient(memory_backend.client.app, raise_server_exceptions=False)
    r = client.get("/logs", headers={"X-API-Key": memory_backend.key})
    assert error_body(r, 500, "")["reason"] == "internal error"


def test_every_error_the_document_declares_has_the_error_body(memory_backend: Backend) -> None:
    document = memory_backend.client.get("/openapi.json").json()
    declared = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if int(status) < 400:
                    continue
                declared += 1
                schema = answer["content"]["application/json"]["schema"]
                assert schema["$ref"].rsplit("/", 1)[1] in {"ErrorResponse", "IngestResponse"}, (path, method, status)
    assert declared >= 10 and "HTTPValidationError" not in document["components"]["schemas"]
