"""Builds the real Filebeat from its Go module (go.mod pins the beats commit) into tests/filebeat/bin/.

Cached: rebuilt only when go.mod, go.sum or main.go change. `python -m tests.filebeat.build` prints the time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BINARY = HERE / "bin" / "filebeat"
STAMP = HERE / "bin" / "build.stamp"
BEATS = "github.com/elastic/beats/v7"
# The checksum database does not list these beats pseudo-versions; go.sum (committed) pins their hashes.
GONOSUMDB = "github.com/elastic,go.elastic.co,github.com/poy,github.com/tommyers-elastic"


def _digest() -> str:
    h = hashlib.sha256()
    for name in ("go.mod", "go.sum", "main.go"):
        h.update((HERE / name).read_bytes())
    return h.hexdigest()


def go_env() -> dict[str, str]:
    return {**os.environ, "CGO_ENABLED": "0", "GONOSUMDB": GONOSUMDB, "GOFLAGS": "-mod=readonly"}


def build(quiet: bool = False) -> Path:
    if BINARY.exists() and STAMP.exists() and STAMP.read_text() == _digest():
        return BINARY
    go = shutil.which("go") or "/usr/local/go/bin/go"
    started = time.monotonic()
    if not quiet:
        print("filebeat: building from its Go module (first build downloads beats' dependencies)", flush=True)
    proc = subprocess.run(
        [go, "build", "-trimpath", "-o", str(BINARY), "."], cwd=HERE, env=go_env(), capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"filebeat build failed:\n{proc.stderr[-4000:]}")
    STAMP.write_text(_digest())
    if not quiet:
        print(f"filebeat: built in {time.monotonic() - started:.0f}s: {version()}", flush=True)
    return BINARY


def version() -> str:
    out = subprocess.run([str(BINARY), "version"], capture_output=True, text=True).stdout
    return out.split(" (")[0].replace("filebeat version ", "").strip()


def beats_source() -> Path:
    """Where the Go module cache holds the pinned beats source (for its filebeat.reference.yml)."""
    go = shutil.which("go") or "/usr/local/go/bin/go"
    out = subprocess.run([go, "list", "-m", "-json", BEATS], cwd=HERE, env=go_env(), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"go list failed: {out.stderr[-2000:]}")
    return Path(json.loads(out.stdout)["Dir"])


if __name__ == "__main__":
    build()
    print(f"filebeat: {BINARY} ({version()})")
    sys.exit(0)
