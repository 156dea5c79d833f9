"""POST /v1/logs: OpenTelemetry log records (OTLP/HTTP, protobuf and JSON) become our events.

Without the engine: what a record becomes, and every way a body is refused. On the engine: the OpenTelemetry
Python SDK's own exporter through a running backend, the same event over OTLP and POST /logs as one document,
and an exporter's retry indexed once."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest, ExportLogsServiceResponse
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from tests.support.backend_app import Backend
from tests.support.backend_process import BackendProcess
from tests.support.commands import run
from tests.support.documents import at_least, every_document
from tests.support.search_engine import SearchEngine

PROTOBUF = {"Content-Type": "application/x-protobuf"}
T = 1_772_357_406_123_456_789  # 2026-03-01T09:30:06.123456789Z
TRACE = bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736")
SPAN = bytes.fromhex("00f067aa0ba902b7")


def attrs(**values: Any) -> list[KeyValue]:
    return [KeyValue(key=k.replace("__", "."), value=any_value(v)) for k, v in values.items()]


def any_value(v: Any) -> AnyValue:
    if isinstance(v, bool):
        return AnyValue(bool_value=v)
    if isinstance(v, int):
        return AnyValue(int_value=v)
    if isinstance(v, dict):
        return AnyValue(kvlist_value=KeyValueList(values=attrs(**v)))
    return AnyValue(string_value=str(v))


def export(*records: LogRecord, service: str = "checkout", scope: str = "") -> ExportLogsServiceRequest:
    resource = Resource(
        attributes=attrs(service__name=service, service__version="2.1.0", deployment__environment__name="prod")
    )
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=resource, scope_logs=[ScopeLogs(scope=InstrumentationScope(name=scope), log_records=records)]
            )
        ]
    )


def record(body: Any = "payment 42 failed", severity: int = 17, **attributes: Any) -> LogRecord:
    return LogRecord(
        time_unix_nano=T,
        severity_number=severity,  # type: ignore[arg-type]
        severity_text="ERROR",
        body=any_value(body),
        attributes=attrs(**attributes),
        trace_id=TRACE,
        span_id=SPAN,
    )


def sent(backend: Backend) -> list[dict[str, Any]]:
    assert backend.sink is not None
    return [json.loads(line) for line in backend.sink.lines]


def answer(response: Any) -> ExportLogsServiceResponse:
    parsed = ExportLogsServiceResponse()
    parsed.ParseFromString(response.content)
    return parsed


def test_a_record_becomes_the_event_a_json_logger_would_write(memory_backend: Backend) -> None:
    body = export(
        record(exception__type="ValueError", exception__message="bad amount", exception__stacktrace="Traceback..."),
        scope="shop.payments",
    )
    r = memory_backend.post(path="/v1/logs", content=body.SerializeToString(), headers=PROTOBUF)
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-protobuf"
    assert not answer(r).HasField("partial_success")
    (event,) = sent(memory_backend)
    assert event["service"] == {"name": "checkout", "version": "2.1.0", "environment": "prod"}
    assert (event["message"], event["level"], event["log.logger"]) == ("payment 42 failed", "error", "shop.payments")
    assert event["@timestamp"] == "2026-03-01T09:30:06.123456Z"
    assert (event["trace.id"], event["span.id"]) == (TRACE.hex(), SPAN.hex())
    assert (event["error.type"], event["error.message"]) == ("ValueError", "bad amount")
    assert event["error.stack_trace"] == "Traceback..."
    made = uuid.UUID(event["event"]["id"])  # time-ordered, from the record's own time (logplatform/event_ids.py)
    assert made.version == 7 and int.from_bytes(made.bytes[:6], "big") == T // 1_000_000


def test_otlp_json_with_hex_ids_and_a_structured_body(memory_backend: Backend) -> None:
    """OTLP/JSON as the specification writes it (hex trace ids, lowerCamelCase, enums as numbers); a map body
    keeps its keys as the event's fields, its message as the message."""
    body = json_format.MessageToDict(export(record(body={"message": "order shipped", "order__id": "o-7"})))
    log_record = body["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    log_record["traceId"], log_record["spanId"] = TRACE.hex(), SPAN.hex()  # OTLP/JSON: hex, not base64
    r = memory_backend.post(body, path="/v1/logs")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json", r.text
    (event,) = sent(memory_backend)
    assert event["message"] == "order shipped" and event["order.id"] == "o-7"
    assert event["trace.id"] == TRACE.hex()


def test_severity_numbers_become_our_levels(memory_backend: Backend) -> None:
    numbers = [1, 5, 9, 13, 17, 21, 24]
    body = export(*(record(severity=n) for n in numbers))
    assert memory_backend.post(path="/v1/logs", content=body.SerializeToString(), headers=PROTOBUF).status_code == 200
    assert [e["level"] for e in sent(memory_backend)] == [
        "trace", "debug", "info", "warning", "error", "critical", "critical",
    ]  # fmt: skip


def test_a_bad_record_is_counted_in_partial_success_and_the_others_delivered(memory_backend: Backend) -> None:
    body = export(record(body="fine"), record(body="bell \x07 in the message"))
    r = memory_backend.post(path="/v1/logs", content=gzip.compress(body.SerializeToString()),
                            headers={**PROTOBUF, "Content-Encoding": "gzip"})  # fmt: skip
    assert r.status_code == 200
    partial = answer(r).partial_success
    assert partial.rejected_log_records == 1 and "record 1: message control character U+0007" in partial.error_message
    assert [e["message"] for e in sent(memory_backend)] == ["fine"]


@pytest.mark.parametrize(
    ("content", "headers", "status", "field"),
    [
        (b"\x0a\x05garbage", PROTOBUF, 400, "body"),
        (b"{not json", {"Content-Type": "application/json"}, 400, "body"),
        (b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "zz"}]}]}]}',
         {"Content-Type": "application/json"}, 400, "body"),
        (b"x", {"Content-Type": "text/plain"}, 415, "content-type"),
        (b"x" * (5 * 1024 * 1024 + 1), PROTOBUF, 413, "body"),
    ],
)  # fmt: skip
def test_a_body_that_is_not_otlp_logs_gets_a_clear_4xx(
    memory_backend: Backend, content: bytes, headers: dict[str, str], status: int, field: str
) -> None:
    r = memory_backend.post(path="/v1/logs", content=content, headers=headers)
    assert (r.status_code, r.json()["field"]) == (status, field), r.text
    assert r.json()["reason"]
    assert sent(memory_backend) == []


def test_otlp_needs_an_api_key(memory_backend: Backend) -> None:
    r = memory_backend.post(path="/v1/logs", content=export(record()).SerializeToString(), headers=PROTOBUF, key="")
    assert r.status_code == 401


# --- on the engine ---------------------------------------------------------------------------------------


def documents(engine: SearchEngine, data_stream: str) -> list[dict[str, Any]]:
    engine.refresh(data_stream)
    return every_document(engine.cluster, data_stream)


@pytest.mark.engine
def test_the_same_event_over_otlp_and_post_logs_is_one_document(
    installed: SearchEngine, backend: Backend, data_stream: str
) -> None:
    """Where the two carry the same information, they become the same document."""
    otlp = export(record(body="payment 42 failed", user__id="u-1", http__response__status_code=502))
    assert backend.post(path="/v1/logs", content=otlp.SerializeToString(), headers=PROTOBUF).status_code == 200
    same = {
        "@timestamp": "2026-03-01T09:30:06.123456Z",
        "service": {"name": "checkout", "version": "2.1.0", "environment": "prod"},
        "level": "error",
        "message": "payment 42 failed",
        "trace": {"id": TRACE.hex()},
        "span": {"id": SPAN.hex()},
        "user": {"id": "u-1"},
        "http": {"response": {"status_code": 502}},
    }
    assert backend.post(same).status_code == 200
    first, second = sorted(documents(installed, data_stream), key=lambda d: d["event"]["id"])
    differ = ("_id", "event", "logplatform")  # its own id (and the pattern id's neighbours), the ingest time
    assert {k: v for k, v in first.items() if k not in differ} == {k: v for k, v in second.items() if k not in differ}
    assert first["logplatform"]["pattern"] == second["logplatform"]["pattern"]


@pytest.mark.engine
def test_an_exporters_retry_is_indexed_once(installed: SearchEngine, backend: Backend, data_stream: str) -> None:
    body = export(record(body="sent twice"), record(body="also twice")).SerializeToString()
    for _ in range(2):
        assert backend.post(path="/v1/logs", content=body, headers=PROTOBUF).status_code == 200
    assert sorted(d["message"] for d in documents(installed, data_stream)) == ["also twice", "sent twice"]


def readme_otel_settings() -> dict[str, str]:
    """The README's OpenTelemetry block: the variables a user sets on their service, as printed."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = re.search(r"```ini\n(OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=.*?)```", text, re.S)
    assert block, "README: the OpenTelemetry block is gone"
    return dict(line.split("=", 1) for line in block.group(1).splitlines() if line)


@pytest.mark.engine
def test_the_opentelemetry_python_sdk_exports_through_the_backend(
    installed: SearchEngine, data_stream: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK's own OTLP/HTTP exporter, configured only by the README's environment variables (the backend's
    address and a real key put in), its logging handler and a span: what a Python service does."""
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource as SdkResource
    from opentelemetry.sdk.trace import TracerProvider

    backend = BackendProcess(tmp_path, installed.client_url, tmp_path / "volume", data_stream)
    backend.start()
    try:
        for name, value in readme_otel_settings().items():
            value = value.replace("http://localhost:8000", backend.url)
            monkeypatch.setenv(name, value.replace("<the key from logplatform apikey create>", backend.key))
        resource = SdkResource.create({"service.version": "0.9.1"})  # OTEL_SERVICE_NAME names the service
        provider = LoggerProvider(resource=resource)
        provider.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter()))
        logger = logging.getLogger("sdk.test")
        logger.propagate = False
        logger.setLevel(logging.INFO)
        logger.addHandler(LoggingHandler(level=logging.INFO, logger_provider=provider))
        tracer = TracerProvider(resource=resource).get_tracer("sdk.test")
        with tracer.start_as_current_span("charge") as span:
            logger.warning("card declined for order %s", 1234)
            try:
                raise ValueError("amount must be positive")
            except ValueError:
                logger.exception("charge failed")
        provider.force_flush()
        provider.shutdown()
        trace_id = format(span.get_span_context().trace_id, "032x")
        docs = at_least(installed.cluster, data_stream, 2)
    finally:
        backend.stop()
    by_message = {d["message"]: d for d in docs}
    declined = by_message["card declined for order 1234"]
    assert declined["service"]["name"] == "my-service" and declined["service"]["version"] == "0.9.1"
    assert declined["log"]["level"] == "warning" and declined["trace"]["id"] == trace_id
    failed = by_message["charge failed"]
    assert failed["log"]["level"] == "error" and failed["error"]["type"] == "ValueError"
    assert failed["error"]["message"] == "amount must be positive" and "Traceback" in failed["error"]["stack_trace"]
    assert failed["logplatform"]["pattern"]["text"] == "charge failed"


def node_client() -> Path:
    """tests/backend/otel_js installed once per package-lock.json (npm ci) in the cache, with its script."""
    source = Path(__file__).parent / "otel_js"
    lock = (source / "package-lock.json").read_bytes()
    home = Path.home() / ".cache" / "logplatform" / f"otel-js-{hashlib.sha256(lock).hexdigest()[:12]}"
    if not (home / "node_modules" / ".package-lock.json").exists():
        home.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(source / name, home / name)
        run(["npm", "ci", "--no-audit", "--no-fund"], cwd=home, timeout=600)
    shutil.copy(source / "send.mjs", home / "send.mjs")
    return home


@pytest.mark.engine
@pytest.mark.parametrize("protocol", ["json", "protobuf"])
def test_the_opentelemetry_js_sdk_exports_through_the_backend(
    installed: SearchEngine, data_stream: str, tmp_path: Path, protocol: str
) -> None:
    """@opentelemetry/sdk-logs with its OTLP/HTTP exporters (exporter-logs-otlp-http: JSON, -proto: protobuf),
    run by Node: a Node service's logs, unchanged, in the data stream."""
    home = node_client()
    backend = BackendProcess(tmp_path, installed.client_url, tmp_path / "volume", data_stream)
    backend.start()
    try:
        env = {**os.environ, "PROTOCOL": protocol, "ENDPOINT": f"{backend.url}/v1/logs", "API_KEY": backend.key}
        run(["node", "send.mjs"], cwd=home, env=env, timeout=120)
        docs = at_least(installed.cluster, data_stream, 2)
    finally:
        backend.stop()
    by_message = {d["message"]: d for d in docs}
    failed = by_message[f"checkout failed over {protocol}"]
    assert failed["service"] == {"name": "node-shop", "version": "3.2.1"}
    assert (failed["log"]["level"], failed["log"]["logger"]) == ("error", "shop.cart")
    assert failed["user"]["id"] == "u-7" and failed["error"]["type"] == "TypeError"
    assert failed["http"]["response"]["status_code"] == 500
    structured = by_message[f"structured body over {protocol}"]
    assert structured["log"]["level"] == "info"
    assert structured["logplatform"]["extra"]["order"] == {"id": "o-9"}  # the body's other keys, kept (step 6)
