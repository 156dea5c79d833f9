"""`scripts/rehearse`: run docker-compose.yml for real, on a Docker Engine and Compose of the rehearsal's own.

Prints the engine and Compose versions, each image built, each scenario's result, and a closing line
`rehearsal: N passed, N failed`; exits non-zero on any failure. Where the machine cannot run it (no root, no
kernel support, a dockerd that crashes or hangs) it says why and fails: a test run that did not rehearse is not
a passing one. After the run the rehearsal's own Docker data is pruned to a bound (docker_host.Daemon.prune).
"""

from __future__ import annotations

import signal
import sys
import time
import traceback
from collections.abc import Callable

from tests.stack.rehearsal import images
from tests.stack.rehearsal.docker_host import CannotRun, Daemon, compose_plugin, install_tools, preflight, run
from tests.stack.rehearsal.scenarios import SCENARIOS
from tests.stack.rehearsal.stack import REPO, Stack


def prepare(daemon: Daemon) -> None:
    preflight()
    install_tools()
    compose_plugin()
    daemon.start()
    engine, compose = daemon.versions()
    pid = daemon.proc.pid if daemon.proc else "?"
    print(
        f"rehearsal: Docker Engine {engine}, Docker Compose {compose} (dockerd pid {pid}, data under {daemon.root})",
        flush=True,
    )
    for tag in images.base_images(daemon.env):
        print(f"rehearsal: base image {tag} (Debian {images.RELEASE} packages)", flush=True)
    images.standins(daemon.env)
    started = time.monotonic()
    run(
        ["docker", "compose", "-f", str(REPO / "docker-compose.yml"), "build", "--quiet"],
        env=daemon.env,
        cwd=REPO,
        timeout=2400,
    )
    for service, image in images.compose_images().items():
        if image.startswith("log-platform"):
            print(f"rehearsal: image {image} ({service}) built by docker compose build", flush=True)
    print(f"rehearsal: docker compose build took {time.monotonic() - started:.0f}s", flush=True)


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # the finally blocks below take the stack and the daemon down


def chosen(names: list[str]) -> list[Callable[[Stack], str]]:
    """Every scenario, or the first start and those named (`scripts/rehearse doctor_reports_every_hop_ok`)."""
    if not names:
        return SCENARIOS
    unknown = set(names) - {s.__name__ for s in SCENARIOS}
    if unknown:
        raise SystemExit(f"rehearsal: no scenario {sorted(unknown)}; there are {[s.__name__ for s in SCENARIOS]}")
    return [s for s in SCENARIOS if s is SCENARIOS[0] or s.__name__ in names]


def main() -> int:
    scenarios = chosen(sys.argv[1:])
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    daemon = Daemon()
    passed = failed = 0
    try:
        try:
            prepare(daemon)
        except CannotRun as exc:
            print(f"rehearsal: cannot run on this machine: {exc}", flush=True)
            print("rehearsal: 0 passed, 1 failed", flush=True)
            return 1
        stack = Stack(daemon.env)
        try:
            for scenario in scenarios:
                name = scenario.__name__.replace("_", " ")
                if failed and scenario is not scenarios[0] and passed == 0:
                    print(f"FAIL  {name}: not run, the first start failed", flush=True)
                    failed += 1
                    continue
                started = time.monotonic()
                try:
                    detail = scenario(stack)
                except Exception as exc:  # every scenario reports, none stops the rest
                    failed += 1
                    print(f"FAIL  {name} ({time.monotonic() - started:.0f}s): {exc}", flush=True)
                    if not isinstance(exc, AssertionError):
                        traceback.print_exc()
                else:
                    passed += 1
                    print(f"PASS  {name} ({time.monotonic() - started:.0f}s): {detail}", flush=True)
        finally:
            try:
                stack.down(volumes=True)
            except Exception as exc:  # the daemon is stopped below whatever happened here
                print(f"rehearsal: docker compose down -v failed: {exc}", flush=True)
            stack.close()
    except Exception:
        traceback.print_exc()
        failed += 1
    finally:
        try:
            print(f"rehearsal: {daemon.prune()}", flush=True)
        except Exception as exc:  # a data root over its bound fails the run, after the daemon is stopped
            print(f"FAIL  pruning the rehearsal's Docker data: {exc}", flush=True)
            failed += 1
        daemon.stop()
    print(f"rehearsal: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
