"""A Docker Engine and Docker Compose v2 of the rehearsal's own, never the user's.

- Docker Engine: Debian's `docker.io`, installed when missing (apt-get, as root).
- dockerd: started with its own data-root, exec-root, pidfile and socket under the cache directory, on a
  bridge of its own with its own address pool (shared/reference/docker-here.md: `--bridge=none` breaks a
  daemon beside it); stopped by its pid, and the bridge removed, at the end.
- Docker Compose v2: built from its Go module (Debian packages only Compose v1), cached like Filebeat.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.commands import run

CACHE = Path(os.environ.get("LOGPLATFORM_REHEARSAL_CACHE", Path.home() / ".cache" / "logplatform" / "rehearsal"))
COMPOSE_VERSION = "v2.40.3"
COMPOSE_MODULE = "github.com/docker/compose/v2"
BRIDGE = "lprehearse0"
BRIDGE_CIDR = "10.213.255.1/24"
ADDRESS_POOL = "base=10.214.0.0/16,size=24"
# What the rehearsal keeps between runs to start faster: the images it builds and at most this much build cache.
# Everything else (stopped containers, unused volumes and networks, dangling images) goes after each run, and a
# data root above MAX_DATA_BYTES fails the run: repeated runs grew it to 44 GB once, past the test engine's
# disk watermark.
KEEP_BUILD_CACHE = "4GB"
MAX_DATA_BYTES = int(float(os.environ.get("LOGPLATFORM_REHEARSAL_MAX_DATA_GB", "20")) * 1024**3)


def _size(path: Path) -> int:
    """Bytes the files under path take on disk (overlay2's layers are hard links: each counted once)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for directory, _dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(directory, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


class CannotRun(RuntimeError):
    """The machine cannot run the rehearsal (no root, no kernel support): the message says why."""


def preflight() -> None:
    if os.geteuid() != 0:
        raise CannotRun("the rehearsal runs its own dockerd, which needs root (run scripts/rehearse as root)")
    if not Path("/sys/fs/cgroup").is_dir():
        raise CannotRun("no cgroup filesystem at /sys/fs/cgroup: containers cannot run on this kernel")


def install_tools() -> None:
    """Docker Engine (Debian's docker.io) unless a dockerd is already installed, debootstrap, iptables."""
    wanted = {"docker.io": "dockerd", "debootstrap": "debootstrap", "iptables": "iptables"}
    apt_install(
        [
            package
            for package, command in wanted.items()
            if shutil.which(command) is None and not Path(f"/usr/sbin/{command}").exists()
        ]
    )


def apt_install(packages: list[str]) -> None:
    missing = [
        p
        for p in packages
        if run(["dpkg-query", "-W", "-f=${Status}", p], check=False).stdout != "install ok installed"
    ]
    if not missing:
        return
    print(f"rehearsal: apt-get install {' '.join(missing)}", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env, timeout=600)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env, timeout=1200)


def compose_plugin() -> Path:
    """docker-compose v2 built from its module, installed as a CLI plugin in the rehearsal's DOCKER_CONFIG."""
    plugin = CACHE / "docker-config" / "cli-plugins" / "docker-compose"
    if plugin.exists():
        return plugin
    go = shutil.which("go") or "/usr/local/go/bin/go"
    started = time.monotonic()
    print(
        f"rehearsal: building Docker Compose {COMPOSE_VERSION} from its Go module (once, about 2 minutes)", flush=True
    )
    info = json.loads(run([go, "mod", "download", "-json", f"{COMPOSE_MODULE}@{COMPOSE_VERSION}"]).stdout)
    work = CACHE / "compose-src"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(info["Dir"], work)
    run(["chmod", "-R", "u+w", str(work)])
    env = dict(os.environ, CGO_ENABLED="0")
    plugin.parent.mkdir(parents=True, exist_ok=True)
    run(
        [
            go,
            "build",
            "-trimpath",
            "-ldflags",
            f"-X {COMPOSE_MODULE}/internal.Version={COMPOSE_VERSION}",
            "-o",
            str(plugin),
            "./cmd",
        ],
        env=env,
        cwd=work,
        timeout=1800,
    )
    shutil.rmtree(work, ignore_errors=True)
    print(f"rehearsal: Docker Compose built in {time.monotonic() - started:.0f}s", flush=True)
    return plugin


@dataclass
class Daemon:
    """dockerd of the rehearsal's own; `env` points the docker CLI and Compose at it."""

    root: Path = CACHE
    proc: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def pidfile(self) -> Path:
        return self.root / "dockerd.pid"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._stop_leftover()
        self._bridge_up()
        log = open(self.root / "dockerd.log", "ab")  # noqa: SIM115 - kept for the daemon's life
        self.proc = subprocess.Popen(
            [
                "dockerd",
                "--data-root",
                str(self.root / "data"),
                "--exec-root",
                str(self.root / "exec"),
                "--pidfile",
                str(self.pidfile),
                "-H",
                f"unix://{self.socket}",
                "--bridge",
                BRIDGE,
                "--default-address-pool",
                ADDRESS_POOL,
                "--storage-driver",
                "overlay2",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.env = {
            **os.environ,
            "DOCKER_HOST": f"unix://{self.socket}",
            "DOCKER_CONFIG": str(self.root / "docker-config"),
        }
        for var in ("COMPOSE_FILE", "COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES"):
            self.env.pop(var, None)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CannotRun(f"dockerd exited with {self.proc.returncode}:\n{self.log_tail()}")
            if run(["docker", "version", "--format", "{{.Server.Version}}"], env=self.env, check=False).returncode == 0:
                return
            time.sleep(1)
        raise CannotRun(f"dockerd did not answer within 90 s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        path = self.root / "dockerd.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def versions(self) -> tuple[str, str]:
        engine = run(["docker", "version", "--format", "{{.Server.Version}}"], env=self.env).stdout.strip()
        compose = run(["docker", "compose", "version", "--short"], env=self.env).stdout.strip()
        return engine, compose

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        self._bridge_down()

    def prune(self) -> str:
        """Leaves the data root bounded for the next run; raises when it is still above MAX_DATA_BYTES."""
        if self.proc is None or self.proc.poll() is not None:
            return "no dockerd running, nothing to prune"
        before = _size(self.root / "data")
        run(["docker", "container", "prune", "--force"], env=self.env, timeout=600)
        # every volume no container uses, named ones too (`volume prune --all` needs API 1.42; Debian's is older)
        unused = run(["docker", "volume", "ls", "--quiet", "--filter", "dangling=true"], env=self.env).stdout.split()
        if unused:
            run(["docker", "volume", "rm", *unused], env=self.env, timeout=600)
        for command in (
            ["docker", "network", "prune", "--force"],
            ["docker", "image", "prune", "--force"],
            ["docker", "builder", "prune", "--force", "--keep-storage", KEEP_BUILD_CACHE],
        ):
            run(command, env=self.env, timeout=600)
        after = _size(self.root / "data")
        said = f"Docker data {before / 1024**3:.1f} GB -> {after / 1024**3:.1f} GB after pruning"
        if after > MAX_DATA_BYTES:
            raise AssertionError(f"{said}, above the bound of {MAX_DATA_BYTES / 1024**3:.0f} GB")
        return said

    def _stop_leftover(self) -> None:
        """A daemon left by an interrupted run of ours (same pidfile) is stopped first."""
        if not self.pidfile.exists():
            return
        try:
            pid = int(self.pidfile.read_text().strip())
            if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"dockerd"):
                os.kill(pid, signal.SIGTERM)
                for _ in range(60):
                    if not Path(f"/proc/{pid}").exists():
                        break
                    time.sleep(1)
        except (ValueError, OSError):
            pass
        self.pidfile.unlink(missing_ok=True)

    def _bridge_up(self) -> None:
        if run(["ip", "link", "show", BRIDGE], check=False).returncode == 0:
            return
        run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        run(["ip", "addr", "add", BRIDGE_CIDR, "dev", BRIDGE])
        run(["ip", "link", "set", BRIDGE, "up"])

    def _bridge_down(self) -> None:
        run(["ip", "link", "delete", BRIDGE], check=False)
