"""The generator's traffic as files on a volume, reproducible (a seed and a fixed start time), for benchmarks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def generator_files(volume: Path, events: int, seed: int = 7) -> list[Path]:
    """The services' log files the real generator CLI writes (its own log left out: it is not the corpus)."""
    args = ["--log-dir", str(volume), "--rate", "0", "--count", str(events), "--seed", str(seed)]
    args += ["--start-time", "2026-11-30T10:00:00", "--quiet", "--max-file-bytes", str(2**40)]
    subprocess.run([sys.executable, "-m", "generator", *args], cwd=ROOT, check=True, capture_output=True)
    (volume / "generator.log").unlink(missing_ok=True)
    return sorted((volume / "services").glob("*.log"))
