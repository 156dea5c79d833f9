"""The README's terminal session (the ```console block under "In a terminal") is real: each `$ logplatform ...` line
is run against the backend on the engine, over the events the README says it shows, and must print exactly the
lines printed under it."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from logplatform.cli import main
from tests.support.backend_process import BackendProcess
from tests.support.search_engine import SearchEngine
from tests.support.shipper import filebeat_doc

pytestmark = pytest.mark.engine
REPO = Path(__file__).resolve().parents[2]
PAYMENTS = "/var/log/logplatform/services/payment-service.log"

# the events the README's session shows: a payment-service file on the volume, one line of the auth service
SHOWN = [
    (PAYMENTS, "2026-12-01T10:00:00.120Z", "info", "Charging order ORD-1042"),
    (PAYMENTS, "2026-12-01T10:00:00.480Z", "info", "Provider answered in 312 ms"),
    ("/var/log/logplatform/services/auth-service.log", "2026-12-01T10:00:00.900Z", "error", "Login failed for bob"),
    (PAYMENTS, "2026-12-01T10:00:01.002Z", "error", "Payment provider timeout after 3000ms for order ORD-1043"),
    (PAYMENTS, "2026-12-01T10:00:01.250Z", "warning", "Retrying order ORD-1043 (attempt 2/3)"),
    (PAYMENTS, "2026-12-01T10:00:02.010Z", "info", "Order ORD-1043 paid"),
]


def session() -> list[tuple[str, str]]:
    """(command, what it prints) for each `$ logplatform` line of the README's terminal session."""
    readme = (REPO / "README.md").read_text()
    block = re.search(r"#### In a terminal\n.*?```console\n(.*?)```", readme, re.S)
    assert block is not None, "the README has no terminal session"
    steps: list[tuple[str, str]] = []
    for line in block.group(1).splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], ""))
        elif steps:
            steps[-1] = (steps[-1][0], steps[-1][1] + line + "\n")
    return [(command, output) for command, output in steps if command.startswith("logplatform ")]


@pytest.fixture
def shown(installed: SearchEngine, tmp_path: Path) -> Iterator[BackendProcess]:
    stream = "logs-logplatform-readme"
    offsets: dict[str, int] = {}
    bulk = []
    for path, moment, level, message in SHOWN:
        line = json.dumps({"@timestamp": moment, "log.level": level, "message": message})
        bulk += [json.dumps({"create": {"_index": stream}}), json.dumps(filebeat_doc(line, path, offsets.get(path, 0)))]
        offsets[path] = offsets.get(path, 0) + len(line) + 1
    answer = installed.cluster.ok("POST", "/_bulk?pipeline=logs-logplatform&refresh=true", "\n".join(bulk) + "\n")
    assert not answer["errors"]
    backend = BackendProcess(tmp_path, installed.client_url, tmp_path / "volume", stream)
    backend.start()
    yield backend
    backend.stop()
    installed.cluster.request("DELETE", f"/_data_stream/{stream}")


def test_the_readme_terminal_session_prints_what_it_shows(shown: BackendProcess, tmp_path: Path) -> None:
    steps = session()
    assert {shlex.split(c)[1] for c, _ in steps} >= {"search", "tail", "context", "export"}
    runner = CliRunner()
    env = {"LOGPLATFORM_URL": shown.url, "LOGPLATFORM_API_KEY": shown.key}
    printed = []
    with runner.isolated_filesystem(temp_dir=tmp_path):
        for command, _ in steps:
            result = runner.invoke(main, shlex.split(command)[1:], env=env)
            assert result.exit_code == 0, f"{command}: {result.output}"
            printed.append((command, result.output))
    session_now = "".join(f"$ {command}\n{output}" for command, output in printed)
    assert printed == steps, f"what the session prints now:\n{session_now}"
