"""API keys of the backend: created and revoked with `logplatform apikey`, stored hashed, checked in constant time.

A key reads `lp_<id>_<secret>`. The store (a JSON file on a volume, mode 600) keeps the id, a name,
the SHA-256 of the secret (the secret is 256 random bits, so a fast hash is enough and a leaked store
reveals no key), its scopes (`ingest`: send logs; `read`: search them), an optional rate limit in events
per second, and when it was revoked. The backend re-reads the file when it changes, so new and revoked keys
apply without a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from logplatform.files import replace_whole

PREFIX = "lp"
SCOPES = ("ingest", "read")  # ingest: POST /logs, /logs/ndjson, /v1/logs; read: GET /logs
DEFAULT_SCOPES = ("ingest",)  # least privilege: a key that sends logs cannot read them unless asked
# a key stored before scopes existed could do both; it keeps what it had
_UNSCOPED = list(SCOPES)


@dataclass
class ApiKey:
    id: str
    name: str
    hash: str
    created: str
    revoked: str | None = None
    rate_limit_per_s: float | None = None
    scopes: list[str] = field(default_factory=lambda: list(_UNSCOPED))

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyStore:
    RELOAD_EVERY_S = 1.0  # verify() looks at the file at most this often: new and revoked keys apply within it

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, ApiKey] = {}
        self._mtime: float | None = None
        self._checked = 0.0

    # -- reading -------------------------------------------------------------------------------
    def _load(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._keys, self._mtime = {}, None
            return
        if mtime == self._mtime:
            return
        data = json.loads(self.path.read_text())
        self._keys = {k["id"]: ApiKey(**k) for k in data.get("keys", [])}
        self._mtime = mtime

    def keys(self) -> list[ApiKey]:
        with self._lock:
            self._load()
            return list(self._keys.values())

    def verify(self, presented: str | None) -> ApiKey | None:
        """The active key the client presented, or None. Same work whether or not the id exists."""
        now = self.clock()
        with self._lock:
            if now - self._checked > self.RELOAD_EVERY_S:
                self._load()
                self._checked = now
            keys = self._keys
        key_id, secret = _split(presented or "")
        entry = keys.get(key_id)
        expected = entry.hash if entry else _hash("no such key")
        matches = hmac.compare_digest(_hash(secret), expected)
        if entry is None or not matches or entry.revoked:
            return None
        return entry

    # -- writing (the CLI) ---------------------------------------------------------------------
    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"keys": [asdict(k) for k in self._keys.values()]}, indent=2)
        replace_whole(self.path, data, mode=0o600, durable=True)
        self._mtime = None

    def create(self, name: str, rate_limit_per_s: float | None = None, scopes: tuple[str, ...] = DEFAULT_SCOPES) -> str:
        """Creates a key and returns it; only its hash is stored, so this is the one time it is shown."""
        key = new_key()
        self.import_key(name, key, rate_limit_per_s, scopes)
        return key

    def import_key(
        self, name: str, key: str, rate_limit_per_s: float | None = None, scopes: tuple[str, ...] = DEFAULT_SCOPES
    ) -> ApiKey:
        """Stores (the hash of) a key made elsewhere, e.g. the generator's key created by setup. Idempotent."""
        _check_scopes(scopes)
        key_id, secret = _split(key)
        if not key_id or not secret:
            raise ValueError("a key reads lp_<id>_<secret>")
        with self._lock:
            self._load()
            entry = ApiKey(
                key_id,
                name,
                _hash(secret),
                datetime.now(UTC).isoformat(timespec="seconds"),
                rate_limit_per_s=rate_limit_per_s,
                scopes=list(scopes),
            )
            old = self._keys.get(key_id)
            if old and old.hash == entry.hash and not old.revoked and old.scopes == entry.scopes:
                return old
            self._keys[key_id] = entry
            self._save()
            return entry

    def revoke(self, key_id_or_name: str) -> list[str]:
        with self._lock:
            self._load()
            hits = [k for k in self._keys.values() if key_id_or_name in (k.id, k.name) and not k.revoked]
            for k in hits:
                k.revoked = datetime.now(UTC).isoformat(timespec="seconds")
            if hits:
                self._save()
            return [k.id for k in hits]


def _check_scopes(scopes: tuple[str, ...]) -> None:
    unknown = sorted(set(scopes) - set(SCOPES))
    if not scopes or unknown:
        raise ValueError(f"scopes are {' and '.join(SCOPES)}, not {', '.join(unknown) or 'none'}")


def _split(presented: str) -> tuple[str, str]:
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return "", presented
    return parts[1], parts[2]


def new_key() -> str:
    """A fresh key: KeyStore.create stores its hash; setup hands one to the generator before the backend stores it."""
    return f"{PREFIX}_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
