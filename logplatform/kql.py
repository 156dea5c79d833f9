"""The part of Kibana's query language (KQL) people type, parsed once and turned into Elasticsearch query DSL:
what `GET /logs?kql=` and `logplatform search` take, and what our saved objects are checked with
(tests/support/kql.py evaluates the same tree on plain events).

Grammar: or / and / not, parentheses, `field : value`, `field : (v1 or v2)`, `field : prefix*` (wildcards),
`field >= number`, and free text: a word or a "quoted phrase" without a field is looked for in `message`.
Anything else raises ValueError with what was expected, so nothing is searched with a meaning it did not have.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op><=|>=|<|>|:|\(|\))|(?P<word>[^\s():<>"]+))')
_RANGE = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
TEXT_FIELD = "message"  # where free text is looked for


@dataclass(frozen=True)
class Node:
    kind: str  # "or", "and", "not", "match", "range", "text", "all"
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
        if peek() not in (":", *_RANGE):  # words or a phrase with no field: free text, every word in message
            words = [_value(name)]
            while _free_word(peek(), tokens[pos + 1] if pos + 1 < len(tokens) else None):
                words.append(_value(take()))
            return Node("text", values=(" ".join(words),), op="phrase" if name.startswith('"') else "words")
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


def _free_word(token: str | None, after: str | None) -> bool:
    """A further word of free text: not an operator, a keyword, a parenthesis, nor a field's name."""
    if token is None or token in ("(", ")", ":", *_RANGE) or token.lower() in ("and", "or", "not"):
        return False
    return after not in (":", *_RANGE)


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
    if node.kind == "text":
        if node.op == "phrase":
            return {"match_phrase": {TEXT_FIELD: node.values[0]}}
        return {"match": {TEXT_FIELD: {"query": node.values[0], "operator": "and"}}}
    should = [
        {"wildcard": {node.field: {"value": v}}} if "*" in v else {"match_phrase": {node.field: v}} for v in node.values
    ]
    return should[0] if len(should) == 1 else {"bool": {"should": should, "minimum_should_match": 1}}
