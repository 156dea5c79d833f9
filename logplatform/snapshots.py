"""Backup and restore: snapshots of the logs, the lines set aside and the alert history in a repository on the
`snapshots` volume (Elasticsearch's `path.repo`, docker-compose.yml).

What a snapshot holds: the data streams `logs-logplatform*` (logs and lines set aside) and ElastAlert2's
writeback indices. Not the cluster's global state (users, roles, templates, pipelines: `setup` makes those
again) and not Kibana's own indices (`kibana-setup` imports our saved objects again; objects made in Kibana
are exported from its Saved Objects page).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from logplatform import names
from logplatform.cluster import Cluster

REPOSITORY = "logplatform-snapshots"
# relative: resolved under the engine's path.repo, wherever that is mounted
LOCATION = "logplatform"
INDICES = [f"{names.INDEX_TEMPLATE}*", f"{names.ALERTS_INDEX}*"]


class SnapshotError(RuntimeError):
    pass


@dataclass
class Snapshot:
    name: str
    state: str
    started: str
    indices: list[str]
    data_streams: list[str]
    shards: str

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> Snapshot:
        shards = body.get("shards") or {}
        return cls(
            body["snapshot"],
            body.get("state", "?"),
            body.get("start_time", ""),
            sorted(body.get("indices") or []),
            sorted(body.get("data_streams") or []),
            f"{shards.get('successful', '?')}/{shards.get('total', '?')} shards",
        )


def ensure_repository(cluster: Cluster) -> None:
    """The fs repository, registered (again: the call is idempotent) and verified by the engine."""
    status, body = cluster.request(
        "PUT", f"/_snapshot/{REPOSITORY}", {"type": "fs", "settings": {"location": LOCATION, "compress": True}}
    )
    if status >= 300:
        reason = (body.get("error") or {}).get("reason", body) if isinstance(body, dict) else body
        raise SnapshotError(
            f"cannot register the snapshot repository {REPOSITORY}: {reason}. Elasticsearch needs "
            "path.repo set and the snapshots volume writable by its user (docker-compose.yml)"
        )


def create(cluster: Cluster, name: str | None = None) -> Snapshot:
    ensure_repository(cluster)
    name = name or f"logplatform-{datetime.now(UTC):%Y.%m.%d-%H.%M.%S}"
    body = cluster.ok(
        "PUT",
        f"/_snapshot/{REPOSITORY}/{name}?wait_for_completion=true",
        {"indices": ",".join(INDICES), "include_global_state": False, "ignore_unavailable": True},
    )
    snapshot = Snapshot.from_api(body["snapshot"])
    if snapshot.state != "SUCCESS":
        raise SnapshotError(f"snapshot {name} ended {snapshot.state} ({snapshot.shards})")
    return snapshot


def listing(cluster: Cluster) -> list[Snapshot]:
    ensure_repository(cluster)
    body = cluster.ok("GET", f"/_snapshot/{REPOSITORY}/_all")
    return [Snapshot.from_api(s) for s in body.get("snapshots", [])]


def restore(cluster: Cluster, name: str) -> Snapshot:
    """Puts the snapshot's data streams and indices back in place of the ones there now (which are deleted
    first: the engine restores nothing over an open index)."""
    ensure_repository(cluster)
    status, body = cluster.request("GET", f"/_snapshot/{REPOSITORY}/{name}")
    if status == 404:
        raise SnapshotError(f"no snapshot {name} in {REPOSITORY} (`logplatform snapshot list` shows them)")
    if status >= 300:
        raise SnapshotError(f"cannot read snapshot {name}: {body}")
    snapshot = Snapshot.from_api(body["snapshots"][0])
    for stream in snapshot.data_streams:
        cluster.request("DELETE", f"/_data_stream/{stream}")
    backing = {index for index in snapshot.indices if index.startswith(".ds-")}
    for index in sorted(set(snapshot.indices) - backing):
        cluster.request("DELETE", f"/{index}")
    cluster.ok(
        "POST",
        f"/_snapshot/{REPOSITORY}/{name}/_restore?wait_for_completion=true",
        {"indices": ",".join(INDICES), "include_global_state": False},
    )
    return snapshot
