"""Builds and runs the test engine: one OpenSearch node in one JVM (see pom.xml and TestEngine.java).

Used by the pytest session fixture (tests/support/search_engine.py) and runnable by hand:
    python -m tests.engine.engine            # build, start on port 9250, print the URL, wait for Ctrl-C
    python -m tests.engine.engine --build    # build only (Maven resolves OpenSearch from Maven Central)
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ENGINE_DIR = Path(__file__).resolve().parent
TARGET = ENGINE_DIR / "target"
CLASSPATH_FILE = TARGET / "classpath.txt"
STAMP_FILE = TARGET / "build.stamp"
READY_MARK = "LOGPLATFORM-ENGINE-READY"
MIN_JAVA = 21


def _java_major(java_home: Path) -> int:
    release = java_home / "release"
    if release.is_file():
        m = re.search(r'JAVA_VERSION="(\d+)', release.read_text(errors="replace"))
        if m:
            return int(m.group(1))
    try:
        out = subprocess.run([str(java_home / "bin" / "java"), "-version"], capture_output=True, text=True).stderr
    except OSError:
        return 0
    m = re.search(r'version "(\d+)', out)
    return int(m.group(1)) if m else 0


def find_java_home() -> Path:
    """A JDK 21+ for OpenSearch 3: $LOGPLATFORM_JAVA_HOME, $JAVA_HOME, or the newest under /usr/lib/jvm."""
    candidates = [os.environ.get("LOGPLATFORM_JAVA_HOME"), os.environ.get("JAVA_HOME")]
    jvm_dirs = [Path("/usr/lib/jvm"), Path("/opt/java"), Path("/usr/local/lib/jvm")]
    for base in jvm_dirs:
        if base.is_dir():
            candidates += [str(p) for p in base.iterdir() if (p / "bin" / "java").exists()]
    best: tuple[int, Path] | None = None
    for c in candidates:
        if not c:
            continue
        home = Path(c)
        if not (home / "bin" / "java").exists():
            continue
        major = _java_major(home)
        if major >= MIN_JAVA and (best is None or major > best[0]):
            best = (major, home)
    if best is None:
        raise RuntimeError(
            f"OpenSearch 3 needs Java {MIN_JAVA}+; none found in $LOGPLATFORM_JAVA_HOME, $JAVA_HOME or /usr/lib/jvm. "
            "Install a JDK 21+ (for example Debian's openjdk-21-jdk-headless or Temurin 25)."
        )
    return best[1]


def _source_digest() -> str:
    h = hashlib.sha256()
    for p in sorted([ENGINE_DIR / "pom.xml", *ENGINE_DIR.glob("src/**/*.java")]):
        h.update(p.read_bytes())
    return h.hexdigest()


def build(java_home: Path | None = None, quiet: bool = False) -> list[str]:
    """Compiles the launcher and resolves OpenSearch from Maven Central; cached until the sources change."""
    java_home = java_home or find_java_home()
    digest = _source_digest()
    if CLASSPATH_FILE.exists() and STAMP_FILE.exists() and STAMP_FILE.read_text() == digest:
        return _classpath()
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("Maven (mvn) is needed to build the test engine: apt-get install maven")
    env = dict(os.environ, JAVA_HOME=str(java_home))
    started = time.monotonic()
    if not quiet:
        print(f"test engine: building with Maven and {java_home} (first run downloads OpenSearch)", flush=True)
    proc = subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(ENGINE_DIR / "pom.xml"),
            "compile",
            "dependency:build-classpath",
            f"-Dmdep.outputFile={CLASSPATH_FILE}",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"test engine build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    STAMP_FILE.write_text(digest)
    if not quiet:
        print(f"test engine: built in {time.monotonic() - started:.0f}s", flush=True)
    return _classpath()


def _classpath() -> list[str]:
    return [str(TARGET / "classes"), *CLASSPATH_FILE.read_text().strip().split(os.pathsep)]


def stop_jvm(proc: subprocess.Popen[Any] | None, kill: bool, log_file: Path) -> None:
    """SIGTERM (graceful) or SIGKILL (a crash), SIGKILL after a minute; the log set aside, so that the next start
    looks for a new ready mark (the test engine's and the test broker's)."""
    if proc and proc.poll() is None:
        if kill:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if log_file.exists():
        log_file.rename(log_file.with_suffix(f".{int(time.time() * 1000)}.out"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestEngine:
    """One OpenSearch node on 127.0.0.1; stop() and start() again keep its data (for outage tests)."""

    __test__ = False  # not a pytest test class

    def __init__(self, base_path: Path | None = None, port: int | None = None, heap: str = "768m") -> None:
        self.java_home = find_java_home()
        self.classpath = build(self.java_home)
        self.base_path = base_path or Path(tempfile.mkdtemp(prefix="logplatform-engine-"))
        self.port = port or free_port()
        self.heap = heap
        self.proc: subprocess.Popen[str] | None = None
        self.log_file = self.base_path / "engine.out"

    @property
    def snapshots(self) -> Path:
        """The engine's path.repo: snapshot repositories of type fs live under it."""
        return self.base_path / "snapshots"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180.0) -> None:
        cmd = [
            str(self.java_home / "bin" / "java"),
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            "-Dlog4j2.disable.jmx=true",
            "-cp",
            os.pathsep.join(self.classpath),
            "logplatform.testengine.TestEngine",
            str(self.base_path / "cluster"),
            str(self.port),
            str(self.snapshots),
        ]
        started = time.monotonic()
        out = open(self.log_file, "a")  # noqa: SIM115 - kept open for the life of the process
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"test engine exited with {self.proc.returncode}:\n{self._tail()}")
            if READY_MARK in self.log_file.read_text(errors="replace") and self.is_up():
                print(f"test engine: OpenSearch up at {self.url} in {time.monotonic() - started:.0f}s", flush=True)
                return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"test engine did not start within {timeout:.0f}s:\n{self._tail()}")

    def is_up(self) -> bool:
        try:
            health = f"{self.url}/_cluster/health?wait_for_status=yellow&timeout=1s"
            with urllib.request.urlopen(health, timeout=3) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self, kill: bool = False) -> None:
        """Stops the node: SIGTERM (graceful), or SIGKILL with kill=True (a crash)."""
        stop_jvm(self.proc, kill, self.log_file)
        self.proc = None

    def _tail(self, lines: int = 60) -> str:
        text = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        logs = sorted((self.base_path / "cluster").glob("node_*/logs/*.log"))
        if logs:
            text += "\n--- " + str(logs[-1]) + "\n" + logs[-1].read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.base_path, ignore_errors=True)


def main() -> None:
    if sys.argv[1:] == ["--build"]:
        java_home = find_java_home()
        print(f"test engine: Java {_java_major(java_home)} at {java_home}", flush=True)
        build(java_home)
        return
    engine = TestEngine(port=int(sys.argv[1]) if len(sys.argv) > 1 else 9250)
    engine.start()
    print(f"ELASTICSEARCH_URL={engine.url}  (Ctrl-C stops it)")
    try:
        while engine.proc and engine.proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        engine.cleanup()


if __name__ == "__main__":
    main()
