"""Upstream reference data in ../shared/reference/ (beside the repository, never edited)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference"

# Fields Filebeat itself adds to every event (its fields.yml), passed through by the pipeline.
FILEBEAT_FIELDS = {
    "input.type": "keyword",
    "log.offset": "long",
    "log.file.inode": "keyword",
    "log.file.device_id": "keyword",
    "log.file.fingerprint": "keyword",
    "log.flags": "keyword",  # filebeat/_meta/fields.common.yml (no type given: keyword); "multiline" on joined lines
}
CUSTOM_NAMESPACE = "logplatform."


@cache
def ecs_fields() -> dict[str, Any]:
    path = REFERENCE / "ecs_flat.yml"
    assert path.exists(), f"ECS reference missing: {path} (shared/ must sit beside the repository)"
    return yaml.safe_load(path.read_text())
