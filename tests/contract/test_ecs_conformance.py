"""Every field we map and every field the pipeline emits is ECS 9.4 with ECS's type, or ours (logplatform.*)."""

from __future__ import annotations

from typing import Any

from logplatform import assets
from logplatform.assets import mapped_field_types
from tests.support.pipeline_cases import all_cases
from tests.support.reference import CUSTOM_NAMESPACE, FILEBEAT_FIELDS, ecs_fields

LEVELS = {"trace", "debug", "info", "warning", "error", "critical"}  # log.level after the pipeline


def flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in doc.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and path != "logplatform.extra":
            out.update(flatten(v, f"{path}."))
        else:
            out[path] = v
    return out


def test_every_mapped_field_is_ecs_with_the_ecs_type() -> None:
    ecs = ecs_fields()
    problems = []
    for field, our_type in mapped_field_types().items():
        if field.endswith(".*"):
            parent = field[:-2]
            if our_type != "object":  # labels.*: an ECS object of keywords
                assert ecs[parent]["type"] == "object" and our_type == "keyword", field
            continue
        if field.startswith(CUSTOM_NAMESPACE):
            continue
        if field in FILEBEAT_FIELDS:
            assert FILEBEAT_FIELDS[field] == our_type, field
            assert field not in ecs, f"{field} is ECS now: map it as ECS says"
            continue
        if field not in ecs:
            problems.append(f"{field}: not an ECS field")
        elif ecs[field]["type"] != our_type:
            problems.append(f"{field}: ours {our_type}, ECS {ecs[field]['type']}")
    assert not problems, problems


def test_every_field_the_pipeline_emits_is_mapped() -> None:
    """Run over the expected output of every pipeline case: nothing outside the mapping but logplatform.extra."""
    table = mapped_field_types()
    seen = set()
    for case in all_cases():
        for doc in case.expected():
            doc = {k: v for k, v in doc.items() if k != "_id"}
            for field in flatten(doc):
                parent = field.rsplit(".", 1)[0]
                ok = field in table or (f"{parent}.*" in table and table[f"{parent}.*"] != "object")
                assert ok, f"{case.name}: emits {field}, which is neither mapped ECS nor logplatform.*"
                seen.add(field)
    # the cases exercise the contract broadly, not a corner of it
    assert len(seen) >= 45, sorted(seen)


def test_levels_are_normalized_to_a_small_set() -> None:
    levels = {d.get("log", {}).get("level") for c in all_cases() for d in c.expected()} - {None}
    assert levels == LEVELS | {"custom-level"}  # every level, and a custom one kept as it is


# what each kind of alias writes (es/ingest-pipelines/event/fields.painless, aliasValue)
ALIAS_KIND_TYPES = {
    "text": {"keyword", "wildcard", "match_only_text"},
    "ip": {"ip"},
    "method": {"keyword"},
    "status": {"long"},
    "duration_ms": {"long"},
    "outcome": {"keyword"},
}


def test_the_pipeline_tables_land_in_ecs_fields_and_levels() -> None:
    """The pipeline's tables are data (its scripts' params): each alias a lower-case name the loggers use whose
    target is a mapped ECS field of a type that holds what the alias's kind writes; each level word one of six."""
    event = assets.script_processors()["event"]
    aliases = event["params"]["aliases"]
    levels = event["params"]["levels"]  # the level words of the loggers, the other table
    assert set(levels.values()) == LEVELS and all(word == word.lower() for word in levels), levels
    ecs, mapped = ecs_fields(), mapped_field_types()
    assert len(aliases) >= 60
    for key, (target, kind) in aliases.items():
        assert key == key.lower() and "." not in key, key  # looked up lower-cased; dotted keys are paths already
        assert target in ecs and mapped[target] == ecs[target]["type"], (key, target)
        assert mapped[target] in ALIAS_KIND_TYPES[kind], (key, target, kind)
