"""HTTP ingest on real traffic: events/s and latency of every design, side by side in one run, same engine and pipeline.

Corpora (bench/corpus.py): the generator's events and the same events as five popular JSON loggers send them; the
seed's toy event as a secondary table. For each corpus:

  (a) naive: one Elasticsearch index call per HTTP request (bench/naive_backend.py)
  (b) ours, one event per POST /logs; the peer (Filebeat's http_endpoint input, bench/http_peer.py) the same way
  (c) ours, batches of --batch: JSON arrays, NDJSON, and OTLP/HTTP protobuf (POST /v1/logs, the events as an
      OpenTelemetry SDK's exporter sends them); the peer with the same JSON arrays
  (d) the ceiling: raw _bulk of the same lines into the engine with the same pipeline (directly, and through the
      test compatibility proxy the backend and the peer have to use here); and through the proxy with an event.id
      in each line that has none, as our backend gives it (the engine's cost of exactly-once: the loggers' lines
      have no id, so their raw _bulk and the peer's are indexed under the engine's own ids)

Every client waits for its answer, which comes once Elasticsearch acknowledged the events (the peer is asked to wait
for it too). Then, on the generator's events: ours with a sink that acknowledges at once (the HTTP layer's ceiling),
and single events paced at half of the maximum rate measured above, open loop (latency from the moment a request was
due, so a slow answer does not hide the requests queued behind it), ours and the peer's. Every row starts once the
engine has settled (no merge running, under a tenth of a core busy: the rows before leave it millions of documents
to merge, which is their load, not this row's). The backend's and the
peer's peak memory (RSS) is sampled through every row, and the CPU time each process spent for an event (the
backend, the peer, the naive design, the proxy, the engine, and the load generator: "clients") is counted per row.

Usage: .venv/bin/python -m bench.backend_ingest [--seconds 10] [--events 50000]
Writes bench/results/backend-ingest-<date>.json and prints the tables for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.corpus import http_corpus, with_event_id
from bench.http_peer import HttpPeer
from bench.record import record
from bench.stack import BenchStack, wait_http
from logplatform import names
from logplatform.cluster import Cluster
from logplatform.event_ids import new_event_id
from tests.engine.engine import free_port

SINGLE_CLIENTS = 32
BATCH_CLIENTS = 4
WARM_UP_S = 30
RAW_STREAM = "logs-logplatform-raw"
NAIVE_STREAM = "logs-logplatform-naive"
_ID = '"id":"'


class Traffic:
    """The corpus's lines in turn, each with a fresh event.id where the line has one (so every send is a new event,
    however often the corpus comes round); a line without one gets it from the backend, or none (the engine's)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.cycle = itertools.cycle(lines)
        self.mean_bytes = round(sum(len(line.encode()) for line in lines) / len(lines))

    def line(self) -> str:
        line = next(self.cycle)
        at = line.find(_ID)
        if at < 0:
            return line
        at += len(_ID)
        return line[:at] + new_event_id() + line[line.index('"', at) :]

    def single(self) -> bytes:
        return self.line().encode()

    def array(self, n: int) -> bytes:
        return ("[" + ",".join(self.line() for _ in range(n)) + "]").encode()

    def ndjson(self, n: int) -> bytes:
        return "\n".join(self.line() for _ in range(n)).encode()

    def bulk(self, n: int, data_stream: str, ids: bool = False) -> bytes:
        """n lines as a raw `_bulk`; `ids`: each line without an event.id given one, as our backend does (what
        exactly-once costs the engine: it looks every explicit id up, bench/document_ids.py)."""
        action = json.dumps({"create": {"_index": data_stream}})
        lines = (self.line() for _ in range(n))
        if ids:
            lines = (line if _ID in line else with_event_id(line, new_event_id()) for line in lines)
        return "".join(f"{action}\n{json.dumps({'message': line})}\n" for line in lines).encode()

    def otlp_pool(self, n: int, bodies: int = 16) -> Iterator[bytes]:
        """OTLP bodies of n events (built ahead: protobuf in Python is slower than the backend decoding it); the
        records have no event.id, so the backend gives each a new one and a repeated body is new events."""
        pool = [otlp_body([json.loads(self.line()) for _ in range(n)]) for _ in range(bodies)]
        return itertools.cycle(pool)


def otlp_body(events: list[dict[str, Any]]) -> bytes:
    """Events as an OpenTelemetry SDK's exporter sends them: the service as the resource's service.name, the message
    as the body, the level as severity text, the time in nanoseconds, every other field an attribute by its dotted
    name."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource

    def value(v: Any) -> AnyValue:
        if isinstance(v, bool):
            return AnyValue(bool_value=v)
        if isinstance(v, int):
            return AnyValue(int_value=v)
        if isinstance(v, float):
            return AnyValue(double_value=v)
        return AnyValue(string_value=v if isinstance(v, str) else json.dumps(v))

    def flat(prefix: str, obj: dict[str, Any]) -> Iterator[KeyValue]:
        for k, v in obj.items():
            if isinstance(v, dict):
                yield from flat(f"{prefix}{k}.", v)
            else:
                yield KeyValue(key=prefix + k, value=value(v))

    by_service: dict[str, list[LogRecord]] = {}
    for event in events:
        event = dict(event)
        service = event.pop("service")
        message = event.pop("message")
        level = event.pop("level", None)
        stamp = event.pop("@timestamp", None)
        nanos = time.time_ns()
        if isinstance(stamp, str):
            nanos = int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1e9)
        by_service.setdefault(service if isinstance(service, str) else service["name"], []).append(
            LogRecord(
                time_unix_nano=nanos,
                severity_text=str(level or ""),
                body=AnyValue(string_value=str(message)),
                attributes=list(flat("", event)),
            )
        )
    request = ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value=name))]),
                scope_logs=[ScopeLogs(log_records=records)],
            )
            for name, records in by_service.items()
        ]
    )
    return request.SerializeToString()


def _summary(latencies: list[float], sent: int, errors: int, elapsed: float) -> dict[str, Any]:
    latencies.sort()
    return {
        "events": sent,
        "events_per_s": round(sent / elapsed),
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
    }


async def _post(session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]) -> bool:
    async with session.post(url, data=body, headers=headers) as resp:
        payload = await resp.read()
        return resp.status in (200, 201) and b'"errors":true' not in payload


async def drive(
    url: str, make_body: Callable[[], bytes], headers: dict[str, str], per_request: int, seconds: float, clients: int
) -> dict[str, Any]:
    """Closed loop: `clients` clients, each sending its next request once the last is answered."""
    latencies: list[float] = []
    sent = errors = 0
    stop_at = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as session:

        async def client() -> None:
            nonlocal sent, errors
            while time.monotonic() < stop_at:
                body = make_body()
                t0 = time.perf_counter()
                ok = await _post(session, url, body, headers)
                latencies.append(time.perf_counter() - t0)
                if ok:
                    sent += per_request
                else:
                    errors += 1

        started = time.monotonic()
        await asyncio.gather(*(client() for _ in range(clients)))
        return _summary(latencies, sent, errors, time.monotonic() - started)


async def paced(
    url: str, make_body: Callable[[], bytes], headers: dict[str, str], rate: float, seconds: float
) -> dict[str, Any]:
    """Open loop: one request due every 1/rate s whatever the answers; latency counted from when it was due."""
    latencies: list[float] = []
    sent = errors = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(due: float, body: bytes) -> None:
            nonlocal sent, errors
            ok = await _post(session, url, body, headers)
            latencies.append(time.perf_counter() - due)
            sent += ok
            errors += not ok

        started = time.perf_counter()
        tasks = []
        for i in range(int(rate * seconds)):
            due = started + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(one(due, make_body())))
        await asyncio.gather(*tasks)
        return {"rate": round(rate), **_summary(latencies, sent, errors, time.perf_counter() - started)}


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User and system CPU time each process has used so far (/proc/<pid>/stat, fields 14 and 15)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for name, pid in pids.items():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        out[name] = (int(fields[11]) + int(fields[12])) / tick
    return out


def settle(cluster: Cluster, engine_pid: int, timeout: float = 180) -> float:
    """Waits until the engine has no merge running and spent under a tenth of a core over the last second (the
    rows before leave it documents to merge, on the cores the next row needs); the seconds it waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = cpu_seconds({"engine": engine_pid})["engine"]
        time.sleep(1)
        idle = cpu_seconds({"engine": engine_pid})["engine"] - before < 0.1
        nodes = cluster.ok("GET", "/_nodes/stats/indices/merge")["nodes"].values()
        if idle and all(node["indices"]["merges"]["current"] == 0 for node in nodes):
            break
    return round(time.monotonic() - started, 1)


class PeakRss:
    """The highest resident memory of some processes, sampled every 0.2 s, reset per row."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.peak = dict.fromkeys(pids, 0)
        self._stop = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            for name, pid in self.pids.items():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                kb = int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])
                self.peak[name] = max(self.peak[name], kb // 1024)

    def take(self) -> dict[str, int]:
        out, self.peak = self.peak, dict.fromkeys(self.pids, 0)
        return out

    def stop(self) -> None:
        self._stop.set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--events", type=int, default=50000, help="distinct events in each corpus")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lp-bench-"))
    corpora = {name: Traffic(http_corpus(name, args.events, work)) for name in ("generator", "loggers", "toy")}
    stack = BenchStack(work, "logs-logplatform-bench").start()
    peer: HttpPeer | None = None
    try:
        backend, backend_proc = stack.backend(work / "logs")
        naive_port = free_port()
        naive_args = ["-m", "uvicorn", "bench.naive_backend:app", "--port", str(naive_port), "--log-level", "warning"]
        naive_env = {"NAIVE_ES_URL": stack.proxy_url, "NAIVE_DATA_STREAM": NAIVE_STREAM}
        naive_proc = stack.spawn([sys.executable, *naive_args], naive_env)
        naive = f"http://127.0.0.1:{naive_port}/logs"
        wait_http(f"http://127.0.0.1:{naive_port}/docs")
        peer = HttpPeer(stack.proxy_url, free_port()).start()
        assert peer.proc is not None
        peer_url = peer.url
        rss = PeakRss({"backend": backend_proc.pid, "peer": peer.proc.pid})
        assert stack.engine.proc is not None
        # CPU per event of each process a row's events pass through: which design spends what beside the engine
        busy = {"backend": backend_proc.pid, "peer": peer.proc.pid, "naive": naive_proc.pid, "proxy": stack.proxy.pid}
        busy |= {"engine": stack.engine.proc.pid, "clients": os.getpid()}
        auth = {"X-API-Key": stack.key}
        json_h = {"Content-Type": "application/json"}
        ndjson_h = {"Content-Type": "application/x-ndjson"}
        n, s = args.batch, args.seconds
        bulk_urls = {"direct": stack.engine.url, "via_proxy": stack.proxy_url}

        def raw_bulk(t: Traffic, base: str, seconds: float, ids: bool = False) -> Coroutine[Any, Any, dict[str, Any]]:
            return drive(
                f"{base}/_bulk?pipeline={names.PIPELINE}", lambda: t.bulk(n, RAW_STREAM, ids), ndjson_h, n, seconds, 4
            )

        def rows(t: Traffic, full: bool) -> dict[str, Callable[[], Coroutine[Any, Any, dict[str, Any]]]]:
            out: dict[str, Callable[[], Coroutine[Any, Any, dict[str, Any]]]] = {
                "a_naive_single": lambda: drive(naive, t.single, json_h, 1, s, SINGLE_CLIENTS),
                "b_ours_single": lambda: drive(f"{backend}/logs", t.single, {**json_h, **auth}, 1, s, SINGLE_CLIENTS),
                "b_peer_single": lambda: drive(peer_url, t.single, json_h, 1, s, SINGLE_CLIENTS),
                "c_ours_json_batch": lambda: drive(
                    f"{backend}/logs", lambda: t.array(n), {**json_h, **auth}, n, s, BATCH_CLIENTS
                ),
                "c_ours_ndjson_batch": lambda: drive(
                    f"{backend}/logs/ndjson", lambda: t.ndjson(n), {**ndjson_h, **auth}, n, s, BATCH_CLIENTS
                ),
                "c_peer_json_batch": lambda: drive(peer_url, lambda: t.array(n), json_h, n, s, BATCH_CLIENTS),
            }
            if full:
                pool = t.otlp_pool(n)
                otlp_h = {"Content-Type": "application/x-protobuf", **auth}
                out["c_ours_otlp_protobuf_batch"] = lambda: drive(
                    f"{backend}/v1/logs", lambda: next(pool), otlp_h, n, s, BATCH_CLIENTS
                )
            for where, base in bulk_urls.items():
                out[f"d_raw_bulk_{where}"] = lambda base=base: raw_bulk(t, base, s)  # type: ignore[misc]
            out["d_raw_bulk_via_proxy_with_event_ids"] = lambda: raw_bulk(t, stack.proxy_url, s, ids=True)
            return out

        def measured(rows: dict[str, Any], name: str, run: Callable[[], Coroutine[Any, Any, dict[str, Any]]]) -> None:
            # every row starts on a settled engine: it measures its own load, not the merges the rows before it
            # left behind (which, in a fixed order, would weigh on the same rows in every run)
            settled = settle(stack.cluster, stack.engine.proc.pid)
            rss.take()
            before = cpu_seconds(busy)
            row = asyncio.run(run())
            after = cpu_seconds(busy)
            row["peak_rss_mb"] = rss.take()
            used = {who: (after[who] - before[who]) * 1e6 / max(row["events"], 1) for who in busy}
            row["cpu_us_per_event"] = {who: round(micros, 1) for who, micros in used.items() if micros >= 0.5}
            row["engine_settled_s"] = settled
            rows[name] = row
            print(f"  {name:28} {row}", flush=True)

        # warm-up: the engine's first hundred thousand events run at half its pace (its JIT), and whichever row
        # came first would pay for it; then each HTTP server once
        warm = corpora["generator"]
        asyncio.run(raw_bulk(warm, stack.engine.url, WARM_UP_S))
        for url, headers in ((f"{backend}/logs", {**json_h, **auth}), (peer_url, json_h), (naive, json_h)):
            asyncio.run(drive(url, warm.single, headers, 1, 3, SINGLE_CLIENTS))
        results: dict[str, Any] = {}
        for corpus, traffic in corpora.items():
            print(f"== {corpus}: mean event {traffic.mean_bytes} bytes", flush=True)
            results[corpus] = {"mean_event_bytes": traffic.mean_bytes, "rows": {}}
            for name, run in rows(traffic, full=corpus != "toy").items():
                measured(results[corpus]["rows"], name, run)

        generator = corpora["generator"]
        rows_g = results["generator"]["rows"]
        memory, _ = stack.backend(work / "logs", module="bench.memory_backend")
        half = rows_g["b_ours_single"]["events_per_s"] / 2
        extra = {
            "b_ours_single_acknowledging_sink": lambda: drive(
                f"{memory}/logs", generator.single, {**json_h, **auth}, 1, s, SINGLE_CLIENTS
            ),
            "b_ours_single_at_half_max": lambda: paced(
                f"{backend}/logs", generator.single, {**json_h, **auth}, half, s
            ),
            "b_ours_single_at_half_max_acknowledging_sink": lambda: paced(
                f"{memory}/logs", generator.single, {**json_h, **auth}, half, s
            ),
            "b_peer_single_at_half_max": lambda: paced(
                peer_url, generator.single, json_h, rows_g["b_peer_single"]["events_per_s"] / 2, s
            ),
        }
        for name, run in extra.items():
            measured(rows_g, name, run)
        rss.stop()

        ratios = {}
        for corpus in ("generator", "loggers"):
            r = results[corpus]["rows"]
            eps = {name: row["events_per_s"] for name, row in r.items()}
            ratios[corpus] = {
                "ndjson_batch_vs_raw_bulk_via_proxy": round(
                    eps["c_ours_ndjson_batch"] / eps["d_raw_bulk_via_proxy"], 3
                ),
                "ndjson_batch_vs_raw_bulk_direct": round(eps["c_ours_ndjson_batch"] / eps["d_raw_bulk_direct"], 3),
                "ndjson_batch_vs_raw_bulk_with_event_ids_via_proxy": round(
                    eps["c_ours_ndjson_batch"] / eps["d_raw_bulk_via_proxy_with_event_ids"], 3
                ),
                "json_batch_vs_peer_batch": round(eps["c_ours_json_batch"] / eps["c_peer_json_batch"], 3),
                "ndjson_batch_vs_peer_batch": round(eps["c_ours_ndjson_batch"] / eps["c_peer_json_batch"], 3),
                "single_vs_peer_single": round(eps["b_ours_single"] / eps["b_peer_single"], 3),
                "single_vs_naive": round(eps["b_ours_single"] / max(eps["a_naive_single"], 1), 2),
                "otlp_vs_ndjson_batch": round(eps["c_ours_otlp_protobuf_batch"] / eps["c_ours_ndjson_batch"], 3),
            }
        ratios["generator"]["single_vs_acknowledging_sink"] = round(
            rows_g["b_ours_single"]["events_per_s"] / rows_g["b_ours_single_acknowledging_sink"]["events_per_s"], 3
        )
        print("ratios", json.dumps(ratios, indent=1))
        record("backend_ingest", "bench.backend_ingest", settings=vars(args), results=results, ratios=ratios)
    finally:
        if peer is not None:
            peer.stop()
        stack.stop()


if __name__ == "__main__":
    main()
