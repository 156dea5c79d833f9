"""Makes the virtual environment ElastAlert2 runs in during the tests (in ~/.cache/logplatform/).

ElastAlert2 pins an old elasticsearch client (7.10.1) that must not meet ours, so it gets an
environment of its own. Its newest releases need Python 3.12+; this machine has 3.11, so the tests use
2.19.0, the newest release that supports 3.11, and the compose service runs the same version.
Cached: made again only when the pinned version changes. `python -m tests.alerting.build` prints the time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

VERSION = "2.19.0"
# 2.19.0 imports pytz without declaring it (APScheduler < 3.11 used to bring it in; 3.11 does not)
EXTRA = ["pytz"]
# outside the clone, like Maven's and Go's caches, so a fresh clone does not reinstall it
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "logplatform"
VENV = CACHE / f"elastalert2-{VERSION}-py{sys.version_info.major}{sys.version_info.minor}"
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
