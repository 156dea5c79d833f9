"""The Elasticsearch APIs our setup speaks that the test engine lacks, answered as Elasticsearch documents them.

- Authentication: HTTP basic on every request; anonymous and wrong credentials get Elasticsearch's 401 bodies
  (the compose healthcheck greps "missing authentication credentials"). The `elastic` password is the
  bootstrap one (ELASTIC_PASSWORD_FILE) until it is changed through the API, as in Elasticsearch; the other
  reserved user, kibana_system, has no usable password until one is set.
- `_security`: _authenticate, users (create, update, password, get), roles (put, get). Role privileges are
  stored and returned, not enforced (standins.md).
- `_ilm/policy`: stored and returned; the engine has no lifecycle, so `index.lifecycle.*` settings are taken
  out of component templates before they reach it and put back in what GET returns.
- Templates (component and index) are stored as sent and returned so on GET; what reaches the engine has no
  `index.lifecycle.*` or `index.mode` setting (no ILM, no logsdb there) and no `data_stream_options` (no
  failure store); `flattened` fields become the engine's `flat_object`, a `constant_keyword` without a value a
  `keyword` (the engine's constant_keyword needs its value up front).
- `<stream>::failures` (the failure store) answers a search as an empty failure store does.
Users, roles and policies are kept in the data volume, so they survive a restart like the security index; and
like Elasticsearch after a restart, for a while (`recovery_s`) every password is refused with the same
401 as a wrong one, as if the `.security` index had not recovered yet, while HTTP already answers.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from es_compat_proxy import Reply, Request

RESERVED = {"elastic": ["superuser"], "kibana_system": ["kibana_system"]}
JSON = {"Content-Type": "application/json"}


def _reply(status: int, body: Any) -> Reply:
    return Reply(status, json.dumps(body).encode(), dict(JSON))


def _error(status: int, kind: str, reason: str, headers: dict[str, str] | None = None) -> Reply:
    cause = {"type": kind, "reason": reason}
    reply = _reply(status, {"error": {"root_cause": [cause], **cause}, "status": status})
    reply.headers.update(headers or {})
    return reply


def _hash(password: str, salt: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10_000).hex()


def _translate(mappings: Any, old: str, new: str) -> Any:
    """A field of type `old` becomes a bare field of type `new` (flat_object takes none of flattened's options)."""
    if isinstance(mappings, dict):
        if mappings.get("type") == old:
            return {"type": new}
        return {k: _translate(v, old, new) for k, v in mappings.items()}
    if isinstance(mappings, list):
        return [_translate(v, old, new) for v in mappings]
    return mappings


def _as_strings(settings: Any) -> Any:
    """Elasticsearch answers index settings with every value a string."""
    if isinstance(settings, dict):
        return {k: _as_strings(v) for k, v in settings.items()}
    if isinstance(settings, list):
        return [_as_strings(v) for v in settings]
    return str(settings).lower() if isinstance(settings, bool) else str(settings)


def _without_elasticsearch_only(settings: dict[str, Any]) -> dict[str, Any]:
    out = {
        k: v
        for k, v in settings.items()
        if not k.startswith(("index.lifecycle.", "lifecycle.", "index.mode")) and k != "mode"
    }
    if isinstance(out.get("index"), dict):
        out["index"] = {k: v for k, v in out["index"].items() if k not in ("lifecycle", "mode")}
        if not out["index"]:
            del out["index"]
    return out


def _for_engine(template: dict[str, Any]) -> dict[str, Any]:
    """The `template` part of a component or index template as the engine can take it."""
    template = copy.deepcopy(template)
    template.pop("data_stream_options", None)
    if "settings" in template:
        template["settings"] = _without_elasticsearch_only(template["settings"])
    if "mappings" in template:
        template["mappings"] = _translate(template["mappings"], "flattened", "flat_object")
        template["mappings"] = _translate_valueless_constant_keyword(template["mappings"])
    return template


def _translate_valueless_constant_keyword(mappings: Any) -> Any:
    if isinstance(mappings, dict):
        if mappings.get("type") == "constant_keyword" and "value" not in mappings:
            return {"type": "keyword"}
        return {k: _translate_valueless_constant_keyword(v) for k, v in mappings.items()}
    return mappings


class Security:
    def __init__(
        self, store: Path, bootstrap_password: str | None, cluster_name: str, node_name: str, recovery_s: float = 0.0
    ) -> None:
        self.path = store
        # a restart (the store exists) starts with the security index "recovering": every password refused
        self.recovered_at = time.monotonic() + (recovery_s if store.exists() else 0.0)
        self.bootstrap = bootstrap_password
        self.cluster_name = cluster_name
        self.node_name = node_name
        self.lock = threading.Lock()
        self.verified: dict[str, str] = {}  # sha256(user:password) -> the stored hash it matched
        self.state: dict[str, Any] = {
            "users": {},
            "roles": {},
            "ilm": {},
            "component_templates": {},
            "index_templates": {},
        }
        if store.exists():
            self.state.update(json.loads(store.read_text()))

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=1))
        tmp.replace(self.path)

    # --- authentication -------------------------------------------------------------------------------------
    def _password_ok(self, user: str, password: str) -> bool:
        stored = self.state["users"].get(user)
        if time.monotonic() < self.recovered_at:  # the reserved realm too (elastic's bootstrap password)
            return False
        if stored is None:
            return user == "elastic" and self.bootstrap is not None and secrets.compare_digest(password, self.bootstrap)
        key = hashlib.sha256(f"{user}:{password}".encode()).hexdigest()
        if self.verified.get(key) == stored["hash"]:
            return True
        if secrets.compare_digest(_hash(password, stored["salt"]), stored["hash"]):
            self.verified[key] = stored["hash"]
            return True
        return False

    def _authenticate(self, request: Request) -> tuple[str | None, Reply | None]:
        header = next((v for k, v in request.headers.items() if k.lower() == "authorization"), "")
        where = f"for REST request [{request.path.split('?', 1)[0]}]"
        challenge = {"WWW-Authenticate": 'Basic realm="security", charset="UTF-8"'}
        if not header.startswith("Basic "):
            return None, _error(401, "security_exception", f"missing authentication credentials {where}", challenge)
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, _error(401, "security_exception", f"missing authentication credentials {where}", challenge)
        with self.lock:
            ok = self._password_ok(user, password)
        if not ok:
            return None, _error(401, "security_exception", f"unable to authenticate user [{user}] {where}", challenge)
        return user, None

    def _user_view(self, name: str) -> dict[str, Any] | None:
        stored = self.state["users"].get(name)
        if name in RESERVED:
            return {
                "username": name,
                "roles": RESERVED[name],
                "full_name": None,
                "email": None,
                "metadata": {"_reserved": True},
                "enabled": True,
            }
        if stored is None:
            return None
        return {
            "username": name,
            "roles": stored["roles"],
            "full_name": stored.get("full_name"),
            "email": None,
            "metadata": stored.get("metadata", {}),
            "enabled": True,
        }

    # --- hooks ----------------------------------------------------------------------------------------------
    def before(self, request: Request) -> Reply | None:
        user, refused = self._authenticate(request)
        if refused is not None:
            return refused
        path = request.path.split("?", 1)[0].rstrip("/")
        method = request.method
        if "::failures" in path:  # no failure store on the engine: answered as an empty one
            return _reply(
                200,
                {
                    "took": 0,
                    "timed_out": False,
                    "hits": {"total": {"value": 0, "relation": "eq"}, "hits": []},
                    "aggregations": {"recent": {"doc_count": 0}, "reasons": {"buckets": []}},
                },
            )
        if not path.startswith(("/_security", "/_ilm/", "/_component_template/", "/_index_template/")):
            return None  # everything else, _bulk's NDJSON included, goes to the engine as it came
        try:
            body = json.loads(request.body) if request.body else {}
        except ValueError as exc:
            return _error(400, "parse_exception", f"request body is not JSON: {exc}")
        if path == "/_security/_authenticate":
            view = self._user_view(user or "") or {}
            realm = "reserved" if user in RESERVED else "default_native"
            return _reply(
                200,
                {
                    **view,
                    "authentication_realm": {"name": realm, "type": realm.split("_")[-1]},
                    "lookup_realm": {"name": realm, "type": realm.split("_")[-1]},
                    "authentication_type": "realm",
                },
            )
        if m := re.fullmatch(r"/_security/user/([^/]+)/_password", path):
            return self._set_password(m.group(1), body.get("password", ""))
        if m := re.fullmatch(r"/_security/user/([^/]+)", path):
            return self._user(method, m.group(1), body)
        if m := re.fullmatch(r"/_security/role/([^/]+)", path):
            return self._role(method, m.group(1), body)
        if path.startswith("/_security"):
            return _error(400, "illegal_argument_exception", f"stand-in: {method} {path} is not implemented")
        if m := re.fullmatch(r"/_ilm/policy/([^/]+)", path):
            return self._ilm(method, m.group(1), body)
        if (m := re.fullmatch(r"/_(component|index)_template/([^/]+)", path)) and method in ("PUT", "POST"):
            with self.lock:
                self.state[f"{m.group(1)}_templates"][m.group(2)] = body
                self._save()
            engine_body = copy.deepcopy(body)
            if "template" in engine_body:
                engine_body["template"] = _for_engine(engine_body["template"])
            request.body = json.dumps(engine_body).encode()
        return None

    def after(self, request: Request, reply: Reply) -> Reply:
        path = request.path.split("?", 1)[0].rstrip("/")
        if path == "" and request.method == "GET" and reply.status == 200:
            info = json.loads(reply.body)
            info["version"].pop("distribution", None)
            info.update(name=self.node_name, cluster_name=self.cluster_name)
            return _reply(200, info)
        if (
            (m := re.fullmatch(r"/_(component|index)_template/[^/]+", path))
            and request.method == "GET"
            and reply.status == 200
        ):
            kind = f"{m.group(1)}_template"
            answer = json.loads(reply.body)
            for item in answer.get(f"{kind}s", []):
                original = self.state[f"{kind}s"].get(item["name"])
                template = (
                    copy.deepcopy(original)
                    if original is not None
                    else _translate(item[kind], "flat_object", "flattened")
                )
                if "settings" in template.get("template", {}):
                    template["template"]["settings"] = _as_strings(template["template"]["settings"])
                item[kind] = template
            return _reply(200, answer)
        return reply

    # --- the APIs -------------------------------------------------------------------------------------------
    def _set_password(self, name: str, password: str) -> Reply:
        if len(password) < 6:
            return _error(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: passwords must be at least [6] characters long;",
            )
        with self.lock:
            if name not in self.state["users"] and name not in RESERVED:
                return _error(404, "resource_not_found_exception", f"user [{name}] does not exist")
            salt = secrets.token_hex(8)
            entry = self.state["users"].setdefault(name, {"roles": RESERVED.get(name, [])})
            entry.update(salt=salt, hash=_hash(password, salt))
            self._save()
        return _reply(200, {})

    def _user(self, method: str, name: str, body: dict[str, Any]) -> Reply:
        if method == "GET":
            view = self._user_view(name)
            return _reply(200, {name: view}) if view else _reply(404, {})
        if method in ("PUT", "POST"):
            if name in RESERVED:
                return _error(
                    400,
                    "action_request_validation_exception",
                    f"Validation Failed: 1: Username [{name}] is reserved and may not be used.;",
                )
            with self.lock:
                created = name not in self.state["users"]
                entry = self.state["users"].setdefault(name, {})
                entry.update(
                    roles=body.get("roles", []), full_name=body.get("full_name"), metadata=body.get("metadata", {})
                )
                if "password" in body:
                    if len(body["password"]) < 6:
                        return _error(
                            400,
                            "action_request_validation_exception",
                            "Validation Failed: 1: passwords must be at least [6] characters long;",
                        )
                    entry["salt"] = secrets.token_hex(8)
                    entry["hash"] = _hash(body["password"], entry["salt"])
                elif created:
                    return _error(
                        400,
                        "action_request_validation_exception",
                        "Validation Failed: 1: password must be specified unless you are updating an existing user;",
                    )
                self._save()
            return _reply(200, {"created": created})
        if method == "DELETE":
            with self.lock:
                found = self.state["users"].pop(name, None) is not None
                self._save()
            return _reply(200 if found else 404, {"found": found})
        return _error(405, "illegal_argument_exception", f"{method} not allowed")

    def _role(self, method: str, name: str, body: dict[str, Any]) -> Reply:
        if method == "GET":
            role = self.state["roles"].get(name)
            if role is None:
                return _reply(404, {})
            return _reply(
                200,
                {
                    name: {
                        "cluster": [],
                        "indices": [],
                        "applications": [],
                        "run_as": [],
                        "metadata": {},
                        "transient_metadata": {"enabled": True},
                        **role,
                    }
                },
            )
        if method in ("PUT", "POST"):
            with self.lock:
                created = name not in self.state["roles"]
                self.state["roles"][name] = body
                self._save()
            return _reply(200, {"role": {"created": created}})
        return _error(405, "illegal_argument_exception", f"{method} not allowed")

    def _ilm(self, method: str, name: str, body: dict[str, Any]) -> Reply:
        if method == "GET":
            stored = self.state["ilm"].get(name)
            if stored is None:
                return _error(404, "resource_not_found_exception", f"Lifecycle policy not found: {name}")
            return _reply(200, {name: stored})
        if method in ("PUT", "POST"):
            with self.lock:
                version = self.state["ilm"].get(name, {}).get("version", 0) + 1
                self.state["ilm"][name] = {
                    "version": version,
                    "modified_date": "2026-01-01T00:00:00.000Z",
                    "policy": body.get("policy", {}),
                    "in_use_by": {},
                }
                self._save()
            return _reply(200, {"acknowledged": True})
        if method == "DELETE":
            with self.lock:
                self.state["ilm"].pop(name, None)
                self._save()
            return _reply(200, {"acknowledged": True})
        return _error(405, "illegal_argument_exception", f"{method} not allowed")
