"""Makes the virtual environment ElastAlert2 runs in during the tests: tests/alerting/.venv.

ElastAlert2 pins an old elasticsearch client (7.10.1) that must not meet ours, so it gets an
environment of its own. Its newest releases need Python 3.12+; this machine has 3.11, so the tests use
2.19.0, the newest release that supports 3.11, and the compose service runs the same version.
Cached: rebuilt only when the pinned version changes. `python -m tests.alerting.build` prints the time.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERSION = "2.19.0"
# 2.19.0 imports pytz without declaring it (APScheduler < 3.11 used to bring it in; 3.11 does not)
EXTRA = ["pytz"]
VENV = HERE / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / "logplatform.stamp"


def build(quiet: bool = False) -> Path:
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text() == VERSION:
        return PYTHON
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    f"elastalert2=={VERSION}", *EXTRA], check=True)
    STAMP.write_text(VERSION)
    if not quiet:
        print(f"elastalert2 {VERSION}: installed in {time.monotonic() - started:.0f}s")
    return PYTHON


if __name__ == "__main__":
    build()
