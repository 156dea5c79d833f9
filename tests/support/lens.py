"""What a Lens panel would show, computed two ways from the saved object itself:

- `on_engine`: the panel's layer turned into the search and aggregations Kibana would send, run on the
  real test engine;
- `reference`: the same layer evaluated in plain Python over the events the test generated.

A panel is right when both agree. Supported: count (with a KQL filter), unique_count, min and max (of a number
or a date: a date's value is its epoch milliseconds), formula over count/unique_count, terms ordered by count,
date_histogram (at a fixed interval the test chooses).
Anything else raises, so a new kind of panel needs this interpreter taught before its test can pass.

The engine side runs what Kibana runs: the stored columns only. A formula is computed from the helper columns
and the `math` column its `references` name (Lens form_based/to_expression.ts builds the query from the
columns; formula/formula.tsx rebuilds helpers only in the editor), so a formula stored without them fails here
as it would draw nothing in Kibana. The Python side reads the formula's text, so the two also check that the
stored helpers say what the text says.
"""

from __future__ import annotations

import ast
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tests.support import kql

HOUR_MS = 3_600_000
Row = dict[str, Any]


@dataclass
class Layer:
    title: str
    vis_type: str
    columns: dict[str, dict[str, Any]]
    order: list[str]
    query: str

    @property
    def buckets(self) -> list[str]:
        return [c for c in self.order if self.columns[c]["isBucketed"]]

    @property
    def metrics(self) -> list[str]:
        return [c for c in self.order if not self.columns[c]["isBucketed"]]


def lens_layers(dashboard: dict[str, Any]) -> list[Layer]:
    out = []
    for panel in json.loads(dashboard["attributes"]["panelsJSON"]):
        if panel["type"] != "lens":
            continue
        attributes = panel["embeddableConfig"]["attributes"]
        state = attributes["state"]
        assert state["query"]["language"] == "kuery", panel["title"]
        (layer,) = state["datasourceStates"]["formBased"]["layers"].values()
        out.append(
            Layer(
                panel["title"],
                attributes["visualizationType"],
                layer["columns"],
                layer["columnOrder"],
                state["query"]["query"],
            )
        )
    return out


# --- formulas: Kibana's formula syntax is a Python expression for the parts we use ------------------


def _formula_calls(expression: str) -> list[ast.Call]:
    """The functions a formula calls, in a fixed order (anything else in it is refused when evaluated)."""
    return [n for n in ast.walk(ast.parse(expression, mode="eval")) if isinstance(n, ast.Call)]


def _evaluate_formula(expression: str, value_of_call: Callable[[ast.Call], float]) -> float | None:
    """The formula's value, with value_of_call giving each function call's."""
    tree = ast.parse(expression, mode="eval")

    def walk(node: ast.AST) -> float | None:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Call):
            return value_of_call(node)
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            if left is None or right is None:
                return None
            if isinstance(node.op, ast.Div):
                return None if right == 0 else left / right
            ops = {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right}
            if type(node.op) in ops:
                return ops[type(node.op)]
        raise ValueError(f"formula {expression!r}: unsupported {ast.dump(node)[:80]}")

    return walk(tree)


def formula_parts(expression: str) -> list[tuple[str, str | None, str | None]]:
    """(function, field, kql) of every call in a formula, e.g. ("count", None, "log.level : error")."""
    return [_call_parts(call) for call in _formula_calls(expression)]


def _call_parts(call: ast.Call) -> tuple[str, str | None, str | None]:
    """(function, field, kql) of `count()`, `count(kql='...')`, `unique_count(service.name)`."""
    name = ast.unparse(call.func)
    field = ast.unparse(call.args[0]) if call.args else None
    kql_text = None
    for kw in call.keywords:
        if kw.arg != "kql" or not isinstance(kw.value, ast.Constant):
            raise ValueError(f"formula argument {kw.arg!r} is not supported here")
        kql_text = kw.value.value
    if name not in {"count", "unique_count"}:
        raise ValueError(f"formula function {name!r} is not supported here")
    return name, field, kql_text


# --- on the engine ---------------------------------------------------------------------------------

_MATH = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "divide": lambda a, b: None if b == 0 else a / b,
}


def _tinymath(node: Any, values: Row) -> float | None:
    """A stored tinymath tree over column ids (what a formula's `math` column holds)."""
    if isinstance(node, str):
        return values[node]
    if isinstance(node, (int, float)):
        return float(node)
    if isinstance(node, dict) and node.get("type") == "function" and node.get("name") in _MATH:
        args = [_tinymath(a, values) for a in node["args"]]
        return None if None in args else _MATH[node["name"]](*args)
    raise ValueError(f"tinymath node {json.dumps(node)[:80]} is not supported here")


def _formula_target(layer: Layer, col_id: str) -> str:
    """The math column a formula column stands for; a formula without one is what Kibana cannot draw."""
    refs = layer.columns[col_id].get("references") or []
    if len(refs) != 1 or layer.columns.get(refs[0], {}).get("operationType") != "math":
        raise ValueError(
            f"{layer.title}: formula column {col_id} has references {refs}: Kibana builds no "
            "aggregation from a formula's text, so this panel would draw nothing"
        )
    for helper in layer.columns[refs[0]].get("references") or []:
        if helper not in layer.columns:
            raise ValueError(f"{layer.title}: math column {refs[0]} references a missing column {helper}")
    return refs[0]


_EXTREMES = {"min": min, "max": max}


def _metric_aggs(layer: Layer) -> dict[str, Any]:
    aggs: dict[str, Any] = {}
    for col_id in layer.metrics:
        col = layer.columns[col_id]
        op = col["operationType"]
        if op == "count":
            if col.get("filter"):
                aggs[col_id] = {"filter": kql.to_dsl(kql.parse(col["filter"]["query"]))}
        elif op == "unique_count":
            aggs[col_id] = {"cardinality": {"field": col["sourceField"]}}
        elif op in _EXTREMES:
            aggs[col_id] = {op: {"field": col["sourceField"]}}
        elif op == "formula":
            _formula_target(layer, col_id)
        elif op != "math":  # computed from the columns it references
            raise ValueError(f"{layer.title}: operation {op!r} is not supported here")
    return aggs


def _metric_values(layer: Layer, bucket: dict[str, Any]) -> Row:
    row: Row = {}
    for col_id in layer.metrics:
        col = layer.columns[col_id]
        if col["operationType"] == "count":
            row[col_id] = bucket[col_id]["doc_count"] if col.get("filter") else bucket["doc_count"]
        elif col["operationType"] in {"unique_count", *_EXTREMES}:
            row[col_id] = bucket[col_id]["value"]
    for col_id in layer.metrics:
        if layer.columns[col_id]["operationType"] == "math":
            row[col_id] = _tinymath(layer.columns[col_id]["params"]["tinymathAst"], row)
    for col_id in layer.metrics:
        if layer.columns[col_id]["operationType"] == "formula":
            row[col_id] = row[_formula_target(layer, col_id)]
    return row


def _bucket_agg(layer: Layer, col_id: str, interval_ms: int) -> dict[str, Any]:
    col = layer.columns[col_id]
    if col["operationType"] == "date_histogram":
        return {
            "date_histogram": {"field": col["sourceField"], "fixed_interval": f"{interval_ms}ms", "min_doc_count": 1}
        }
    if col["operationType"] == "terms":
        order_col = layer.columns[col["params"]["orderBy"]["columnId"]]
        if order_col["operationType"] != "count" or order_col.get("filter"):
            raise ValueError(f"{layer.title}: terms ordered by something other than count")
        return {"terms": {"field": col["sourceField"], "size": col["params"]["size"], "order": {"_count": "desc"}}}
    raise ValueError(f"{layer.title}: bucket operation {col['operationType']!r} is not supported here")


def on_engine(
    search: Callable[[dict[str, Any]], dict[str, Any]],
    layer: Layer,
    time_range: tuple[str, str],
    filters: Iterable[str] = (),
    interval_ms: int = HOUR_MS,
) -> list[Row]:
    """The panel's rows as the engine computes them; `search` posts a _search body to our data."""
    must = [
        {"range": {"@timestamp": {"gte": time_range[0], "lte": time_range[1]}}},
        kql.to_dsl(kql.parse(layer.query)),
    ] + [kql.to_dsl(kql.parse(f)) for f in filters]
    aggs = _metric_aggs(layer)
    for col_id in reversed(layer.buckets):
        aggs = {col_id: {**_bucket_agg(layer, col_id, interval_ms), "aggs": aggs}}
    body = {
        "size": 0,
        "query": {"bool": {"filter": must}},
        "aggs": {"root": {"filter": {"match_all": {}}, "aggs": aggs}},
    }
    result = search(body)["aggregations"]["root"]

    def rows(bucket: dict[str, Any], depth: int, keys: Row) -> list[Row]:
        if depth == len(layer.buckets):
            return [{**keys, **_metric_values(layer, bucket)}]
        col_id = layer.buckets[depth]
        out = []
        for child in bucket[col_id]["buckets"]:
            out += rows(
                child,
                depth + 1,
                {
                    **keys,
                    col_id: child.get("key_as_string", child["key"])
                    if layer.columns[col_id]["operationType"] == "terms"
                    else child["key"],
                },
            )
        return out

    return rows(result, 0, {})


# --- in Python, over the generated events --------------------------------------------------------


def _millis(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)


def reference(
    events: list[dict[str, Any]],
    layer: Layer,
    time_range_ms: tuple[int, int],
    filters: Iterable[str] = (),
    interval_ms: int = HOUR_MS,
) -> dict[tuple[Any, ...], Row]:
    """Every group the panel could show (no top-N cut), keyed by its bucket values; events are flat
    ({"service.name": ..., "@timestamp": ...})."""
    conditions = [kql.parse(layer.query)] + [kql.parse(f) for f in filters]
    chosen = [
        e
        for e in events
        if time_range_ms[0] <= _millis(e["@timestamp"]) <= time_range_ms[1]
        and all(kql.matches(c, e) for c in conditions)
    ]
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for e in chosen:
        key = []
        for col_id in layer.buckets:
            col = layer.columns[col_id]
            if col["operationType"] == "date_histogram":
                key.append(_millis(e[col["sourceField"]]) // interval_ms * interval_ms)
            else:
                key.append(e.get(col["sourceField"]))
        if None not in key:
            groups[tuple(key)].append(e)
    if not layer.buckets:
        groups = {(): chosen}
    return {key: _reference_metrics(layer, members) for key, members in groups.items()}


def _reference_metrics(layer: Layer, members: list[dict[str, Any]]) -> Row:
    def count(kql_text: str | None) -> int:
        node = kql.parse(kql_text or "")
        return sum(1 for e in members if kql.matches(node, e))

    def unique(field: str) -> int:
        return len({e[field] for e in members if e.get(field) is not None})

    def extreme(operation: str, field: str, data_type: str) -> float | None:
        values = [e[field] for e in members if e.get(field) is not None]
        if data_type == "date":
            values = [_millis(v) for v in values]
        return float(_EXTREMES[operation](values)) if values else None

    row: Row = {}
    for col_id in layer.metrics:
        col = layer.columns[col_id]
        if col["operationType"] == "count":
            row[col_id] = count(col.get("filter", {}).get("query"))
        elif col["operationType"] == "unique_count":
            row[col_id] = unique(col["sourceField"])
        elif col["operationType"] in _EXTREMES:
            row[col_id] = extreme(col["operationType"], col["sourceField"], col["dataType"])
        elif col["operationType"] == "formula":  # from its text: an independent reading of what it means

            def value(call: ast.Call) -> float:
                name, field, kql_text = _call_parts(call)
                return float(unique(field or "")) if name == "unique_count" else float(count(kql_text))

            row[col_id] = _evaluate_formula(col["params"]["formula"], value)
    row["_docs"] = len(members)  # what terms buckets are ranked by
    return row


def problems(layer: Layer, engine_rows: list[Row], expected: dict[tuple[Any, ...], Row]) -> list[str]:
    """Where the engine's rows differ from what the panel should show: a wrong number, or a top-N that
    left out a bigger group than one it kept."""
    out = []
    seen: dict[tuple[Any, ...], Row] = {}
    for row in engine_rows:
        key = tuple(row[c] for c in layer.buckets)
        seen[key] = row
        want = expected.get(key)
        if want is None:
            out.append(f"{layer.title}: shows {key}, which the data does not have")
            continue
        for col_id, value in want.items():
            if col_id.startswith("_"):
                continue
            got = row[col_id]
            if value is None or got is None:
                if value != got:
                    out.append(f"{layer.title} {key} {col_id}: engine {got}, expected {value}")
            elif abs(got - value) > 1e-9 * max(1.0, abs(value)):
                out.append(f"{layer.title} {key} {col_id}: engine {got}, expected {value}")
    for depth, col_id in enumerate(layer.buckets):
        col = layer.columns[col_id]
        shown_parents = {k[:depth] for k in seen}
        for parent, totals in _docs_by_parent(expected, depth).items():
            if depth and parent not in shown_parents:  # a parent the panel did not show has no children to check
                continue
            kept = {k[depth] for k in seen if k[:depth] == parent}
            size = col["params"]["size"] if col["operationType"] == "terms" else len(totals)
            if len(kept) != min(size, len(totals)):
                out.append(
                    f"{layer.title}: {len(kept)} {col_id} groups under {parent}, expected {min(size, len(totals))}"
                )
            if kept and len(kept) < len(totals):
                smallest_kept = min(totals[k] for k in kept)
                biggest_left = max(v for k, v in totals.items() if k not in kept)
                if biggest_left > smallest_kept:
                    out.append(f"{layer.title}: left out a {col_id} of {biggest_left} but kept one of {smallest_kept}")
    return out


def _docs_by_parent(expected: dict[tuple[Any, ...], Row], depth: int) -> dict[tuple[Any, ...], dict[Any, int]]:
    """For each group above `depth`: documents per bucket value at `depth`, summed over the buckets below it
    (from the `_docs` the reference adds)."""
    out: dict[tuple[Any, ...], dict[Any, int]] = defaultdict(lambda: defaultdict(int))
    for key, row in expected.items():
        out[key[:depth]][key[depth]] += row["_docs"]
    return out
