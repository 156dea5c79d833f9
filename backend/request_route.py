"""A FastAPI route for the ingest endpoints whose endpoint and dependencies take the request and nothing else.

FastAPI solves a route's parameters and dependencies anew on every request; for a single event that was a fifth of
the backend's CPU (bench/backend_ingest.py). These routes read their body and headers themselves, so the only work
left is to call each dependency with the request and the endpoint with what they returned. The route is still an
APIRoute: the OpenAPI document, its security scheme and responses come from the same declarations as before.

Dependencies must be declared on the route itself (not on its router or include_router), each taking only the
request; anything else is refused when the route is built."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response


def _has_parameters(dependant: Dependant) -> bool:
    """Whether FastAPI would read anything for it from the path, query, headers, cookies or body."""
    found = (dependant.path_params, dependant.query_params, dependant.header_params, dependant.cookie_params)
    return any(found) or bool(dependant.body_params)


def _is_async(call: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(type(call).__call__)


class RequestOnlyRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        request_name = self.dependant.request_param_name
        solvers: list[tuple[str, Callable[[Request], Coroutine[Any, Any, Any]]]] = []
        for sub in self.dependant.dependencies:
            call = sub.call
            only_the_request = sub.request_param_name is not None and not _has_parameters(sub) and not sub.dependencies
            if sub.name is None or call is None or not _is_async(call) or not only_the_request:
                raise TypeError(f"{self.path}: dependency {sub.name} must be async and take only the request")
            solvers.append((sub.name, call))
        if request_name is None or _has_parameters(self.dependant):
            raise TypeError(f"{self.path}: the endpoint must take the request and its dependencies only")

        async def handler(request: Request) -> Response:
            values = {name: await call(request) for name, call in solvers}
            values[request_name] = request
            response: Response = await endpoint(**values)
            return response

        return handler
