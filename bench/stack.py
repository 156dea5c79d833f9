"""What the HTTP benchmarks run against: a fresh test engine with our assets, the compatibility proxy in a process of
its own (its CPU must not share the benchmark's interpreter with the load it measures) and backends in front of it,
each `python -m backend` (or another module configured the same way) listening on 127.0.0.1. Stopped after."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.engine import documents
from logplatform import assets
from logplatform.api_keys import SCOPES, KeyStore
from logplatform.cluster import Cluster
from tests.engine.engine import TestEngine, free_port
from tests.support.search_engine import SearchEngine

ROOT = Path(__file__).resolve().parent.parent


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


class BenchStack:
    """The engine (2 GB heap), the proxy and the backends started by `backend()`, with one API key for all."""

    def __init__(self, work: Path, data_stream: str) -> None:
        self.work = work
        self.data_stream = data_stream
        self.engine = TestEngine(heap="2g")
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> BenchStack:
        self.engine.start()
        self.cluster = Cluster(self.engine.url)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        assets.install(self.cluster, "opensearch")
        port = free_port()
        self.proxy_url = f"http://127.0.0.1:{port}"
        self.proxy = self.spawn([sys.executable, "-m", "tests.support.es_compat_proxy", self.engine.url, str(port)], {})
        wait_http(self.proxy_url)
        self.key = KeyStore(self.work / "keys.json").create("bench", scopes=SCOPES)

    def spawn(self, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """A process of the benchmark's, stopped with the stack."""
        proc = spawn(args, env)
        self.procs.append(proc)
        return proc

    def backend(
        self, volume: Path, elasticsearch_url: str | None = None, module: str = "backend"
    ) -> tuple[str, subprocess.Popen[bytes]]:
        """A backend's URL and process, on the proxy unless told another Elasticsearch, logging only warnings."""
        port = free_port()
        env = {
            "LOGPLATFORM_ELASTICSEARCH_URL": elasticsearch_url or self.proxy_url,
            "LOGPLATFORM_DATA_STREAM": self.data_stream,
            "LOGPLATFORM_LOG_DIR": str(volume),
            "LOGPLATFORM_API_KEYS_FILE": str(self.work / "keys.json"),
            "LOGPLATFORM_LOG_LEVEL": "WARNING",
            "LOGPLATFORM_HOST": "127.0.0.1",
            "LOGPLATFORM_PORT": str(port),
            "LOGPLATFORM_DISK_WATCH_S": "0",
        }
        proc = self.spawn([sys.executable, "-m", module], env)
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/healthz")
        return url, proc

    def search_engine(self) -> SearchEngine:
        """The stack as the test support sees a cluster (what tests.support.filebeat.Filebeat takes)."""
        return SearchEngine(self.cluster, "opensearch", self.proxy_url, self.engine)

    def count(self, data_stream: str, query: dict[str, Any] | None = None) -> int:
        return documents(self.cluster, data_stream, query)

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait(timeout=60)
        self.cluster.close()
        self.engine.cleanup()
