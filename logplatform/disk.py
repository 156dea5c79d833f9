"""Free disk on every Elasticsearch node against its watermarks, and indices the flood stage made read-only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from logplatform import names
from logplatform.cluster import Cluster

_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4, "pb": 1024**5}
WATERMARKS = ("low", "high", "flood_stage")


@dataclass(frozen=True)
class Watermark:
    """Either a share of the disk that may be used (85%) or an amount that must stay free (2gb)."""

    text: str

    def free_needed(self, total: int) -> int:
        value = self.text.strip().lower()
        if value.endswith("%"):
            return int(total * (100 - float(value[:-1])) / 100)
        if re.fullmatch(r"0?\.\d+|1(\.0+)?", value):  # a ratio of used space
            return int(total * (1 - float(value)))
        m = re.fullmatch(r"([\d.]+)\s*([kmgtp]?b)", value)
        if not m:
            raise ValueError(f"cannot read the watermark {self.text!r}")
        return int(float(m.group(1)) * _UNITS[m.group(2)])


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TB"


@dataclass
class NodeDisk:
    name: str
    free: int
    total: int
    passed: list[str]  # the watermarks the node is past ("low", "high", "flood_stage")


def watermarks(settings: dict[str, Any]) -> dict[str, Watermark]:
    """From GET _cluster/settings?include_defaults&flat_settings: persistent, transient, then defaults."""
    merged = {**settings.get("defaults", {}), **settings.get("persistent", {}), **settings.get("transient", {})}
    prefix = "cluster.routing.allocation.disk.watermark."
    return {
        w: Watermark(str(merged.get(prefix + w, default)))
        for w, default in zip(WATERMARKS, ("85%", "90%", "95%"), strict=True)
    }


def nodes(stats: dict[str, Any], marks: dict[str, Watermark]) -> list[NodeDisk]:
    out = []
    for node in stats.get("nodes", {}).values():
        fs = node.get("fs", {}).get("total", {})
        free, total = int(fs.get("available_in_bytes", 0)), int(fs.get("total_in_bytes", 0))
        passed = [w for w in WATERMARKS if free < marks[w].free_needed(total)]
        out.append(NodeDisk(node.get("name", "?"), free, total, passed))
    return out


def read_only_indices(index_settings: dict[str, Any]) -> list[str]:
    """Indices with a read_only_allow_delete block (what the flood stage sets) from GET <pattern>/_settings."""
    blocked = []
    for index, body in index_settings.items():
        blocks = body.get("settings", {}).get("index", {}).get("blocks", {})
        if str(blocks.get("read_only_allow_delete", "false")).lower() == "true":
            blocked.append(index)
    return sorted(blocked)


def check(cluster: Cluster) -> str:
    """One line for doctor; raises with what is wrong."""
    settings = cluster.ok("GET", "/_cluster/settings?include_defaults=true&flat_settings=true")
    marks = watermarks(settings)
    found = nodes(cluster.ok("GET", "/_nodes/stats/fs"), marks)
    status, index_settings = cluster.request("GET", f"/{names.INDEX_PATTERN}/_settings")
    blocked = read_only_indices(index_settings) if status == 200 else []
    problems = [
        f"{n.name} is past the {n.passed[-1].replace('_', ' ')} watermark ({human(n.free)} free, "
        f"{marks[n.passed[-1]].text} wanted)"
        for n in found
        if n.passed and n.passed[-1] != "low"
    ]
    if blocked:
        problems.append(f"read-only (flood stage): {', '.join(blocked[:3])}")
    if problems:
        raise RuntimeError("; ".join(problems))
    low = [n.name for n in found if n.passed]
    line = ", ".join(f"{n.name} {human(n.free)} free" for n in found)
    line += f" (read-only below {marks['flood_stage'].text})"
    return line + (f"; past the low watermark: {', '.join(low)}" if low else "")
