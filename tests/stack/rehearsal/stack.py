"""The compose project as the rehearsal drives it: `docker compose` with our file and the rehearsal override,
and the published 127.0.0.1 ports (Elasticsearch with TLS and the elastic user, the backend)."""

from __future__ import annotations

import json
import resource
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from logplatform import names
from tests.stack.rehearsal.docker_host import CACHE, run

REPO = Path(__file__).resolve().parents[3]
OVERRIDE = REPO / "tests" / "stack" / "compose.rehearsal.yml"
QUEUE_OVERRIDE = REPO / "tests" / "stack" / "compose.rehearsal-queue.yml"  # with kafka/queue.compose.yml
ONE_SHOTS = {"setup-certs", "setup", "kibana-setup", "queue-setup"}
T = TypeVar("T")


def wait_until(what: str, check: Callable[[], T | None], timeout: float, every: float = 2.0) -> T:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # a check that fails is tried again until the deadline
            last = exc
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f}s" + (f" (last error: {last})" if last else ""))


@dataclass
class Stack:
    docker_env: dict[str, str]
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="logplatform-rehearsal-")))
    _es: httpx.Client | None = None

    @property
    def env(self) -> dict[str, str]:
        """What a user's shell has: the compose files (ours, then the override) and our daemon."""
        nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 65535)
        return {
            **self.docker_env,
            "COMPOSE_FILE": f"{REPO / 'docker-compose.yml'}:{OVERRIDE}",
            "LOGPLATFORM_REHEARSAL_NOFILE": str(nofile),
            # our dockerd keeps its containers under its own data-root, as rootless Docker does: set as a user of
            # such a daemon sets it in .env (docs/container-logs.md)
            "DOCKER_CONTAINERS_DIR": str(CACHE / "data" / "containers"),
        }

    def compose(
        self,
        *args: str,
        check: bool = True,
        timeout: float = 900,
        input_text: str | None = None,
        dotenv: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """`docker compose ARGS` as a user runs it; `dotenv` stands for values the user set in .env."""
        return run(
            ["docker", "compose", *args],
            env={**self.env, **(dotenv or {})},
            check=check,
            timeout=timeout,
            cwd=self.workdir,
            input_text=input_text,
        )

    def compose_shell(self, script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """A user's shell: bash running the script with our daemon and compose files in its environment."""
        return run(["bash", "-c", script], env=self.env, check=False, timeout=600, cwd=cwd)

    def services(self) -> dict[str, dict[str, Any]]:
        out = self.compose("ps", "-a", "--format", "json").stdout
        rows = (
            [json.loads(line) for line in out.splitlines() if line.strip()]
            if not out.lstrip().startswith("[")
            else json.loads(out)
        )
        return {row["Service"]: row for row in rows}

    def container_ids(self) -> dict[str, str]:
        return {name: row["ID"] for name, row in self.services().items() if name not in ONE_SHOTS}

    def started_at(self, service: str) -> str:
        cid = self.services()[service]["ID"]
        return run(["docker", "inspect", "-f", "{{.State.StartedAt}}", cid], env=self.docker_env).stdout.strip()

    def secret(self, name: str) -> str:
        return self.compose("exec", "-T", "backend", "cat", f"/run/logplatform/secrets/{name}").stdout.strip()

    def file(self, service: str, path: str) -> str:
        return self.compose("exec", "-T", service, "cat", path).stdout

    # --- Elasticsearch through its published port, as a user's client ------------------------------------
    def es(self) -> httpx.Client:
        if self._es is None:
            ca = self.workdir / "ca.crt"
            if not ca.exists():
                self.compose("cp", "es01:/usr/share/elasticsearch/config/certs/ca/ca.crt", str(ca))
            self._es = httpx.Client(
                base_url="https://localhost:9200",
                timeout=30,
                auth=("elastic", self.secret("elastic_password")),
                verify=ssl.create_default_context(cafile=str(ca)),
            )
        return self._es

    def reset_clients(self) -> None:
        if self._es is not None:
            self._es.close()
        self._es = None

    def search(self, query: dict[str, Any], size: int = 100, sort: str = "@timestamp") -> list[dict[str, Any]]:
        self.es().post(f"/{names.DATA_STREAM}/_refresh")
        r = self.es().post(
            f"/{names.DATA_STREAM}/_search", json={"query": query, "size": size, "sort": [{sort: "asc"}]}
        )
        if r.status_code == 404:
            return []
        r.raise_for_status()
        return r.json()["hits"]["hits"]

    def count(self, query: dict[str, Any] | None = None) -> int:
        self.es().post(f"/{names.DATA_STREAM}/_refresh")
        r = self.es().post(f"/{names.DATA_STREAM}/_count", json={"query": query or {"match_all": {}}})
        if r.status_code == 404:
            return 0
        r.raise_for_status()
        return int(r.json()["count"])

    def down(self, volumes: bool = False) -> None:
        self.compose("down", "--remove-orphans", *(["-v"] if volumes else []), timeout=600)

    def close(self) -> None:
        self.reset_clients()
        shutil.rmtree(self.workdir, ignore_errors=True)  # the CA copy and what the README's commands wrote
