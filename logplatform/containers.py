"""Container output for Filebeat: one Filebeat input per container that asks to be collected.

Docker keeps each container's stdout and stderr in a json-file log beside the container's configuration
(`<containers dir>/<id>/<id>-json.log` and `config.v2.json`). This watcher reads the configurations, finds the
containers labelled `logplatform.collect=true`, and writes for each one a Filebeat input file into a directory
that Filebeat reloads (`filebeat.config.inputs` in filebeat/filebeat.yml). The input names the one log file,
decodes Docker's wrapping, joins stack traces, and adds the container's id, name, image and compose labels.

Why files and not the Docker socket (docs/container-logs.md says it for users): the socket is root on the
host, for anyone who can reach it. Reading the configuration files needs only a read-only mount, no network,
no capability; Filebeat itself reads only the log files it is told about, as its usual non-root user.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from logplatform.files import replace_whole

LABEL = "logplatform.collect"
TRUE_VALUES = frozenset({"true", "yes", "1", "on"})
# The compose labels kept with every line (Filebeat's add_docker_metadata keeps these names, dots as "_").
KEPT_LABELS = ("com.docker.compose.project", "com.docker.compose.service")
INPUT_PREFIX = "container-"
STATUS_FILE = "status.json"  # the watcher's heartbeat and counts (its healthcheck reads the time)

# Lines that continue the event before them: indented and blank lines (stack frames, "... 3 more"), the chaining
# lines of Python and Java tracebacks, and an exception's own line ("ValueError: boom",
# "java.lang.IllegalStateException: x"). A "Traceback (most recent call last):" line starts an event:
# gluing it to whatever came before could pin a crash on an unrelated line.
CONTINUATION = (
    r"^[[:space:]]"
    r"|^Caused by: "
    r"|^During handling of the above exception"
    r"|^The above exception was the direct cause"
    r"|^[[:alpha:]_][[:alnum:]_.$]*(Error|Exception|Exit|Interrupt|Warning)(: |:?$)"
)

log = logging.getLogger("logplatform.containers")


@dataclass(frozen=True)
class Container:
    id: str
    name: str
    image: str
    labels: dict[str, str]
    log_driver: str

    @property
    def collected(self) -> bool:
        return self.labels.get(LABEL, "").strip().lower() in TRUE_VALUES


def read_container(directory: Path) -> Container | None:
    """The container whose configuration is in `directory`, or None while Docker is still writing it."""
    try:
        config = json.loads((directory / "config.v2.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    try:
        host = json.loads((directory / "hostconfig.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        host = {}
    cid = config.get("ID") or directory.name
    settings = config.get("Config") or {}
    return Container(
        id=cid,
        name=str(config.get("Name") or "").lstrip("/"),
        image=str(settings.get("Image") or ""),
        labels={str(k): str(v) for k, v in (settings.get("Labels") or {}).items()},
        log_driver=str((host.get("LogConfig") or {}).get("Type") or "json-file"),
    )


def containers(containers_dir: Path) -> Iterator[Container]:
    try:
        entries = sorted(containers_dir.iterdir())
    except OSError as exc:
        log.warning("cannot list %s: %s", containers_dir, exc)
        return
    for entry in entries:
        if entry.is_dir():
            found = read_container(entry)
            if found is not None:
                yield found


STREAMS = ("stdout", "stderr")


def filebeat_inputs(container: Container, containers_dir: Path) -> list[dict[str, Any]]:
    """The Filebeat inputs for one container's log file (as Filebeat sees the containers directory), one for each
    stream: Docker writes both into the file in the order its readers got them, so a line printed on stdout can fall
    between two lines of a traceback on stderr; read apart, each stream's lines are joined with their own."""
    return [filebeat_input(container, containers_dir, stream) for stream in STREAMS]


def filebeat_input(container: Container, containers_dir: Path, stream: str) -> dict[str, Any]:
    """The Filebeat input for one stream of one container's log file."""
    fields: dict[str, Any] = {"id": container.id, "name": container.name, "image": {"name": container.image}}
    labels = {k.replace(".", "_"): container.labels[k] for k in KEPT_LABELS if k in container.labels}
    if labels:
        fields["labels"] = labels
    return {
        "type": "filestream",
        # stable per container and stream: Filebeat keys what it has read by the id
        "id": f"{INPUT_PREFIX}{container.id}-{stream}",
        # one file named exactly: Filebeat, non-root, may open it (group 0) but not list Docker's directories
        "paths": [str(containers_dir / container.id / f"{container.id}-json.log")],
        "file_identity.fingerprint": None,
        "prospector.scanner.fingerprint.enabled": True,
        "prospector.scanner.fingerprint.length": 64,
        "prospector.scanner.check_interval": "1s",
        "close.on_state_change.inactive": "5m",
        "clean_removed": True,
        "parsers": [
            {"container": {"stream": stream, "format": "docker"}},
            {
                "multiline": {
                    "type": "pattern",
                    "pattern": CONTINUATION,
                    "negate": False,
                    "match": "after",
                    # Docker keeps each printed line's newline: joined as printed, no separator added
                    "skip_newline": True,
                    "max_lines": 1000,
                    "timeout": "2s",
                }
            },
        ],
        "fields_under_root": True,
        "fields": {"container": fields},
        # the container parser puts stdout/stderr in `stream`, which is no ECS field: kept as a label
        "processors": [{"rename": {"fields": [{"from": "stream", "to": "labels.stream"}], "ignore_missing": True}}],
    }


def render(container: Container, containers_dir: Path) -> str:
    header = (
        f"# Written by `logplatform containers watch` for container {container.name} ({container.image});\n"
        "# removed when the container is. Do not edit: the next pass writes it again.\n"
    )
    return header + yaml.safe_dump(filebeat_inputs(container, containers_dir), sort_keys=False)


@dataclass
class SyncResult:
    written: list[str]
    removed: list[str]
    collected: int
    skipped: list[str]  # marked, but logging where Filebeat cannot read (another log driver)


def sync(containers_dir: Path, inputs_dir: Path, filebeat_containers_dir: Path | None = None) -> SyncResult:
    """One pass: an input file for every marked container, none for any other. Idempotent."""
    seen_by_filebeat = filebeat_containers_dir or containers_dir
    inputs_dir.mkdir(parents=True, exist_ok=True)
    wanted: dict[str, str] = {}
    skipped = []
    for c in containers(containers_dir):
        if not c.collected:
            continue
        if c.log_driver not in ("json-file", ""):
            skipped.append(f"{c.name} (log driver {c.log_driver})")
            continue
        wanted[f"{INPUT_PREFIX}{c.id}.yml"] = render(c, seen_by_filebeat)
    written = []
    for name, text in wanted.items():
        path = inputs_dir / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            replace_whole(path, text)  # Filebeat reads *.yml: a half-written file is never seen
            written.append(name)
    removed = []
    for path in inputs_dir.glob(f"{INPUT_PREFIX}*.yml"):
        if path.name not in wanted:
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return SyncResult(sorted(written), sorted(removed), len(wanted), sorted(skipped))


def watch(
    containers_dir: Path,
    inputs_dir: Path,
    filebeat_containers_dir: Path | None = None,
    interval: float = 2.0,
    passes: int | None = None,
) -> None:
    """sync() every `interval` seconds (forever, or `passes` times), logging what changed."""
    done = 0
    warned: set[str] = set()
    while passes is None or done < passes:
        result = sync(containers_dir, inputs_dir, filebeat_containers_dir)
        for name in result.written:
            log.info("collecting %s", name.removeprefix(INPUT_PREFIX).removesuffix(".yml")[:12])
        for name in result.removed:
            log.info("container %s is gone: its input removed", name.removeprefix(INPUT_PREFIX)[:12])
        for what in set(result.skipped) - warned:
            log.warning("not collected: %s; only json-file logs can be read (docs/container-logs.md)", what)
        warned |= set(result.skipped)
        status = {"time": time.time(), "collected": result.collected, "skipped": result.skipped}
        replace_whole(inputs_dir / STATUS_FILE, json.dumps(status))  # the healthcheck never reads half of it
        done += 1
        if passes is None or done < passes:
            time.sleep(interval)


def healthy(inputs_dir: Path, max_age: float = 60.0) -> bool:
    try:
        status = json.loads((inputs_dir / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(time.time() - float(status["time"]) < max_age)
