"""The backend as its own process (python -m backend), so a test can stop and restart it like compose would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from logplatform.api_keys import SCOPES, KeyStore
from tests.engine.engine import free_port
from tests.support.reference import REPO


class BackendProcess:
    def __init__(self, workdir: Path, elasticsearch_url: str, volume: Path, data_stream: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.keys_file = workdir / "api-keys.json"
        self.key = KeyStore(self.keys_file).create("tests", scopes=SCOPES)
        self.env = {
            **os.environ,
            "LOGPLATFORM_ELASTICSEARCH_URL": elasticsearch_url,
            "LOGPLATFORM_LOG_DIR": str(volume),
            "LOGPLATFORM_API_KEYS_FILE": str(self.keys_file),
            "LOGPLATFORM_DATA_STREAM": data_stream,
            "LOGPLATFORM_PORT": str(self.port),
            "LOGPLATFORM_HOST": "127.0.0.1",
            "LOGPLATFORM_LOG_LEVEL": "INFO",
            "LOGPLATFORM_REQUEST_TIMEOUT_S": "5",
            # the tests count the backend's log lines: no disk warning however full the machine's disk
            "LOGPLATFORM_DISK_WATCH_S": "0",
        }
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        with open(self.workdir / "backend.out", "a") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "backend"], cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"backend did not start: {(self.workdir / 'backend.out').read_text()[-2000:]}")

    def stop(self) -> None:
        """SIGTERM, as `docker compose stop` sends: in-flight requests finish, queued events are delivered."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=60)
        self.proc = None
