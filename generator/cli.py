"""`logplatform-generator`: realistic log traffic to the log volume and/or the backend.

Every option can also be set from the environment as LOGPLATFORM_GENERATOR_<OPTION> (compose uses that).
"""

from __future__ import annotations

import logging
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from generator.outputs import FileOutput, HttpOutput, Output, Stats
from generator.pacing import Pacer
from generator.progress import Progress
from generator.scenarios import DEFAULT_SERVICES, DEMO_TAG, SCENARIOS, TrafficModel, daily_rhythm, moment
from logplatform.ecs_logging import setup_logging

log = logging.getLogger("generator")


@click.command(
    context_settings={
        "help_option_names": ["-h", "--help"],
        "auto_envvar_prefix": "LOGPLATFORM_GENERATOR",
        "show_default": True,
    }
)
@click.option("--mode", type=click.Choice(["file", "http", "both"]), default="file", help="Where events go")
@click.option("--scenario", type=click.Choice(SCENARIOS), default="steady", help="The story the traffic tells")
@click.option("--rate", type=float, default=None, help="Events per second (0 = as fast as possible)")
@click.option("--interval", type=float, default=3.0, help="Seconds between events, when --rate is not given")
@click.option("--count", type=int, default=None, help="Stop after this many events")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds")
@click.option("--seed", type=int, default=None, help="Same seed, same events (with --start-time, byte for byte)")
@click.option("--services", default=",".join(DEFAULT_SERVICES), help="Comma-separated service names")
@click.option("--target", default=None, help="Service the incident hits / that goes silent (default: by scenario)")
@click.option(
    "--period", type=float, default=600.0, help="Without --count/--duration, the scenario repeats every PERIOD seconds"
)
@click.option("--rhythm/--no-rhythm", default=False, help="Vary the rate over the day (busier afternoons)")
@click.option(
    "--start-time",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Timestamp events from this UTC time at the nominal rate instead of the clock (reproducible)",
)
@click.option(
    "--log-dir",
    type=click.Path(path_type=Path),
    default=Path("/var/log/logplatform"),
    help="The shared log volume; events go to <log-dir>/services/<service>.log",
)
@click.option("--max-file-bytes", type=int, default=50 * 1024 * 1024, help="Rotate a service's file at this size")
@click.option("--backups", type=int, default=5, help="Rotated files kept per service")
@click.option("--backend-url", default="http://backend:8000", help="The backend, for --mode http/both")
@click.option("--api-key", default=None, help="API key for the backend (LOGPLATFORM_GENERATOR_API_KEY)")
@click.option("--api-key-file", type=click.Path(path_type=Path), default=None, help="Read the API key from a file")
@click.option("--batch-size", type=int, default=200, help="Events per HTTP request")
@click.option("--max-retries", type=int, default=8, help="HTTP retries before giving up on a batch")
@click.option("--quiet", is_flag=True, help="No status line")
@click.option(
    "--enabled",
    type=click.BOOL,
    default=True,
    help="false: write nothing, say so, and wait to be stopped (compose's GENERATOR_ENABLED switch)",
)
def main(
    mode: str,
    scenario: str,
    rate: float | None,
    interval: float,
    count: int | None,
    duration: float | None,
    seed: int | None,
    services: str,
    target: str | None,
    period: float,
    rhythm: bool,
    start_time: datetime | None,
    log_dir: Path,
    max_file_bytes: int,
    backups: int,
    backend_url: str,
    api_key: str | None,
    api_key_file: Path | None,
    batch_size: int,
    max_retries: int,
    quiet: bool,
    enabled: bool,
) -> None:
    """Generate realistic log events: steady traffic, an incident, a credential-stuffing attack, a silent service."""
    # its own lines are demo too: with it switched off, its own silence is no real service's
    setup_logging("generator", log_dir, console="json" if not sys.stderr.isatty() else "text", tags=(DEMO_TAG,))
    if not enabled:
        _switched_off()
        return
    rate = _events_per_second(rate, interval)
    names = _service_names(services)
    api_key = _api_key(mode, api_key, api_key_file)
    stats = Stats()
    outputs: list[Output] = []
    if mode in ("file", "both"):
        outputs.append(FileOutput(log_dir / "services", stats, max_file_bytes, backups))
    if mode in ("http", "both"):
        outputs.append(HttpOutput(backend_url, api_key, stats, batch_size=batch_size, max_retries=max_retries))
    targets = " + ".join(o.describe() for o in outputs)
    log.info(
        "generating %s traffic for %s at %s events/s -> %s",
        scenario,
        ", ".join(names),
        "max" if rate <= 0 else f"{rate:g}",
        targets,
    )
    run = Run(
        TrafficModel(scenario, names, seed, target, demo=True),
        outputs,
        Pacer(rate, _rhythm_now if rhythm else None),
        Progress(stats, targets),
        quiet,
        count,
        duration,
        period,
        start_time.replace(tzinfo=UTC) if start_time else None,
        timedelta(seconds=1 / rate) if rate > 0 else timedelta(milliseconds=1),
    )
    signal.signal(signal.SIGTERM, run.stop)
    signal.signal(signal.SIGINT, run.stop)
    try:
        run.until_done()
    finally:
        for out in outputs:
            out.close()
        run.progress.update(run.generated, force=True)
        run.progress.finish()
    if stats.failed:
        sys.exit(1)


# /tmp/generator-switched-off in the container (no TMPDIR there): its healthcheck reads it
SWITCHED_OFF = "generator-switched-off"


def _switched_off() -> None:
    """Switched off: one line saying so, a file the healthcheck reads, then nothing until SIGTERM (compose keeps the
    service, so `up -d --wait` and the one-shots it waits for behave as with it on)."""
    log.info("switched off (GENERATOR_ENABLED=false): no events; set it to true and `docker compose up -d` to resume")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    (Path(tempfile.gettempdir()) / SWITCHED_OFF).touch()
    stop.wait()


def _events_per_second(rate: float | None, interval: float) -> float:
    if rate is not None:
        return rate
    if interval <= 0:
        raise click.BadParameter("must be > 0", param_hint="--interval")
    return 1.0 / interval


def _service_names(services: str) -> tuple[str, ...]:
    names = tuple(s.strip() for s in services.split(",") if s.strip())
    if not names:
        raise click.BadParameter("at least one service", param_hint="--services")
    return names


def _api_key(mode: str, api_key: str | None, api_key_file: Path | None) -> str | None:
    if api_key_file and not api_key:
        api_key = api_key_file.read_text().strip()
    if mode in ("http", "both") and not api_key:
        raise click.UsageError("--mode http needs --api-key or --api-key-file (logplatform apikey create generator)")
    return api_key


def _rhythm_now(_elapsed: float) -> float:
    now = datetime.now(UTC)
    return daily_rhythm(now.hour + now.minute / 60)


@dataclass
class Run:
    """One generator run: events in batches at the pacer's rate, until the count, the duration or a signal."""

    model: TrafficModel
    outputs: list[Output]
    pacer: Pacer
    progress: Progress  # the closing summary is written even when quiet
    quiet: bool
    count: int | None
    duration: float | None
    period: float
    virtual_start: datetime | None  # --start-time: timestamps from here at the nominal rate
    step: timedelta
    generated: int = 0
    stopping: bool = False

    def stop(self, *_: object) -> None:
        self.stopping = True

    def done(self) -> bool:
        if self.stopping or (self.count is not None and self.generated >= self.count):
            return True
        return self.duration is not None and self.pacer.elapsed() >= self.duration

    def until_done(self) -> None:
        while not self.done():
            n = self.pacer.next_batch(1000 if self.count is None else min(1000, self.count - self.generated))
            batch = self.batch(n)
            for out in self.outputs:
                out.write(batch)
            if not self.quiet:
                self.progress.update(self.generated)

    def batch(self, n: int) -> list[dict[str, Any]]:
        """n events; one clock reading per batch (a batch is made within a millisecond or two)."""
        now = self.pacer.elapsed()
        wall, wall_millis = moment(datetime.now(UTC)) if self.virtual_start is None else ("", 0)
        events = []
        for _ in range(n):
            if self.count is not None:
                progress = self.generated / self.count
            elif self.duration is not None:
                progress = min(now / self.duration, 1.0)
            else:
                progress = (now % self.period) / self.period
            if self.virtual_start:
                ts, millis = moment(self.virtual_start + self.step * self.generated)
            else:
                ts, millis = wall, wall_millis
            self.generated += 1
            event = self.model.event(ts, progress, millis)
            if event is not None:
                events.append(event)
        return events


if __name__ == "__main__":
    main()
