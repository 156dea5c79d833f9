"""Generator benchmark: the highest sustained rate in file mode on one core, and the pacing error at a
target rate, measured in one run.

Usage: .venv/bin/python -m bench.generator_rate [--seconds 10] [--pace-rate 1000] [--pace-seconds 30]
Writes bench/results/generator-<date>.json and prints the numbers for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.record import record

ROOT = Path(__file__).resolve().parent.parent


def run_generator(seconds: float, rate: float, workdir: Path) -> tuple[int, float]:
    """Runs the real CLI in its own process, pinned to one core; returns (events, wall seconds)."""
    cmd = [
        sys.executable,
        "-m",
        "generator",
        "--log-dir",
        str(workdir),
        "--rate",
        str(rate),
        "--duration",
        str(seconds),
        "--quiet",
        "--max-file-bytes",
        str(512 * 1024 * 1024),
    ]
    if hasattr(os, "sched_setaffinity"):
        cmd = ["taskset", "-c", "0", *cmd]
    started = time.monotonic()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    wall = time.monotonic() - started
    m = re.search(r"done: ([\d,]+) events in ([\d.]+)s", out.stderr)
    assert m, out.stderr[-2000:]
    events = int(m.group(1).replace(",", ""))
    lines = sum(len(f.read_bytes().splitlines()) for f in (workdir / "services").glob("*.log*"))
    assert lines == events, f"{lines} lines written for {events} events"
    return events, float(m.group(2)) or wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--pace-rate", type=float, default=1000)
    parser.add_argument("--pace-seconds", type=float, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        events, elapsed = run_generator(args.seconds, 0, Path(a))
        max_rate = events / elapsed
        paced, _ = run_generator(args.pace_seconds, args.pace_rate, Path(b))
    expected = args.pace_rate * args.pace_seconds
    error = (paced - expected) / expected
    results = {
        "max_rate_events_per_s": round(max_rate),
        "max_rate_target": 50000,
        "max_rate_ratio_to_target": round(max_rate / 50000, 3),
        "pacing": {
            "target_rate": args.pace_rate,
            "seconds": args.pace_seconds,
            "expected": expected,
            "emitted": paced,
            "error_pct": round(error * 100, 3),
            "target_pct": 2.0,
        },
    }
    print(json.dumps(results, indent=2))
    record("generator", "bench.generator_rate", results=results)


if __name__ == "__main__":
    main()
