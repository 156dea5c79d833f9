"""Export: `logplatform export` of every event (through the backend, cursor pages of 500) beside a raw scroll of the
same events straight from the engine, in one run: events/s of each, and the peak memory of the CLI and of the
backend (the point: it stays flat however many events go through).

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
        finally:
            backend.stop()
        exported = sum(1 for _ in output.open())
    result = {
        "events": args.events,
        "raw_scroll": {"events": scrolled, "seconds": round(scroll_s, 1), "events_per_s": round(scrolled / scroll_s)},
        "cli_export": {
            "events": exported,
            "seconds": round(export_s, 1),
            "events_per_s": round(exported / export_s),
            "peak_rss_mb": round(cli_peak, 1),
        },
        "backend_peak_rss_mb": {"before": round(backend_before, 1), "after": round(backend_peak, 1)},
        "export_vs_raw_scroll": round((exported / export_s) / (scrolled / scroll_s), 3),
    }
    print(json.dumps(result, indent=1))
    record("export", "bench.export_rate", **result)


if __name__ == "__main__":
    main()
