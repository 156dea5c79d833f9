"""What the routers share: settings, delivery, key store, metrics. Built once per app in main.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from backend.delivery import Delivery
from backend.metrics import Metrics
from backend.rate_limit import RateLimiter
from backend.settings import Settings
from backend.spool import Spool
from logplatform.api_keys import KeyStore


@dataclass
class AppState:
    settings: Settings
    delivery: Delivery
    spool: Spool
    keys: KeyStore
    limiter: RateLimiter
    metrics: Metrics
    search_client: Any  # elasticsearch-py AsyncElasticsearch, or None in unit tests


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.logplatform
    return state
