"""Writes one benchmark run to bench/results/<name>-<date>.json (a later run that day: <name>-<date>-run2.json,
...) with the machine, date and command."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def record(name: str, module: str, **fields: Any) -> Path:
    now = datetime.now(UTC)
    out = {
        "benchmark": name,
        "date": now.isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "command": f"python -m {module} " + " ".join(sys.argv[1:]),
        **fields,
    }
    stem = f"{name.replace('_', '-')}-{now:%Y-%m-%d}"
    path, run = RESULTS / f"{stem}.json", 1
    while path.exists():  # a second run the same day is kept beside the first
        run += 1
        path = RESULTS / f"{stem}-run{run}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")
    return path
