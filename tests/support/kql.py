"""The part of Kibana's query language (KQL) our saved objects use, parsed once and then either turned
into Elasticsearch query DSL (what Kibana sends) or evaluated on a plain event (the test's reference).

Grammar: or / and / not, parentheses, `field : value`, `field : (v1 or v2)`, `field >= number`.
Anything else raises, so a panel written with syntax this does not know fails its test instead of
being checked against the wrong meaning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op><=|>=|<|>|:|\(|\))|(?P<word>[^\s():<>"]+))')
_RANGE = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}


@dataclass(frozen=True)
class Node:
    kind: str  # "or", "and", "not", "match", "range", "all"
    children: tuple[Node, ...] = ()
    field: str = ""
    values: tuple[str, ...] = ()  # "match": any of these
    op: str = ""

    def fields(self) -> set[str]:
        own = {self.field} if self.field else set()
        return own.union(*(c.fields() for c in self.children))


def parse(text: str) -> Node:
    tokens = _tokenize(text)
    if not tokens:
        return Node("all")
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take(expected: str | None = None) -> str:
        nonlocal pos
        if pos >= len(tokens) or (expected is not None and tokens[pos].lower() != expected):
            raise ValueError(f"KQL {text!r}: expected {expected or 'more'} at token {pos}")
        pos += 1
        return tokens[pos - 1]

    def chain(word: str, operand: Callable[[], Node]) -> Node:
        """operand (word operand)*: `or` binds looser than `and`."""
        parts = [operand()]
        while (peek() or "").lower() == word:
            take()
            parts.append(operand())
        return parts[0] if len(parts) == 1 else Node(word, tuple(parts))

    def expr() -> Node:
        return chain("or", lambda: chain("and", neg))

    def neg() -> Node:
        if (peek() or "").lower() == "not":
            take()
            return Node("not", (neg(),))
        if peek() == "(":
            take("(")
            inner = expr()
            take(")")
            return inner
        name = take()
        op = take()
        if op == ":":
            if peek() == "(":
                take("(")
                values = [_value(take())]
                while (peek() or "").lower() == "or":
                    take()
                    values.append(_value(take()))
                take(")")
                return Node("match", field=name, values=tuple(values))
            return Node("match", field=name, values=(_value(take()),))
        if op in _RANGE:
            return Node("range", field=name, op=op, values=(take(),))
        raise ValueError(f"KQL {text!r}: unsupported operator {op!r}")

    node = expr()
    if pos != len(tokens):
        raise ValueError(f"KQL {text!r}: unexpected {tokens[pos]!r}")
    return node


def _tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text.rstrip()):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"KQL {text!r}: cannot read from position {pos}")
        tokens.append(m.group(m.lastgroup or "word"))
        pos = m.end()
    return tokens


def _value(token: str) -> str:
    if token.startswith('"'):
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    if "*" in token:
        raise ValueError(f"KQL wildcards are not supported here: {token!r}")
    return token


def to_dsl(node: Node) -> dict[str, Any]:
    if node.kind == "all":
        return {"match_all": {}}
    if node.kind == "or":
        return {"bool": {"should": [to_dsl(c) for c in node.children], "minimum_should_match": 1}}
    if node.kind == "and":
        return {"bool": {"filter": [to_dsl(c) for c in node.children]}}
    if node.kind == "not":
        return {"bool": {"must_not": [to_dsl(node.children[0])]}}
    if node.kind == "range":
        return {"range": {node.field: {_RANGE[node.op]: float(node.values[0])}}}
    should = [{"match_phrase": {node.field: v}} for v in node.values]
    return should[0] if len(should) == 1 else {"bool": {"should": should, "minimum_should_match": 1}}


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
    if node.kind == "range":
        bound = float(node.values[0])
        return {"<": value < bound, "<=": value <= bound, ">": value > bound, ">=": value >= bound}[node.op]
    return str(value) in node.values
