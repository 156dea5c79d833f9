"""The API key dependency for write (and read) endpoints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from backend.errors import ApiError, described
from backend.state import AppState, get_state
from logplatform.api_keys import ApiKey

_api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An API key from `logplatform apikey create` (or `Authorization: ApiKey <key>`)",
)


async def require_api_key(
    request: Request,
    state: Annotated[AppState, Depends(get_state)],
    x_api_key: Annotated[str | None, Depends(_api_key_header)] = None,
) -> ApiKey | None:
    if not state.settings.auth_enabled:
        return None
    presented = x_api_key
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
    """The key, which must carry `scope` (logplatform.api_keys.SCOPES): 403 naming the scope otherwise."""

    async def dependency(key: Annotated[ApiKey | None, Depends(require_api_key)]) -> ApiKey | None:
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
