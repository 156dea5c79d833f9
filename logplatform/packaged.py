"""Where the files the platform installs live: es/ (pipeline, templates, lifecycle) and kibana/ (saved objects).

They stay at the repository's top level, where a newcomer looks for them. `logplatform/_assets/` holds two
symlinks to them, and pyproject.toml ships `_assets/**` as package data: building a wheel (pip install .,
the Docker images) copies the files themselves into the package, an editable install follows the links to
the checkout. So this one path is right however the project is installed, and from any working directory.
"""

from __future__ import annotations

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "_assets"
ES_DIR = ASSETS_DIR / "es"
KIBANA_DIR = ASSETS_DIR / "kibana"


def require(directory: Path) -> Path:
    """The directory, or an error that says how the installation lost it."""
    if not directory.is_dir():
        raise FileNotFoundError(
            f"{directory} is missing: this installation of log-platform was built without its assets "
            "(build it from a checkout that has es/ and kibana/, e.g. pip install .)"
        )
    return directory
