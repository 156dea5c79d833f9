"""The API key dependency for write (and read) endpoints."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import Request
from fastapi.security import APIKeyHeader

from backend.errors import ApiError, described
from backend.state import state_of
from logplatform.api_keys import ApiKey

# query parameters a client might put a key in; keys are taken from headers only, so these are refused (a URL is
# written to access logs, proxies' and browsers' histories) and kept out of the access log
KEY_PARAMETERS = frozenset({"api_key", "apikey", "key", "x_api_key", "token", "access_token", "authorization"})
_KEY_IN_QUERY = re.compile(
    r"([?&](?:" + "|".join(sorted(k.replace("_", "[-_]?") for k in KEY_PARAMETERS)) + r")=)[^&\s\"]*", re.IGNORECASE
)


def redact_query(text: str) -> str:
    """A request line's path with the values of key-like query parameters replaced by [redacted]."""
    return _KEY_IN_QUERY.sub(r"\1[redacted]", text) if "=" in text else text


class RedactKeysInAccessLog(logging.Filter):
    """For uvicorn's access log: its record's arguments hold the path with its query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_query(a) if isinstance(a, str) else a for a in record.args)
        return True


def _key_in_query(request: Request) -> str | None:
    for name in request.query_params:
        if name.lower().replace("-", "_") in KEY_PARAMETERS:
            return name
    return None


def _verified_key(request: Request, presented: str | None) -> ApiKey | None:
    """The API key the request presents (X-API-Key, or Authorization: ApiKey), or 401; None when auth is off.
    A key-like query parameter is refused with 400 whatever it holds: keys are never read from the URL."""
    if (name := _key_in_query(request)) is not None:
        raise ApiError(
            400,
            "API keys are not read from the URL (it is logged on its way): send X-API-Key or Authorization: ApiKey, "
            "and revoke a key that was sent in one",
            name,
        )
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
        400: described("A key-like query parameter (`api_key`, `key`, `token`...): keys go in a header only"),
        401: described("Missing, unknown or revoked API key"),
        403: described(f"The API key has no {scope} scope"),
    }


class ScopedApiKey(APIKeyHeader):
    """The request's API key, which must carry `scope` (logplatform.api_keys.SCOPES): 401 without a valid key, 403
    naming the scope when it lacks it.

    The header scheme itself, so that OpenAPI shows it, and a dependency with no dependencies of its own: FastAPI
    solves every dependency's own parameters again on each request, and a chain of them was a sixth of the backend's
    CPU on single-event requests."""

    def __init__(self, scope: str) -> None:
        super().__init__(
            name="X-API-Key",
            scheme_name="APIKeyHeader",
            auto_error=False,
            description="An API key from `logplatform apikey create` (or `Authorization: ApiKey <key>`)",
        )
        self.scope = scope

    async def __call__(self, request: Request) -> ApiKey | None:  # type: ignore[override]
        key = _verified_key(request, request.headers.get(self.model.name))
        if key is not None and not key.allows(self.scope):
            raise ApiError(
                403,
                f"this API key may not {_ACTIONS[self.scope]}: "
                f"create one with `logplatform apikey create NAME --scope {self.scope}`",
                "api_key",
            )
        return key


def require_scope(scope: str) -> ScopedApiKey:
    """The dependency for a route that needs `scope`."""
    return ScopedApiKey(scope)


_ACTIONS = {"ingest": "send logs", "read": "read logs"}
