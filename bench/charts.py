"""Draws the charts of docs/benchmarks.md from the newest results of bench/backend_ingest.py and bench/growth.py.

Usage: .venv/bin/python -m bench.charts   (needs the `bench` extra: pip install -e '.[bench]')
Writes docs/charts/*.png.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.record import RESULTS

CHARTS = Path(__file__).resolve().parent.parent / "docs" / "charts"
OURS, RAW, PEER = "#1f77b4", "#7f7f7f", "#ff7f0e"


def newest(*names: str) -> dict[str, Any]:
    """The newest run of a benchmark (its files are <name>-<date>[-run<n>].json), by the time it was recorded; with
    several names, the newest of them all (a part run alone, bench.growth --parts, beside the full runs)."""
    runs = [json.loads(path.read_text()) for name in names for path in RESULTS.glob(f"{name}-[0-9]*.json")]
    return max(runs, key=lambda run: str(run["date"]))


def save(fig: Any, name: str) -> None:
    CHARTS.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(CHARTS / name, dpi=110)
    plt.close(fig)
    print(f"wrote {CHARTS / name}")


def ingest_designs(run: dict[str, Any]) -> None:
    labels = {
        "a_naive_single": "naive, single",
        "b_ours_single": "ours, single",
        "b_peer_single": "peer, single",
        "c_ours_json_batch": "ours, JSON arrays",
        "c_ours_ndjson_batch": "ours, NDJSON",
        "c_ours_otlp_protobuf_batch": "ours, OTLP protobuf",
        "c_peer_json_batch": "peer, JSON arrays",
        "d_raw_bulk_via_proxy": "raw _bulk (proxy)",
        "d_raw_bulk_via_proxy_with_event_ids": "raw _bulk (proxy, an id each)",
        "d_raw_bulk_direct": "raw _bulk (direct)",
    }
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, corpus in zip(axes, ("generator", "loggers"), strict=True):
        rows = run["results"][corpus]["rows"]
        names = [n for n in labels if n in rows]
        colors = [PEER if "peer" in n else RAW if n.startswith(("a_", "d_")) else OURS for n in names]
        ax.barh([labels[n] for n in names], [rows[n]["events_per_s"] for n in names], color=colors)
        ax.set_title(f"{corpus} events ({run['results'][corpus]['mean_event_bytes']} B mean)")
        ax.set_xlabel("events/s, acknowledged once indexed")
    axes[0].invert_yaxis()  # the axes share y: once, the first row on top
    save(fig, "ingest-designs.png")


SIDES = (("ours", "ours, NDJSON", OURS), ("raw_bulk_via_proxy", "raw _bulk", RAW))


def ours_and_raw(rows: dict[str, Any], panels: dict[str, Any], xlabel: str, name: str) -> None:
    """Two panels side by side (title -> the value of one row's side), ours and the raw _bulk on each, x in log."""
    x = sorted(int(k) for k in rows)
    fig, axes = plt.subplots(1, len(panels), figsize=(11, 4))
    for ax, (title, value) in zip(axes, panels.items(), strict=True):
        for key, label, color in SIDES:
            ax.plot(x, [value(rows[str(k)][key], k) for k in x], "o-", label=label, color=color)
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        ax.legend()
    save(fig, name)


def against_batch_size(growth: dict[str, Any]) -> None:
    panels = {"events/s": lambda r, _: r["events_per_s"], "p99 ms per request": lambda r, _: r["p99_ms"]}
    rows = growth["results"]["batch_size"]
    ours_and_raw(rows, panels, "events per request (4 clients)", "ingest-vs-batch-size.png")


def against_event_size(growth: dict[str, Any]) -> None:
    panels = {
        "events/s": lambda r, _: r["events_per_s"],
        "MB/s of events": lambda r, size: r["events_per_s"] * size / 2**20,
    }
    rows = growth["results"]["event_size"]
    ours_and_raw(rows, panels, "mean event size, bytes (100 events a request)", "ingest-vs-event-size.png")


def read_latency(growth: dict[str, Any]) -> None:
    levels = growth["results"]["read_latency"]
    searches = list(next(iter(levels.values()))["searches"])
    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / (2 * len(levels))
    for i, level in enumerate(levels.values()):
        for j, pct in enumerate(("p50_ms", "p99_ms")):
            offset = (2 * i + j) * width
            values = [level["searches"][s][pct] for s in searches]
            label = f"{level['stored']:,} stored, {pct[:3]}"
            ax.bar([k + offset for k in range(len(searches))], values, width, label=label, alpha=1 - 0.35 * j)
    ax.set_xticks([k + 0.4 - width / 2 for k in range(len(searches))], searches, rotation=15, ha="right")
    ax.set_ylabel("ms, GET /logs (50 a page)")
    ax.legend()
    save(fig, "read-latency.png")


def main() -> None:
    ingest_designs(newest("backend-ingest"))
    against_batch_size(newest("growth", "growth-batch-size"))
    against_event_size(newest("growth", "growth-batch-size"))
    read_latency(newest("growth", "growth-reads"))


if __name__ == "__main__":
    main()
