"""Bounded soak: the backend (its own process) at a fixed fraction of its benchmarked batch maximum for a fixed
time against the test engine, sampling the backend's memory. Prints the memory curve and errors.

Usage: .venv/bin/python -m bench.soak [--seconds 300] [--rate 1700]
(1700 events/s = 80% of the NDJSON batch maximum in docs/benchmarks.md)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

from bench.engine import installed_engine
from bench.record import record
from tests.support.backend_process import BackendProcess


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def soak(
    client_url: str, work: Path, seconds: float, rate: float, batch: int
) -> tuple[int, int, float, list[tuple[float, float]]]:
    """Sends `batch`-event NDJSON requests at `rate` events/s for `seconds`; (sent, errors, elapsed, RSS samples)."""
    backend = BackendProcess(work, client_url, work / "volume", "logs-logplatform-soak")
    backend.start()
    sent = errors = 0
    samples: list[tuple[float, float]] = []
    stop = threading.Event()

    def sampler() -> None:
        while not stop.is_set():
            samples.append((round(time.monotonic() - started, 1), round(rss_mb(backend.proc.pid), 1)))
            stop.wait(10)

    http = httpx.Client(timeout=30, headers={"X-API-Key": backend.key, "Content-Type": "application/x-ndjson"})
    started = time.monotonic()
    threading.Thread(target=sampler, daemon=True).start()
    interval = batch / rate
    next_at = started
    try:
        while time.monotonic() - started < seconds:
            body = "\n".join(
                json.dumps({"service": "soak", "message": "steady", "event": {"id": str(uuid.uuid4())}})
                for _ in range(batch)
            )
            r = http.post(f"{backend.url}/logs/ndjson", content=body)
            if r.status_code == 200 and r.json()["indexed"] == batch:
                sent += batch
            else:
                errors += 1
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
    finally:
        stop.set()
        elapsed = time.monotonic() - started
        backend.stop()
    return sent, errors, elapsed, samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--rate", type=float, default=1700)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lp-soak-"))
    with installed_engine() as engine:
        sent, errors, elapsed, samples = soak(engine.client_url, work, args.seconds, args.rate, args.batch)
    warm = [m for t, m in samples if t >= 30] or [m for _, m in samples]
    growth = (warm[-1] - warm[0]) / warm[0] * 100 if warm else 0.0
    result = {
        "rate_target": args.rate,
        "rate_achieved": round(sent / elapsed),
        "seconds": round(elapsed),
        "events": sent,
        "errors": errors,
        "rss_mb": samples,
        "growth_after_warmup_pct": round(growth, 2),
    }
    print(json.dumps(result))
    record("soak", "bench.soak", results=result)


if __name__ == "__main__":
    main()
