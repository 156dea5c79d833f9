"""`logplatform`: set up the platform, check it, back it up, and manage the backend's API keys."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from logplatform.api_keys import DEFAULT_SCOPES, SCOPES, KeyStore

if TYPE_CHECKING:
    from logplatform.cluster import Cluster

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

SERVICE_OWNER = (1000, 0)  # every service of the platform runs as uid 1000, gid 0
DEFAULT_KEYS_FILE = os.environ.get("LOGPLATFORM_API_KEYS_FILE", "/var/lib/logplatform/api-keys.json")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Log-Platform's command line: setup, doctor, API keys."""


@main.group()
@click.option(
    "--keys-file",
    type=click.Path(path_type=Path),
    default=DEFAULT_KEYS_FILE,
    show_default=True,
    envvar="LOGPLATFORM_API_KEYS_FILE",
    help="The backend's key store",
)
@click.pass_context
def apikey(ctx: click.Context, keys_file: Path) -> None:
    """Create, list and revoke the API keys of POST /logs."""
    ctx.obj = KeyStore(keys_file)


@apikey.command("create")
@click.argument("name")
@click.option("--rate-limit", type=float, default=None, help="Events per second allowed for this key")
@click.option(
    "--scope",
    "scopes",
    type=click.Choice(SCOPES),
    multiple=True,
    help="ingest: send logs; read: search them (repeat for both)  [default: ingest]",
)
@click.pass_obj
def apikey_create(store: KeyStore, name: str, rate_limit: float | None, scopes: tuple[str, ...]) -> None:
    """Create a key named NAME and print it (the only time it is shown)."""
    key = store.create(name, rate_limit, scopes or DEFAULT_SCOPES)
    click.echo(key)
    click.echo(
        f"created key for {name!r} ({' and '.join(scopes or DEFAULT_SCOPES)}); send it as the X-API-Key header. "
        "Only its hash is stored.",
        err=True,
    )


@apikey.command("list")
@click.pass_obj
def apikey_list(store: KeyStore) -> None:
    """List keys (ids and names, never secrets)."""
    rows = store.keys()
    if not rows:
        click.echo("no keys", err=True)
    for k in rows:
        state = f"revoked {k.revoked}" if k.revoked else "active"
        limit = f"{k.rate_limit_per_s:g}/s" if k.rate_limit_per_s else "unlimited"
        click.echo(f"{k.id}\t{k.name}\t{state}\t{','.join(k.scopes)}\t{limit}\tcreated {k.created}")


@apikey.command("revoke")
@click.argument("key_id_or_name")
@click.pass_obj
def apikey_revoke(store: KeyStore, key_id_or_name: str) -> None:
    """Revoke a key by id or name; the backend refuses it within a second."""
    revoked = store.revoke(key_id_or_name)
    if not revoked:
        click.echo(f"no active key with id or name {key_id_or_name!r}", err=True)
        sys.exit(1)
    click.echo(f"revoked {', '.join(revoked)}")


def _backend_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--url and --api-key of the commands that talk to the backend."""
    command = click.option(
        "--api-key", envvar="LOGPLATFORM_API_KEY", required=True, help="An API key (send: ingest; search: read)"
    )(command)
    return click.option(
        "--url", envvar="LOGPLATFORM_URL", default="http://localhost:8000", show_default=True, help="The backend"
    )(command)


def _filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """QUERY, --service and --level of the commands that read logs."""
    command = click.option("--level", multiple=True, help="log.level (repeatable)")(command)
    command = click.option("--service", multiple=True, help="service.name (repeatable)")(command)
    return click.argument("query", required=False, default="")(command)


def _format_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--format",
        "output",
        type=click.Choice(["auto", "text", "json"]),
        default="auto",
        show_default=True,
        help="auto: text on a terminal, one JSON document per line otherwise",
    )(command)


def _query_params(
    query: str, service: tuple[str, ...], level: tuple[str, ...], since_span: str | None = None
) -> dict[str, Any]:
    """The GET /logs parameters of a reading command's filters; a --since it cannot read is a usage error."""
    from logplatform import reading

    params: dict[str, Any] = {"service": list(service), "level": list(level)}
    if query.strip():
        params["kql"] = query
    if since_span:
        try:
            params["since"] = reading.since(since_span)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
    return params


def _printer(output: str, gutter: bool = False) -> Callable[..., None]:
    """Prints a hit: time, service, coloured level and message on a terminal (or --format text), else its JSON.
    With `gutter` (context), every text line starts with two characters and the `marked` one, the event the
    context is around, with "> " (and in reverse on a terminal)."""
    from rich.console import Console
    from rich.text import Text

    from logplatform import reading

    console = Console()
    as_text = output == "text" or (output == "auto" and console.is_terminal)

    def emit(hit: dict[str, Any], marked: bool = False) -> None:
        if not as_text:
            click.echo(reading.as_json(hit))
            return
        line = reading.as_text(hit)
        if marked:
            line.stylize("reverse")
        if gutter:
            line = Text("> " if marked else "  ") + line
        console.print(line, soft_wrap=True)

    return emit


@main.command("search")
@_filter_options
@click.option("--since", "since_span", default=None, help="Only the last 15m, 2h, 7d...")
@click.option("--from", "from_", default=None, help="ISO 8601 start (inclusive)")
@click.option("--to", default=None, help="ISO 8601 end (inclusive)")
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=100, show_default=True)
@_format_option
@_backend_options
def search_cmd(
    query: str,
    service: tuple[str, ...],
    level: tuple[str, ...],
    since_span: str | None,
    from_: str | None,
    to: str | None,
    limit: int,
    output: str,
    url: str,
    api_key: str,
) -> None:
    """Search the logs, newest first. QUERY is what you type in Kibana (KQL: `service.name : api and not
    log.level : info`, `http.response.status_code >= 500`, `user.name : adm*`) or free words found in message."""
    from logplatform import reading

    if since_span and from_:
        raise click.UsageError("give --since or --from, not both")
    params = _query_params(query, service, level, since_span)
    if from_:
        params["since"] = from_
    if to:
        params["until"] = to
    emit = _printer(output)
    try:
        for hit in reading.hits(url, api_key, params, limit):
            emit(hit)
    except reading.ReadError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command("tail")
@_filter_options
@click.option("-f", "--follow", "follow_on", is_flag=True, help="Keep printing events as they arrive (Ctrl-C stops)")
@click.option("-n", "--lines", type=click.IntRange(0, 10_000), default=20, show_default=True, help="Events shown first")
@_format_option
@_backend_options
def tail_cmd(
    query: str,
    service: tuple[str, ...],
    level: tuple[str, ...],
    follow_on: bool,
    lines: int,
    output: str,
    url: str,
    api_key: str,
) -> None:
    """The last events (QUERY as for search), oldest first; with -f, then every new event once, in the order the
    platform received it, until Ctrl-C."""
    from logplatform import reading

    params = _query_params(query, service, level)
    emit = _printer(output)
    try:
        if follow_on:
            reading.follow(url, api_key, params, lines, emit)
        else:
            for hit in reversed(list(reading.hits(url, api_key, params, lines))) if lines else []:
                emit(hit)
    except reading.ReadError as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:  # Ctrl-C ends a follow: a normal end, no traceback
        return


@main.command("context")
@click.argument("event_id")
@click.option("-B", "--before", type=click.IntRange(0, 500), default=5, show_default=True, help="Lines before it")
@click.option("-A", "--after", type=click.IntRange(0, 500), default=5, show_default=True, help="Lines after it")
@_format_option
@_backend_options
def context_cmd(event_id: str, before: int, after: int, output: str, url: str, api_key: str) -> None:
    """The lines around one event (EVENT_ID: `_id` in search's JSON): the lines before and after it in its file
    for a shipped line, its service's events around it in time otherwise."""
    from logplatform import reading

    try:
        around = reading.context(url, api_key, event_id, before, after)
    except reading.ReadError as exc:
        raise click.ClickException(str(exc)) from exc
    emit = _printer(output, gutter=True)
    for hit in around["before"]:
        emit(hit)
    emit(around["event"], marked=True)
    for hit in around["after"]:
        emit(hit)


@main.command("export")
@_filter_options
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), required=True, help="The file to write")
@click.option("--format", "fmt", type=click.Choice(["ndjson", "csv"]), default="ndjson", show_default=True)
@click.option("--since", "since_span", default=None, help="Only the last 15m, 2h, 7d...")
@click.option("--resume", is_flag=True, help="Go on with an export that was stopped (OUTPUT.cursor says where)")
@_backend_options
def export_cmd(
    query: str,
    output: Path,
    fmt: str,
    service: tuple[str, ...],
    level: tuple[str, ...],
    since_span: str | None,
    resume: bool,
    url: str,
    api_key: str,
) -> None:
    """Every event QUERY matches (as for search), newest first, into OUTPUT: no cap, constant memory, and
    --resume after a stop writes each event once."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from logplatform import reading
    from logplatform.export import export

    params = _query_params(query, service, level, since_span)
    columns = (TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    console = Console(stderr=True)
    with Progress(*columns, transient=True, console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task("export", total=None)
        try:
            written = export(
                url,
                api_key,
                params,
                output,
                fmt,
                resume,
                lambda done, total: bar.update(task, completed=done, total=total),
            )
        except (reading.ReadError, FileNotFoundError) as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"exported {written} events to {output}", err=True)


@main.command("send")
@click.argument("source", type=click.File("r", encoding="utf-8", errors="replace"), default="-")
@click.option(
    "--service", default=None, help="service.name of lines that name none  [default: the file's name, or stdin]"
)
@click.option("--batch", type=click.IntRange(1, 1000), default=500, show_default=True, help="Events a request")
@_backend_options
def send_cmd(source: TextIO, service: str | None, url: str, api_key: str, batch: int) -> None:
    """Send JSON or plain-text lines from SOURCE (a file, or - for a pipe) to the backend, then say what became of
    them: `some-command 2>&1 | logplatform send - --service my-job`. Exits 1 if a line was not stored."""
    from rich.console import Console

    from logplatform.send import SendError, Summary, send

    source_name = str(getattr(source, "name", "-"))
    name = service or (Path(source_name).stem if source_name not in ("<stdin>", "-") else "stdin")
    console = Console(stderr=True)
    with console.status("sending...") as status:

        def progress(summary: Summary) -> None:
            status.update(f"sent {summary.lines} lines: {summary.indexed + summary.queued} stored")

        try:
            summary = send(source, name, url, api_key, batch, progress=progress)
        except SendError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(summary.text(), err=True)
    if summary.rejected or summary.failed:
        sys.exit(1)


def _echo(message: str) -> None:
    click.echo(message, err=True)


@main.group()
def setup() -> None:
    """Make Elasticsearch and Kibana ready for the platform (idempotent: run it as often as you like)."""


@setup.command("certs-and-secrets")
@click.option("--certs-dir", type=click.Path(path_type=Path), required=True, help="The `certs` volume")
@click.option("--secrets-dir", type=click.Path(path_type=Path), required=True, help="The `secrets` volume")
@click.option(
    "--logs-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The `logs` volume: shared by the services (setgid, group 0 writes)",
)
@click.option(
    "--keys-dir", type=click.Path(path_type=Path), default=None, help="The `backend-keys` volume: the backend's alone"
)
@click.option(
    "--snapshots-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The `snapshots` volume: Elasticsearch's (uid 1000) snapshot repository",
)
@click.option(
    "--renew-days",
    envvar="LOGPLATFORM_CERT_RENEW_DAYS",
    type=click.IntRange(1),
    default=30,
    show_default=True,
    help="Renew a certificate that expires within this many days (CERT_RENEW_DAYS in .env)",
)
def setup_certs_cmd(
    certs_dir: Path,
    secrets_dir: Path,
    logs_dir: Path | None,
    keys_dir: Path | None,
    snapshots_dir: Path | None,
    renew_days: int,
) -> None:
    """First in the start order, as root: CA and node certificates, secrets (.env or generated), volume owners."""
    from logplatform import certificates, secret_store

    try:
        done = secret_store.ensure(secrets_dir, os.environ, owner=SERVICE_OWNER if os.geteuid() == 0 else None)
    except secret_store.SecretError as exc:
        raise click.ClickException(f"{exc}. Fix it in .env, then docker compose up -d") from exc
    done += certificates.ensure(certs_dir, renew_days=renew_days)
    # a fresh named volume is root's; the services run as uid 1000 (Elasticsearch too)
    for directory, mode in ((logs_dir, 0o2775), (keys_dir, 0o700), (snapshots_dir, 0o2770)):
        if directory is None:
            continue
        directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(directory, *SERVICE_OWNER)
        directory.chmod(mode)
    for item in done:
        _echo(f"certs-and-secrets: {item}")
    _echo(
        "certs-and-secrets: ready"
        + ("" if done else " (nothing to do)")
        + ". The elastic password: docker compose exec -T backend cat /run/logplatform/secrets/elastic_password"
    )


@setup.command("elasticsearch")
@click.option("--url", envvar="LOGPLATFORM_ELASTICSEARCH_URL", default="https://localhost:9200", show_default=True)
@click.option("--ca-certs", envvar="LOGPLATFORM_ELASTICSEARCH_CA_CERTS", default=None, help="CA of the cluster")
@click.option(
    "--secrets-dir",
    envvar="LOGPLATFORM_SECRETS_DIR",
    type=click.Path(path_type=Path),
    default=None,
    help="Where the platform's secrets are kept (the compose `secrets` volume)",
)
@click.option(
    "--keys-file",
    envvar="LOGPLATFORM_API_KEYS_FILE",
    type=click.Path(path_type=Path),
    default=None,
    help="The backend's key store, to store the generator's key in",
)
@click.option(
    "--generator-rate-limit",
    envvar="LOGPLATFORM_GENERATOR_RATE_LIMIT",
    default="",
    help="Events per second for the generator's key (empty: unlimited)",
)
@click.option(
    "--retention",
    envvar="LOGPLATFORM_RETENTION",
    default="30d",
    show_default=True,
    help="How long logs are kept after their backing index rolled over (ILM; e.g. 30d, 12h)",
)
@click.option(
    "--rollover-size",
    envvar="LOGPLATFORM_ROLLOVER_SIZE",
    default="25gb",
    show_default=True,
    help="Roll over to a new backing index at this primary shard size (or daily)",
)
@click.option(
    "--keep-original/--no-keep-original",
    envvar="LOGPLATFORM_KEEP_ORIGINAL",
    default=False,
    show_default=True,
    help="Keep every raw line in event.original (else only lines that did not parse)",
)
@click.option(
    "--mask",
    envvar="LOGPLATFORM_LOG_MASK",
    default="",
    help="Personal data masked at ingest: none, all, or categories (email,card,iban,token,secret,credentials,"
    "user_email); empty for all but user_email",
)
@click.option("--timeout", type=float, default=600, show_default=True, help="Seconds to wait for Elasticsearch")
def setup_elasticsearch_cmd(
    url: str,
    ca_certs: str | None,
    secrets_dir: Path | None,
    keys_file: Path | None,
    generator_rate_limit: str,
    retention: str,
    rollover_size: str,
    keep_original: bool,
    mask: str,
    timeout: float,
) -> None:
    """Users and passwords, pipeline, templates, lifecycle, the generator's API key."""
    from logplatform.assets import PipelineOptions, Retention
    from logplatform.setup import SetupError, setup_elasticsearch

    rate = float(generator_rate_limit) if generator_rate_limit.strip() else None
    try:
        kept = Retention(retention.strip().lower(), rollover_size.strip().lower())
        options = PipelineOptions(keep_original, PipelineOptions.parse_mask(mask))
    except ValueError as exc:
        raise click.ClickException(f"{exc}. Fix it in .env, then docker compose up -d") from exc
    try:
        changed = setup_elasticsearch(url, ca_certs, secrets_dir, keys_file, rate, _echo, timeout, kept, options)
    except (SetupError, RuntimeError) as exc:  # RuntimeError: a cluster answer that stops setup, said as it is
        raise click.ClickException(str(exc)) from exc
    _echo(f"setup elasticsearch: done, {len(changed)} change(s)" if changed else "setup elasticsearch: nothing to do")


@setup.command("queue")
@click.option("--bootstrap", envvar="LOGPLATFORM_KAFKA_BOOTSTRAP", required=True, help="e.g. kafka:9092")
@click.option("--partitions", type=click.IntRange(1), default=3, show_default=True, help="At most this many indexers")
@click.option(
    "--replication",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="Copies of each message: 1 on one broker, 3 on three (min.insync.replicas is one fewer)",
)
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Seconds to wait for the broker")
def setup_queue_cmd(bootstrap: str, partitions: int, replication: int, timeout: float) -> None:
    """Create the queue's topic (kafka/queue.compose.yml); a topic already there is left as it is."""
    from logplatform import names, queue
    from logplatform.setup import SetupError, wait_for

    created: list[bool] = []

    def topic() -> str | None:
        try:
            created.append(queue.ensure_topic(bootstrap, names.QUEUE_TOPIC, partitions, replication))
        except Exception as exc:  # the broker may still be starting: tried again until the timeout
            return f"{type(exc).__name__}: {exc}"
        return None

    try:
        wait_for(f"Kafka at {bootstrap}", topic, _echo, timeout)
    except SetupError as exc:
        raise click.ClickException(str(exc)) from exc
    if created[-1]:
        _echo(f"setup queue: topic {names.QUEUE_TOPIC} created ({partitions} partitions, {replication} copies)")
    else:
        _echo(f"setup queue: topic {names.QUEUE_TOPIC} already there, left as it is")


@setup.command("kibana")
@click.option("--url", envvar="LOGPLATFORM_KIBANA_URL", default="http://localhost:5601", show_default=True)
@click.option("--secrets-dir", envvar="LOGPLATFORM_SECRETS_DIR", type=click.Path(path_type=Path), required=True)
@click.option("--timeout", type=float, default=900, show_default=True, help="Seconds to wait for Kibana")
def setup_kibana_cmd(url: str, secrets_dir: Path, timeout: float) -> None:
    """Data view (the default), saved searches and dashboards from kibana/."""
    from logplatform.setup import Secrets, SetupError, setup_kibana

    try:
        setup_kibana(url, "elastic", Secrets(secrets_dir).get("elastic_password"), _echo, timeout)
    except SetupError as exc:
        raise click.ClickException(str(exc)) from exc


def _admin_options(command: F) -> F:
    """Where the cluster is and how to log in as elastic: doctor's and snapshot's options."""
    for option in reversed(
        (
            click.option(
                "--url", envvar="LOGPLATFORM_ELASTICSEARCH_URL", default="https://localhost:9200", show_default=True
            ),
            click.option("--ca-certs", envvar="LOGPLATFORM_ELASTICSEARCH_CA_CERTS", default=None),
            click.option(
                "--secrets-dir",
                envvar="LOGPLATFORM_SECRETS_DIR",
                type=click.Path(path_type=Path),
                default=None,
                help="Log in as elastic with the kept password (omit for a cluster without security)",
            ),
        )
    ):
        command = option(command)
    return command


@main.command()
@_admin_options
@click.option("--backend-url", envvar="LOGPLATFORM_BACKEND_URL", default=None, help="e.g. http://backend:8000")
@click.option("--kibana-url", envvar="LOGPLATFORM_KIBANA_URL", default=None, help="e.g. http://kibana:5601")
@click.option(
    "--kafka-bootstrap",
    envvar="LOGPLATFORM_KAFKA_BOOTSTRAP",
    default=None,
    help="The queue's broker (set in the setup and backend containers when the queue is on): checks its hops too",
)
@click.option(
    "--certs-dir",
    envvar="LOGPLATFORM_CERTS_DIR",
    type=click.Path(path_type=Path),
    default=None,
    help="The `certs` volume, to show each certificate's expiry (default: two levels above --ca-certs' ca/ca.crt)",
)
@click.option(
    "--cert-renew-days",
    envvar="LOGPLATFORM_CERT_RENEW_DAYS",
    type=click.IntRange(1),
    default=30,
    show_default=True,
    help="Warn about a certificate that expires within this many days (setup-certs renews it on the next up)",
)
def doctor(
    url: str,
    ca_certs: str | None,
    secrets_dir: Path | None,
    backend_url: str | None,
    kibana_url: str | None,
    kafka_bootstrap: str | None,
    certs_dir: Path | None,
    cert_renew_days: int,
) -> None:
    """Check every hop (certificates, Elasticsearch, pipeline, template, data stream, the queue, Filebeat,
    alerting, backend, Kibana)."""
    from logplatform.doctor import run_checks

    password = _elastic_password(secrets_dir)
    cluster = _admin(url, ca_certs, password, timeout=30)
    kibana = (kibana_url, "elastic", password or "") if kibana_url else None
    if certs_dir is None and ca_certs and Path(ca_certs).parent.name == "ca":  # the layout setup-certs makes
        certs_dir = Path(ca_certs).parent.parent
    checks = run_checks(
        cluster,
        backend_url,
        kibana,
        kafka_bootstrap=kafka_bootstrap or None,
        certs_dir=certs_dir,
        renew_days=cert_renew_days,
    )
    for c in checks:
        click.echo(f"{'ok  ' if c.ok else 'FAIL'} {c.hop:15} {c.detail}")
        if not c.ok:
            click.echo(f"     {'':15} fix: {c.fix}")
    if not all(c.ok for c in checks):
        sys.exit(1)


def _elastic_password(secrets_dir: Path | None) -> str | None:
    from logplatform.setup import Secrets

    return Secrets(secrets_dir).get("elastic_password") if secrets_dir else None


def _admin(url: str, ca_certs: str | None, password: str | None, timeout: float = 3600) -> Cluster:
    """The cluster, as elastic when a password is given (a snapshot of a large store takes a while)."""
    from logplatform.cluster import Cluster

    return Cluster(url, "elastic" if password else None, password, ca_certs=ca_certs, timeout=timeout)


@main.group()
@_admin_options
@click.pass_context
def snapshot(ctx: click.Context, url: str, ca_certs: str | None, secrets_dir: Path | None) -> None:
    """Back up and restore the logs, the lines set aside and the alert history (the `snapshots` volume)."""
    ctx.obj = _admin(url, ca_certs, _elastic_password(secrets_dir))
    ctx.call_on_close(ctx.obj.close)


def _snapshot_call(call: Callable[[], T]) -> T:
    from logplatform.snapshots import SnapshotError

    try:
        return call()
    except (SnapshotError, RuntimeError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


@snapshot.command("create")
@click.option("--name", default=None, help="Default: logplatform-<UTC date and time>")
@click.pass_obj
def snapshot_create(cluster: Cluster, name: str | None) -> None:
    from logplatform import snapshots

    done = _snapshot_call(lambda: snapshots.create(cluster, name))
    click.echo(f"snapshot {done.name}: {done.state}, {done.shards}, data streams: {', '.join(done.data_streams)}")


@snapshot.command("list")
@click.pass_obj
def snapshot_list(cluster: Cluster) -> None:
    from logplatform import snapshots

    for s in _snapshot_call(lambda: snapshots.listing(cluster)):
        click.echo(f"{s.name}  {s.state}  {s.started}  {', '.join(s.data_streams)}")


@snapshot.command("restore")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask: the logs there now are replaced by the snapshot's")
@click.pass_obj
def snapshot_restore(cluster: Cluster, name: str, yes: bool) -> None:
    from logplatform import snapshots

    if not yes:
        click.confirm(f"Replace the logs, lines set aside and alert history with snapshot {name}?", abort=True)
    done = _snapshot_call(lambda: snapshots.restore(cluster, name))
    click.echo(f"restored {done.name}: data streams {', '.join(done.data_streams)}")


@main.group()
def containers() -> None:
    """Container output: the Filebeat inputs for the containers labelled logplatform.collect=true."""


_CONTAINERS_DIR = click.option(
    "--containers-dir",
    type=click.Path(path_type=Path),
    default="/var/lib/docker/containers",
    show_default=True,
    help="Docker's containers directory (read only)",
)
_INPUTS_DIR = click.option(
    "--inputs-dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Where Filebeat reloads input files from (filebeat.config.inputs)",
)


@containers.command("watch")
@_CONTAINERS_DIR
@_INPUTS_DIR
@click.option("--interval", type=float, default=2.0, show_default=True, help="Seconds between passes")
@click.option("--once", is_flag=True, help="One pass, then exit")
def containers_watch(containers_dir: Path, inputs_dir: Path, interval: float, once: bool) -> None:
    """Keep one Filebeat input per marked container, until stopped."""
    from logplatform.containers import watch
    from logplatform.ecs_logging import setup_logging

    setup_logging("container-logs", None, console="json")  # its own container is collected: ECS lines
    watch(containers_dir, inputs_dir, interval=interval, passes=1 if once else None)


@containers.command("healthy")
@_INPUTS_DIR
def containers_healthy(inputs_dir: Path) -> None:
    """Exit 0 when the watcher made a pass within the last minute (the compose healthcheck)."""
    from logplatform.containers import healthy

    sys.exit(0 if healthy(inputs_dir) else 1)


if __name__ == "__main__":
    main()
