"""Event ids: time-ordered UUIDs (version 7, RFC 9562), which the pipeline turns into ordered document ids.

Every event carries an `event.id`, from which the pipeline derives the document id, so that a retry or a replay is
indexed once. An explicit document id costs the engine a lookup for each event (does the id exist yet?), and a
random one touches a random place of every segment's terms: the cost grows with the index
(`bench/document_ids.py`). A version 7 UUID starts with its millisecond, so the ids of one moment sit together, and
a new one lies past every older segment's last id, which the lookup sees at once. The pipeline takes such an id's
16 bytes as the document id (es/ingest-pipelines/event/document-id.painless, `orderedId`); any other
event.id is hashed.
"""

from __future__ import annotations

import os
import threading
import time

_lock = threading.Lock()
_last_millis = 0
_last_counter = 0


def _format(value: int) -> str:
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def event_id_at(millis: int, entropy: int) -> str:
    """The version 7 UUID of a moment (Unix milliseconds) and 74 bits of `entropy` (random, or a hash of the
    event's identity when the same event must get the same id again)."""
    rand_a = (entropy >> 62) & 0xFFF
    rand_b = entropy & ((1 << 62) - 1)
    return _format((millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b)


def new_event_id() -> str:
    """A new version 7 UUID, in order with every earlier one of this process: within one millisecond the 12 bits
    after the time count up from a random start (RFC 9562, section 6.2, method 1)."""
    global _last_millis, _last_counter
    random_bits = int.from_bytes(os.urandom(10), "big")
    with _lock:
        millis = time.time_ns() // 1_000_000
        if millis > _last_millis:
            _last_millis, _last_counter = millis, (random_bits >> 62) & 0x7FF  # start low: room to count up
        elif _last_counter < 0xFFF:
            _last_counter += 1
        else:  # 4,096 ids in one millisecond: borrow the next one, as the RFC allows
            _last_millis, _last_counter = _last_millis + 1, 0
        millis, counter = _last_millis, _last_counter
    return event_id_at(millis, counter << 62 | random_bits & ((1 << 62) - 1))
