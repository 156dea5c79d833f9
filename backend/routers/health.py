"""Liveness, readiness and metrics."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from backend.state import AppState, get_state
from logplatform import names

router = APIRouter(tags=["operations"])
_READY_CACHE: dict[int, tuple[float, int, dict[str, Any]]] = {}


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _check_ready(state: AppState) -> tuple[int, dict[str, Any]]:
    checks: dict[str, Any] = {}
    client = state.search_client
    try:
        await client.info()
        checks["elasticsearch"] = "ok"
        pipeline = await client.options(ignore_status=404).ingest.get_pipeline(id=state.settings.pipeline)
        checks["pipeline"] = "ok" if pipeline.meta.status == 200 else f"missing: {state.settings.pipeline}"
        template = await client.indices.exists_index_template(name=names.INDEX_TEMPLATE)
        checks["index_template"] = "ok" if template else f"missing: {names.INDEX_TEMPLATE}"
    except Exception as exc:  # any failure means not ready, and says why
        checks["elasticsearch"] = f"unreachable: {type(exc).__name__}: {str(exc)[:200]}"
    spool_bytes = state.spool.size()
    checks["spool_backlog_bytes"] = spool_bytes
    checks["spool"] = "ok" if spool_bytes < state.settings.spool_max_bytes else "full"
    ready = all(v == "ok" for k, v in checks.items() if k != "spool_backlog_bytes")
    return (200 if ready else 503), {"status": "ready" if ready else "not ready", "checks": checks}


@router.get("/readyz", summary="Elasticsearch reachable, pipeline and template installed, spool not full")
async def readyz(state: Annotated[AppState, Depends(get_state)]) -> JSONResponse:
    cached = _READY_CACHE.get(id(state))
    if cached and time.monotonic() - cached[0] < 2.0:
        return JSONResponse(cached[2], status_code=cached[1])
    status, body = await _check_ready(state)
    _READY_CACHE[id(state)] = (time.monotonic(), status, body)
    return JSONResponse(body, status_code=status)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(state: Annotated[AppState, Depends(get_state)]) -> Response:
    state.metrics.spool_bytes.set(state.spool.size())
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
