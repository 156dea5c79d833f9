"""The FastAPI application: `uvicorn backend.main:create_app --factory` or `python -m backend`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from backend import disk_watch, errors
from backend.delivery import Delivery, ElasticsearchSink, Sink
from backend.metrics import Metrics
from backend.rate_limit import RateLimiter
from backend.routers import export, health, ingest, otlp, search
from backend.security import RedactKeysInAccessLog
from backend.settings import Settings, get_settings
from backend.spool import Spool
from backend.state import AppState
from logplatform.api_keys import KeyStore

if TYPE_CHECKING:
    from elasticsearch import AsyncElasticsearch

log = logging.getLogger("backend")


def elasticsearch_client(settings: Settings) -> AsyncElasticsearch:
    from elasticsearch import AsyncElasticsearch

    options: dict[str, Any] = {}  # credentials and CA, when there are any
    password = settings.es_password()  # may read a file: once
    if settings.elasticsearch_api_key:
        options["api_key"] = settings.elasticsearch_api_key
    elif settings.elasticsearch_username and password:
        options["basic_auth"] = (settings.elasticsearch_username, password)
    if settings.elasticsearch_ca_certs:
        options["ca_certs"] = settings.elasticsearch_ca_certs
    hosts = settings.elasticsearch_hosts()
    # a node that cannot be reached is passed over at once (connection errors are retried on the next node);
    # statuses and timeouts are not retried here: the delivery decides what a retry can fix
    return AsyncElasticsearch(
        hosts,
        request_timeout=settings.request_timeout_s,
        max_retries=len(hosts) - 1,
        retry_on_status=(),
        retry_on_timeout=False,
        connections_per_node=32,
        # the delivery probes a down cluster itself; the client must not sit out 30 s
        max_dead_node_backoff=settings.outage_probe_s,
        **options,
    )


_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Adds security headers to every response (a plain ASGI middleware: no extra task per request)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((k, v) for k, v in _SECURITY_HEADERS if k not in present),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    settings: Settings | None = None, sink: Sink | None = None, search_client: AsyncElasticsearch | None = None
) -> FastAPI:
    settings = settings or get_settings()
    metrics = Metrics()
    client = search_client
    if sink is None or client is None:
        client = client or elasticsearch_client(settings)
        if sink is None and settings.kafka_bootstrap:
            from backend.kafka_sink import KafkaSink

            sink = KafkaSink(settings.kafka_bootstrap, settings.kafka_topic, settings.request_timeout_s)
        sink = sink or ElasticsearchSink(client, settings.data_stream, settings.pipeline)
    spool = Spool(settings.log_dir / "spool", settings.spool_max_bytes, settings.spool_file_max_bytes)
    delivery = Delivery(
        sink,
        spool,
        metrics,
        max_events=settings.batch_max_events,
        max_bytes=settings.batch_max_bytes,
        max_wait_s=settings.batch_max_wait_ms / 1000,
        concurrency=settings.bulk_concurrency,
        parallel_min_events=settings.bulk_parallel_min_events,
        retry_budget_s=settings.retry_budget_s,
        outage_probe_s=settings.outage_probe_s,
    )
    state = AppState(settings, delivery, spool, KeyStore(settings.api_keys_file), RateLimiter(), metrics, client)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await delivery.start()
        watching = (
            asyncio.create_task(disk_watch.watch(client, settings.disk_watch_s)) if settings.disk_watch_s > 0 else None
        )
        log.info(
            "backend started: data stream %s, pipeline %s, spool %s",
            settings.data_stream,
            settings.pipeline,
            spool.directory,
        )
        if not settings.auth_enabled:
            log.warning("authentication is OFF (LOGPLATFORM_AUTH_ENABLED=false): anyone can write")
        yield
        if watching is not None:
            watching.cancel()
        await delivery.stop()
        log.info("backend stopped")

    app = FastAPI(
        # FastAPI's own OpenTelemetry asks the providers on every request; the backend logs and counts itself
        telemetry={"tracing": False, "metrics": False, "logs": False},
        title="Log-Platform backend",
        version="0.1.0",
        lifespan=lifespan,
        description="Send logs over HTTP to the same pipeline Filebeat uses. "
        "Authenticate with `X-API-Key: <key>` (keys from `logplatform apikey create`).",
    )
    app.state.logplatform = state
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Content-Encoding", "X-API-Key", "Authorization"],
        )

    app.add_middleware(SecurityHeaders)
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactKeysInAccessLog) for f in access_log.filters):
        access_log.addFilter(RedactKeysInAccessLog())  # a key sent in a URL never reaches a log line

    errors.install(app)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return errors.error_response(500, "internal error")

    app.include_router(ingest.router)
    app.include_router(otlp.router)
    app.include_router(export.router)
    app.include_router(search.router)
    app.include_router(health.router)
    return app
