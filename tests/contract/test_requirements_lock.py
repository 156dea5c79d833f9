"""requirements.lock is what the images install with `pip install --no-deps`: it must hold every package the
project's dependencies need, on the images' Python too, or a container fails at its first import."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
IMAGE_PYTHON = "3.13"  # backend/Dockerfile, generator/Dockerfile


def _locked() -> dict[str, str]:
    pins = [ln.split("==") for ln in (REPO / "requirements.lock").read_text().splitlines() if "==" in ln]
    return {canonicalize_name(name): version for name, version in pins}


def _needed(requirement: Requirement, extras: set[str]) -> bool:
    """On the images' Python, with the extras asked of the package that requires it."""
    if requirement.marker is None:
        return True
    env = {**default_environment(), "python_version": IMAGE_PYTHON, "python_full_version": f"{IMAGE_PYTHON}.0"}
    return any(requirement.marker.evaluate({**env, "extra": extra}) for extra in {"", *extras})


def test_every_dependency_of_every_locked_package_is_locked() -> None:
    locked = _locked()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    todo = [Requirement(r) for r in project]
    missing, seen = [], set()
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if (name, frozenset(req.extras)) in seen:
            continue
        seen.add((name, frozenset(req.extras)))
        if name not in locked:
            missing.append(req.name)
            continue
        todo += [sub for raw in metadata.requires(req.name) or [] if _needed(sub := Requirement(raw), req.extras)]
    assert missing == [], f"needed by the project's dependencies, not in requirements.lock: {missing}"
