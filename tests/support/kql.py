"""KQL evaluated on a plain event: the reference the dashboard tests compare the engine's answers with (the
parser and its DSL are logplatform/kql.py)."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from logplatform.kql import TEXT_FIELD, Node, parse, to_dsl

__all__ = ["Node", "matches", "parse", "to_dsl"]


def matches(node: Node, event: dict[str, Any]) -> bool:
    """Evaluates on a flat event ({"log.level": "error", ...}); keyword semantics (exact values)."""
    if node.kind == "all":
        return True
    if node.kind == "or":
        return any(matches(c, event) for c in node.children)
    if node.kind == "and":
        return all(matches(c, event) for c in node.children)
    if node.kind == "not":
        return not matches(node.children[0], event)
    value = event.get(node.field)
    if value is None:
        return False
    if node.kind == "text":
        return node.values[0].lower() in str(event.get(TEXT_FIELD, "")).lower()
    if node.kind == "range":
        bound = float(node.values[0])
        return {"<": value < bound, "<=": value <= bound, ">": value > bound, ">=": value >= bound}[node.op]
    values = value if isinstance(value, list) else [value]  # a keyword list (tags) matches if one of them does
    return any(fnmatchcase(str(x), v) if "*" in v else str(x) == v for x in values for v in node.values)
