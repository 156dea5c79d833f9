"""`logplatform containers watch`: one Filebeat input per container labelled logplatform.collect=true."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from logplatform import containers
from logplatform.cli import main
from tests.support.docker_files import make_container

COMPOSE = {"com.docker.compose.project": "shop", "com.docker.compose.service": "payments"}


def _inputs(inputs_dir: Path) -> dict[str, dict]:
    """Each input file's first input (stdout); the file holds one for each stream."""
    return {p.name: yaml.safe_load(p.read_text())[0] for p in sorted(inputs_dir.glob("*.yml"))}


def test_only_marked_containers_get_an_input_with_their_identity(tmp_path: Path) -> None:
    docker, inputs = tmp_path / "containers", tmp_path / "inputs"
    marked = make_container(docker, "shop-payments-1", "shop/payments:2.1", {containers.LABEL: "true", **COMPOSE})
    make_container(docker, "unmarked", labels={"com.docker.compose.service": "db"})
    make_container(docker, "said-no", labels={containers.LABEL: "false"})

    result = containers.sync(docker, inputs)

    assert result.collected == 1
    got = _inputs(inputs)
    assert list(got) == [f"container-{marked}.yml"]
    one = got[f"container-{marked}.yml"]
    assert one["id"] == f"container-{marked}-stdout"
    both = yaml.safe_load((inputs / f"container-{marked}.yml").read_text())
    # one input a stream, so that a stream's lines are joined only with their own
    assert [(i["id"], i["parsers"][0]["container"]["stream"]) for i in both] == [
        (f"container-{marked}-stdout", "stdout"),
        (f"container-{marked}-stderr", "stderr"),
    ]
    assert both[0]["paths"] == both[1]["paths"] and both[0]["fields"] == both[1]["fields"]
    assert one["paths"] == [str(docker / marked / f"{marked}-json.log")]  # that file only: no glob
    assert one["fields"]["container"] == {
        "id": marked,
        "name": "shop-payments-1",
        "image": {"name": "shop/payments:2.1"},
        "labels": {"com_docker_compose_project": "shop", "com_docker_compose_service": "payments"},
    }
    assert "SECRET" not in (inputs / f"container-{marked}.yml").read_text()  # the environment stays where it is


def test_a_pass_is_idempotent_and_a_removed_container_loses_its_input(tmp_path: Path) -> None:
    docker, inputs = tmp_path / "containers", tmp_path / "inputs"
    first = make_container(docker, "a", labels={containers.LABEL: "true"})
    second = make_container(docker, "b", labels={containers.LABEL: "yes"})
    assert len(containers.sync(docker, inputs).written) == 2
    again = containers.sync(docker, inputs)
    assert again.written == [] and again.removed == []  # Filebeat reloads nothing when nothing changed

    for f in (docker / first).iterdir():
        f.unlink()
    (docker / first).rmdir()
    gone = containers.sync(docker, inputs)
    assert gone.removed == [f"container-{first}.yml"]
    assert list(_inputs(inputs)) == [f"container-{second}.yml"]


def test_a_container_logging_elsewhere_is_named_not_collected(tmp_path: Path) -> None:
    docker, inputs = tmp_path / "containers", tmp_path / "inputs"
    make_container(docker, "journald-app", labels={containers.LABEL: "true"}, log_driver="journald")
    result = containers.sync(docker, inputs)
    assert result.collected == 0 and result.skipped == ["journald-app (log driver journald)"]


def test_a_half_written_configuration_is_skipped_until_complete(tmp_path: Path) -> None:
    docker, inputs = tmp_path / "containers", tmp_path / "inputs"
    cid = make_container(docker, "starting", labels={containers.LABEL: "true"})
    config = docker / cid / "config.v2.json"
    whole = config.read_text()
    config.write_text(whole[: len(whole) // 2])
    assert containers.sync(docker, inputs).collected == 0
    config.write_text(whole)
    assert containers.sync(docker, inputs).collected == 1


def test_filebeat_sees_the_containers_directory_where_it_is_mounted(tmp_path: Path) -> None:
    docker, inputs = tmp_path / "containers", tmp_path / "inputs"
    cid = make_container(docker, "a", labels={containers.LABEL: "true"})
    containers.sync(docker, inputs, Path("/var/lib/docker/containers"))
    assert _inputs(inputs)[f"container-{cid}.yml"]["paths"] == [f"/var/lib/docker/containers/{cid}/{cid}-json.log"]


def test_the_watch_command_passes_once_and_the_healthcheck_reads_its_heartbeat(tmp_path: Path) -> None:
    docker, inputs = tmp_path / "containers", tmp_path / "inputs"
    make_container(docker, "a", labels={containers.LABEL: "true"})
    runner = CliRunner()
    assert runner.invoke(main, ["containers", "healthy", "--inputs-dir", str(inputs)]).exit_code == 1
    out = runner.invoke(
        main, ["containers", "watch", "--once", "--containers-dir", str(docker), "--inputs-dir", str(inputs)]
    )
    assert out.exit_code == 0, out.output
    assert json.loads((inputs / containers.STATUS_FILE).read_text())["collected"] == 1
    assert runner.invoke(main, ["containers", "healthy", "--inputs-dir", str(inputs)]).exit_code == 0
