"""The fake HaloPSA's state: its records, tokens, rolling rate window, injected faults and request log.

Tests and benchmarks hold a ``FakeHalo`` and read it directly (``fake.count("POST", "/api/users")``); the
standalone server exposes the same through ``GET /_fake/stats``. Admin helpers (``add_client``, ``add_user``...)
seed records "created by people", bypassing the API, its rate limit and its log.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import trio

PostAnswer = Literal["array", "first", "shuffled", "empty"]
RateText = Literal["hosted", "plural", "opaque"]
PageOffset = Literal["capped", "asked"]
FaultKind = Literal["500", "503", "hang", "lost", "slow", "429"]


@dataclass
class FakeSettings:
    """How the fake behaves. Defaults are HaloPSA's documented ones (300 requests per rolling 5 minutes)."""

    client_id: str = "halosync"
    client_secret: str = "fake-secret"
    tenant: str = ""  # when set (hosted instance), the token endpoint requires ?tenant=<tenant>
    scopes: tuple[str, ...] = ("all",)  # what the API application may be granted
    rate_limit: int = 300
    rate_window: float = 300.0  # seconds; the 429 text names what is really used
    # How a 429 says it (undocumented beyond the hosted text): "hosted" ("Rate Limit Reached - 30 Requests per
    # rolling 10 second window"), "plural" ("rate limit exceeded: 30 requests per 10 seconds"), "opaque"
    # ("Too Many Requests", naming no budget).
    rate_text: RateText = "hosted"
    token_lifetime: float = 3600.0
    # What a multi-item POST answers (undocumented): every object in order, the first only, every object in
    # another order, or an empty body.
    post_answer: PostAnswer = "array"
    latency: float = 0.0  # seconds added to every answer
    error_rate: float = 0.0  # share of API requests answered 500 before doing anything
    hang_rate: float = 0.0  # share of API requests that never get an answer (before doing anything)
    lost_rate: float = 0.0  # share of API requests carried out whose answer never arrives
    hang_seconds: float = 3600.0
    slow_rate: float = 0.0  # share of POSTs carried out whose answer comes ``slow_seconds`` late (kill tests aim here)
    slow_seconds: float = 2.0
    max_page_size: int = 100  # larger page_size values are cut to this, as HaloPSA cuts every page at 100
    # Where page N starts when page_size was cut (undocumented): at (N-1) x the rows answered ("capped"), or at
    # (N-1) x the size asked for ("asked": a client asking for 1000 then misses rows 100-999 of every page).
    page_offset: PageOffset = "capped"
    denied: frozenset[str] = frozenset()  # resources the agent behind the application may not use (403)
    record_count: bool = True  # whether list envelopes carry record_count (undocumented where it is left out)
    business_rule_refuses: str = ""  # a POST with an object named like this is refused as text, naming no object
    seed: int = 0


@dataclass
class Token:
    client_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass(frozen=True)
class LoggedRequest:
    at: float
    method: str
    route: str  # lower-case route template: /api/users, /api/users/{id}, /auth/token
    status: int
    items: int = 0  # objects in a POST body
    answered: bool = True  # False: carried out, but the answer was lost
    user_agent: str = ""
    params: tuple[str, ...] = ()  # names of the query parameters, lower case, in the order sent


@dataclass
class Fault:
    kind: FaultKind
    method: str | None
    route: str | None
    remaining: int


@dataclass
class Table:
    """One resource's records, in id order (dicts keep insertion order and ids only grow)."""

    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def insert(self, record: dict[str, Any]) -> dict[str, Any]:
        record["id"] = next(self.ids)
        self.rows[record["id"]] = record
        return record


RESOURCES = ("client", "site", "users", "opportunities", "tickets", "actions", "fieldinfo", "tickettype")


class FakeHalo:
    def __init__(self, settings: FakeSettings | None = None, *, clock: Callable[[], float] | None = None) -> None:
        self.settings = settings or FakeSettings()
        self.clock = clock or trio.current_time
        self.rng = random.Random(self.settings.seed)
        self.tables: dict[str, Table] = {name: Table() for name in RESOURCES}
        self.tokens: dict[str, Token] = {}
        self.window: deque[float] = deque()  # times of accepted requests in the rolling window
        self.log: list[LoggedRequest] = []
        self.faults: list[Fault] = []
        self.writes_in_flight = 0  # POSTs carried out whose answer has not been sent yet ("slow", "lost")
        self.writes_held = 0  # how many POST answers were ever held back after the work was done
        self.tables["tickettype"].insert({"name": "Incident", "use": "ticket"})
        self.tables["tickettype"].insert({"name": "Opportunity", "use": "opportunity"})

    # --- admin: records created "by people", outside the API --------------------------------------------

    def add_client(self, name: str, **fields: Any) -> dict[str, Any]:
        client = self.tables["client"].insert({"name": name, "inactive": False, "datecreated": now_iso(), **fields})
        site = self.tables["site"].insert({"name": "Main", "client_id": client["id"], "datecreated": now_iso()})
        client["main_site_id"] = site["id"]
        return client

    def add_user(self, client_id: int, **fields: Any) -> dict[str, Any]:
        client = self.tables["client"].rows[client_id]
        record = {"site_id": client["main_site_id"], "client_id": client_id, "inactive": False,
                  "datecreated": now_iso(), **fields}
        if "name" not in record:
            record["name"] = " ".join(str(record.get(k) or "") for k in ("firstname", "surname")).strip()
        return self.tables["users"].insert(record)

    def add_field(self, name: str, *, usage: int, type: int = 0, label: str = "") -> dict[str, Any]:
        """A custom field definition (FieldInfo). ``usage``: see ``FIELD_USAGE`` in the plugin's customfields."""
        return self.tables["fieldinfo"].insert(
            {"name": name, "label": label or name.removeprefix("CF"), "usage": usage, "type": type, "inputtype": 0})

    def add_ticket_type(self, name: str, use: str = "opportunity") -> dict[str, Any]:
        return self.tables["tickettype"].insert({"name": name, "use": use})

    def records(self, resource: str) -> list[dict[str, Any]]:
        return list(self.tables[resource].rows.values())

    # --- admin: faults and tokens --------------------------------------------------------------------

    def inject(self, kind: FaultKind, *, method: str | None = None, route: str | None = None, times: int = 1) -> None:
        """Make the next ``times`` matching requests fail: "500"/"503" (answered before doing anything), "hang"
        (never answered, nothing done), "lost" (done, then never answered), "slow" (done, then answered only after
        ``slow_seconds``), "429" (refused as over the limit)."""
        self.faults.append(Fault(kind, method.upper() if method else None, route.lower() if route else None, times))

    def take_fault(self, method: str, route: str) -> FaultKind | None:
        for fault in self.faults:
            if (fault.method in (None, method)) and (fault.route in (None, route)) and fault.remaining > 0:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.faults.remove(fault)
                return fault.kind
        if route.startswith("/api/") and route != "/api/authinfo":
            roll = self.rng.random()
            if roll < self.settings.error_rate:
                return "500"
            if roll < self.settings.error_rate + self.settings.hang_rate:
                return "hang"
            if roll < self.settings.error_rate + self.settings.hang_rate + self.settings.lost_rate:
                return "lost"
            if method == "POST" and self.settings.slow_rate and self.rng.random() < self.settings.slow_rate:
                return "slow"
        return None

    def expire_tokens(self) -> None:
        """Every issued token expires now (as at the end of its lifetime)."""
        for token in self.tokens.values():
            token.expires_at = self.clock()

    # --- rate window ---------------------------------------------------------------------------------

    def admit(self) -> bool:
        """Count one request in the rolling window, or say it is over the limit (refused requests do not count)."""
        now = self.clock()
        while self.window and self.window[0] + self.settings.rate_window <= now:
            self.window.popleft()
        if len(self.window) >= self.settings.rate_limit:
            return False
        self.window.append(now)
        return True

    @property
    def rate_message(self) -> str:
        """The 429 text, naming the limit and window ``admit`` really applies (in the largest whole unit)."""
        limit, window, style = self.settings.rate_limit, self.settings.rate_window, self.settings.rate_text
        if style == "opaque":
            return "Too Many Requests"
        length, unit = next(((window / size, name) for size, name in ((3600, "hour"), (60, "minute"))
                             if window >= size and window % size == 0), (window, "second"))
        if style == "plural":
            return f"rate limit exceeded: {limit} requests per {length:g} {unit}{'' if length == 1 else 's'}"
        return f"Rate Limit Reached - {limit} Requests per rolling {length:g} {unit} window"

    # --- the request log -----------------------------------------------------------------------------

    def record(self, method: str, route: str, status: int, items: int = 0, *, answered: bool = True,
               user_agent: str = "", params: tuple[str, ...] = ()) -> None:
        self.log.append(LoggedRequest(self.clock(), method, route, status, items, answered, user_agent, params))

    def count(self, method: str | None = None, route: str | None = None, status: int | None = None) -> int:
        """Requests logged, filtered by method, route template (``/api/users``) and status."""
        return sum(1 for r in self.log if (method is None or r.method == method.upper())
                   and (route is None or r.route == route.lower()) and (status is None or r.status == status))

    def by_route(self) -> Counter[str]:
        return Counter(f"{r.method} {r.route}" for r in self.log)

    def stats(self) -> dict[str, Any]:
        return {
            "requests": len(self.log),
            "by_route": dict(self.by_route()),
            "by_status": {str(k): v for k, v in Counter(r.status for r in self.log).items()},
            "records": {name: len(table.rows) for name, table in self.tables.items()},
            "writes_in_flight": self.writes_in_flight,
            "writes_held": self.writes_held,
        }


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
