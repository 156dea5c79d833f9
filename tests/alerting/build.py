"""Makes the Python ElastAlert2 runs on during the tests: the release the compose file pins, on Debian trixie.

ElastAlert2 supports Elasticsearch 9 from 2.26.0, and its releases since need Python 3.12+. This machine has
3.11, so ElastAlert2 gets a Debian trixie root of its own (Python 3.13 from Debian's packages, made with
debootstrap; tests/support/debian_root.py) with a venv in it, cached in ~/.cache/logplatform/ and made again
only when the pinned version changes. `python -m tests.alerting.build` prints the time.

What `build()` returns is a small script that stands for that venv's `python`: it runs it chrooted into the
root, in a mount namespace of its own where this machine's /tmp and the repository are bind-mounted at the
same paths (tests hand it files from both), gone when the process ends. Needs root, as the rehearsal does.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import yaml

from tests.support import debian_root
from tests.support.commands import run

REPO = Path(__file__).resolve().parents[2]
RELEASE = "trixie"
# outside the clone, like Maven's and Go's caches, so a fresh clone does not reinstall it
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "logplatform"
VENV_IN_ROOT = "/opt/elastalert2"


def pinned_version() -> str:
    """The release the compose file's `alerting` service runs: one pin for the product and the tests."""
    image = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["alerting"]["image"]
    m = re.fullmatch(r"jertel/elastalert2:(\d+\.\d+\.\d+)", image)
    if not m:
        raise ValueError(f"the alerting image is not a pinned jertel/elastalert2 release: {image}")
    return m.group(1)


VERSION = pinned_version()
HOME = CACHE / f"elastalert2-{VERSION}-{RELEASE}"
ROOT = HOME / "root"
PYTHON = HOME / "bin" / "python"
STAMP = HOME / "logplatform.stamp"

_WRAPPER = """#!/bin/sh
# ElastAlert2 {version}'s Python, in its Debian {release} root (tests/alerting/build.py)
exec unshare --mount --propagation private -- /bin/sh -c '
root="$1"; shift
for dir in /proc /tmp "{repo}"; do mkdir -p "$root$dir" && mount --rbind "$dir" "$root$dir" || exit 70; done
exec chroot "$root" {venv}/bin/python "$@"' sh "{root}" "$@"
"""


def _make_root() -> None:
    debian_root.make(RELEASE, ROOT, ["python3", "python3-venv", "ca-certificates"])
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for cmd in (
        ["python3", "-m", "venv", VENV_IN_ROOT],
        [f"{VENV_IN_ROOT}/bin/pip", "install", "--quiet", f"elastalert2=={VERSION}"],
    ):
        run(["chroot", str(ROOT), *cmd], env=env)


def build(quiet: bool = False) -> Path:
    if not (STAMP.exists() and STAMP.read_text() == VERSION):
        started = time.monotonic()
        _make_root()
        STAMP.write_text(VERSION)
        if not quiet:
            print(f"elastalert2 {VERSION}: Debian {RELEASE} root and venv made in {time.monotonic() - started:.0f}s")
    PYTHON.parent.mkdir(parents=True, exist_ok=True)
    wrapper = _WRAPPER.format(version=VERSION, release=RELEASE, repo=REPO, root=ROOT, venv=VENV_IN_ROOT)
    if not PYTHON.exists() or PYTHON.read_text() != wrapper:  # the clone's path goes into it
        PYTHON.write_text(wrapper)
        PYTHON.chmod(0o755)
    return PYTHON


if __name__ == "__main__":
    build()
