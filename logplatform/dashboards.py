"""The Kibana dashboards, described as Python and written to kibana/dashboards.ndjson.

Kibana imports saved objects whose panels, options and controls are JSON *strings* inside JSON, with a
`references` list tying every Lens layer and control to a data view by name. Hand-editing that is how
dashboards break silently, so this module is the source and the .ndjson is its output; a test checks
the committed file is current. Regenerate with:  python -m logplatform.dashboards --write

The layout follows Elastic's integrations packages: Lens panels by value, one data view, references
named `<panelIndex>:indexpattern-datasource-layer-<layerId>` and `controlGroup_<id>:optionsListDataView`.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

DATA_VIEW = "logs-logplatform"
OUTPUT = Path(__file__).resolve().parent.parent / "kibana" / "dashboards.ndjson"
LAYER = "layer1"
# the versions Elastic's integrations declare: Kibana migrates the objects forward from here on import
PANEL_VERSION = "8.7.0"
MIGRATION = {"coreMigrationVersion": "8.8.0", "typeMigrationVersion": "8.7.0"}

ERROR_KQL = 'log.level : ("error" or "critical")'
DEMO_TAG = "demo"  # the generator's events carry it (generator/scenarios.py)
FAILED_LOGIN_KQL = 'event.action : "user-login" and event.outcome : "failure"'


# --- Lens columns -------------------------------------------------------------------------------


def count(label: str, kql: str | None = None) -> dict[str, Any]:
    column: dict[str, Any] = {
        "label": label,
        "customLabel": True,
        "dataType": "number",
        "isBucketed": False,
        "operationType": "count",
        "sourceField": "___records___",
        "scale": "ratio",
        "params": {"emptyAsNull": False},
    }
    if kql:
        column["filter"] = {"language": "kuery", "query": kql}
    return column


def unique_count(field_name: str, label: str) -> dict[str, Any]:
    return {
        "label": label,
        "customLabel": True,
        "dataType": "number",
        "isBucketed": False,
        "operationType": "unique_count",
        "sourceField": field_name,
        "scale": "ratio",
        "params": {"emptyAsNull": False},
    }


def extreme(operation: str, field_name: str, label: str) -> dict[str, Any]:
    """The smallest (`min`) or largest (`max`) value of a field; on a date field, the first or last time seen."""
    return {
        "label": label,
        "customLabel": True,
        "dataType": data_type(field_name),
        "isBucketed": False,
        "operationType": operation,
        "sourceField": field_name,
        "scale": "ratio",
        "params": {"emptyAsNull": True},
    }


_TINYMATH = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide"}


def formula(column_id: str, label: str, expression: str, percent: bool = False) -> dict[str, dict[str, Any]]:
    """A formula column and the helper columns Kibana stores with it, as its formula editor saves them.

    Kibana builds a panel's query from the stored columns only: one helper column per function the formula calls
    (`<id>X0`, `<id>X1`, ...), a `math` column holding the expression as a tinymath tree over them, and the
    formula column referencing the math column. It rebuilds them only in the editor, never when a dashboard
    loads (Lens form_based/loader.ts; operations/definitions/formula/formula.tsx), so a formula stored without
    them draws nothing. The shape follows Kibana's own sample objects (home/server/services/sample_data/
    data_sets/logs/saved_objects.ts). Supported here: count(), count(kql='...'), unique_count(field), numbers,
    + - * /.
    """
    part = f"Part of {label}"
    helpers: dict[str, dict[str, Any]] = {}

    def tree(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _TINYMATH:
            return {"type": "function", "name": _TINYMATH[type(node.op)], "args": [tree(node.left), tree(node.right)]}
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            helper_id = f"{column_id}X{len(helpers)}"
            kql = next(
                (str(k.value.value) for k in node.keywords if k.arg == "kql" and isinstance(k.value, ast.Constant)),
                None,
            )
            if node.func.id == "count" and not node.args:
                helper = count(part, kql)
            elif node.func.id == "unique_count" and len(node.args) == 1 and kql is None:
                helper = unique_count(ast.unparse(node.args[0]), part)
            else:
                raise ValueError(f"formula {expression!r}: {ast.unparse(node)} is not supported by this builder")
            helpers[helper_id] = helper
            return helper_id
        raise ValueError(f"formula {expression!r}: {ast.unparse(node)} is not supported by this builder")

    root = tree(ast.parse(expression, mode="eval").body)
    math_id = f"{column_id}X{len(helpers)}"
    if isinstance(root, dict):
        root = {**root, "location": {"min": 0, "max": len(expression)}, "text": expression}
    math = {
        "label": part,
        "customLabel": True,
        "dataType": "number",
        "isBucketed": False,
        "operationType": "math",
        "scale": "ratio",
        "params": {"tinymathAst": root},
        "references": list(helpers),
    }
    params: dict[str, Any] = {"formula": expression, "isFormulaBroken": False}
    if percent:
        params["format"] = {"id": "percent", "params": {"decimals": 1}}
    main = {
        "label": label,
        "customLabel": True,
        "dataType": "number",
        "isBucketed": False,
        "operationType": "formula",
        "scale": "ratio",
        "params": params,
        "references": [math_id],
    }
    # the order Kibana saves them in: the formula column, then its helpers, then the math column
    return {column_id: main, **helpers, math_id: math}


_KIBANA_TYPES = {
    "keyword": "string",
    "constant_keyword": "string",
    "wildcard": "string",
    "text": "string",
    "match_only_text": "string",
    "ip": "ip",
    "date": "date",
    "date_nanos": "date",
    "boolean": "boolean",
    **dict.fromkeys(
        ["long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long"], "number"
    ),
}


@cache
def _field_types() -> dict[str, str]:
    from logplatform.assets import mapped_field_types

    return mapped_field_types()


def data_type(field_name: str) -> str:
    """The dataType Kibana gives a column on this field: its data view's type for the mapped field."""
    types = _field_types()
    parent, _, leaf = field_name.rpartition(".")
    if field_name not in types and leaf == "keyword" and parent in types:  # a keyword multi-field (message.keyword)
        return "string"
    return _KIBANA_TYPES[types[field_name]]


def terms(field_name: str, label: str, size: int, order_by: str, other: bool = False) -> dict[str, Any]:
    return {
        "label": label,
        "customLabel": True,
        "dataType": data_type(field_name),
        "isBucketed": True,
        "operationType": "terms",
        "sourceField": field_name,
        "scale": "ordinal",
        "params": {
            "size": size,
            "orderBy": {"type": "column", "columnId": order_by},
            "orderDirection": "desc",
            "otherBucket": other,
            "missingBucket": False,
            "parentFormat": {"id": "terms"},
        },
    }


def date_histogram() -> dict[str, Any]:
    return {
        "label": "@timestamp",
        "dataType": "date",
        "isBucketed": True,
        "operationType": "date_histogram",
        "sourceField": "@timestamp",
        "scale": "interval",
        "params": {"interval": "auto", "includeEmptyRows": True, "dropPartials": False},
    }


# --- Lens visualizations ------------------------------------------------------------------------


def metric_vis(column: str) -> dict[str, Any]:
    return {"layerId": LAYER, "layerType": "data", "metricAccessor": column}


def xy_vis(x: str, y: str, series: str, split: str | None = None) -> dict[str, Any]:
    layer: dict[str, Any] = {
        "layerId": LAYER,
        "layerType": "data",
        "seriesType": series,
        "xAccessor": x,
        "accessors": [y],
        "position": "top",
        "showGridlines": False,
    }
    if split:
        layer["splitAccessor"] = split
    return {
        "preferredSeriesType": series,
        "layers": [layer],
        "legend": {"isVisible": True, "position": "right"},
        "valueLabels": "hide",
        "fittingFunction": "None",
        "axisTitlesVisibilitySettings": {"x": False, "yLeft": True, "yRight": True},
    }


def donut_vis(group: str, metric: str) -> dict[str, Any]:
    return {
        "shape": "donut",
        "layers": [
            {
                "layerId": LAYER,
                "layerType": "data",
                "primaryGroups": [group],
                "metrics": [metric],
                "numberDisplay": "percent",
                "categoryDisplay": "default",
                "legendDisplay": "default",
                "nestedLegend": False,
            }
        ],
    }


def table_vis(columns: list[str]) -> dict[str, Any]:
    return {"layerId": LAYER, "layerType": "data", "columns": [{"columnId": c} for c in columns]}


# --- panels and dashboards ----------------------------------------------------------------------


@dataclass
class Lens:
    """One Lens chart by value: its columns (buckets first, in order), how it is drawn, and its query."""

    title: str
    vis_type: str  # lnsMetric, lnsXY, lnsPie, lnsDatatable
    columns: dict[str, dict[str, Any]]
    visualization: dict[str, Any]
    query: str = ""
    answers: str = ""  # the question the panel answers, for the README

    def panel(self, panel_id: str, grid: tuple[int, int, int, int]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        ref_name = f"indexpattern-datasource-layer-{LAYER}"
        state = {
            "visualization": self.visualization,
            "query": {"language": "kuery", "query": self.query},
            "filters": [],
            "datasourceStates": {
                "formBased": {
                    "layers": {
                        LAYER: {"columns": self.columns, "columnOrder": list(self.columns), "incompleteColumns": {}}
                    }
                }
            },
            "internalReferences": [],
            "adHocDataViews": {},
        }
        attributes = {
            "title": self.title,
            "description": self.answers,
            "visualizationType": self.vis_type,
            "type": "lens",
            "state": state,
            "references": [{"type": "index-pattern", "id": DATA_VIEW, "name": ref_name}],
        }
        panel = {
            "version": PANEL_VERSION,
            "type": "lens",
            "gridData": _grid(panel_id, grid),
            "panelIndex": panel_id,
            "title": self.title,
            "embeddableConfig": {"attributes": attributes, "enhancements": {}, "hidePanelTitles": False},
        }
        return panel, [{"type": "index-pattern", "id": DATA_VIEW, "name": f"{panel_id}:{ref_name}"}]


@dataclass
class SavedSearch:
    """A Discover session shown as a table on the dashboard (by reference to kibana/saved-searches.ndjson)."""

    search_id: str
    title: str
    answers: str = ""

    def panel(self, panel_id: str, grid: tuple[int, int, int, int]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        panel = {
            "version": PANEL_VERSION,
            "type": "search",
            "gridData": _grid(panel_id, grid),
            "panelIndex": panel_id,
            "title": self.title,
            "panelRefName": f"panel_{panel_id}",
            "embeddableConfig": {"enhancements": {}},
        }
        return panel, [{"type": "search", "id": self.search_id, "name": f"{panel_id}:panel_{panel_id}"}]


def _grid(panel_id: str, grid: tuple[int, int, int, int]) -> dict[str, Any]:
    x, y, w, h = grid
    return {"x": x, "y": y, "w": w, "h": h, "i": panel_id}


class Control(NamedTuple):
    """An options list at the top of a dashboard. `exclude`: what is picked is left out (Kibana's Exclude mode)."""

    field: str
    title: str
    exclude: bool = False


# Demo traffic is shown by default (on a new platform it is all there is to look at); picking `demo` here leaves the
# generator's events out of every panel (README, "The generator").
LEAVE_OUT_TAGS = Control("tags", "Leave out (tags: demo)", exclude=True)


@dataclass
class Dashboard:
    id: str
    title: str
    description: str
    panels: list[tuple[str, Lens | SavedSearch, tuple[int, int, int, int]]]
    controls: list[Control] = field(default_factory=list)

    def saved_object(self) -> dict[str, Any]:
        panels, references = [], []
        for panel_id, content, grid in self.panels:
            panel, refs = content.panel(f"{self.id}-{panel_id}", grid)
            panels.append(panel)
            references += refs
        controls = {}
        for order, (field_name, title, exclude) in enumerate(self.controls):
            control_id = f"{self.id}-control-{field_name.replace('.', '-')}"
            controls[control_id] = {
                "order": order,
                "width": "medium",
                "grow": True,
                "type": "optionsListControl",
                "explicitInput": {
                    "id": control_id,
                    "fieldName": field_name,
                    "title": title,
                    "selectedOptions": [],
                    "exclude": exclude,
                    "searchTechnique": "prefix",
                    "sort": {"by": "_count", "direction": "desc"},
                    "enhancements": {},
                },
            }
            references.append(
                {"type": "index-pattern", "id": DATA_VIEW, "name": f"controlGroup_{control_id}:optionsListDataView"}
            )
        search_source = {"query": {"language": "kuery", "query": ""}, "filter": []}
        return {
            "type": "dashboard",
            "id": self.id,
            "managed": False,
            **MIGRATION,
            "attributes": {
                "title": self.title,
                "description": self.description,
                "timeRestore": True,
                "timeFrom": "now-24h",
                "timeTo": "now",
                "refreshInterval": {"pause": False, "value": 30_000},
                "optionsJSON": json.dumps(
                    {
                        "useMargins": True,
                        "syncColors": True,
                        "syncCursor": True,
                        "syncTooltips": False,
                        "hidePanelTitles": False,
                    }
                ),
                "panelsJSON": json.dumps(panels),
                "controlGroupInput": {
                    "chainingSystem": "HIERARCHICAL",
                    "controlStyle": "oneLine",
                    "showApplySelections": False,
                    "ignoreParentSettingsJSON": json.dumps(
                        {
                            "ignoreFilters": False,
                            "ignoreQuery": False,
                            "ignoreTimerange": False,
                            "ignoreValidations": False,
                        }
                    ),
                    "panelsJSON": json.dumps(controls),
                },
                "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(search_source)},
            },
            "references": references,
        }


# --- the dashboards -----------------------------------------------------------------------------


def _kpi(title: str, column: dict[str, Any], answers: str, query: str = "") -> Lens:
    """A single-number panel; `column` is one column, or the columns formula() makes (the first one is shown)."""
    columns = column if "operationType" not in column else {"value": column}
    return Lens(title, "lnsMetric", columns, metric_vis(next(iter(columns))), query=query, answers=answers)


OVERVIEW = Dashboard(
    id="logplatform-overview",
    title="Log-Platform overview",
    description="Is anything on fire, where, and since when: volume, errors and services over the last 24 hours.",
    controls=[Control("service.name", "Service"), Control("log.level", "Level"), LEAVE_OUT_TAGS],
    panels=[
        ("total", _kpi("Total logs", count("Logs"), "How many events arrived in the time range."), (0, 0, 12, 6)),
        (
            "errors",
            _kpi("ERROR logs", count("Errors", ERROR_KQL), "How many of them are at level error or critical."),
            (12, 0, 12, 6),
        ),
        (
            "error-rate",
            _kpi(
                "Error rate",
                formula("value", "Error rate", f"count(kql='{ERROR_KQL}') / count()", percent=True),
                "The share of events that are errors: the first number to watch.",
            ),
            (24, 0, 12, 6),
        ),
        (
            "services",
            _kpi(
                "Services reporting",
                unique_count("service.name", "Services"),
                "How many services sent anything: a drop means one went silent.",
            ),
            (36, 0, 12, 6),
        ),
        (
            "timeline",
            Lens(
                "Events over time by level",
                "lnsXY",
                {"time": date_histogram(), "level": terms("log.level", "Level", 10, "count"), "count": count("Events")},
                xy_vis("time", "count", "bar_stacked", split="level"),
                answers="Since when: the error band grows at the moment things went wrong.",
            ),
            (0, 6, 32, 14),
        ),
        (
            "levels-donut",
            Lens(
                "Share of levels",
                "lnsPie",
                {"level": terms("log.level", "Level", 10, "count"), "count": count("Events")},
                donut_vis("level", "count"),
                answers="What the mix of levels is right now.",
            ),
            (32, 6, 16, 14),
        ),
        (
            "by-level",
            Lens(
                "Logs by level",
                "lnsXY",
                {"level": terms("log.level", "Level", 10, "count"), "count": count("Events")},
                xy_vis("level", "count", "bar_horizontal"),
                answers="How many events each level has.",
            ),
            (0, 20, 16, 14),
        ),
        (
            "by-service",
            Lens(
                "Logs by service",
                "lnsXY",
                {"service": terms("service.name", "Service", 20, "count"), "count": count("Events")},
                xy_vis("service", "count", "bar"),
                answers="Which services are the loudest.",
            ),
            (16, 20, 16, 14),
        ),
        (
            "top-errors",
            Lens(
                "Top error messages",
                "lnsDatatable",
                {
                    "message": terms("message.keyword", "Message", 10, "count"),
                    "service": terms("service.name", "Service", 3, "count"),
                    "count": count("Errors"),
                },
                table_vis(["message", "service", "count"]),
                query=ERROR_KQL,
                answers="What is failing and where: the most frequent error messages per service.",
            ),
            (32, 20, 16, 14),
        ),
        (
            "top-patterns",
            Lens(
                "Top error patterns",
                "lnsDatatable",
                {
                    "pattern": terms("logplatform.pattern.text", "Pattern", 10, "count"),
                    "count": count("Errors"),
                    "services": unique_count("service.name", "Services"),
                    "first": extreme("min", "@timestamp", "First seen"),
                    "last": extreme("max", "@timestamp", "Last seen"),
                },
                table_vis(["pattern", "count", "services", "first", "last"]),
                query=ERROR_KQL,
                answers=(
                    "The same errors grouped by their message pattern (ids, numbers and addresses as placeholders), "
                    "how many services log each and since when; a pattern first seen just now is a new error. "
                    "Click a pattern to filter the dashboard, the latest logs included, to its events."
                ),
            ),
            (0, 34, 48, 14),
        ),
        (
            "logs",
            SavedSearch(
                "logplatform-all-logs",
                "Latest logs",
                "The events themselves, newest first, with service, level, message and metadata.",
            ),
            (0, 48, 48, 18),
        ),
    ],
)

SECURITY = Dashboard(
    id="logplatform-security",
    title="Log-Platform security monitoring",
    description="Failed logins: when, from where, and against which accounts.",
    controls=[Control("source.ip", "Source IP"), Control("user.name", "Account"), LEAVE_OUT_TAGS],
    panels=[
        (
            "failed",
            _kpi("Failed logins", count("Failed logins"), "How many login attempts failed.", query=FAILED_LOGIN_KQL),
            (0, 0, 16, 6),
        ),
        (
            "ips",
            _kpi(
                "Source IPs",
                unique_count("source.ip", "Source IPs"),
                "How many addresses the failures came from.",
                query=FAILED_LOGIN_KQL,
            ),
            (16, 0, 16, 6),
        ),
        (
            "accounts",
            _kpi(
                "Accounts targeted",
                unique_count("user.name", "Accounts"),
                "How many accounts had a failed login.",
                query=FAILED_LOGIN_KQL,
            ),
            (32, 0, 16, 6),
        ),
        (
            "over-time",
            Lens(
                "Failed logins over time",
                "lnsXY",
                {"time": date_histogram(), "count": count("Failed logins")},
                xy_vis("time", "count", "bar"),
                query=FAILED_LOGIN_KQL,
                answers="When an attack started and whether it is still going.",
            ),
            (0, 6, 48, 12),
        ),
        (
            "by-ip",
            Lens(
                "Failed logins by source IP",
                "lnsXY",
                {"ip": terms("source.ip", "Source IP", 10, "count"), "count": count("Failed logins")},
                xy_vis("ip", "count", "bar_horizontal"),
                query=FAILED_LOGIN_KQL,
                answers="Which addresses fail the most.",
            ),
            (0, 18, 24, 12),
        ),
        (
            "by-user",
            Lens(
                "Failed logins by account",
                "lnsXY",
                {"user": terms("user.name", "Account", 10, "count"), "count": count("Failed logins")},
                xy_vis("user", "count", "bar_horizontal"),
                query=FAILED_LOGIN_KQL,
                answers="Which accounts fail the most.",
            ),
            (24, 18, 24, 12),
        ),
        (
            "offenders",
            Lens(
                "Top offending IPs",
                "lnsDatatable",
                {
                    "ip": terms("source.ip", "Source IP", 10, "count"),
                    "count": count("Failed logins"),
                    "accounts": unique_count("user.name", "Accounts tried"),
                },
                table_vis(["ip", "count", "accounts"]),
                query=FAILED_LOGIN_KQL,
                answers="Addresses trying many accounts: password spraying.",
            ),
            (0, 30, 24, 14),
        ),
        (
            "attacked",
            Lens(
                "Accounts under attack",
                "lnsDatatable",
                {
                    "user": terms("user.name", "Account", 10, "count"),
                    "count": count("Failed logins"),
                    "ips": unique_count("source.ip", "Source IPs"),
                },
                table_vis(["user", "count", "ips"]),
                query=FAILED_LOGIN_KQL,
                answers="Accounts tried from many addresses: brute force.",
            ),
            (24, 30, 24, 14),
        ),
        (
            "events",
            SavedSearch(
                "logplatform-security-events", "Failed login events", "The failed logins themselves, newest first."
            ),
            (0, 44, 48, 16),
        ),
    ],
)

DASHBOARDS = (OVERVIEW, SECURITY)


def render() -> str:
    return "".join(json.dumps(d.saved_object(), separators=(",", ":")) + "\n" for d in DASHBOARDS)


def panel_guide() -> str:
    """The README's table of what each panel answers."""
    lines = []
    for d in DASHBOARDS:
        lines += [f"**{d.title}** — {d.description}", "", "| panel | answers |", "|---|---|"]
        lines += [f"| {content.title} | {content.answers} |" for _, content, _ in d.panels]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {OUTPUT.relative_to(OUTPUT.parents[1])}")
    parser.add_argument("--guide", action="store_true", help="print the README's panel table")
    args = parser.parse_args(argv)
    if args.guide:
        print(panel_guide())
    elif args.write:
        OUTPUT.write_text(render(), encoding="utf-8")
        print(f"wrote {OUTPUT}")
    else:
        sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
