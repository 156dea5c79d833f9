"""The peer of our HTTP ingest: Filebeat's `http_endpoint` input (bench/peer/), built from the same beats commit as
the test Filebeat and run with bench/peer/filebeat-peer.yml in front of the same engine, proxy and pipeline."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from tests.filebeat.build import build_module

HERE = Path(__file__).resolve().parent / "peer"
BINARY = HERE / "bin" / "filebeat-peer"


def build() -> Path:
    """The peer's binary, built once per change of its Go module (about as long as the test Filebeat's build)."""
    return build_module(HERE, BINARY, "peer (Filebeat with http_endpoint)")


class HttpPeer:
    """One running peer; `url` takes what POST /logs takes (one event, an array or NDJSON)."""

    def __init__(self, elasticsearch_url: str, port: int) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="lp-bench-peer-"))
        self.url = f"http://127.0.0.1:{port}/logs?wait_for_completion_timeout=60s"
        self.port = port
        self.env = {"PEER_PORT": str(port), "ELASTICSEARCH_HOSTS": elasticsearch_url, "PATH": "/usr/bin:/bin"}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> HttpPeer:
        binary = build()
        args = [str(binary), "-e", "-c", str(HERE / "filebeat-peer.yml"), "--path.home", str(self.home)]
        args += ["--path.data", str(self.home / "data"), "--strict.perms=false"]
        with open(self.home / "filebeat.out", "w") as out:
            self.proc = subprocess.Popen(args, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1)
                return self
            except httpx.TransportError:
                if self.proc.poll() is not None:
                    raise RuntimeError((self.home / "filebeat.out").read_text()[-3000:]) from None
                time.sleep(0.2)
        raise RuntimeError("the peer's http_endpoint did not come up")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        shutil.rmtree(self.home, ignore_errors=True)
