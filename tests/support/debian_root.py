"""A Debian root filesystem made from Debian packages (debootstrap), for what this machine's own Debian lacks.

Used by the rehearsal for the base images (no registry is reachable) and by the alerting tests, which run
ElastAlert2 on forky's Python 3.14, as its image does (this machine has 3.11).
Needs root: debootstrap, chroot and mounts.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from tests.support.commands import run

HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def mirror() -> str:
    """The Debian mirror this machine's apt uses (a local mirror may be the only one reachable)."""
    for source in [Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")]:
        if source.exists():
            m = re.search(r"(?:URIs:|deb)\s+(https?://\S+/debian)\b", source.read_text())
            if m:
                return m.group(1)
    return "http://deb.debian.org/debian"


def _ensure_debootstrap() -> None:
    if shutil.which("debootstrap") or Path("/usr/sbin/debootstrap").exists():
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env, timeout=600)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "debootstrap"], env=env, timeout=1200)


def install(root: Path, packages: list[str]) -> None:
    """apt-get install inside the root; the package lists are removed afterwards, as Debian's images do."""
    shutil.copy("/etc/resolv.conf", root / "etc" / "resolv.conf")
    run(["mount", "--bind", "/proc", str(root / "proc")])
    try:
        env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        # testing and sid publish a Release that expires within days; this machine's clock may be past it while
        # the mirror it reaches still serves it. Signatures are checked all the same.
        fresh = ["-o", "Acquire::Check-Valid-Until=false"]
        run(["chroot", str(root), "apt-get", *fresh, "update", "-qq"], env=env, timeout=900)
        run(
            ["chroot", str(root), "apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
            env=env,
            timeout=1800,
        )
        run(["chroot", str(root), "apt-get", "clean"], env=env)
    finally:
        run(["umount", str(root / "proc")], check=False)
    shutil.rmtree(root / "var" / "lib" / "apt" / "lists", ignore_errors=True)
    (root / "var" / "lib" / "apt" / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    trust_host_ca(root)


def trust_host_ca(root: Path) -> None:
    """The host's CA bundle, for pip behind a TLS-inspecting proxy."""
    if HOST_CA_BUNDLE.exists():
        shutil.copy(HOST_CA_BUNDLE, root / "etc" / "ssl" / "certs" / "ca-certificates.crt")


def make(release: str, root: Path, packages: list[str]) -> Path:
    """A fresh minbase root of `release` at `root`, with `packages` installed."""
    _ensure_debootstrap()
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    # A release newer than this machine's debootstrap (bookworm's knows no forky) is made as sid is: Debian's
    # scripts for every release since buster are one and the same.
    scripts = Path("/usr/share/debootstrap/scripts")
    script = [] if (scripts / release).exists() else [str(scripts / "sid")]
    run(["debootstrap", "--variant=minbase", release, str(root), mirror(), *script], timeout=1800)
    install(root, packages)
    return root
