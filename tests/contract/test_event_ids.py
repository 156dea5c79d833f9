"""The event ids every producer gives an event without one (backend, `logplatform send`, the generator, the
backend's own logs, OTLP records): version 7 UUIDs, in time order, which the pipeline makes ordered document ids."""

from __future__ import annotations

import time
import uuid

from logplatform.event_ids import event_id_at, new_event_id


def test_new_ids_are_version_7_uuids_in_the_order_they_were_made() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_event_id() for _ in range(20_000)]  # several thousand within each millisecond
    after = time.time_ns() // 1_000_000
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 and str(u) == i for u, i in zip(parsed, ids, strict=True))
    assert len(set(ids)) == len(ids)
    assert [u.bytes for u in parsed] == sorted(u.bytes for u in parsed)  # the bytes the document id is made of
    assert before <= int.from_bytes(parsed[0].bytes[:6], "big") <= int.from_bytes(parsed[-1].bytes[:6], "big")
    assert int.from_bytes(parsed[-1].bytes[:6], "big") <= after + 1  # +1: a full millisecond borrows the next


def test_an_id_made_from_a_moment_and_a_hash_is_the_same_each_time() -> None:
    """What the generator (seeded) and OTLP (an exporter's retry) need: the same input, the same event.id."""
    millis = 1_767_225_600_123
    made = event_id_at(millis, 0x2A5B_C3D4_E5F6_0718_293A)
    assert made == event_id_at(millis, 0x2A5B_C3D4_E5F6_0718_293A)
    assert made != event_id_at(millis, 0x2A5B_C3D4_E5F6_0718_293B)
    parsed = uuid.UUID(made)
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert int.from_bytes(parsed.bytes[:6], "big") == millis
    assert event_id_at(millis, 1 << 200) == event_id_at(millis, 0)  # bits beyond the UUID's 74 are not used
