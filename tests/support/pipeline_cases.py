"""Pipeline test cases in the elastic/integrations style: es/ingest-pipelines/_dev/test/pipeline/

test-<name>.log holds raw lines as they stand in a file on the log volume; test-<name>.log-expected.json
holds the documents the pipeline must make of them. Each line is sent the way Filebeat's filestream
input sends it (the raw line in `message`, plus the shipper fields in test-common-config.yml).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from logplatform import names
from logplatform.assets import ES_DIR
from tests.support.search_engine import SearchEngine
from tests.support.shipper import filebeat_doc

CASES_DIR = ES_DIR / "ingest-pipelines" / "_dev" / "test" / "pipeline"
CONFIG = yaml.safe_load((CASES_DIR / "test-common-config.yml").read_text())
GENERATE = os.environ.get("LOGPLATFORM_GENERATE_EXPECTED") == "1"


@dataclass
class Case:
    name: str
    log_file: Path

    @property
    def expected_file(self) -> Path:
        return self.log_file.with_name(self.log_file.name + "-expected.json")

    def lines(self) -> list[tuple[int, str]]:
        """(byte offset, line) for each line, as Filebeat reports log.offset."""
        out, offset = [], 0
        for raw in self.log_file.read_bytes().split(b"\n"):
            if raw:
                out.append((offset, raw.decode("utf-8")))
            offset += len(raw) + 1
        return out

    def inputs(self) -> list[dict[str, Any]]:
        shipper = CONFIG["shipper"]
        path = f"{shipper['log.file.directory']}/{self.log_file.name}"
        assert shipper["input.type"] == "filestream"
        return [
            filebeat_doc(line, path, offset, host=shipper["host.name"], timestamp=shipper["@timestamp"])
            for offset, line in self.lines()
        ]

    def expected(self) -> list[dict[str, Any]]:
        return json.loads(self.expected_file.read_text(encoding="utf-8"))["expected"]

    def write_expected(self, docs: list[dict[str, Any]]) -> None:
        self.expected_file.write_text(
            json.dumps({"expected": docs}, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
        )


def all_cases() -> list[Case]:
    return [Case(p.name[len("test-") : -len(".log")], p) for p in sorted(CASES_DIR.glob("test-*.log"))]


def comparable(doc_id: str | None, source: dict[str, Any]) -> dict[str, Any]:
    """The document as the expected files hold it: _id beside the source, dynamic fields checked and masked."""
    doc = json.loads(json.dumps(source))
    for field, pattern in CONFIG["dynamic_fields"].items():
        parent, _, leaf = field.rpartition(".")
        holder = doc
        for part in parent.split(".") if parent else []:
            holder = holder.get(part, {}) if isinstance(holder, dict) else {}
        if isinstance(holder, dict) and leaf in holder:
            value = str(holder[leaf])
            assert re.search(pattern, value), f"{field}={value!r} does not match {pattern}"
            holder[leaf] = "<dynamic>"
    return {"_id": doc_id, **doc}


def simulate(engine: SearchEngine, docs: list[dict[str, Any]], index: str = names.DATA_STREAM) -> list[dict[str, Any]]:
    """Each document through the entry pipeline, as if written to `index`; the documents it makes."""
    out = engine.cluster.ok(
        "POST",
        f"/_ingest/pipeline/{names.PIPELINE}/_simulate",
        {"docs": [{"_index": index, "_source": d} for d in docs]},
    )
    results = []
    for item in out["docs"]:
        assert "error" not in item, f"pipeline raised instead of keeping the line: {item['error']}"
        results.append(item["doc"])
    return results
