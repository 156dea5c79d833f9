"""The ingest routes' lean route class: what it calls, and what it refuses to build."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.testclient import TestClient

from backend.request_route import RequestOnlyRoute


async def caller(request: Request) -> str:
    if "x-name" not in request.headers:
        raise PermissionError("no name")
    return request.headers["x-name"]


def test_the_endpoint_gets_the_request_and_what_each_dependency_returned() -> None:
    router = APIRouter(route_class=RequestOnlyRoute)

    @router.post("/hello")
    async def hello(request: Request, name: Annotated[str, Depends(caller)]) -> Response:
        return PlainTextResponse(f"{request.method} {name}")

    app = FastAPI()
    app.include_router(router)

    @app.exception_handler(PermissionError)
    async def refused(_request: Request, exc: Exception) -> Response:
        return PlainTextResponse(str(exc), status_code=401)

    client = TestClient(app)
    assert client.post("/hello", headers={"x-name": "ada"}).text == "POST ada"
    answer = client.post("/hello")
    assert (answer.status_code, answer.text) == (401, "no name")
    assert "/hello" in app.openapi()["paths"]


def test_an_endpoint_reading_a_parameter_is_refused_at_build() -> None:
    router = APIRouter(route_class=RequestOnlyRoute)
    with pytest.raises(TypeError, match="/search: the endpoint must take the request"):

        @router.get("/search")
        async def search(request: Request, q: str) -> Response:
            return PlainTextResponse(q)


async def tenant(x_tenant: Annotated[str, Header()]) -> str:
    return x_tenant


def test_a_dependency_reading_a_header_is_refused_at_build() -> None:
    router = APIRouter(route_class=RequestOnlyRoute)
    with pytest.raises(TypeError, match="dependency who must be async and take only the request"):

        @router.post("/logs")
        async def logs(request: Request, who: Annotated[str, Depends(tenant)]) -> Response:
            return PlainTextResponse(who)
