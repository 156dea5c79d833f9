"""The test broker: Apache Kafka's own server from Maven Central (pom.xml), KRaft, broker and controller in one JVM.

Started and stopped by the test suite like the search engine (tests/support/queue.py); runnable by hand:
    python -m tests.kafka.broker           # resolve, start on 127.0.0.1:9092, wait for Ctrl-C
    python -m tests.kafka.broker --build   # resolve only
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

KAFKA_DIR = Path(__file__).resolve().parent
TARGET = KAFKA_DIR / "target"
CLASSPATH_FILE = TARGET / "classpath.txt"
STAMP_FILE = TARGET / "build.stamp"
READY_MARK = "Kafka Server started"
MIN_JAVA = 17


def kafka_version() -> str:
    found = re.search(r"<kafka.version>([^<]+)</kafka.version>", (KAFKA_DIR / "pom.xml").read_text())
    assert found is not None
    return found.group(1)


def build(quiet: bool = False) -> list[str]:
    """Resolves Kafka's server and its dependencies with Maven; cached until pom.xml changes."""
    from tests.engine.engine import find_java_home

    digest = hashlib.sha256((KAFKA_DIR / "pom.xml").read_bytes()).hexdigest()
    if CLASSPATH_FILE.exists() and STAMP_FILE.exists() and STAMP_FILE.read_text() == digest:
        return CLASSPATH_FILE.read_text().strip().split(os.pathsep)
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("Maven (mvn) is needed to resolve the test broker: apt-get install maven")
    TARGET.mkdir(exist_ok=True)
    if not quiet:
        print(f"test broker: resolving Apache Kafka {kafka_version()} from Maven Central", flush=True)
    proc = subprocess.run(
        [mvn, "-B", "-q", "-f", str(KAFKA_DIR / "pom.xml"), "dependency:build-classpath",
         f"-Dmdep.outputFile={CLASSPATH_FILE}"],
        env=dict(os.environ, JAVA_HOME=str(find_java_home())),
        capture_output=True,
        text=True,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"test broker resolve failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    STAMP_FILE.write_text(digest)
    return CLASSPATH_FILE.read_text().strip().split(os.pathsep)


def new_cluster_id() -> str:
    """What `kafka-storage.sh random-uuid` prints: 16 random bytes, URL-safe base64 without padding, and, as Kafka's
    Uuid.randomUuid makes sure, not starting with "-" (the format command would take it for an option)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class TestBroker:
    """One Kafka node on 127.0.0.1; stop() and start() again keep its data (the broker-restart tests)."""

    __test__ = False

    def __init__(self, base_path: Path | None = None, port: int | None = None, heap: str = "384m") -> None:
        from tests.engine.engine import find_java_home, free_port

        self.java = find_java_home() / "bin" / "java"
        self.classpath = build(quiet=True)
        self.base_path = base_path or Path(tempfile.mkdtemp(prefix="logplatform-broker-"))
        self.port = port or free_port()
        self.controller_port = free_port()
        self.heap = heap
        self.cluster_id = new_cluster_id()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_file = self.base_path / "broker.out"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _properties(self) -> Path:
        path = self.base_path / "server.properties"
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.base_path / "data"),
            # one broker: the internal topics cannot have more copies than brokers (kafka/queue.compose.yml)
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",  # as the queue switch sets it: setup creates the topic
        }
        path.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        return path

    def _java(self, main: str, *args: str, **kw: object) -> list[str]:
        return [
            str(self.java),
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            f"-Dlog4j2.configurationFile={KAFKA_DIR / 'log4j2.properties'}",
            "-cp",
            os.pathsep.join(self.classpath),
            main,
            *args,
        ]

    def start(self, timeout: float = 120.0) -> None:
        self.base_path.mkdir(parents=True, exist_ok=True)
        props = self._properties()
        if not (self.base_path / "data" / "meta.properties").exists():
            fmt = subprocess.run(
                self._java("kafka.tools.StorageTool", "format", "-t", self.cluster_id, "-c", str(props)),
                capture_output=True,
                text=True,
            )
            if fmt.returncode != 0:
                raise RuntimeError(f"kafka-storage format failed:\n{fmt.stdout[-2000:]}\n{fmt.stderr[-2000:]}")
        started = time.monotonic()
        out = open(self.log_file, "ab")  # noqa: SIM115 - kept open for the life of the process
        self.proc = subprocess.Popen(self._java("kafka.Kafka", str(props)), stdout=out, stderr=subprocess.STDOUT)
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"test broker exited with {self.proc.returncode}:\n{self._tail()}")
            if READY_MARK in self.log_file.read_text(errors="replace"):
                print(f"test broker: Kafka up at {self.bootstrap} in {time.monotonic() - started:.0f}s", flush=True)
                return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"test broker did not start within {timeout:.0f}s:\n{self._tail()}")

    def stop(self, kill: bool = False) -> None:
        from tests.engine.engine import stop_jvm

        stop_jvm(self.proc, kill, self.log_file)
        self.proc = None

    def _tail(self, lines: int = 60) -> str:
        text = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.base_path, ignore_errors=True)


def main() -> None:
    if sys.argv[1:] == ["--build"]:
        build()
        return
    broker = TestBroker(port=9092)
    broker.start()
    print(f"KAFKA_BOOTSTRAP={broker.bootstrap}  (Ctrl-C stops it)")
    try:
        while broker.proc and broker.proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        broker.cleanup()


if __name__ == "__main__":
    main()
