"""What a hostile-client review still found (issue 40, the backend's findings): each case is answered as
docs/reliability.md says, stores exactly the events it should, and leaves the backend healthy."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.support.backend_app import Backend

GOOD = {"service": "auth-service", "level": "INFO", "message": "a valid event"}


def _messages(backend: Backend) -> list[str]:
    assert backend.sink is not None
    return [json.loads(line)["message"] for line in backend.sink.lines]


def test_gzip_members_back_to_back_are_all_read(memory_backend: Backend) -> None:
    """Finding 8: `gzip -d` reads every member of a concatenated gzip file; so does the backend."""
    members = b"".join(gzip.compress(json.dumps({**GOOD, "message": f"member {i}"}).encode() + b"\n") for i in range(3))
    r = memory_backend.post(
        content=members, headers={"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}
    )
    assert r.status_code == 200, r.text
    assert [i["status"] for i in r.json()["items"]] == ["indexed"] * 3
    assert _messages(memory_backend) == ["member 0", "member 1", "member 2"]


def test_gzip_members_share_one_decompressed_limit(memory_backend: Backend) -> None:
    limit = memory_backend.settings.max_body_bytes
    member = gzip.compress(b" " * (limit // 2 + 1))  # each member alone within the limit, the three not
    r = memory_backend.post(
        content=member * 3, headers={"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}
    )
    assert r.status_code == 413, r.text
    assert r.json()["field"] == "body" and "decompressed" in r.json()["reason"]
    assert memory_backend.sink is not None and memory_backend.sink.lines == []


@pytest.mark.parametrize(
    ("tail", "reason"),
    [(b"\0" * 8, "content-encoding"), (gzip.compress(b"{}")[:-4], "content-encoding")],
    ids=["garbage-after-a-member", "second-member-truncated"],
)
def test_what_follows_a_gzip_member_is_a_member_or_refused(memory_backend: Backend, tail: bytes, reason: str) -> None:
    body = gzip.compress(json.dumps(GOOD).encode()) + tail
    r = memory_backend.post(content=body, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == reason
    assert memory_backend.sink is not None and memory_backend.sink.lines == []


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085"])
def test_an_ndjson_line_ends_only_at_a_line_feed(memory_backend: Backend, separator: str) -> None:
    """Finding 9: a raw U+2028 (and the other characters str.splitlines splits at) inside a JSON string is part of
    the string: the event keeps its index, and the events after it keep theirs."""
    lines = [
        json.dumps({**GOOD, "message": f"before{separator}after"}, ensure_ascii=False),
        "not json",
        json.dumps({**GOOD, "message": "third"}),
    ]
    r = memory_backend.post(content="\r\n".join(lines).encode(), headers={"Content-Type": "application/x-ndjson"})
    items = r.json()["items"]
    assert [i["index"] for i in items] == [0, 1, 2], items
    assert items[1]["status"] == "rejected" and "not valid JSON" in items[1]["errors"][0]["reason"]
    assert items[2]["status"] == "indexed"
    if separator in ("\u2028", "\u2029"):  # printable: the event is valid and stored as sent
        assert items[0]["status"] == "indexed"
        assert _messages(memory_backend) == [f"before{separator}after", "third"]
    else:  # a control character: refused with its position (the event model's rule), not split
        assert items[0]["status"] == "rejected" and "control character" in items[0]["errors"][0]["reason"]
        assert _messages(memory_backend) == ["third"]
