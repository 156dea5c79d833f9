"""Export: `logplatform export` of every event (through the backend, cursor pages of 500) and the backend's streamed
`GET /logs/export` (a point in time, search_after, 1,000 a page) beside a raw scroll and a raw point-in-time
search_after of the same events straight from the engine, in one run: events/s of each, and the peak memory of the
CLI and of the backend (the point: it stays flat however many events go through).

Usage: .venv/bin/python -m bench.export_rate [--events 1000000]
Writes bench/results/export-<date>.json and prints the numbers for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.engine import installed_engine
from bench.record import record
from logplatform.cluster import Cluster
from tests.support.backend_process import BackendProcess

STREAM = "logs-logplatform-exportbench"
REPO = Path(__file__).resolve().parent.parent


def fill(cluster: Cluster, events: int) -> float:
    """events generator-like events through the pipeline; returns the seconds it took."""
    started = time.perf_counter()
    action = json.dumps({"create": {"_index": STREAM}})
    for first in range(0, events, 5000):
        lines = []
        for i in range(first, min(first + 5000, events)):
            event = {
                "@timestamp": f"2026-03-01T{i // 3_600_000 % 24:02d}:{i // 60_000 % 60:02d}:{i // 1000 % 60:02d}."
                f"{i % 1000:03d}Z",
                "service": f"svc-{i % 7}",
                "level": "error" if i % 20 == 0 else "info",
                "message": f"request {i} handled in {i % 900} ms",
                "meta": {"user_id": i % 5000, "ip": f"10.0.{i % 250}.{i % 200 + 1}"},
            }
            lines += [action, json.dumps({"message": json.dumps(event)})]
        answer = cluster.ok("POST", "/_bulk?pipeline=logs-logplatform", "\n".join(lines) + "\n")
        assert not answer["errors"]
    cluster.ok("POST", f"/{STREAM}/_refresh")
    return time.perf_counter() - started


def raw_scroll(cluster: Cluster) -> tuple[int, float]:
    started = time.perf_counter()
    page = cluster.ok("POST", f"/{STREAM}/_search?scroll=2m", {"size": 5000, "sort": ["_doc"]})
    seen = 0
    while page["hits"]["hits"]:
        seen += len(page["hits"]["hits"])
        page = cluster.ok("POST", "/_search/scroll", {"scroll": "2m", "scroll_id": page["_scroll_id"]})
    cluster.request("DELETE", "/_search/scroll", {"scroll_id": page["_scroll_id"]})
    return seen, time.perf_counter() - started


def raw_point_in_time(cluster: Cluster) -> tuple[int, float]:
    """search_after over a point in time, 5,000 a page (OpenSearch's names for opening and closing one)."""
    started = time.perf_counter()
    pit = cluster.ok("POST", f"/{STREAM}/_search/point_in_time?keep_alive=2m")["pit_id"]
    body: dict = {"size": 5000, "pit": {"id": pit, "keep_alive": "2m"}, "sort": [{"_shard_doc": "asc"}]}
    seen = 0
    while hits := cluster.ok("POST", "/_search", body)["hits"]["hits"]:
        seen += len(hits)
        body["search_after"] = hits[-1]["sort"]
    cluster.request("DELETE", "/_search/point_in_time", {"pit_id": [pit]})
    return seen, time.perf_counter() - started


def streamed(url: str, key: str, output: Path) -> tuple[int, float]:
    """GET /logs/export into a file, as `curl ... > file` does."""
    started = time.perf_counter()
    with (
        httpx.stream("GET", f"{url}/logs/export", headers={"X-API-Key": key}, timeout=600) as r,
        output.open("wb") as f,
    ):
        r.raise_for_status()
        for chunk in r.iter_bytes():
            f.write(chunk)
    return sum(1 for _ in output.open()), time.perf_counter() - started


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="logplatform-bench-export-"))
    with installed_engine(heap="2g") as engine:
        fill_s = fill(engine.cluster, args.events)
        print(f"filled {args.events} events in {fill_s:.0f} s", flush=True)
        scrolled, scroll_s = raw_scroll(engine.cluster)
        print(f"raw scroll: {scrolled} in {scroll_s:.1f} s", flush=True)
        pitted, pit_s = raw_point_in_time(engine.cluster)
        print(f"raw point in time: {pitted} in {pit_s:.1f} s", flush=True)
        backend = BackendProcess(work, engine.client_url, work / "volume", STREAM)
        backend.start()
        try:
            backend_before = peak_mb(backend.proc.pid)  # type: ignore[union-attr]
            output = work / "all.ndjson"
            command = [sys.executable, "-m", "logplatform.cli", "export", "--output", str(output)]
            started = time.perf_counter()
            subprocess.run(
                [*command, "--url", backend.url, "--api-key", backend.key],
                cwd=REPO,
                env={**os.environ, "PYTHONPATH": str(REPO)},
                check=True,
                stderr=subprocess.DEVNULL,
            )
            export_s = time.perf_counter() - started
            cli_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            backend_peak = peak_mb(backend.proc.pid)  # type: ignore[union-attr]
            endpoint_events, endpoint_s = streamed(backend.url, backend.key, work / "streamed.ndjson")
            backend_peak_streamed = peak_mb(backend.proc.pid)  # type: ignore[union-attr]
        finally:
            backend.stop()
        exported = sum(1 for _ in output.open())
    result = {
        "events": args.events,
        "raw_scroll": {"events": scrolled, "seconds": round(scroll_s, 1), "events_per_s": round(scrolled / scroll_s)},
        "raw_point_in_time": {"events": pitted, "seconds": round(pit_s, 1), "events_per_s": round(pitted / pit_s)},
        "endpoint_export": {
            "events": endpoint_events,
            "seconds": round(endpoint_s, 1),
            "events_per_s": round(endpoint_events / endpoint_s),
        },
        "cli_export": {
            "events": exported,
            "seconds": round(export_s, 1),
            "events_per_s": round(exported / export_s),
            "peak_rss_mb": round(cli_peak, 1),
        },
        "backend_peak_rss_mb": {
            "before": round(backend_before, 1),
            "after_cli_export": round(backend_peak, 1),
            "after_endpoint_export": round(backend_peak_streamed, 1),
        },
        "export_vs_raw_scroll": round((exported / export_s) / (scrolled / scroll_s), 3),
        "endpoint_vs_raw_point_in_time": round((endpoint_events / endpoint_s) / (pitted / pit_s), 3),
    }
    print(json.dumps(result, indent=1))
    record("export", "bench.export_rate", **result)


if __name__ == "__main__":
    main()
