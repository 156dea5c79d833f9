"""Makes the Python ElastAlert2 runs on during the tests: the release the compose file pins, on the Python its
image runs.

ElastAlert2 supports Elasticsearch 9 from 2.26.0, and its releases since need Python 3.12+; the 2.31.0 image is
built `FROM python:3.14.5-slim` (jertel/elastalert2, Dockerfile lines 1 and 13). This machine has 3.11, so
ElastAlert2 gets a Debian root of its own with Python 3.14 from Debian's packages: forky (Debian testing) has
it, trixie only 3.13. Made with debootstrap (tests/support/debian_root.py), a venv in it, cached in
~/.cache/logplatform/ and made again only when the pinned version or the Python changes; one build at a time
(a lock), as several test runs may ask at once. `python -m tests.alerting.build` prints the time.

What `build()` returns is a small script that stands for that venv's `python`: it runs it chrooted into the
root, in a mount namespace of its own where this machine's /tmp and the repository are bind-mounted at the
same paths (tests hand it files from both), gone when the process ends. Needs root, as the rehearsal does.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from pathlib import Path

import yaml

from tests.support import debian_root
from tests.support.commands import run

REPO = Path(__file__).resolve().parents[2]
RELEASE = "forky"
PYTHON_VERSION = "3.14"  # the minor version of the image's python:3.14.5-slim; Debian's patch level differs
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
STAMP_TEXT = f"{VERSION} python{PYTHON_VERSION}"
LOCK = CACHE / f"elastalert2-{VERSION}-{RELEASE}.lock"

_WRAPPER = """#!/bin/sh
# ElastAlert2 {version}'s Python, in its Debian {release} root (tests/alerting/build.py)
exec unshare --mount --propagation private -- /bin/sh -c '
root="$1"; shift
for dir in /proc /tmp "{repo}"; do mkdir -p "$root$dir" && mount --rbind "$dir" "$root$dir" || exit 70; done
exec chroot "$root" {venv}/bin/python "$@"' sh "{root}" "$@"
"""

# The image's layout around a command run in the root (as root, in a mount namespace of its own like the wrapper's):
# our alerting/ at /opt/logplatform/alerting as compose mounts it, the image's /opt/elastalert with its run.sh (the
# upstream Dockerfile's four lines, kept in the stand-in's run.sh) and the given config.yaml, and an empty
# /tmp/logplatform-rules of its own; then the command, in the image's WORKDIR.
_IN_IMAGE = """
root="$1"; repo="$2"; config="$3"; shift 3
for dir in /proc /dev /tmp "$repo"; do mkdir -p "$root$dir" && mount --rbind "$dir" "$root$dir" || exit 70; done
mkdir -p "$root/opt/logplatform/alerting" "$root/opt/elastalert" "$root/tmp/logplatform-rules" || exit 70
mount --bind "$repo/alerting" "$root/opt/logplatform/alerting" || exit 70
mount -t tmpfs tmpfs "$root/opt/elastalert" && mount -t tmpfs tmpfs "$root/tmp/logplatform-rules" || exit 70
cp "$repo/tests/stack/standins/elastalert2/run.sh" "$root/opt/elastalert/run.sh" || exit 70
cp "$config" "$root/opt/elastalert/config.yaml" || exit 70
exec chroot "$root" /bin/sh -c 'cd /opt/elastalert && exec "$@"' sh "$@"
"""
# The image's PATH puts ElastAlert2's commands and Python first; the host's tools (unshare, mount, chroot) after
IMAGE_PATH = f"{VENV_IN_ROOT}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def in_image(config: Path, command: list[str]) -> list[str]:
    """The command line that runs `command` (e.g. alerting/entrypoint.sh) in ElastAlert2's root laid out as its
    image (see _IN_IMAGE), with /opt/elastalert/config.yaml a copy of `config`. Run it with PATH=IMAGE_PATH."""
    build(quiet=True)
    script = ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", _IN_IMAGE, "sh"]
    return [*script, str(ROOT), str(REPO), str(config), *command]


def _make_root() -> None:
    python = f"python{PYTHON_VERSION}"
    debian_root.make(RELEASE, ROOT, [python, f"{python}-venv", "ca-certificates"])
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for cmd in (
        [python, "-m", "venv", VENV_IN_ROOT],
        [f"{VENV_IN_ROOT}/bin/pip", "install", "--quiet", f"elastalert2=={VERSION}"],
    ):
        run(["chroot", str(ROOT), *cmd], env=env)


def build(quiet: bool = False) -> Path:
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second build at once would delete the first's root under it
        if not (STAMP.exists() and STAMP.read_text() == STAMP_TEXT):
            started = time.monotonic()
            _make_root()
            STAMP.write_text(STAMP_TEXT)
            if not quiet:
                took = time.monotonic() - started
                print(f"elastalert2 {VERSION}: Debian {RELEASE}, Python {PYTHON_VERSION}, venv made in {took:.0f}s")
    PYTHON.parent.mkdir(parents=True, exist_ok=True)
    wrapper = _WRAPPER.format(version=VERSION, release=RELEASE, repo=REPO, root=ROOT, venv=VENV_IN_ROOT)
    if not PYTHON.exists() or PYTHON.read_text() != wrapper:  # the clone's path goes into it
        PYTHON.write_text(wrapper)
        PYTHON.chmod(0o755)
    return PYTHON


if __name__ == "__main__":
    build()
