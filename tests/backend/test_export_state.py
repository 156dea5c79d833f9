"""The export's resume state (`<file>.cursor`) survives a kill at any moment, also one while it is being written."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from logplatform.export import export, state_file
from logplatform.files import draft_of

EVENTS = 1_250  # three pages of 500


def pages() -> httpx.Client:
    """GET /logs over EVENTS events, newest first, 500 a page, the cursor being the offset of the next page."""

    def answer(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("cursor", "0"))
        size = int(request.url.params["size"])
        hits = [{"id": f"id-{i}", "source": {"message": f"event {i}"}} for i in range(start, min(start + size, EVENTS))]
        following = start + size if start + size < EVENTS else None
        body: dict[str, Any] = {"hits": hits, "total": EVENTS - start, "next_cursor": following and str(following)}
        return httpx.Response(200, json=body)

    return httpx.Client(transport=httpx.MockTransport(answer))


class Killed(BaseException):
    """What SIGKILL is to the process: nothing after it runs, no handler sees it."""


def test_a_kill_while_the_state_is_written_leaves_the_previous_state_and_resume_holds_every_event_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "all.ndjson"
    real_fsync, state = os.fsync, state_file(output)
    saves = 0

    def fsync_then_killed_on_the_second_state(fd: int) -> None:
        nonlocal saves
        if os.readlink(f"/proc/self/fd/{fd}") == str(draft_of(state)):
            saves += 1
            if saves == 2:
                raise Killed  # the new state is on disk half-done; the export goes no further
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_then_killed_on_the_second_state)
    with pytest.raises(Killed):
        export("http://backend", "key", {}, output, "ndjson", client=pages())
    monkeypatch.undo()
    assert json.loads(state.read_text())["cursor"] == "500"  # the first page's state, whole

    export("http://backend", "key", {}, output, "ndjson", resume=True, client=pages())
    ids = [json.loads(line)["_id"] for line in output.read_text().splitlines()]
    assert len(ids) == EVENTS and len(set(ids)) == EVENTS
    assert not state.exists() and not draft_of(state).exists()
