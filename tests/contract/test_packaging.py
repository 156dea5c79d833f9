"""The project installed as a user's image installs it (a wheel, not editable) still finds es/ and kibana/.

The compose images `pip install .`; an editable install (what scripts/test makes) reads the checkout, so a
path that only works there would pass every other test and crash `setup` in the image (it once did).
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from logplatform import names
from tests.support.search_engine import SearchEngine

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with our wheel installed non-editable; its dependencies come from the test venv."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(work / "dist"), str(REPO)],
        check=True,
        cwd=work,
    )
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    wheel = next((work / "dist").glob("log_platform-*.whl"))
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)], check=True)
    # the dependencies, not the project: a plain path entry runs no .pth file, so the test venv's editable
    # finder for log-platform stays out and only the wheel's copy can be imported
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def test_the_wheel_carries_the_assets(wheel_venv: Path, tmp_path: Path) -> None:
    out = subprocess.run(
        [
            str(wheel_venv / "bin" / "python"),
            "-c",
            "import logplatform.packaged as p; print(p.__file__); print(p.ES_DIR); print(p.KIBANA_DIR)",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout.split()
    module, es_dir, kibana_dir = (Path(x) for x in out)
    assert str(module).startswith(str(wheel_venv)), f"imported {module}, not the wheel's copy"
    assert not es_dir.is_symlink() and (es_dir / "index-templates" / f"{names.INDEX_TEMPLATE}.json").is_file()
    shipped = sorted(p.name for p in kibana_dir.glob("*.ndjson"))
    assert shipped == sorted(p.name for p in (REPO / "kibana").glob("*.ndjson"))


def test_setup_from_the_wheel_in_another_directory(wheel_venv: Path, engine: SearchEngine, tmp_path: Path) -> None:
    engine.cluster.request("DELETE", f"/_index_template/{names.INDEX_TEMPLATE}")
    engine.cluster.request("DELETE", f"/_ingest/pipeline/{names.PIPELINE}")
    result = subprocess.run(
        [
            str(wheel_venv / "bin" / "logplatform"),
            "setup",
            "elasticsearch",
            "--url",
            engine.cluster.url,
            "--timeout",
            "30",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"asset {names.INDEX_TEMPLATE}: installed" in result.stderr
    assert "pipeline: checked with a test event" in result.stderr
    assert engine.cluster.ok("GET", f"/_index_template/{names.INDEX_TEMPLATE}")
