"""The real Filebeat (built by tests/filebeat/build.py) running OUR filebeat/filebeat.yml over a test volume.

The only overrides, kept here and visible: where the volume is (LOGPLATFORM_LOG_DIR), where Elasticsearch
is (ELASTICSEARCH_HOSTS: the compatibility proxy, plain HTTP, so TLS is off), and Filebeat's own data and
home directories (a temporary registry). Tests may add -E settings of their own, and say why.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logplatform import names
from tests.filebeat.build import build
from tests.support.reference import REPO
from tests.support.search_engine import SearchEngine


def overrides(volume: Path, engine: SearchEngine, home: Path) -> tuple[dict[str, str], list[str]]:
    env = {
        "LOGPLATFORM_LOG_DIR": str(volume),
        "ELASTICSEARCH_HOSTS": engine.client_url,
        "FILEBEAT_PASSWORD": "unused-by-the-test-engine",
    }
    args = ["-E", "output.elasticsearch.ssl.enabled=false", "--path.data", str(home / "data"), "--path.home", str(home)]
    return env, args


class Filebeat:
    def __init__(
        self,
        engine: SearchEngine,
        volume: Path,
        home: Path,
        extra: tuple[str, ...] = (),
        config: Path = REPO / "filebeat" / "filebeat.yml",
    ) -> None:
        self.binary = build(quiet=True)
        self.config = config
        self.env, self.args = overrides(volume, engine, home)
        self.args += list(extra)
        self.home = home
        self.proc: subprocess.Popen | None = None
        self.log = home / "filebeat.out"

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.log, "a") as out:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [
                    str(self.binary),
                    "-e",
                    "--strict.perms=false",
                    "-c",
                    str(self.config),
                    *self.args,
                ],
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None

    def errors(self) -> list[str]:
        return [
            ln
            for ln in self.log.read_text().splitlines()
            if '"log.level":"error"' in ln and "Module directory not found" not in ln
        ]


@pytest.fixture
def stream(installed: SearchEngine) -> Iterator[str]:
    installed.cluster.request("DELETE", f"/_data_stream/{names.DATA_STREAM}")
    yield names.DATA_STREAM
    installed.cluster.request("DELETE", f"/_data_stream/{names.DATA_STREAM}")


@pytest.fixture
def filebeat(installed: SearchEngine, tmp_path: Path) -> Iterator[Filebeat]:
    fb = Filebeat(installed, tmp_path / "volume", tmp_path / "filebeat")
    (tmp_path / "volume").mkdir()
    yield fb
    fb.stop()


def wait_for_docs(engine: SearchEngine, stream: str, expected: int, timeout: float = 90) -> list[dict]:
    deadline = time.monotonic() + timeout
    docs: list[dict] = []
    while time.monotonic() < deadline:
        status, _ = engine.cluster.request("POST", f"/{stream}/_refresh")
        if status == 200:
            body = engine.cluster.ok("POST", f"/{stream}/_search", {"size": 10000, "query": {"match_all": {}}})
            docs = [h["_source"] | {"_id": h["_id"]} for h in body["hits"]["hits"]]
            if len(docs) >= expected:
                time.sleep(2)  # anything more than expected would show up now
                body = engine.cluster.ok("POST", f"/{stream}/_search", {"size": 10000, "query": {"match_all": {}}})
                return [h["_source"] | {"_id": h["_id"]} for h in body["hits"]["hits"]]
        time.sleep(1)
    return docs


def generate(volume: Path, *args: str) -> list[dict[str, Any]]:
    """The generator in a process of its own, as in compose (it configures logging for its process); the events
    it wrote to the volume's services/ files."""
    result = subprocess.run(
        [sys.executable, "-m", "generator", "--log-dir", str(volume), "--rate", "0", "--quiet", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(x) for f in sorted((volume / "services").glob("*.log*")) for x in f.read_text().splitlines()]


def lines_on_volume(volume: Path) -> int:
    """Every line Filebeat's paths cover: services' files, our own logs (generator, backend), the spool."""
    files = [*volume.glob("*.log*"), *volume.glob("services/*.log*"), *volume.glob("spool/*.ndjson*")]
    return sum(len(f.read_text().splitlines()) for f in files)
