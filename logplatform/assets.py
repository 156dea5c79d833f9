"""Reads the Elasticsearch assets under es/ and installs them, idempotently, on a cluster.

The assets are installed unchanged on Elasticsearch and on the test engine (OpenSearch), except
for what ELASTICSEARCH_ONLY lists: the lifecycle (ILM) pieces under es/lifecycle/.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Protocol

from logplatform import names, packaged

ES_DIR = packaged.ES_DIR

# The one place where the two engines differ (see assets_for):
# - es/lifecycle/ is installed on Elasticsearch only: ILM (OpenSearch has none), the index modes (logsdb for the
#   logs, standard for the dead-letter stream) and the data stream's failure store (Elasticsearch 9.1+;
#   docs/storage.md);
# - Elasticsearch's `flattened` type (labels: any number of keys, one mapped field) is `flat_object` there;
# - a `constant_keyword` without a value (data_stream.namespace: set by the first document, as in Elastic's
#   logs template) is a plain keyword there, where constant_keyword requires its value up front.


def _for_opensearch(mappings: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(mappings))

    def walk(props: dict[str, Any]) -> None:
        for name, spec in props.items():
            if spec.get("type") == "flattened":
                props[name] = {"type": "flat_object"}
            elif spec.get("type") == "constant_keyword" and "value" not in spec:
                props[name] = {"type": "keyword", "ignore_above": 1024}
            elif "properties" in spec:
                walk(spec["properties"])

    walk(body["template"]["mappings"]["properties"])
    return body


def load_json(relative: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((packaged.require(ES_DIR) / relative).read_text(encoding="utf-8"))
    return body


def script_source(file_name: str) -> str:
    """A painless script of the pipelines, es/ingest-pipelines/<file_name>."""
    return (packaged.require(ES_DIR) / "ingest-pipelines" / file_name).read_text(encoding="utf-8")


def script_text(source_file: str | list[str]) -> str:
    """A script processor's inline source: its painless file, or its files one after the other (the event pipeline's
    shared functions first, then its steps' functions, then the statements that run them: es/ingest-pipelines/event/;
    painless wants every function before the first statement)."""
    files = [source_file] if isinstance(source_file, str) else source_file
    return "\n".join(script_source(f) for f in files)


def _inline_scripts(processors: list[dict[str, Any]], script_params: dict[str, Any]) -> None:
    """A script processor names its painless file or files (`source_file`, a key no engine knows, so that the JSON is
    never PUT as it is); their text goes in as the processor's inline `source`. Inline, not stored: the engine
    compiles an inline script once, when the pipeline is put, while a stored script is looked up in the script
    cache for every document (its whole source hashed each time: bench/pipeline_cost.py measured it). A script's
    `params` may be a list of names: the values of the pipeline file's `script_params` (one table that several
    steps read, written once)."""
    for processor in processors:
        for kind, spec in processor.items():
            if kind == "script" and "source_file" in spec:
                spec["source"] = script_text(spec.pop("source_file"))
                if isinstance(spec.get("params"), list):
                    spec["params"] = {name: script_params[name] for name in spec["params"]}
            _inline_scripts(spec.get("on_failure", []), script_params)


# What the pipeline can mask (docs/event-schema.md, "Masking"); user_email is the explicit user.email field, which
# is the user's own business and off unless named
PII_CATEGORIES = ("email", "card", "iban", "token", "secret", "credentials", "user_email")
DEFAULT_MASK = frozenset(PII_CATEGORIES) - {"user_email"}


@dataclass(frozen=True)
class PipelineOptions:
    """What .env decides about the event pipeline, applied by setup: whether every raw line is kept in
    event.original (LOG_KEEP_ORIGINAL; else only lines that did not parse), and which personal data is masked
    (LOG_MASK)."""

    keep_original: bool = False
    mask: frozenset[str] = DEFAULT_MASK

    @staticmethod
    def parse_mask(text: str) -> frozenset[str]:
        """LOG_MASK: empty for the default, `none`, `all`, or categories separated by commas."""
        words = {w.strip().lower() for w in text.split(",") if w.strip()}
        if not words:
            return DEFAULT_MASK
        if words == {"none"}:
            return frozenset()
        if words == {"all"}:
            return frozenset(PII_CATEGORIES)
        unknown = sorted(words - set(PII_CATEGORIES))
        if unknown:
            raise ValueError(
                f"LOG_MASK: {', '.join(unknown)} is not a category; "
                f"use none, all, or some of {', '.join(PII_CATEGORIES)}"
            )
        return frozenset(words)

    def describe(self) -> list[str]:
        original = (
            "kept for every line"
            if self.keep_original
            else ("kept for lines that did not parse (LOG_KEEP_ORIGINAL=true keeps it for every line)")
        )
        masked = ", ".join(c for c in PII_CATEGORIES if c in self.mask) or "nothing (LOG_MASK=none)"
        return [f"event.original: {original}", f"masked at ingest: {masked}"]


def pipeline_body(name: str = names.PIPELINE, options: PipelineOptions | None = None) -> dict[str, Any]:
    """A pipeline as installed; the event pipeline's scripts get the options' parameters (with none to mask, its
    mask step is skipped)."""
    options = options or PipelineOptions()
    body = load_json(f"ingest-pipelines/{name}.json")
    script_params: dict[str, Any] = body.pop("script_params", {})
    if name == names.EVENT_PIPELINE:
        script_params["keep_original"] = options.keep_original
        script_params["mask"] = [c for c in PII_CATEGORIES if c in options.mask]
    _inline_scripts(body["processors"], script_params)
    _inline_scripts(body.get("on_failure", []), script_params)
    return body


def script_processors(name: str = names.EVENT_PIPELINE, options: PipelineOptions | None = None) -> dict[str, Any]:
    """The script processors of a pipeline as installed, by tag."""
    return {p["script"]["tag"]: p["script"] for p in pipeline_body(name, options)["processors"] if "script" in p}


def mappings_body() -> dict[str, Any]:
    return load_json("component-templates/logs-logplatform@mappings.json")


def field_table(mapping_properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Flattens mapping properties into the table the normalize script guards types with.

    "a.b" -> leaf type; "a.*" -> "object" for objects with mapped children, or the type of every
    dynamic child (labels.* -> keyword).
    """
    table: dict[str, str] = {}
    for name, spec in mapping_properties.items():
        path = f"{prefix}{name}"
        if "properties" in spec:
            table[f"{path}.*"] = "object"
            table.update(field_table(spec["properties"], f"{path}."))
        elif spec.get("type") == "flattened":  # labels: any key, keyword values, one mapped field
            table[f"{path}.*"] = "keyword"
        else:
            table[path] = spec.get("type", "object")
    return table


def mapped_field_types() -> dict[str, str]:
    return field_table(mappings_body()["template"]["mappings"]["properties"])


@dataclass(frozen=True)
class Retention:
    """How long logs are kept and when the data stream rolls over to a new backing index (ILM, Elasticsearch)."""

    keep: str = "30d"  # delete a backing index this long after it rolled over
    rollover_size: str = "25gb"  # roll over at this primary shard size (or daily, whichever comes first)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[1-9]\d*[dh]", self.keep):
            raise ValueError(f"LOG_RETENTION must be days or hours such as 30d or 12h, not {self.keep!r}")
        if not re.fullmatch(r"[1-9]\d*(mb|gb|tb)", self.rollover_size):
            raise ValueError(f"LOG_ROLLOVER_SIZE must be a size such as 25gb or 500mb, not {self.rollover_size!r}")

    def policy(self) -> dict[str, Any]:
        body = load_json("lifecycle/logs-logplatform.ilm-policy.json")
        phases = body["policy"]["phases"]
        phases["hot"]["actions"]["rollover"]["max_primary_shard_size"] = self.rollover_size
        phases["delete"]["min_age"] = self.keep
        body["policy"]["_meta"]["description"] = (
            f"Roll over daily or at {self.rollover_size} per primary shard, delete {self.keep} after rollover"
        )
        return body


@dataclass(frozen=True)
class Asset:
    """One PUT that makes the cluster hold one of our assets."""

    name: str
    path: str
    body: dict[str, Any]


def assets_for(engine: str, retention: Retention | None = None, options: PipelineOptions | None = None) -> list[Asset]:
    """The assets in install order; engine is "elasticsearch" or "opensearch"."""
    retention = retention or Retention()
    composed_of = [names.SETTINGS_COMPONENT, names.MAPPINGS_COMPONENT]
    index_template = load_json(f"index-templates/{names.INDEX_TEMPLATE}.json")
    dead_letter_template = load_json(f"index-templates/{names.DEAD_LETTER_TEMPLATE}.json")
    if engine != "elasticsearch":
        dead_letter_template = _for_opensearch(dead_letter_template)
    items = [
        # the sub-pipelines before the entry pipeline that names them
        *(
            Asset(pipeline, f"/_ingest/pipeline/{pipeline}", pipeline_body(pipeline, options))
            for pipeline in (names.EVENT_PIPELINE, names.DEAD_LETTER_PIPELINE, names.PIPELINE)
        ),
        Asset(
            names.SETTINGS_COMPONENT,
            f"/_component_template/{names.SETTINGS_COMPONENT}",
            load_json("component-templates/logs-logplatform@settings.json"),
        ),
        Asset(
            names.MAPPINGS_COMPONENT,
            f"/_component_template/{names.MAPPINGS_COMPONENT}",
            mappings_body() if engine == "elasticsearch" else _for_opensearch(mappings_body()),
        ),
    ]
    if engine == "elasticsearch":  # es/lifecycle/: ILM, which OpenSearch does not have
        items += [
            Asset(names.ILM_POLICY, f"/_ilm/policy/{names.ILM_POLICY}", retention.policy()),
            Asset(
                names.LIFECYCLE_COMPONENT,
                f"/_component_template/{names.LIFECYCLE_COMPONENT}",
                load_json("lifecycle/logs-logplatform@lifecycle.json"),
            ),
            Asset(
                names.INDEX_MODE_COMPONENT,
                f"/_component_template/{names.INDEX_MODE_COMPONENT}",
                load_json("lifecycle/logs-logplatform@index-mode.json"),
            ),
        ]
        composed_of += [names.LIFECYCLE_COMPONENT, names.INDEX_MODE_COMPONENT]
        dead_letter_template["composed_of"] = [names.LIFECYCLE_COMPONENT]
        # its name matches logs-*-*, so unsaid, Elasticsearch 9 would make it logsdb: the refused lines it keeps stay
        # standard, stored as they were sent (docs/storage.md)
        dead_letter_template["template"]["settings"]["index"].update(
            load_json("lifecycle/deadletter-index-mode.json")["settings"]["index"]
        )
        # data stream options are applied once, when the data stream is created (Elastic's failure store docs)
        index_template["template"] = load_json("lifecycle/failure-store.json")
    index_template["composed_of"] = composed_of
    items += [
        Asset(names.INDEX_TEMPLATE, f"/_index_template/{names.INDEX_TEMPLATE}", index_template),
        Asset(names.DEAD_LETTER_TEMPLATE, f"/_index_template/{names.DEAD_LETTER_TEMPLATE}", dead_letter_template),
    ]
    return items


class Http(Protocol):
    """The few HTTP calls the installer needs; see logplatform.cluster.Cluster."""

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]: ...


def detect_engine(http: Http) -> str:
    status, info = http.request("GET", "/")
    if status != 200:
        raise RuntimeError(f"GET / answered {status}: {info}")
    distribution = (info.get("version") or {}).get("distribution", "elasticsearch")
    return "opensearch" if distribution == "opensearch" else "elasticsearch"


def _current(http: Http, asset: Asset) -> Any:
    status, body = http.request("GET", asset.path)
    if status == 404:
        return None
    if status != 200:
        raise RuntimeError(f"GET {asset.path} answered {status}: {body}")
    if asset.path.startswith("/_ingest/pipeline/"):
        return body.get(asset.name)
    if asset.path.startswith("/_component_template/"):
        found = body["component_templates"][0]["component_template"]
        return found
    if asset.path.startswith("/_index_template/"):
        return body["index_templates"][0]["index_template"]
    if asset.path.startswith("/_ilm/policy/"):
        return {"policy": body[asset.name]["policy"]}
    return body


def _same(wanted: Any, current: Any) -> bool:
    """True when every key we set has the value we want (the cluster may add its own keys)."""
    if isinstance(wanted, dict):
        if not isinstance(current, dict):
            return False
        return all(_same(v, current.get(k)) for k, v in wanted.items())
    if isinstance(wanted, list):
        return (
            isinstance(current, list)
            and len(wanted) == len(current)
            and all(_same(w, c) for w, c in zip(wanted, current, strict=True))
        )
    if isinstance(wanted, bool) or isinstance(current, bool):
        return str(wanted).lower() == str(current).lower()
    if isinstance(wanted, (int, float)) and isinstance(current, str):
        return str(wanted) == current
    return bool(wanted == current)


# What earlier versions installed and nothing names any more: removed by install, so that an upgraded cluster holds
# what a new one does (the painless scripts were stored scripts before they went inline in their pipelines).
OBSOLETE = ("/_scripts/logs-logplatform-normalize", "/_scripts/logs-logplatform-dead-letter")


@dataclass(frozen=True)
class InstallResult:
    name: str
    changed: bool
    removed: bool = False  # an obsolete asset taken away

    def __str__(self) -> str:
        said = "removed (obsolete)" if self.removed else "installed" if self.changed else "already up to date"
        return f"asset {self.name}: {said}"


def install(
    http: Http, engine: str | None = None, retention: Retention | None = None, options: PipelineOptions | None = None
) -> list[InstallResult]:
    """PUTs every asset that is missing or differs; leaves identical ones alone (idempotent)."""
    engine = engine or detect_engine(http)
    results = []
    for asset in assets_for(engine, retention, options):
        if _same(_normalized(asset), _current(http, asset)):
            results.append(InstallResult(asset.name, changed=False))
            continue
        status, body = http.request("PUT", asset.path, asset.body)
        if status not in (200, 201):
            raise RuntimeError(f"installing {asset.name}: PUT {asset.path} answered {status}: {body}")
        results.append(InstallResult(asset.name, changed=True))
    for path in OBSOLETE:
        status, body = http.request("DELETE", path)
        if status not in (200, 404):
            raise RuntimeError(f"removing the obsolete {path}: DELETE answered {status}: {body}")
        if status == 200:
            results.append(InstallResult(path.rsplit("/", 1)[1], changed=True, removed=True))
    return results


def pipeline_problem(http: Http, probe_service: str) -> str | None:
    """Runs one test event through the installed pipeline; None when it comes out normalized, else why not."""
    status, out = http.request(
        "POST",
        f"/_ingest/pipeline/{names.PIPELINE}/_simulate",
        {
            "docs": [
                {"_source": {"message": json.dumps({"service": probe_service, "message": "check", "level": "info"})}}
            ]
        },
    )
    if status != 200:
        return f"_simulate answered {status}: {json.dumps(out)[:300]}"
    doc = out["docs"][0].get("doc", {}).get("_source", {})
    if doc.get("service", {}).get("name") != probe_service or "error" in doc:
        return f"the pipeline does not normalize events: {json.dumps(out)[:300]}"
    return None


def _normalized(asset: Asset) -> Any:
    """The part of an asset the cluster echoes back on GET, for comparison."""
    if asset.path.startswith("/_component_template/") or asset.path.startswith("/_index_template/"):
        body = json.loads(json.dumps(asset.body))
        settings = body.get("template", {}).get("settings")
        if settings:
            body["template"]["settings"] = _stringify(settings)
        return body
    return asset.body


def _stringify(value: Any) -> Any:
    """Clusters echo index settings back as strings."""
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    return value


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--print-field-table"]:
        print(json.dumps(mapped_field_types(), indent=2))
    else:
        sys.exit("usage: python -m logplatform.assets --print-field-table")
