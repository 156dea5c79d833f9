"""A file replaced whole: written beside its place and renamed over it, so that a reader, or a crash, finds the old
file or the new one, never part of one (the rename is atomic within a directory)."""

from __future__ import annotations

import os
from pathlib import Path


def draft_of(path: Path) -> Path:
    """Where the new content is written first; hidden, so that no glob of the directory's files takes it."""
    return path.with_name(f".{path.name}.tmp")


def replace_whole(path: Path, data: str | bytes, mode: int | None = None, durable: bool = False) -> None:
    """`data` (text as UTF-8) becomes path's content. mode: the file's permissions, set before it takes path's place
    (created 0600 until then, so a secret is never readable by others, not even half-written); durable: on disk
    before the rename (fsync), for a state a restart must find."""
    draft = draft_of(path)
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666 if mode is None else 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    if mode is not None:
        os.chmod(draft, mode)
    os.replace(draft, path)
