"""The fake Lusha as an ASGI app, served on a real socket (``url = await nursery.start(serve, fake)``).

What it does, as providers/lusha.md describes Lusha (and what it ASSUMES where the docs are silent, marked so):

- auth: the API key in the ``api_key`` header (the name from Lusha's API reference); an unknown or missing key is
  401 ``{"error": {"code": 401, "message": ...}}`` (the error shape is ASSUMED);
- ``GET /v3/contacts/tables/{id}/entities?page=&size=``: pages (from 0, ASSUMED) of at most 100 members
  (``size`` over 100 is 400), answered ``{"data": [...], "total": N, "page": p, "size": s}`` (ASSUMED); an
  unknown list is 404;
- quotas per key and plan (``PLANS``: Pro, Premium, Scale, legacy), the nine rate headers on every answer, 429
  without Retry-After (``limits.py``);
- hostility: the list order is shuffled whenever membership changes (``order="churn"``), or on every request
  (``order="request"``) so that pages overlap and hide members; ``churn_every`` edits, adds and removes members
  between requests; ``fail_next`` answers the next requests with a chosen status and body;
- webhooks: ``send_webhook`` posts a signed event (``webhooks.py``).

``PLANS`` re-exports ``halosync_lusha.plans.PLAN_LIMITS``.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from halosync.plugin import Receive, Request, Scope, Send, lifespan, read_request, respond
from halosync_lusha.fake.generator import make_contacts
from halosync_lusha.fake.limits import KeyQuota
from halosync_lusha.plans import PLAN_LIMITS, UNLIMITED, PlanLimits

PLANS = PLAN_LIMITS
MAX_SIZE = 100
_ENTITIES = re.compile(r"^/v3/contacts/tables/([^/]+)/entities/?$")


@dataclass
class Fault:
    status: int
    body: Any = None


@dataclass
class Logged:
    at: float
    path: str
    query: dict[str, str]
    status: int


@dataclass
class FakeLusha:
    api_keys: dict[str, PlanLimits] = field(default_factory=dict)  # key -> plan
    clock: Callable[[], float] = time.time
    seed: int = 0
    order: str = "churn"  # "churn": reshuffled when membership changes; "request": on every request; "fixed"
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    log: list[Logged] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    # Called before each entities answer is built (request number): a test changes the lists mid-poll here.
    before_answer: Callable[[int], None] | None = None
    _quotas: dict[str, KeyQuota] = field(default_factory=dict)
    _next: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # --- admin (in process) -----------------------------------------------------------------------------

    def add_key(self, key: str, plan: str | PlanLimits = UNLIMITED) -> None:
        self.api_keys[key] = PLAN_LIMITS[plan] if isinstance(plan, str) else plan
        self._quotas.pop(key, None)

    def create_list(self, list_id: str, count: int = 0) -> list[str]:
        self.lists.setdefault(list_id, [])
        return self.add_members(list_id, count) if count else []

    def add_members(self, list_id: str, count: int) -> list[str]:
        made = make_contacts(count, self.seed, self._next)
        self._next += count
        for contact in made:
            self.contacts[contact["id"]] = contact
        self.lists[list_id].extend(c["id"] for c in made)
        self._shuffle(list_id)
        return [c["id"] for c in made]

    def add_existing(self, list_id: str, contact_id: str) -> None:
        self.lists[list_id].append(contact_id)
        self._shuffle(list_id)

    def remove_member(self, list_id: str, contact_id: str) -> None:
        self.lists[list_id].remove(contact_id)
        self._shuffle(list_id)

    def edit(self, contact_id: str, **changes: Any) -> None:
        self.contacts[contact_id] = {**self.contacts[contact_id], **changes}

    def fail_next(self, status: int, body: Any = None, times: int = 1) -> None:
        self.faults.extend(Fault(status, body) for _ in range(times))

    def requests_to(self, list_id: str) -> list[Logged]:
        return [e for e in self.log if e.path == f"/v3/contacts/tables/{list_id}/entities"]

    def _shuffle(self, list_id: str) -> None:
        if self.order != "fixed":
            self.rng.shuffle(self.lists[list_id])

    # --- serving ---------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = await read_request(scope, receive)
        status, body, headers = self._answer(request)
        self.log.append(Logged(self.clock(), request.path, dict(request.query), status))
        await respond(send, status, body, headers=headers)

    def _answer(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        key = request.headers.get("api_key", "")
        if key not in self.api_keys:
            return 401, _error(401, "Unauthorized: the api_key header is missing or not a valid API key"), {}
        quota = self._quotas.setdefault(key, KeyQuota(self.clock, self.api_keys[key]))
        refused = quota.take()
        headers = quota.headers()
        if refused is not None:
            return 429, _error(429, f"Rate limit exceeded: too many requests this {refused}"), headers
        if self.faults:
            fault = self.faults.pop(0)
            return fault.status, fault.body if fault.body is not None else _error(fault.status, "Internal error"), \
                headers
        match = _ENTITIES.match(request.path)
        if request.method != "GET" or match is None:
            return 404, _error(404, f"No route {request.method} {request.path}"), headers
        return (*self._entities(match.group(1), request.query), headers)

    def _entities(self, list_id: str, query: dict[str, str]) -> tuple[int, Any]:
        if self.before_answer is not None:
            self.before_answer(len(self.log))
        if list_id not in self.lists:
            return 404, _error(404, f"Contacts table {list_id} not found")
        try:
            page, size = int(query.get("page", "0")), int(query.get("size", "20"))
        except ValueError:
            return 400, _error(400, "page and size must be integers")
        if page < 0 or not 1 <= size <= MAX_SIZE:
            return 400, _error(400, f"size must be between 1 and {MAX_SIZE}, page at least 0")
        if self.order == "request":
            self.rng.shuffle(self.lists[list_id])
        members = self.lists[list_id]
        chunk = members[page * size:(page + 1) * size]
        return 200, {"data": [self.contacts[i] for i in chunk], "total": len(members), "page": page, "size": size}


def _error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
