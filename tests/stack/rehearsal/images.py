"""The images the compose file names, built in the rehearsal's own daemon: no registry is reachable.

- Base images: each `FROM` of our Dockerfiles (the official `python` image) is made from Debian packages with
  debootstrap, tagged exactly as the `FROM` line says; its Python is Debian's, not the official image's build.
  `logplatform-rehearsal/tools` adds the tools Elastic's images carry (curl, bash, jq) for the stand-ins.
- Our images: `docker compose build`, as a user builds them.
- Stand-ins for the images we cannot have, under the exact names the compose file uses (standins/, and
  tests/stack/standins.md for how each differs from the real one).
Only locally built base images carry the host's CA bundle (for pip behind a TLS-inspecting proxy).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import time
from pathlib import Path

import yaml

from tests.stack.rehearsal.docker_host import CACHE, run
from tests.support import debian_root

REPO = Path(__file__).resolve().parents[3]
STANDINS = REPO / "tests" / "stack" / "standins"
RELEASE = "trixie"
TOOLS_IMAGE = f"logplatform-rehearsal/tools:{RELEASE}"
PYTHON_PACKAGES = ["python3", "python3-pip", "python3-venv", "ca-certificates"]
TOOL_PACKAGES = ["curl", "jq", "procps", "tini"]


def from_lines() -> list[str]:
    """The base images our own Dockerfiles start from."""
    tags = set()
    for dockerfile in (REPO / "backend" / "Dockerfile", REPO / "generator" / "Dockerfile"):
        tags |= set(re.findall(r"^FROM\s+(\S+)", dockerfile.read_text(), re.M))
    return sorted(tags)


def compose_images() -> dict[str, str]:
    """service -> image, with the compose files' defaults (no .env): ours and the queue switch's."""
    out = {}
    for compose_file in (REPO / "docker-compose.yml", REPO / "kafka" / "queue.compose.yml"):
        for name, svc in yaml.safe_load(compose_file.read_text())["services"].items():
            if "image" in svc:  # the queue file only adds settings to some of ours
                out[name] = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", svc["image"])
    return out


def has_image(env: dict[str, str], tag: str, recipe: str | None = None) -> bool:
    """The image exists (and was made from this recipe, when one is given)."""
    proc = run(
        ["docker", "image", "inspect", "-f", '{{index .Config.Labels "logplatform.recipe"}}', tag], env=env, check=False
    )
    return proc.returncode == 0 and (recipe is None or proc.stdout.strip() == recipe)


def _recipe() -> str:
    """What the base images are made of: a change rebuilds them."""
    parts = [RELEASE, *PYTHON_PACKAGES, "|", *TOOL_PACKAGES, "|", "PIP_IGNORE_INSTALLED=1"]
    return hashlib.sha256(" ".join(parts).encode()).hexdigest()[:16]


def _import(env: dict[str, str], root: Path, tag: str, changes: list[str]) -> None:
    tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
    args = ["docker", "import"]
    for change in changes:
        args += ["-c", change]
    proc = subprocess.run([*args, "-", tag], stdin=tar.stdout, env=env, capture_output=True, text=True)
    tar.wait()
    if proc.returncode != 0 or tar.returncode != 0:
        raise RuntimeError(f"docker import {tag} failed: {proc.stderr[-2000:]}")


def base_images(env: dict[str, str]) -> list[str]:
    """The `python` base images and the stand-ins' tools image; made once, kept in the daemon's data-root."""
    wanted = [*from_lines(), TOOLS_IMAGE]
    recipe = _recipe()
    if all(has_image(env, tag, recipe) for tag in wanted):
        return wanted
    started = time.monotonic()
    print(f"rehearsal: debootstrap {RELEASE} (Debian packages) for {', '.join(wanted)}", flush=True)
    root = debian_root.make(RELEASE, CACHE / "rootfs" / RELEASE, PYTHON_PACKAGES)
    # the official image's layout: python and pip in /usr/local/bin, pip allowed to install system-wide
    for name, target in (
        ("python", "/usr/bin/python3"),
        ("python3", "/usr/bin/python3"),
        ("pip", "/usr/bin/pip3"),
        ("pip3", "/usr/bin/pip3"),
    ):
        link = root / "usr" / "local" / "bin" / name
        link.unlink(missing_ok=True)
        link.symlink_to(target)
    for marker in (root / "usr" / "lib").glob("python3*/EXTERNALLY-MANAGED"):
        marker.unlink()
    python_env = [
        "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV LANG=C.UTF-8",
        # Debian's own Python packages (python3-packaging comes with python3-pip) carry no pip records: pip installs
        # over them, as on the official image, where nothing but pip is installed
        "ENV PIP_IGNORE_INSTALLED=1",
        f"LABEL logplatform.recipe={recipe}",
        'CMD ["python3"]',
    ]
    for tag in from_lines():
        _import(env, root, tag, python_env)
    debian_root.install(root, TOOL_PACKAGES)
    _import(env, root, TOOLS_IMAGE, python_env[:3])
    shutil.rmtree(root, ignore_errors=True)
    print(f"rehearsal: base images ready in {time.monotonic() - started:.0f}s", flush=True)
    return wanted


def _context(name: str) -> Path:
    ctx = CACHE / "contexts" / name
    shutil.rmtree(ctx, ignore_errors=True)
    shutil.copytree(STANDINS / name, ctx)
    return ctx


def _link_or_copy(source: str, target: str) -> None:
    """A hard link where the filesystem allows (a JDK is 300 MB), else a copy."""
    try:
        Path(target).hardlink_to(source)
    except OSError:
        shutil.copy2(source, target)


def _build(env: dict[str, str], tag: str, ctx: Path, args: dict[str, str] | None = None) -> None:
    cmd = ["docker", "build", "--quiet", "-t", tag]
    for k, v in (args or {}).items():
        cmd += ["--build-arg", f"{k}={v}"]
    # the classic builder: the docker CLI here may lack the buildx plugin that BuildKit builds need
    run([*cmd, str(ctx)], env={**env, "DOCKER_BUILDKIT": "0"}, timeout=1800)


def elasticsearch_standin(env: dict[str, str], tag: str) -> None:
    from tests.engine.engine import TARGET, build, find_java_home

    java_home = find_java_home()
    classpath = build(java_home, quiet=True)
    ctx = _context("elasticsearch")
    shutil.copytree(java_home.resolve(), ctx / "jdk", copy_function=_link_or_copy, symlinks=True)
    lib = ctx / "lib"
    lib.mkdir()
    for entry in classpath:
        path = Path(entry)
        if path == TARGET / "classes":
            shutil.copytree(path, lib / "classes")
        else:
            _link_or_copy(str(path), str(lib / path.name))
    standin = ctx / "standin"
    shutil.copytree(STANDINS / "elasticsearch", standin, ignore=shutil.ignore_patterns("Dockerfile", "*.sh"))
    shutil.copy(REPO / "tests" / "support" / "es_compat_proxy.py", standin)
    (standin / "logplatform").mkdir()
    (standin / "logplatform" / "__init__.py").write_text("")
    shutil.copy(REPO / "logplatform" / "stack_version.py", standin / "logplatform")
    _build(env, tag, ctx)


def filebeat_standin(env: dict[str, str], tag: str) -> None:
    from tests.filebeat.build import build

    ctx = _context("filebeat")
    shutil.copy(build(quiet=True), ctx / "filebeat")
    _build(env, tag, ctx)


def kafka_standin(env: dict[str, str], tag: str) -> None:
    from tests.engine.engine import find_java_home
    from tests.kafka.broker import build, kafka_version

    if tag.rsplit(":", 1)[1] != kafka_version():
        raise AssertionError(f"{tag}: the test broker resolves Kafka {kafka_version()} (tests/kafka/pom.xml)")
    ctx = _context("kafka")
    shutil.copytree(find_java_home().resolve(), ctx / "jdk", copy_function=_link_or_copy, symlinks=True)
    (ctx / "libs").mkdir()
    for jar in build(quiet=True):
        _link_or_copy(jar, str(ctx / "libs" / Path(jar).name))
    _build(env, tag, ctx)


def kibana_standin(env: dict[str, str], tag: str) -> None:
    _build(env, tag, _context("kibana"))


def elastalert_standin(env: dict[str, str], tag: str) -> None:
    _build(env, tag, _context("elastalert2"), {"ELASTALERT_VERSION": tag.rsplit(":", 1)[1]})


def standins(env: dict[str, str]) -> None:
    """Builds every stand-in under the image name the compose file gives its service."""
    images = compose_images()
    builders = {
        "es01": elasticsearch_standin,
        "kibana": kibana_standin,
        "filebeat": filebeat_standin,
        "alerting": elastalert_standin,
        "kafka": kafka_standin,
    }
    for service, builder in builders.items():
        started = time.monotonic()
        builder(env, images[service])
        print(f"rehearsal: image {images[service]} (stand-in) built in {time.monotonic() - started:.0f}s", flush=True)
