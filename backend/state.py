"""What the routers share: settings, delivery, key store, metrics. Built once per app in main.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request

from backend.delivery import Delivery
from backend.metrics import Metrics
from backend.rate_limit import RateLimiter
from backend.settings import Settings
from backend.spool import Spool
from logplatform.api_keys import KeyStore

if TYPE_CHECKING:
    from elasticsearch import AsyncElasticsearch


@dataclass
class AppState:
    settings: Settings
    delivery: Delivery
    spool: Spool
    keys: KeyStore
    limiter: RateLimiter
    metrics: Metrics
    search_client: AsyncElasticsearch


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.logplatform
    return state


async def get_state(request: Request) -> AppState:
    return state_of(request)
