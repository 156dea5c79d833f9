"""The Kibana stand-in (tests/stack/standins/kibana/kibana-docker, a script without a .py name) as a module, so that
tests can run the way it reads Kibana's settings without building its image."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from functools import cache
from types import ModuleType

from tests.support.reference import REPO

SCRIPT = REPO / "tests/stack/standins/kibana/kibana-docker"


@cache
def load() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("kibana_standin", str(SCRIPT))
    spec = importlib.util.spec_from_loader("kibana_standin", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
