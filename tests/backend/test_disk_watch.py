"""The backend's disk watch against the real engine: a node past its high watermark is warned about in the
backend's log (the line the disk alert fires on: tests/alerting), a node with room is not."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.disk_watch import ACTION
from tests.support.backend_app import live_backend
from tests.support.search_engine import SearchEngine

pytestmark = pytest.mark.engine
PREFIX = "cluster.routing.allocation.disk.watermark."


@pytest.fixture
def watermarks(installed: SearchEngine) -> Iterator[SearchEngine]:
    yield installed
    installed.cluster.ok(
        "PUT", "/_cluster/settings", {"persistent": {f"{PREFIX}{w}": None for w in ("low", "high", "flood_stage")}}
    )


def set_watermarks(engine: SearchEngine, low: str, high: str, flood_stage: str) -> None:
    # as free space: the test engine's own disk checks are off, so nothing turns read-only here
    engine.cluster.ok(
        "PUT",
        "/_cluster/settings",
        {"persistent": {f"{PREFIX}low": low, f"{PREFIX}high": high, f"{PREFIX}flood_stage": flood_stage}},
    )


def warnings_within(
    caplog: pytest.LogCaptureFixture, engine: SearchEngine, data_stream: str, tmp_path: Path, seconds: float
) -> list[dict]:
    caplog.clear()
    with caplog.at_level("WARNING", logger="backend.disk"):
        for _backend in live_backend(tmp_path, engine.client_url, data_stream, disk_watch_s=0.2):
            time.sleep(seconds)
    return [r.__dict__ for r in caplog.records if getattr(r, "event.action", None) == ACTION]


def test_a_node_past_its_high_watermark_is_warned_about(
    watermarks: SearchEngine, data_stream: str, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    set_watermarks(watermarks, "1000tb", "900tb", "1b")  # more free space wanted than any disk has
    warned = warnings_within(caplog, watermarks, data_stream, tmp_path, 2.0)
    assert warned, "no warning for a node past its high watermark"
    first = warned[0]
    assert first["labels.watermark"] == "high" and first["levelname"] == "WARNING"
    assert first["labels.elasticsearch_node"] and int(first["labels.disk_free_bytes"]) > 0
    assert "past its high disk watermark" in first["msg"] % first["args"]


def test_a_node_with_room_is_not_warned_about(
    watermarks: SearchEngine, data_stream: str, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    set_watermarks(watermarks, "1b", "1b", "1b")
    assert warnings_within(caplog, watermarks, data_stream, tmp_path, 1.5) == []
