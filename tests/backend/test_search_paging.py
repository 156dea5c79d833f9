"""GET /logs pages past the engine's result window with `cursor`: every event once, newest first, however many
share a timestamp."""

from __future__ import annotations

import pytest

from tests.support.backend_app import Backend
from tests.support.documents import index_events
from tests.support.search_engine import SearchEngine

pytestmark = pytest.mark.engine


def test_a_cursor_pages_past_the_result_window_showing_each_event_once(
    installed: SearchEngine, backend: Backend, data_stream: str
) -> None:
    index_events(installed, data_stream, 10_050)
    headers = {"X-API-Key": backend.key}
    deep = backend.client.get("/logs", params={"page": 21, "size": 500}, headers=headers)
    assert deep.status_code == 422 and deep.json()["field"] == "page"  # page numbers stop at the window
    seen: list[str] = []
    params: dict[str, str | int] = {"size": 495}  # not a multiple of ten: pages end inside a timestamp
    while True:
        answer = backend.client.get("/logs", params=params, headers=headers).json()
        seen += [hit["message"] for hit in answer["hits"]]
        if answer["next_cursor"] is None:
            break
        params = {"size": 495, "cursor": answer["next_cursor"]}
    assert len(seen) == 10_050 and len(set(seen)) == 10_050
    numbers = [int(m.split()[1]) // 10 for m in seen]
    assert numbers == sorted(numbers, reverse=True)  # newest first, across every page


def test_a_cursor_that_this_api_did_not_give_is_refused(backend: Backend) -> None:
    r = backend.client.get("/logs", params={"cursor": "bm90IGEgY3Vyc29y"}, headers={"X-API-Key": backend.key})
    assert r.status_code == 422 and r.json()["field"] == "cursor"
