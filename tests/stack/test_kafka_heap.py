"""The broker's healthcheck is a JVM of its own, started every 10 s in the broker's container, and its heap.

Apache Kafka's bin/kafka-broker-api-versions.sh execs bin/kafka-run-class.sh, which takes KAFKA_HEAP_OPTS from
the environment and defaults to -Xmx256M only when it is unset or empty (bin/kafka-run-class.sh, "# Memory
options"); bin/kafka-server-start.sh defaults to -Xmx1G -Xms1G. A healthcheck runs with the container's
environment, so the check inherits the broker's KAFKA_HEAP_OPTS (kafka/queue.compose.yml): a second broker-sized
heap inside the container's mem_limit. The stand-in's scripts (tests/stack/standins/kafka/bin) must behave the
same, or the rehearsal cannot see it: each script is run here with a `java` that prints what it was given.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.reference import REPO

STANDIN_BIN = REPO / "tests" / "stack" / "standins" / "kafka" / "bin"
QUEUE_FILE = REPO / "kafka" / "queue.compose.yml"
DEFAULT = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):-([^}]*)\}")
UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def kafka_service() -> dict[str, Any]:
    service: dict[str, Any] = yaml.safe_load(QUEUE_FILE.read_text())["services"]["kafka"]
    return service


def with_defaults(value: str) -> str:
    """A compose value as `docker compose up` resolves it when .env sets none of its variables."""
    return DEFAULT.sub(lambda m: m.group(2), value)


def size(text: str) -> int:
    m = re.fullmatch(r"(\d+)([kmg]?)", text.lower())
    assert m, text
    return int(m.group(1)) * UNITS[m.group(2)]


def max_heap(java_args: list[str]) -> int:
    """The heap the JVM gets: the last -Xmx wins."""
    values = [a[len("-Xmx") :] for a in java_args if a.startswith("-Xmx")]
    assert values, f"no -Xmx among {java_args}"
    return size(values[-1])


def java_args(tmp_path: Path, command: str, env: dict[str, str]) -> list[str]:
    """Runs a command line that calls the stand-in's bin/ scripts (at /opt/kafka/bin, as in the image) and returns
    what `java` was started with."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for script in STANDIN_BIN.iterdir():
        target = bin_dir / script.name
        target.write_text(script.read_text().replace("/opt/kafka/bin/", f"{bin_dir}/"))
        target.chmod(0o755)
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "java-args"
    java.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{out}"\n')
    java.chmod(0o755)
    run_env = {"PATH": os.environ["PATH"], "JAVA_HOME": str(java.parent.parent), **env}
    done = subprocess.run(
        ["/bin/sh", "-c", command.replace("/opt/kafka/bin/", f"{bin_dir}/")],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return out.read_text().splitlines()


@pytest.mark.parametrize(
    ("script", "env", "heap"),
    [
        ("kafka-broker-api-versions.sh", {"KAFKA_HEAP_OPTS": "-Xms512m -Xmx512m"}, "512m"),
        ("kafka-broker-api-versions.sh", {}, "256m"),
        ("kafka-broker-api-versions.sh", {"KAFKA_HEAP_OPTS": ""}, "256m"),
        ("kafka-storage.sh", {"KAFKA_HEAP_OPTS": "-Xmx300m"}, "300m"),
        ("kafka-storage.sh", {}, "256m"),
        ("kafka-server-start.sh", {"KAFKA_HEAP_OPTS": "-Xms512m -Xmx512m"}, "512m"),
        ("kafka-server-start.sh", {}, "1g"),
    ],
)
def test_standin_scripts_take_the_heap_from_the_environment_as_kafkas_do(
    tmp_path: Path, script: str, env: dict[str, str], heap: str
) -> None:
    """kafka-run-class.sh: KAFKA_HEAP_OPTS from the environment, -Xmx256M when unset or empty; kafka-server-start.sh:
    -Xmx1G -Xms1G when unset."""
    args = java_args(tmp_path, f"/opt/kafka/bin/{script} --bootstrap-server localhost:9092", env)
    assert max_heap(args) == size(heap)


def test_the_healthcheck_runs_on_a_small_heap_of_its_own(tmp_path: Path) -> None:
    """The healthcheck's command, run as Docker runs a CMD-SHELL check (`/bin/sh -c`, the container's environment),
    through the stand-in's scripts: its JVM must not take the broker's heap, or every check adds a second
    broker-sized heap to a container whose mem_limit was sized for one."""
    kafka = kafka_service()
    kind, command = kafka["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    environment = {k: with_defaults(str(v)) for k, v in kafka["environment"].items()}
    broker = max_heap(environment["KAFKA_HEAP_OPTS"].split())
    check = max_heap(java_args(tmp_path, command, environment))
    mem_limit = size(with_defaults(kafka["mem_limit"]))
    assert check <= 128 * 1024**2, (
        f"the healthcheck's JVM gets a {check // 1024**2} MB heap (the broker's is inherited)"
    )
    # both heaps, and room for each JVM's own memory (metaspace, code, threads: ~150 MB each), within the limit
    assert broker + check + 2 * 150 * 1024**2 <= mem_limit
