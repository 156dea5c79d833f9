"""The three-node profile on a default Linux host (vm.max_map_count 65530): `up` fails at once, before any node,
with the fix to apply, instead of three nodes exiting on Elasticsearch's bootstrap checks."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.stack.test_compose import CLUSTER_FILE, _ComposeLoader

FIX = "sudo sysctl -w vm.max_map_count=262144"


def overlay() -> dict[str, Any]:
    services: dict[str, Any] = yaml.load(CLUSTER_FILE.read_text(), Loader=_ComposeLoader)["services"]
    return services


def run_check(max_map_count_file: Path) -> subprocess.CompletedProcess[str]:
    """The check's command as the container runs it: Compose turns `$$` into `$`; bash -c runs it."""
    script = overlay()["es-host-check"]["command"][0].replace("$$", "$")
    script = script.replace("/proc/sys/vm/max_map_count", str(max_map_count_file))
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)


def test_every_node_waits_for_the_host_check_and_the_check_holds_no_privilege() -> None:
    services = overlay()
    for node in ("es01", "es02", "es03"):
        assert services[node]["depends_on"] == {"es-host-check": {"condition": "service_completed_successfully"}}
    check = services["es-host-check"]
    assert "privileged" not in check and check["cap_drop"] == ["ALL"] and check["network_mode"] == "none"
    assert check["read_only"] is True and check["restart"] == "no" and check["user"] == "1000:0"
    assert "no-new-privileges:true" in check["security_opt"]


@pytest.mark.parametrize(("value", "code"), [(65530, 78), (262143, 78), (262144, 0), (1048576, 0)])
def test_the_check_refuses_below_elasticsearchs_limit_with_the_fix(tmp_path: Path, value: int, code: int) -> None:
    proc_file = tmp_path / "max_map_count"
    proc_file.write_text(f"{value}\n")
    proc = run_check(proc_file)
    assert proc.returncode == code, proc.stderr
    if code:
        assert f"vm.max_map_count is {value} on this Docker host" in proc.stderr
        assert FIX in proc.stderr and "/etc/sysctl.d/" in proc.stderr


def test_the_check_on_this_machine_reads_the_hosts_value() -> None:
    real = Path("/proc/sys/vm/max_map_count")
    proc = run_check(real)
    assert proc.returncode == (78 if int(real.read_text()) < 262144 else 0)
