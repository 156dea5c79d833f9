"""Backend ingest benchmark: events/s and request latency, side by side in one run, same engine and pipeline.

  (a) naive: one Elasticsearch index call per HTTP request (bench/naive_backend.py)
  (b) ours, single event per POST /logs
  (c) ours, batches: JSON arrays and NDJSON, and the same events as OpenTelemetry log records (OTLP/HTTP protobuf,
      POST /v1/logs), as an OpenTelemetry SDK's exporter sends them
  (d) the ceiling: raw _bulk into the engine with the same pipeline, no HTTP hop of ours
      (directly, and through the test compatibility proxy the backend has to use here)

Usage: .venv/bin/python -m bench.backend_ingest [--seconds 10] [--concurrency 32]
Writes bench/results/backend-ingest-<date>.json and prints the table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

from bench.record import record
from logplatform import assets
from logplatform.api_keys import KeyStore
from logplatform.cluster import Cluster
from tests.engine.engine import TestEngine, free_port

ROOT = Path(__file__).resolve().parent.parent
EVENT = {
    "service": "auth-service",
    "level": "ERROR",
    "message": "Login failed",
    "meta": {"user_id": 123, "ip": "1.1.1.1", "device": "mobile"},
}


def wait_http(url: str, timeout: float = 30) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        args, env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def drive(
    url: str, make_body, headers: dict[str, str], events_per_request: int, seconds: float, concurrency: int
) -> dict:
    latencies: list[float] = []
    sent = 0
    errors = 0
    stop_at = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal sent, errors
            while time.monotonic() < stop_at:
                body = make_body()
                t0 = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as resp:
                    payload = await resp.read()
                    ok = resp.status in (200, 201)
                    if ok and b'"errors":true' in payload:
                        ok = False
                latencies.append(time.perf_counter() - t0)
                if ok:
                    sent += events_per_request
                else:
                    errors += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "events_per_s": round(sent / elapsed),
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
    }


def event_line() -> bytes:
    return json.dumps({**EVENT, "event": {"id": str(uuid.uuid4())}}).encode()


def otlp_body(n: int) -> bytes:
    """n of the same events as OTLP log records: the seed's meta as attributes, one unique attribute each (as
    event.id makes each JSON event unique)."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource

    def attribute(key: str, value: object) -> KeyValue:
        any_value = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=str(value))
        return KeyValue(key=key, value=any_value)

    now = time.time_ns()
    meta = [attribute(k, v) for k, v in EVENT["meta"].items()]  # type: ignore[attr-defined]
    records = [
        LogRecord(
            time_unix_nano=now + i,
            severity_number=17,  # type: ignore[arg-type]
            body=AnyValue(string_value=str(EVENT["message"])),
            attributes=[*meta, attribute("request.id", uuid.uuid4().hex)],
        )
        for i in range(n)
    ]
    resource = Resource(attributes=[attribute("service.name", EVENT["service"])])
    request = ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(resource=resource, scope_logs=[ScopeLogs(log_records=records)])]
    )
    return request.SerializeToString()


def bulk_body(n: int, data_stream: str) -> bytes:
    action = json.dumps({"create": {"_index": data_stream}})
    lines = []
    for _ in range(n):
        lines.append(action)
        lines.append(json.dumps({"message": event_line().decode()}))
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lp-bench-"))
    engine = TestEngine(heap="2g")
    engine.start()
    procs: list[subprocess.Popen] = []
    try:
        assets.install(Cluster(engine.url), "opensearch")
        proxy_port, backend_port, naive_port = free_port(), free_port(), free_port()
        proxy_url = f"http://127.0.0.1:{proxy_port}"
        # the proxy in a process of its own (not bench.engine's in-process one): its CPU must not share this
        # process's interpreter with the load it measures
        procs.append(spawn([sys.executable, "-m", "tests.support.es_compat_proxy", engine.url, str(proxy_port)], {}))
        wait_http(proxy_url)
        keys = work / "keys.json"
        key = KeyStore(keys).create("bench")
        procs.append(
            spawn(
                [sys.executable, "-m", "backend"],
                {
                    "LOGPLATFORM_ELASTICSEARCH_URL": proxy_url,
                    "LOGPLATFORM_DATA_STREAM": "logs-logplatform-bench",
                    "LOGPLATFORM_LOG_DIR": str(work / "logs"),
                    "LOGPLATFORM_API_KEYS_FILE": str(keys),
                    "LOGPLATFORM_PORT": str(backend_port),
                    "LOGPLATFORM_LOG_LEVEL": "WARNING",
                },
            )
        )
        procs.append(
            spawn(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "bench.naive_backend:app",
                    "--port",
                    str(naive_port),
                    "--log-level",
                    "warning",
                ],
                {"NAIVE_ES_URL": proxy_url, "NAIVE_DATA_STREAM": "logs-logplatform-naive"},
            )
        )
        backend = f"http://127.0.0.1:{backend_port}"
        wait_http(f"{backend}/healthz")
        wait_http(f"http://127.0.0.1:{naive_port}/docs")
        auth = {"X-API-Key": key}
        jh = {"Content-Type": "application/json"}
        n = args.batch
        c = args.concurrency
        scenarios = {
            "a_naive_single": lambda: drive(f"http://127.0.0.1:{naive_port}/logs", event_line, jh, 1, args.seconds, c),
            "b_ours_single": lambda: drive(f"{backend}/logs", event_line, {**jh, **auth}, 1, args.seconds, c),
            "c_ours_json_batch": lambda: drive(
                f"{backend}/logs",
                lambda: b"[" + b",".join(event_line() for _ in range(n)) + b"]",
                {**jh, **auth},
                n,
                args.seconds,
                4,
            ),
            "c_ours_ndjson_batch": lambda: drive(
                f"{backend}/logs/ndjson",
                lambda: b"\n".join(event_line() for _ in range(n)),
                {"Content-Type": "application/x-ndjson", **auth},
                n,
                args.seconds,
                4,
            ),
            "c_ours_otlp_protobuf_batch": lambda: drive(
                f"{backend}/v1/logs",
                lambda: otlp_body(n),
                {"Content-Type": "application/x-protobuf", **auth},
                n,
                args.seconds,
                4,
            ),
            "d_raw_bulk_direct": lambda: drive(
                f"{engine.url}/_bulk?pipeline=logs-logplatform",
                lambda: bulk_body(n, "logs-logplatform-raw"),
                {"Content-Type": "application/x-ndjson"},
                n,
                args.seconds,
                4,
            ),
            "d_raw_bulk_via_proxy": lambda: drive(
                f"{proxy_url}/_bulk?pipeline=logs-logplatform",
                lambda: bulk_body(n, "logs-logplatform-raw"),
                {"Content-Type": "application/x-ndjson"},
                n,
                args.seconds,
                4,
            ),
        }
        results = {}
        for name, run in scenarios.items():
            asyncio.run(drive(backend + "/logs", event_line, {**jh, **auth}, 1, 1, 4))  # warm-up
            results[name] = asyncio.run(run())
            print(f"{name:24} {results[name]}", flush=True)
        ceiling = results["d_raw_bulk_direct"]["events_per_s"]
        ratios = {
            "batch_json_vs_raw_bulk": round(results["c_ours_json_batch"]["events_per_s"] / ceiling, 3),
            "batch_ndjson_vs_raw_bulk": round(results["c_ours_ndjson_batch"]["events_per_s"] / ceiling, 3),
            "batch_ndjson_vs_raw_bulk_via_proxy": round(
                results["c_ours_ndjson_batch"]["events_per_s"] / results["d_raw_bulk_via_proxy"]["events_per_s"], 3
            ),
            "batch_otlp_protobuf_vs_ndjson": round(
                results["c_ours_otlp_protobuf_batch"]["events_per_s"] / results["c_ours_ndjson_batch"]["events_per_s"],
                3,
            ),
            "single_vs_naive": round(
                results["b_ours_single"]["events_per_s"] / max(results["a_naive_single"]["events_per_s"], 1), 2
            ),
        }
        print("ratios", ratios)
        record("backend_ingest", "bench.backend_ingest", settings=vars(args), results=results, ratios=ratios)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        engine.cleanup()


if __name__ == "__main__":
    main()
