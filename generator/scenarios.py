"""What the generated traffic looks like: services, messages, metadata, and the scenarios that make the
dashboards and alerts tell a story (steady, incident, attack, silence)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from logplatform.event_ids import event_id_at

DEFAULT_SERVICES = (
    "auth-service",
    "payment-service",
    "order-service",
    "inventory-service",
    "notification-service",
    "api-gateway",
)
SCENARIOS = ("steady", "incident", "attack", "silence")
# Every event the generator program writes carries it (ECS `tags`, kept as is by the pipeline), in file and HTTP
# mode alike: `not tags : demo` leaves the demo out in Kibana, and alerting/render.py leaves it out of every rule.
DEMO_TAG = "demo"

DEVICES = ("desktop", "mobile", "tablet")
USER_AGENTS = {
    "desktop": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "mobile": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "tablet": "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
}

# service -> (weight, level, message, action, outcome, method, path, status); a message's {duration} (ms) and
# {order} are the event's own, so that one error reads differently each time, as real ones do (its pattern,
# logplatform.pattern.text, is what stays the same)
_PROVIDER_TIMEOUT = (  # in steady traffic now and then; a quarter of the payment incident's events
    "ERROR",
    "Payment provider timeout after {duration} ms for order {order}",
    "payment-authorize",
    "failure",
    "POST",
    "/api/payments",
    504,
)
_STEADY: dict[str, list[tuple[int, str, str, str, str, str, str, int]]] = {
    "auth-service": [
        (60, "INFO", "Login succeeded", "user-login", "success", "POST", "/api/login", 200),
        (8, "WARNING", "Login failed", "user-login", "failure", "POST", "/api/login", 401),
        (20, "INFO", "Token refreshed", "token-refresh", "success", "POST", "/api/token/refresh", 200),
        (2, "ERROR", "Session store unavailable", "token-refresh", "failure", "POST", "/api/token/refresh", 503),
        (10, "INFO", "Password reset requested", "password-reset", "success", "POST", "/api/password/reset", 202),
    ],
    "payment-service": [
        (70, "INFO", "Payment authorized", "payment-authorize", "success", "POST", "/api/payments", 201),
        (12, "WARNING", "Payment declined", "payment-authorize", "failure", "POST", "/api/payments", 402),
        (3, *_PROVIDER_TIMEOUT),
        (15, "INFO", "Refund issued", "payment-refund", "success", "POST", "/api/refunds", 201),
    ],
    "order-service": [
        (55, "INFO", "Order created", "order-create", "success", "POST", "/api/orders", 201),
        (30, "INFO", "Order shipped", "order-ship", "success", "PUT", "/api/orders/ship", 200),
        (10, "WARNING", "Order delayed: carrier backlog", "order-ship", "unknown", "PUT", "/api/orders/ship", 202),
        (5, "ERROR", "Inventory check failed for order {order}", "order-create", "failure", "POST", "/api/orders", 500),
    ],
    "inventory-service": [
        (80, "INFO", "Stock level checked", "stock-check", "success", "GET", "/api/stock", 200),
        (15, "WARNING", "Stock low", "stock-check", "success", "GET", "/api/stock", 200),
        (5, "ERROR", "Warehouse API error", "stock-sync", "failure", "POST", "/api/stock/sync", 502),
    ],
    "notification-service": [
        (85, "INFO", "Email sent", "notify-email", "success", "POST", "/api/notify", 202),
        (10, "WARNING", "SMS delivery retried", "notify-sms", "unknown", "POST", "/api/notify", 202),
        (5, "ERROR", "Push provider rejected message", "notify-push", "failure", "POST", "/api/notify", 502),
    ],
    "api-gateway": [
        (50, "INFO", "GET /api/products 200", "http-request", "success", "GET", "/api/products", 200),
        (25, "INFO", "GET /api/orders 200", "http-request", "success", "GET", "/api/orders", 200),
        (15, "INFO", "POST /api/cart 201", "http-request", "success", "POST", "/api/cart", 201),
        (7, "WARNING", "GET /api/search 429", "http-request", "failure", "GET", "/api/search", 429),
        (3, "ERROR", "GET /api/orders 502", "http-request", "failure", "GET", "/api/orders", 502),
    ],
}
_GENERIC = [
    (80, "INFO", "Request handled", "http-request", "success", "GET", "/api/items", 200),
    (15, "WARNING", "Slow request", "http-request", "success", "GET", "/api/items", 200),
    (5, "ERROR", "Request failed", "http-request", "failure", "GET", "/api/items", 500),
]
_INCIDENT = [
    (
        45,
        "ERROR",
        "Database connection pool exhausted: waited {duration} ms for a connection",
        "payment-authorize",
        "failure",
        "POST",
        "/api/payments",
        503,
    ),
    (25, *_PROVIDER_TIMEOUT),
    (30, "WARNING", "Request slow: retrying upstream", "payment-authorize", "unknown", "POST", "/api/payments", 200),
]
_BASE_LATENCY_MS = {"INFO": 40.0, "WARNING": 250.0, "ERROR": 900.0}


@dataclass
class Phases:
    """Where in the story a moment falls: progress 0..1 through the run (or through one period)."""

    incident: tuple[float, float] = (0.3, 0.6)
    attack: tuple[float, float] = (0.4, 0.7)
    silence_from: float = 0.5


@dataclass
class TrafficModel:
    """Makes events; everything random comes from one seeded generator, so a seed reproduces the run."""

    scenario: str = "steady"
    services: tuple[str, ...] = DEFAULT_SERVICES
    seed: int | None = None
    target: str | None = None  # the service the incident hits or that goes silent
    phases: Phases = field(default_factory=Phases)
    users: int = 5000
    demo: bool = False  # tag every event DEMO_TAG: the generator program's events are (tests' stories need not be)

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}: one of {', '.join(SCENARIOS)}")
        self.rng = random.Random(self.seed)
        if self.target is None:
            wanted = "auth-service" if self.scenario == "attack" else "payment-service"
            self.target = wanted if wanted in self.services else self.services[0]
        self._tables = {s: _expand(_STEADY.get(s, _GENERIC)) for s in self.services}
        self._incident = _expand(_INCIDENT)
        self.attacker_ip = f"203.0.113.{self.rng.randint(2, 254)}"  # password spraying: one IP, many accounts
        self.victim = "admin"  # brute force: one account, from a botnet of addresses
        self.botnet = [f"198.51.100.{self.rng.randint(2, 254)}" for _ in range(16)]

    def _in(self, window: tuple[float, float], progress: float) -> bool:
        return window[0] <= progress < window[1]

    def event(self, timestamp: str, progress: float, millis: int) -> dict[str, Any] | None:
        """One event at `timestamp` (`millis`, the same moment in Unix milliseconds, starts its event.id); None
        when the scenario says nothing happens (a silent service)."""
        rng = self.rng
        service = self.services[rng.getrandbits(20) % len(self.services)]
        if self.scenario == "silence" and service == self.target and progress >= self.phases.silence_from:
            return None
        if self.scenario == "attack" and self._in(self.phases.attack, progress) and rng.random() < 0.7:
            return self._failed_login(timestamp, millis)
        table = self._tables[service]
        latency_factor = 1.0
        if self.scenario == "incident" and service == self.target and self._in(self.phases.incident, progress):
            table = self._incident
            latency_factor = 10.0
        level, message, action, outcome, method, path, status = table[rng.getrandbits(20) % len(table)]
        device = DEVICES[rng.getrandbits(20) % 3]
        duration = round(rng.expovariate(1 / _BASE_LATENCY_MS[level]) * latency_factor + 1, 2)
        bits = rng.getrandbits(32)  # one draw for the address (cheaper than four)
        user_id = rng.getrandbits(24) % self.users + 1
        if "{" in message:  # from the draws above, none of its own: a seed tells the same story as before
            message = message.format(duration=round(duration), order=10000 + (bits >> 3) % 90000)
        # the event first: Filebeat tells files apart by their first 64 bytes (filebeat/filebeat.yml), and two files
        # begun in the same millisecond would share "@timestamp" and the time-ordered id's first 12 digits
        event: dict[str, Any] = {
            "event": {"id": event_id_at(millis, rng.getrandbits(128)), "action": action, "outcome": outcome},
            "@timestamp": timestamp,
            "service": service,
            "level": level,
            "message": message,
            "meta": {
                "user_id": user_id,
                "ip": f"{_FIRST_OCTETS[bits & 3]}.{bits >> 8 & 255}.{bits >> 16 & 255}.{(bits >> 24) % 254 + 1}",
                "device": device,
                "user_agent": USER_AGENTS[device],
                "method": method,
                "path": path,
                "status_code": status,
                "duration_ms": duration,
                "trace_id": f"{rng.getrandbits(128):032x}",
            },
        }
        if action == "user-login":  # auth logs name the account tried, which the security dashboard groups by
            event["meta"]["username"] = f"user{user_id}"
        return self._tagged(event)

    def _tagged(self, event: dict[str, Any]) -> dict[str, Any]:
        if self.demo:
            event["tags"] = [DEMO_TAG]
        return event

    def _failed_login(self, timestamp: str, millis: int) -> dict[str, Any]:
        rng = self.rng
        user = rng.randint(1, self.users)
        username, ip = f"user{user}", self.attacker_ip
        if rng.random() < 0.4:
            username, ip = self.victim, self.botnet[rng.getrandbits(8) % len(self.botnet)]
        return self._tagged(
            {
                "event": {
                    "id": event_id_at(millis, rng.getrandbits(128)),
                    "action": "user-login",
                    "outcome": "failure",
                    "category": ["authentication"],
                },
                "@timestamp": timestamp,
                "service": "auth-service",
                "level": "WARNING",
                "message": "Login failed",
                "meta": {
                    "user_id": user,
                    "username": username,
                    "ip": ip,
                    "device": "desktop",
                    "user_agent": "python-requests/2.32",
                    "method": "POST",
                    "path": "/api/login",
                    "status_code": 401,
                    "duration_ms": round(rng.uniform(5, 20), 2),
                    "reason": "bad_password",
                    "trace_id": f"{rng.getrandbits(128):032x}",
                },
            }
        )


Row = tuple[str, str, str, str, str, str, int]
_FIRST_OCTETS = (10, 172, 192, 198)


def moment(at: datetime) -> tuple[str, int]:
    """A moment in the two forms TrafficModel.event takes it: ISO 8601 to the millisecond, and Unix milliseconds."""
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z"), int(at.timestamp() * 1000)


def _expand(table: list[tuple[int, str, str, str, str, str, str, int]]) -> list[Row]:
    """A weighted table as a flat list, so picking is one randrange."""
    out: list[Row] = []
    for weight, *rest in table:
        out += [cast(Row, tuple(rest))] * weight
    return out


def daily_rhythm(hour_of_day: float) -> float:
    """Traffic multiplier over a day: lowest around 04:00, highest around 16:00 (0.4 .. 1.6)."""
    return 1.0 + 0.6 * math.sin(2 * math.pi * (hour_of_day - 10) / 24)
