"""The API key dependency for write (and read) endpoints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from backend.errors import ApiError, described
from backend.state import state_of
from logplatform.api_keys import ApiKey

_api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An API key from `logplatform apikey create` (or `Authorization: ApiKey <key>`)",
)


def _verified_key(request: Request, presented: str | None) -> ApiKey | None:
    """The API key the request presents (X-API-Key, or Authorization: ApiKey), or 401; None when auth is off."""
    state = state_of(request)
    if not state.settings.auth_enabled:
        return None
    if presented is None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "apikey" and value:
            presented = value.strip()
    key = state.keys.verify(presented)
    if key is None:
        state.metrics.requests_rejected.labels("401").inc()
        raise ApiError(
            401,
            "missing, unknown or revoked API key: send X-API-Key or Authorization: ApiKey",
            "api_key",
            {"WWW-Authenticate": "ApiKey"},
        )
    return key


def key_errors(scope: str) -> dict[int | str, dict[str, Any]]:
    """The answers require_scope(scope) may give, for a route's OpenAPI responses."""
    return {
        401: described("Missing, unknown or revoked API key"),
        403: described(f"The API key has no {scope} scope"),
    }


def require_scope(scope: str) -> Callable[..., Awaitable[ApiKey | None]]:
    """The key, which must carry `scope` (logplatform.api_keys.SCOPES): 403 naming the scope otherwise.

    One dependency with the header as its only sub-dependency: FastAPI works out every dependency's cache key on
    every request, and a chain of them was a sixth of the backend's CPU on single-event requests."""

    async def dependency(
        request: Request, x_api_key: Annotated[str | None, Depends(_api_key_header)] = None
    ) -> ApiKey | None:
        key = _verified_key(request, x_api_key)
        if key is not None and not key.allows(scope):
            raise ApiError(
                403,
                f"this API key may not {_ACTIONS[scope]}: "
                f"create one with `logplatform apikey create NAME --scope {scope}`",
                "api_key",
            )
        return key

    return dependency


_ACTIONS = {"ingest": "send logs", "read": "read logs"}
