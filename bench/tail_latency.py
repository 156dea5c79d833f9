"""Tail latency: the time from `POST /logs` to the line printed by `logplatform tail -f`, at a steady rate.

The backend (its own process) on the test engine; a producer posts batches at --rate events/s for --seconds, each
event carrying the moment it was sent; `logplatform.reading.follow` (what `tail -f` runs) prints into a callback
that notes when each event arrived. Prints p50/p99/max of the latency and how many events arrived once.

Usage: .venv/bin/python -m bench.tail_latency [--rate 1000] [--seconds 20]
Writes bench/results/tail-latency-<date>.json and prints the numbers for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.engine import installed_engine
from bench.record import record
from logplatform.reading import follow
from tests.support.backend_process import BackendProcess

BATCH_EVERY_S = 0.05


def produce(url: str, key: str, rate: float, seconds: float, sent: dict[str, float]) -> None:
    per_batch = max(1, round(rate * BATCH_EVERY_S))
    with httpx.Client(timeout=30, headers={"X-API-Key": key}) as http:
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < seconds:
            now = time.time()
            batch = [{"service": "tail-bench", "message": f"e{n + i}"} for i in range(per_batch)]
            http.post(f"{url}/logs", json=batch).raise_for_status()
            for i in range(per_batch):
                sent[f"e{n + i}"] = now
            n += per_batch
            time.sleep(max(0.0, started + n / rate - time.monotonic()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="logplatform-bench-tail-"))
    sent: dict[str, float] = {}
    arrived: dict[str, list[float]] = {}
    with installed_engine() as engine:
        backend = BackendProcess(work, engine.client_url, work / "volume", "logs-logplatform-tailbench")
        backend.start()
        stop = threading.Event()

        def emit(hit: dict[str, Any]) -> None:
            arrived.setdefault(hit["message"], []).append(time.time())

        follower = threading.Thread(
            target=follow,
            args=(backend.url, backend.key, {"service": ["tail-bench"]}, 0, emit, stop.is_set),
            daemon=True,
        )
        try:
            follower.start()
            time.sleep(2)
            produce(backend.url, backend.key, args.rate, args.seconds, sent)
            time.sleep(15)  # the last events: a refresh and a poll away
        finally:
            stop.set()
            follower.join(timeout=30)
            backend.stop()
    latencies = sorted(arrived[m][0] - sent[m] for m in sent if m in arrived)
    once = sum(1 for m in sent if len(arrived.get(m, [])) == 1)

    def pick(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000, 1)

    result = {
        "rate": args.rate,
        "seconds": args.seconds,
        "sent": len(sent),
        "shown_once": once,
        "missing": len(sent) - len(latencies),
        "p50_ms": pick(0.5),
        "p99_ms": pick(0.99),
        "max_ms": round(latencies[-1] * 1000, 1),
    }
    print(result)
    record("tail_latency", "bench.tail_latency", **result)


if __name__ == "__main__":
    main()
