"""`logplatform doctor`'s disk hop: free space against the watermarks, and indices the flood stage locked."""

from __future__ import annotations

import pytest

from logplatform import disk
from tests.support.search_engine import SearchEngine

GB = 1024**3


def test_watermarks_read_as_elasticsearch_reads_them() -> None:
    assert disk.Watermark("500mb").free_needed(100 * GB) == 500 * 1024**2
    assert disk.Watermark("90%").free_needed(100 * GB) == 10 * GB
    assert disk.Watermark("0.95").free_needed(100 * GB) == pytest.approx(5 * GB, rel=1e-6)
    with pytest.raises(ValueError):
        disk.Watermark("lots").free_needed(GB)


def test_a_node_past_a_watermark_is_named() -> None:
    marks = disk.watermarks(
        {
            "persistent": {
                "cluster.routing.allocation.disk.watermark.low": "2gb",
                "cluster.routing.allocation.disk.watermark.high": "1gb",
                "cluster.routing.allocation.disk.watermark.flood_stage": "500mb",
            }
        }
    )
    stats = {
        "nodes": {
            "a": {"name": "es01", "fs": {"total": {"available_in_bytes": 800 * 1024**2, "total_in_bytes": 500 * GB}}}
        }
    }
    [node] = disk.nodes(stats, marks)
    assert node.passed == ["low", "high"]  # 800 MB free: new shards stop, not yet read-only


def test_read_only_indices_are_found() -> None:
    blocked = {"index": {"blocks": {"read_only_allow_delete": "true"}}}
    settings = {
        ".ds-logs-logplatform-default-1": {"settings": blocked},
        ".ds-logs-logplatform-default-2": {"settings": {"index": {}}},
    }
    assert disk.read_only_indices(settings) == [".ds-logs-logplatform-default-1"]


@pytest.mark.engine
def test_doctor_reports_disk_and_a_flood_stage_block(installed: SearchEngine, data_stream: str) -> None:
    installed.cluster.ok("PUT", f"/_data_stream/{data_stream}")
    line = disk.check(installed.cluster)
    assert "free" in line and "read-only below" in line
    installed.cluster.ok("PUT", f"/{data_stream}/_settings", {"index.blocks.read_only_allow_delete": True})
    try:
        with pytest.raises(RuntimeError, match="read-only"):
            disk.check(installed.cluster)
    finally:
        installed.cluster.ok("PUT", f"/{data_stream}/_settings", {"index.blocks.read_only_allow_delete": None})
