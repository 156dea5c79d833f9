"""A command the tests run on this machine (debootstrap, chroot, docker): its output kept, its failure said."""

from __future__ import annotations

import subprocess
from pathlib import Path


def run(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float = 1800,
    capture: bool = True,
    cwd: Path | None = None,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Runs cmd; with check, a non-zero exit raises with the command and the end of its output."""
    proc = subprocess.run(cmd, env=env, capture_output=capture, text=True, timeout=timeout, cwd=cwd, input=input_text)
    if check and proc.returncode != 0:
        out = (proc.stdout or "")[-3000:] + (proc.stderr or "")[-3000:]
        raise RuntimeError(f"{' '.join(cmd[:6])} ... exited {proc.returncode}:\n{out}")
    return proc
