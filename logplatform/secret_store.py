"""The platform's secrets: generated on first start or taken from .env, kept as files in the `secrets` volume.

A value set in .env is checked first (the rule it breaks is named, with the variable), then written; a value
changed in .env later replaces the kept one, and the old one is kept as `<name>.previous` so that
`logplatform setup` can still log in and move Elasticsearch over to the new password.

Kibana's encryption key is different: saved objects encrypted with an old key stay unreadable unless Kibana is
given that key as a decryption-only key. Every key it is moved away from is kept, newest first, as a JSON list in
`kibana_decryption_only_keys`, which the kibana service passes to
`xpack.encryptedSavedObjects.keyRotation.decryptionOnlyKeys`. The list is written without a space: Kibana's image
passes the value unquoted, so bash would split it at each space and Kibana would not start (a list written with
spaces by an earlier version is rewritten).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from logplatform import api_keys
from logplatform.files import replace_whole


class SecretError(ValueError):
    pass


@dataclass(frozen=True)
class Spec:
    file: str  # name of the file in the secrets volume
    variable: str  # the .env variable that may set it
    length: int  # of a generated value
    minimum: int  # shortest value accepted
    to_kibana: bool = False  # passed to Kibana on its command line (kibana-docker), where it is read as JSON


SPECS = (
    # Elasticsearch refuses native-user passwords under 6 characters (kibana_system's setup would loop)
    Spec("elastic_password", "ELASTIC_PASSWORD", 24, 6),
    Spec("kibana_system_password", "KIBANA_SYSTEM_PASSWORD", 24, 6, to_kibana=True),
    Spec("filebeat_password", "FILEBEAT_PASSWORD", 24, 6),
    Spec("backend_password", "BACKEND_ES_PASSWORD", 24, 6),
    Spec("alerting_password", "ALERTING_ES_PASSWORD", 24, 6),
    # Kibana crash-loops on encryption keys under 32 characters
    Spec("kibana_encryption_key", "KIBANA_ENCRYPTION_KEY", 48, 32, to_kibana=True),
)
GENERATOR_API_KEY = "generator_api_key"
KIBANA_KEY = "kibana_encryption_key"
KIBANA_DECRYPTION_ONLY_KEYS = "kibana_decryption_only_keys"
# Kibana's image passes these values through kibana-docker unquoted: whitespace is word-split and glob
# characters expand, so only characters that survive that are allowed.
SAFE = re.compile(r"[A-Za-z0-9!#%+,\-./:=@^_~]+")
# Kibana's command line JSON-parses every value it is given (elastic/kibana src/cli/command.ts): a value that parses
# as a JSON number is a number, no longer text. As the encryption key it stops Kibana ("expected value of type
# [string] but got [number]"); as elasticsearch.password it is turned back into text, "1.2345678901234569e+23" for
# a long one, and Kibana cannot log in. (true, false and null are shorter than any minimum here.)
JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
ALPHABET = string.ascii_letters + string.digits


def generate(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def generator_api_key() -> str:
    """The generator's key for POST /logs (setup stores it in the backend's key store)."""
    return api_keys.new_key()


def validate(spec: Spec, value: str) -> None:
    if len(value) < spec.minimum:
        raise SecretError(f"{spec.variable} must have at least {spec.minimum} characters (it has {len(value)})")
    if not SAFE.fullmatch(value):
        raise SecretError(
            f"{spec.variable} may only contain letters, digits and !#%+,-./:=@^_~ "
            "(no spaces, quotes, $, *, ? or brackets: Kibana's start script would split or expand them)"
        )
    if spec.to_kibana and JSON_NUMBER.fullmatch(value):
        raise SecretError(
            f"{spec.variable} may not be a number: Kibana reads its settings from the command line as JSON, where "
            "it would be a number instead of text (add a letter)"
        )


def _write(path: Path, value: str) -> None:
    replace_whole(path, value, mode=0o600)  # Elasticsearch insists on 400 or 600 for ELASTIC_PASSWORD_FILE


def decryption_only_keys(directory: Path) -> list[str]:
    path = directory / KIBANA_DECRYPTION_ONLY_KEYS
    return json.loads(path.read_text()) if path.exists() else []


def _write_keys(directory: Path, keys: list[str]) -> None:
    # no whitespace: kibana-docker expands the value unquoted, and a space would split the list in two words
    _write(directory / KIBANA_DECRYPTION_ONLY_KEYS, json.dumps(keys, separators=(",", ":")))


def _keep_for_decryption(directory: Path, old: str, new: str) -> None:
    """The key Kibana moves away from first in the list; the new key, if it was an old one, out of it."""
    _write_keys(directory, [old, *(key for key in decryption_only_keys(directory) if key not in (old, new))])


def ensure(directory: Path, environment: Mapping[str, str], owner: tuple[int, int] | None = None) -> list[str]:
    """Makes every secret that is missing and applies values changed in .env; returns what it did."""
    for spec in SPECS:  # all checked before anything is written
        wanted = environment.get(spec.variable, "")
        if wanted:
            validate(spec, wanted)
    directory.mkdir(parents=True, exist_ok=True)
    done = []
    for spec in SPECS:
        path = directory / spec.file
        wanted = environment.get(spec.variable, "")
        if wanted and path.exists() and path.read_text() != wanted:
            if spec.file == KIBANA_KEY:
                _keep_for_decryption(directory, old=path.read_text(), new=wanted)
                done.append(f"{KIBANA_KEY} changed in .env; the old key is kept in {KIBANA_DECRYPTION_ONLY_KEYS}")
            path.replace(path.with_name(f"{spec.file}.previous"))
            done.append(f"{spec.file} changed in .env; the old value is kept as {spec.file}.previous")
        if not path.exists():
            _write(path, wanted or generate(spec.length))
            done.append(f"{spec.file} {'taken from .env' if wanted else 'generated'}")
    keys_file = directory / KIBANA_DECRYPTION_ONLY_KEYS
    if keys_file.exists() and " " in keys_file.read_text():  # written with spaces before 2026-12
        _write_keys(directory, decryption_only_keys(directory))
        done.append(f"{KIBANA_DECRYPTION_ONLY_KEYS} rewritten without spaces (Kibana's image splits a value at them)")
    if not (directory / GENERATOR_API_KEY).exists():
        _write(directory / GENERATOR_API_KEY, generator_api_key())
        done.append(f"{GENERATOR_API_KEY} generated")
    os.chmod(directory, 0o700)
    for path in directory.iterdir():
        os.chmod(path, 0o600)
    if owner is not None:
        for path in [directory, *directory.iterdir()]:
            os.chown(path, *owner)
    return done
