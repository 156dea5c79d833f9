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
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
BINARY = HERE / "bin" / "filebeat"
BEATS = "github.com/elastic/beats/v7"
# The checksum database does not list these beats pseudo-versions; go.sum (committed) pins their hashes.
GONOSUMDB = "github.com/elastic,go.elastic.co,github.com/poy,github.com/tommyers-elastic"


def _digest(module: Path) -> str:
    h = hashlib.sha256()
    for name in ("go.mod", "go.sum", "main.go"):
        h.update((module / name).read_bytes())
    return h.hexdigest()


def go_env() -> dict[str, str]:
    return {**os.environ, "CGO_ENABLED": "0", "GONOSUMDB": GONOSUMDB, "GOFLAGS": "-mod=readonly"}


def build_module(
    module: Path, binary: Path, what: str, quiet: bool = False, built: Callable[[], str] = lambda: ""
) -> Path:
    """`binary` built from the Go module in `module` (go.mod, go.sum, main.go), again only when one of them changed;
    `built` adds to the line saying it was built."""
    stamp = binary.parent / "build.stamp"
    if binary.exists() and stamp.exists() and stamp.read_text() == _digest(module):
        return binary
    go = shutil.which("go") or "/usr/local/go/bin/go"
    started = time.monotonic()
    if not quiet:
        print(f"{what}: building from its Go module (first build downloads beats' dependencies)", flush=True)
    proc = subprocess.run(
        [go, "build", "-trimpath", "-o", str(binary), "."], cwd=module, env=go_env(), capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{what} build failed:\n{proc.stderr[-4000:]}")
    stamp.write_text(_digest(module))
    if not quiet:
        print(f"{what}: built in {time.monotonic() - started:.0f}s{built()}", flush=True)
    return binary


def build(quiet: bool = False) -> Path:
    return build_module(HERE, BINARY, "filebeat", quiet, lambda: f": {version()}")


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
