"""Schemathesis over our own OpenAPI document, against the backend as it runs in compose: its own
uvicorn process, writing to the real engine. Every generated request (valid and invalid bodies,
parameters, headers) must get an answer that is not a 5xx and that matches the document: a status it
declares, the content type and the body schema it promises."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.backend_process import BackendProcess
from tests.support.search_engine import SearchEngine

pytestmark = pytest.mark.engine

# CI: 40 reproducible examples per operation; the longer suite (docs/reliability.md) sets more, random
LONG_RUN = "LOGPLATFORM_FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("LOGPLATFORM_FUZZ_EXAMPLES", "40"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@schemathesis.serializer("application/x-ndjson")
def ndjson(_ctx: object, value: object) -> bytes:
    """The document describes an NDJSON body as a string: send it as it is (lists as one JSON per line)."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    items = value if isinstance(value, list) else [value]
    return "\n".join(json.dumps(item) for item in items).encode()


@pytest.fixture(scope="module")
def backend(installed: SearchEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    workdir = tmp_path_factory.mktemp("fuzz")
    data_stream = "logs-logplatform-fuzz"
    process = BackendProcess(workdir, installed.client_url, workdir / "volume", data_stream)
    process.start()
    yield process
    process.stop()
    installed.cluster.request("DELETE", f"/_data_stream/{data_stream}")


@pytest.fixture(scope="module")
def api(backend: BackendProcess) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{backend.url}/openapi.json")


def operations() -> list[str]:
    """Every operation of the document, as "METHOD /path" (read from the app, no server needed)."""
    from backend.main import create_app
    from tests.support.backend_app import make_settings
    from tests.support.memory_sink import MemorySink

    app = create_app(make_settings(Path("/nonexistent")), sink=MemorySink(), search_client=object())
    return [f"{m.upper()} {p}" for p, ops in app.openapi()["paths"].items() for m in ops]


@pytest.mark.parametrize("operation", operations())
def test_every_operation_answers_as_documented(
    api: schemathesis.BaseSchema, backend: BackendProcess, operation: str
) -> None:
    # schemathesis' own pytest plugin does not work with pytest 9 yet (it reads Function._nodeid), so the
    # operation's hypothesis strategy is driven here directly
    method, path = operation.split(" ", 1)
    strategy = api[path][method].as_strategy()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=not LONG_RUN,
        database=None,
    )
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers={"X-API-Key": backend.key}, checks=CHECKS, timeout=30)

    check()


def test_what_the_fuzzing_found_stays_fixed(backend: BackendProcess) -> None:
    """Two 502s schemathesis found in GET /logs: a page beyond Elasticsearch's result window, and a UTC
    offset Python accepts but Elasticsearch does not (±23:45)."""
    import httpx

    def get(**params: str | int) -> httpx.Response:
        return httpx.get(f"{backend.url}/logs", params=params, headers={"X-API-Key": backend.key}, timeout=30)

    deep = get(page=100, size=500)
    assert deep.status_code == 422 and deep.json()["field"] == "page"
    assert get(until="2026-01-01T00:00:00-23:45", since="2025-12-31T00:00:00+23:45").status_code == 200
    overflow = get(until="9999-12-31T23:00:00-23:45")
    assert overflow.status_code == 422 and overflow.json()["field"] == "until"
