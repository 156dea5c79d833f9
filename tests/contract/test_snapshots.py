"""`logplatform snapshot` against the real engine (its path.repo is set, as docker-compose.yml sets es01's): what
was indexed when the snapshot was taken is what a restore brings back, events lost since included, nothing twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from logplatform.cli import main
from logplatform.snapshots import REPOSITORY
from tests.support.search_engine import SearchEngine
from tests.support.shipper import ship_files

pytestmark = pytest.mark.engine


def snapshot_cli(engine: SearchEngine, *args: str) -> Result:
    return CliRunner().invoke(main, ["snapshot", "--url", engine.cluster.url, *args])


def ids(engine: SearchEngine, stream: str) -> list[str]:
    engine.refresh(stream)
    body = engine.search(stream, {"size": 1000, "query": {"match_all": {}}, "_source": ["event.id"]})
    return sorted(h["_source"]["event"]["id"] for h in body["hits"]["hits"])


def events(path: Path, start: int, count: int) -> Path:
    path.write_text(
        "".join(
            json.dumps(
                {
                    "@timestamp": "2026-12-01T10:00:00Z",
                    "service": "snapshots",
                    "message": f"event {i}",
                    "event": {"id": f"snap-{i}"},
                }
            )
            + "\n"
            for i in range(start, start + count)
        )
    )
    return path


def test_a_restore_brings_back_what_the_snapshot_held(
    installed: SearchEngine, data_stream: str, tmp_path: Path
) -> None:
    assert ship_files(installed.cluster, [events(tmp_path / "a.log", 0, 50)], data_stream)["failed"] == 0
    before = ids(installed, data_stream)
    assert len(before) == 50

    created = snapshot_cli(installed, "create", "--name", f"test-{data_stream}")
    assert created.exit_code == 0, created.output
    assert f"snapshot test-{data_stream}: SUCCESS" in created.output and data_stream in created.output
    listed = snapshot_cli(installed, "list")
    assert f"test-{data_stream}  SUCCESS" in listed.output

    # after the snapshot: events deleted by mistake, and events that came later
    installed.cluster.ok(
        "POST", f"/{data_stream}/_delete_by_query?refresh=true", {"query": {"terms": {"event.id": before[:20]}}}
    )
    assert ship_files(installed.cluster, [events(tmp_path / "b.log", 50, 5)], data_stream)["failed"] == 0
    assert len(ids(installed, data_stream)) == 35

    refused = CliRunner().invoke(
        main, ["snapshot", "--url", installed.cluster.url, "restore", f"test-{data_stream}"], input="n\n"
    )
    assert refused.exit_code != 0 and len(ids(installed, data_stream)) == 35  # asked, and nothing done
    restored = snapshot_cli(installed, "restore", f"test-{data_stream}", "--yes")
    assert restored.exit_code == 0, restored.output
    assert ids(installed, data_stream) == before
    installed.cluster.request("DELETE", f"/_snapshot/{REPOSITORY}/test-{data_stream}")


def test_restoring_a_snapshot_that_does_not_exist_says_so(installed: SearchEngine) -> None:
    result = snapshot_cli(installed, "restore", "no-such-snapshot", "--yes")
    assert result.exit_code == 1
    assert "no snapshot no-such-snapshot" in result.output and "snapshot list" in result.output
