"""Where the engine's time goes when it ingests real lines through our pipeline: Java Flight Recorder samples the
test engine's write threads while one client bulk-creates a corpus (as bench/pipeline_cost.py does), and the
samples are summed by stage (the ingest pipeline's processors, OpenSearch's copy and self-reference walk around a
script, turning the document back into bytes, mapping and Lucene) and by the event pipeline's painless functions
(painless compiles each to a method of its own, so they show by name).

Usage: .venv/bin/python -m bench.pipeline_profile [--corpus generator|loggers] [--seconds 30]
Prints the shares; writes the recording to bench/results/pipeline-profile-<corpus>.jfr (not kept in git).
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import tempfile
import time
from pathlib import Path

from bench.engine import installed_engine
from bench.pipeline_cost import bulk_bodies, ingest, lines, shipped_docs
from logplatform import names

# (stage, a frame that marks it): a sample counts for every stage whose frame is on its stack
STAGES = [
    ("the whole ingest pipeline", "org/opensearch/ingest/IngestService.executePipelinesInBatchRequests"),
    ("  json processor (decode-line)", "org/opensearch/ingest/common/JsonProcessor.execute"),
    ("  script processors (event, document)", "org/opensearch/ingest/common/ScriptProcessor.execute"),
    ("    the painless script itself", "org/opensearch/painless/PainlessScript$Script.execute"),
    ("    OpenSearch's copy of the document", "org/opensearch/ingest/IngestDocument.deepCopyMap"),
    ("    its self-reference walks", "org/opensearch/core/common/util/CollectionUtils.ensureNoSelfReferences"),
    ("  date processors", "org/opensearch/ingest/common/DateProcessor.execute"),
    ("  set processors (templates)", "org/opensearch/ingest/common/SetProcessor.execute"),
    ("  the document back to bytes", "org/opensearch/action/index/IndexRequest.source"),
    ("indexing: mapping the document", "org/opensearch/index/mapper/DocumentParser.parseDocument"),
    ("indexing: Lucene", "org/apache/lucene/index/IndexWriter.updateDocument"),
]
PAINLESS = "org/opensearch/painless/PainlessScript$Script."


def profile(corpus: str, seconds: float, out: Path) -> float:
    """Records while ingesting for `seconds`; returns microseconds an event over the recording."""
    work = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    raw = shipped_docs(lines(20_000, work, corpus))
    with installed_engine() as engine:
        bodies = bulk_bodies(raw, "logs-logplatform-profile")
        for _ in range(2):  # warm: painless compiles, the JIT settles
            ingest(engine.cluster, bodies, names.PIPELINE)
            engine.cluster.request("DELETE", "/_data_stream/logs-logplatform-profile")
        assert engine.local is not None and engine.local.proc is not None
        jcmd, pid = str(engine.local.java_home / "bin" / "jcmd"), str(engine.local.proc.pid)
        # deep stacks (pipeline in pipeline, painless functions) kept whole: the default is 64 frames
        subprocess.run([jcmd, pid, "JFR.configure", "stackdepth=512"], check=True, capture_output=True)
        subprocess.run([jcmd, pid, "JFR.start", "name=bench", "settings=profile", f"filename={out}"], check=True)
        started, events, took = time.monotonic(), 0, 0.0
        while time.monotonic() - started < seconds:
            took += ingest(engine.cluster, bodies, names.PIPELINE)
            events += len(raw)
            engine.cluster.request("DELETE", "/_data_stream/logs-logplatform-profile")
        subprocess.run([jcmd, pid, "JFR.stop", "name=bench"], check=True, capture_output=True)
        java_home = engine.local.java_home
    summarize(out, java_home)
    return took * 1e6 / events


def stacks(recording: Path, java_home: Path) -> list[list[str]]:
    """The write threads' sampled stacks, innermost frame first."""
    printed = subprocess.run(
        [str(java_home / "bin" / "jfr"), "print", "--json", "--stack-depth", "512", "--events", "jdk.ExecutionSample",
         str(recording)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    out = []
    for event in json.loads(printed)["recording"]["events"]:
        if "write" in (event["values"]["sampledThread"]["javaName"] or ""):
            frames = event["values"]["stackTrace"]["frames"]
            out.append([f"{f['method']['type']['name']}.{f['method']['name']}" for f in frames])
    return out


def summarize(recording: Path, java_home: Path) -> None:
    samples = stacks(recording, java_home)
    print(f"{len(samples):,} samples of the write threads")
    for stage, frame in STAGES:
        share = sum(1 for s in samples if frame in s) / len(samples)
        print(f"{share:6.1%}  {stage}")
    in_script = [s for s in samples if f"{PAINLESS}execute" in s]
    innermost = collections.Counter(next(f for f in s if f.startswith(PAINLESS)) for s in in_script)
    print("the painless functions (innermost, share of the script's samples):")
    for frame, count in innermost.most_common(12):
        print(f"{count / max(len(in_script), 1):6.1%}  {frame.removeprefix(PAINLESS)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=("generator", "loggers"), default="generator")
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    out = Path(__file__).resolve().parent / "results" / f"pipeline-profile-{args.corpus}.jfr"
    micros = profile(args.corpus, args.seconds, out)
    print(f"{args.corpus}: {micros:.1f} us an event over the recording (a profiled engine runs a little slower)")


if __name__ == "__main__":
    main()
