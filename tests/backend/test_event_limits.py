"""The backend's two checks of an event's structure agree: the fast one (no paths built) never passes what the
thorough one (which names the field and the reason) would refuse."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.events import Limits, _plainly_within, _structure_errors

LIMITS = Limits(max_depth=4, max_keys=8)
# mostly plain text (so the fast check often passes and is put to the test), sometimes the characters the checks are
# about: controls, a lone surrogate, tab, newline, CR LF, and keys over the length limit
PLAIN = st.text(alphabet="abé -", max_size=6)
SPECIAL = st.text(alphabet=st.sampled_from(["a", "\t", "\n", "\r", "\x1b", "\x7f", "\ud800", "\u2028"]), max_size=4)
TEXT = st.one_of(PLAIN, PLAIN, PLAIN, SPECIAL)
KEYS = st.one_of(PLAIN, PLAIN, PLAIN, SPECIAL, st.just("k" * 257))
FLOATS = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([float("nan"), float("inf")]))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), FLOATS, TEXT)
VALUES = st.recursive(
    SCALARS, lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(KEYS, children, max_size=5))
)


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_the_fast_check_never_passes_what_the_thorough_one_refuses(event: dict[str, Any]) -> None:
    if _plainly_within(event, LIMITS):
        assert _structure_errors(event, LIMITS) == []


def test_the_fast_check_passes_a_plain_event_and_leaves_the_rest_to_the_thorough_one() -> None:
    plain = {"service": "api", "message": "GET / 200", "meta": {"ms": 3.5, "tags": ["a", None]}}
    assert _plainly_within(plain, LIMITS)
    # a newline is allowed but not "printable": the thorough check decides, and lets it through
    multi_line = {**plain, "message": "Traceback:\n  line 1"}
    assert not _plainly_within(multi_line, LIMITS) and _structure_errors(multi_line, LIMITS) == []
    for over in ({"a": {"b": {"c": {"d": {"e": 1}}}}}, {"a": list(range(9))}, {"a": 1.5, "b": float("nan")}):
        assert not _plainly_within(over, LIMITS) and _structure_errors(over, LIMITS)
