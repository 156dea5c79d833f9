"""Dependencies run one way. `logplatform/` is the shared core (names, ECS logging, API keys, assets) and the
`logplatform` CLI; the components above it, `backend/` and `generator/`, depend on it and never on each other;
`alerting/` runs inside the ElastAlert2 image, where none of our packages is installed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.reference import REPO

OURS = {"logplatform", "backend", "generator", "alerting"}
MAY_IMPORT = {"logplatform": set(), "backend": {"logplatform"}, "generator": {"logplatform"}, "alerting": set()}


def imported_packages(path: Path) -> set[str]:
    """Our top-level packages a module imports, wherever in the module (function-level imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & OURS


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_a_package_imports_only_the_packages_below_it(package: str) -> None:
    wrong = {
        str(path.relative_to(REPO)): sorted(imported_packages(path) - MAY_IMPORT[package] - {package})
        for path in sorted((REPO / package).rglob("*.py"))
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_the_check_sees_an_import_that_goes_the_wrong_way(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from backend.delivery import Delivery\n    import generator.cli\n")
    assert imported_packages(module) == {"backend", "generator"}
