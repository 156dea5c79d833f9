"""OpenTelemetry logs (OTLP/HTTP, https://opentelemetry.io/docs/specs/otlp/) as our events.

Each LogRecord becomes the event a JSON logger would have written for it, so it goes through the same checks,
spool, pipeline and guarantees as `POST /logs`. The mapping is the table in docs/event-schema.md
("OpenTelemetry"); its tables are the dicts below. Decoding is the OpenTelemetry project's own protobuf package.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

from logplatform.event_ids import event_id_at

PROTOBUF = "application/x-protobuf"
JSON = "application/json"

# severity_number ranges of the OpenTelemetry log data model -> our six levels
SEVERITY = ((4, "trace"), (8, "debug"), (12, "info"), (16, "warning"), (20, "error"), (24, "critical"))

# resource attributes (semantic conventions) -> ECS fields; the rest keep their dotted names (docs/event-schema.md)
RESOURCE_FIELDS = {
    "service.name": "service.name",
    "service.version": "service.version",
    "deployment.environment.name": "service.environment",
    "deployment.environment": "service.environment",
    "service.instance.id": "service.node.name",
    "host.name": "host.name",
}

# record attributes (semantic conventions) -> ECS fields; the rest keep their dotted names, as a JSON line's keys do
ATTRIBUTE_FIELDS = {
    "exception.type": "error.type",
    "exception.message": "error.message",
    "exception.stacktrace": "error.stack_trace",
    "code.function": "log.origin.function",
    "code.function.name": "log.origin.function",
    "code.filepath": "log.origin.file.name",
    "code.file.path": "log.origin.file.name",
    "code.lineno": "log.origin.file.line",
    "code.line.number": "log.origin.file.line",
    "thread.id": "process.thread.id",
    "thread.name": "process.thread.name",
    "url.full": "url.original",
    "client.address": "source.ip",
    "event.name": "event.action",
}


class OtlpError(ValueError):
    """A body that is not an OTLP logs request: answered 400, never retried."""


def decode(body: bytes, content_type: str) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    try:
        if content_type == PROTOBUF:
            request.ParseFromString(body)
        else:
            json_format.ParseDict(_ids_as_base64(json.loads(body)), request, ignore_unknown_fields=True)
    except (DecodeError, json_format.ParseError, ValueError, TypeError, AttributeError) as exc:
        raise OtlpError(f"not an OTLP ExportLogsServiceRequest ({content_type}): {str(exc)[:200]}") from None
    except RecursionError:
        raise OtlpError(f"not an OTLP ExportLogsServiceRequest ({content_type}): nested too deeply") from None
    return request


def _ids_as_base64(document: Any) -> Any:
    """OTLP/JSON writes traceId and spanId as hex; protobuf's JSON mapping reads bytes as base64."""
    if not isinstance(document, dict):
        raise OtlpError("the body is not a JSON object")
    for resource_logs in document.get("resourceLogs") or document.get("resource_logs") or []:
        for scope_logs in resource_logs.get("scopeLogs") or resource_logs.get("scope_logs") or []:
            for record in scope_logs.get("logRecords") or scope_logs.get("log_records") or []:
                for key in ("traceId", "spanId", "trace_id", "span_id"):
                    if isinstance(record.get(key), str) and record[key]:
                        try:
                            record[key] = base64.b64encode(bytes.fromhex(record[key])).decode()
                        except ValueError:
                            raise OtlpError(f"{key} {record[key][:40]!r} is not hex") from None
    return document


def fan_out(request: ExportLogsServiceRequest) -> tuple[int, int]:
    """(records, bytes copied into them): each record's event carries its resource's attributes and its scope's
    name, so a small request with a big resource and many records makes many big events. Counted on the decoded
    message, before any event is built."""
    records = copied = 0
    for resource_logs in request.resource_logs:
        resource_size = resource_logs.resource.ByteSize()
        for scope_logs in resource_logs.scope_logs:
            count = len(scope_logs.log_records)
            records += count
            copied += count * (resource_size + len(scope_logs.scope.name))
    return records, copied


def records(request: ExportLogsServiceRequest) -> Iterator[dict[str, Any]]:
    """Every log record of the request as our event, in order."""
    for resource_logs in request.resource_logs:
        shared = _resource_fields(_attributes(resource_logs.resource.attributes))
        resource_bytes = resource_logs.resource.SerializeToString(deterministic=True)
        for scope_logs in resource_logs.scope_logs:
            # the identity of a record is its resource, scope and own bytes: hashed from a copy of the state after
            # the shared part, rather than the shared bytes copied again for every record
            shared_hash = hashlib.sha256(
                resource_bytes + b"\0" + scope_logs.scope.SerializeToString(deterministic=True)
            )
            shared_hash.update(b"\0")
            for record in scope_logs.log_records:
                identity = shared_hash.copy()
                identity.update(record.SerializeToString(deterministic=True))
                yield event(shared, scope_logs.scope.name, record, identity.digest())


def _resource_fields(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource's attributes as the fields every record of it gets: ECS names where the table has them."""
    out: dict[str, Any] = {}
    for key, value in resource.items():
        out[RESOURCE_FIELDS.get(key, key)] = value
    service: dict[str, Any] = {"name": out.pop("service.name", None) or "unknown_service"}
    for part in ("version", "environment", "node.name"):
        if (value := out.pop(f"service.{part}", None)) is not None:
            service[part] = value
    out["service"] = service
    return out


def event(shared: dict[str, Any], scope: str, record: LogRecord, digest: bytes) -> dict[str, Any]:
    """One record as the event a JSON logger would write: its resource's fields (shared by every record of the
    resource, never changed here), then its own, ECS names where the table has them."""
    out = dict(shared)
    for key, value in _attributes(record.attributes).items():
        out[ATTRIBUTE_FIELDS.get(key, key)] = value
    if scope:
        out["log.logger"] = scope
    _body(record.body, out)
    out["level"] = _level(record.severity_number, record.severity_text)
    if moment := record.time_unix_nano or record.observed_time_unix_nano:
        out["@timestamp"] = _iso(moment)
    if any(record.trace_id):
        out["trace.id"] = record.trace_id.hex()
    if any(record.span_id):
        out["span.id"] = record.span_id.hex()
    # the same record sent again (an exporter's retry) is the same event: indexed once; its id starts with its
    # time where it has one (a time-ordered id is cheaper to index: logplatform/event_ids.py)
    if moment:
        out["event"] = {"id": event_id_at(moment // 1_000_000, int.from_bytes(digest[:10], "big"))}
    else:
        out["event"] = {"id": str(uuid.UUID(bytes=digest[:16]))}
    return {k: v for k, v in out.items() if v is not None}


def _body(body: AnyValue, out: dict[str, Any]) -> None:
    """The body as message: a string as it is; a map's message (or msg) with its other keys as the event's own
    fields, as a structured logger writes them; anything else as its JSON text."""
    value = _value(body)
    if isinstance(value, dict):
        message = value.pop("message", None)
        if message is None:
            message = value.pop("msg", None)
        for key, inner in value.items():
            out.setdefault(key, inner)
        value = message if message is not None else json.dumps(value, separators=(",", ":"), default=str)
    out["message"] = value if isinstance(value, str) else "" if value is None else json.dumps(value, default=str)


def _level(number: int, text: str) -> str | None:
    if number:
        return next((level for top, level in SEVERITY if number <= top), "critical")
    return text or None


def _iso(unix_nano: int) -> str:
    seconds, nanos = divmod(unix_nano, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanos // 1000)
    return moment.isoformat().replace("+00:00", "Z")


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs if isinstance(pair, KeyValue)}


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, kind)


def response(rejected: int, reason: str, content_type: str) -> tuple[bytes, str]:
    """The OTLP answer, in the request's encoding: partial success when records were rejected."""
    answer = ExportLogsServiceResponse()
    if rejected:
        answer.partial_success.CopyFrom(ExportLogsPartialSuccess(rejected_log_records=rejected, error_message=reason))
    if content_type == PROTOBUF:
        return answer.SerializeToString(), PROTOBUF
    return json_format.MessageToJson(answer, indent=None).encode(), JSON
