"""A Docker containers directory as dockerd lays it out, for tests that run without Docker: per container
`config.v2.json` (name, image, labels), `hostconfig.json` (log driver) and the json-file log, each printed line
wrapped as Docker's json-file driver writes it. The rehearsal checks the same against a real dockerd."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)


def container_id(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def make_container(
    containers_dir: Path,
    name: str,
    image: str = "example/app:1.0",
    labels: dict[str, str] | None = None,
    log_driver: str = "json-file",
) -> str:
    cid = container_id(name)
    directory = containers_dir / cid
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "ID": cid,
        "Name": f"/{name}",
        "Config": {"Image": image, "Labels": labels or {}, "Env": ["SECRET=not-for-filebeat"]},
        "LogPath": str(directory / f"{cid}-json.log"),
    }
    (directory / "config.v2.json").write_text(json.dumps(config))
    (directory / "hostconfig.json").write_text(json.dumps({"LogConfig": {"Type": log_driver, "Config": {}}}))
    (directory / f"{cid}-json.log").touch()
    return cid


def print_lines(containers_dir: Path, cid: str, lines: list[str], stream: str = "stdout") -> None:
    """Lines as the container printed them, appended to its json-file log as dockerd writes them."""
    log = containers_dir / cid / f"{cid}-json.log"
    existing = len(log.read_text().splitlines())
    with log.open("a") as out:
        for i, line in enumerate(lines):
            when = (START + timedelta(milliseconds=existing + i)).isoformat().replace("+00:00", "Z")
            out.write(json.dumps({"log": line + "\n", "stream": stream, "time": when}) + "\n")
