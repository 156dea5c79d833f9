"""POST /v1/logs: the OpenTelemetry SDKs' OTLP/HTTP log export, into the same path as POST /logs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.requests import ClientDisconnect

from backend import otlp
from backend.body import BodyError, media_type, read_limited
from backend.delivery import FAILED, REJECTED
from backend.errors import described, error_response
from backend.events import Limits, check_events
from backend.request_route import RequestOnlyRoute
from backend.routers.ingest import over_the_limits
from backend.security import key_errors, require_scope
from backend.state import state_of
from logplatform.api_keys import ApiKey

router = APIRouter(tags=["ingest"], route_class=RequestOnlyRoute)


@router.post(
    "/v1/logs",
    summary="OpenTelemetry logs (OTLP/HTTP, protobuf or JSON)",
    responses={
        200: {"description": "Every accepted record is durable; rejected ones are counted in partial_success"},
        400: described("The body is not an OTLP ExportLogsServiceRequest"),
        **key_errors("ingest"),
        413: described("Body or record count over the limit"),
        415: described("Content-Type is not application/x-protobuf or application/json"),
        429: described("Rate limit of this API key; see Retry-After"),
        503: described("Records could not be made durable; the exporter retries after Retry-After"),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {otlp.PROTOBUF: {"schema": {"type": "string", "format": "binary"}}, otlp.JSON: {}},
        }
    },
)
async def otlp_logs(
    request: Request,
    key: Annotated[ApiKey | None, Depends(require_scope("ingest"))],
) -> Response:
    """Point an OpenTelemetry SDK's log exporter at `http://<backend>:8000/v1/logs` with the API key in a header.
    Each record becomes the event a JSON logger would write (docs/event-schema.md, "OpenTelemetry") and is indexed
    through the same pipeline, spool and checks as `POST /logs`; gzip bodies too."""
    state = state_of(request)
    s = state.settings
    content_type = media_type(request.headers.get("content-type"))
    if content_type not in (otlp.PROTOBUF, otlp.JSON):
        return error_response(415, f"OTLP/HTTP takes {otlp.PROTOBUF} or {otlp.JSON}", "content-type")
    try:
        body = await read_limited(
            request.stream(), request.headers.get("content-encoding"), s.max_body_bytes, s.body_timeout_s
        )
        export = otlp.decode(body, content_type)
    except ClientDisconnect:
        return error_response(400, "client disconnected before the body was complete")
    except BodyError as exc:
        state.metrics.requests_rejected.labels(str(exc.status)).inc()
        return error_response(exc.status, exc.reason, exc.field)
    except otlp.OtlpError as exc:
        state.metrics.requests_rejected.labels("400").inc()
        return error_response(400, str(exc), "body")
    # a bound on what the records will cost, before any is built (the resource is copied into each of them)
    count, copied = otlp.fan_out(export)
    if count > s.max_events_per_request:
        state.metrics.requests_rejected.labels("413").inc()
        return error_response(413, f"{count} records in one request; at most {s.max_events_per_request}", "body")
    if copied > s.otlp_max_fanout_bytes:
        state.metrics.requests_rejected.labels("413").inc()
        return error_response(
            413,
            f"the resource attributes copied into each record come to {copied} bytes over the {count} records; "
            f"at most {s.otlp_max_fanout_bytes}: send fewer records per request, or fewer resource attributes",
            "body",
        )
    events = list(otlp.records(export))
    refused = over_the_limits(events, state, key) if events else None
    if refused is not None:
        return refused
    checked = check_events(events, Limits(s.max_depth, s.max_keys), key.id if key is not None else None)
    reasons = [f"record {r.index}: {e.field} {e.reason}" for r in checked.rejected for e in r.errors]
    results = await state.delivery.submit([a.line for a in checked.accepted]) if checked.accepted else []
    reasons += [f"record {a.index}: {r.reason}" for a, r in zip(checked.accepted, results, strict=True) if r.reason]
    state.metrics.events.labels("rejected").inc(len(checked.rejected))
    state.metrics.events.labels("accepted").inc(len(checked.accepted))
    if any(r.status == FAILED for r in results):
        return error_response(503, "records could not be made durable; send them again", "body", {"Retry-After": "5"})
    rejected = len(checked.rejected) + sum(r.status == REJECTED for r in results)
    content, answer_type = otlp.response(rejected, "; ".join(reasons[:5]), content_type)
    return Response(content, media_type=answer_type)
