"""The quick loop the README prints for contributors runs as printed: lint, types and unit tests, nothing that
needs the search engine, Filebeat, ElastAlert2 or Docker."""

from __future__ import annotations

import re
import shlex
import subprocess

from tests.support.reference import REPO


def test_the_readmes_quick_loop_runs_as_printed() -> None:
    printed = re.findall(r"`(scripts/test --quick [^`]+)`", (REPO / "README.md").read_text())
    assert printed, "the README no longer shows the quick loop with arguments"
    result = subprocess.run(shlex.split(printed[0]), cwd=REPO, capture_output=True, text=True, timeout=600)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert "== lint (ruff)" in out and "== types (mypy, strict)" in out and " passed" in out
    assert "== test engine" not in out and "== filebeat" not in out and "== elastalert2" not in out
