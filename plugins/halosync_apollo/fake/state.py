"""The fake Apollo's state and its in-process admin API: contacts, keys, quotas, queued faults, the request log and
enrichment results.

The web app (``app.py``) serves it, and its route handlers (``admin.py``, ``routes.py``, ``enrichment.py``) read
and change it: they depend on this module, never on the app, so the fake's modules form no cycle (the same split
as the HaloPSA fake's ``state.py`` and ``app.py``).

The clock is injectable (epoch seconds): quotas, ``updated_at`` of changed contacts and the log all read it, so a
test can run the fake and the source on trio's virtual time.
"""

from __future__ import annotations

import random
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import trio

from halosync_apollo.fake.generator import GeneratedContacts, GeneratorSpec, generate_contacts
from halosync_apollo.fake.limits import DEFAULT_LIMITS, DailySpelling, Limits, QuotaBook
from halosync_apollo.fake.search import DISPLAY_LIMIT, ContactBook, TieOrder
from halosync_apollo.fake.shape import apollo_time, complete_contact

SERVER_ERROR = {"error": "An error occurred while processing your request. Please try again."}


@dataclass(frozen=True)
class KeyGrant:
    """What one API key may do. ``endpoints`` None is a master key (every endpoint)."""

    endpoints: frozenset[str] | None = None
    paid_plan: bool = True


@dataclass
class Fault:
    status: int = 500
    body: Any = None
    hang: bool = False
    endpoint: str | None = None  # None: any API endpoint


@dataclass(frozen=True)
class LoggedRequest:
    at: float
    method: str
    endpoint: str
    status: int
    body: Any = None
    user_agent: str = ""


@dataclass
class Churn:
    """Contacts changed behind a client's back after every ``contacts/search`` answer: ``edits`` random contacts
    edited (their ``updated_at`` moves to now) and ``deletes`` removed, drawn with ``seed``."""

    edits: int = 0
    deletes: int = 0
    seed: int = 0


class ApolloState:
    def __init__(
        self,
        api_keys: Iterable[str] | Mapping[str, KeyGrant] = ("test-key",),
        *,
        clock: Callable[[], float] = time.time,
        limits: Mapping[str, Limits] | None = None,
        default_limits: Limits = DEFAULT_LIMITS,
        daily_spelling: DailySpelling = "both",
        retry_after: bool = True,
        latency: float = 0.0,
        display_limit: int = DISPLAY_LIMIT,
        tie_order: TieOrder = "shuffled",
        seed: int = 0,
    ) -> None:
        grants = api_keys if isinstance(api_keys, Mapping) else {k: KeyGrant() for k in api_keys}
        self.keys: dict[str, KeyGrant] = dict(grants)
        self.clock = clock
        self.book = ContactBook(tie_order, seed)
        self.churn = Churn()
        self._churn_rng = random.Random(seed)
        self.quota = QuotaBook(clock, dict(limits or {}), default_limits, daily_spelling)
        self.retry_after = retry_after  # send Retry-After with 429s (Apollo does since 2026; False: as before)
        self.latency = latency
        self.display_limit = display_limit  # Apollo's is 50,000; tests lower it to reach it with few contacts
        self.faults: deque[Fault] = deque()
        self.log: deque[LoggedRequest] = deque(maxlen=200_000)
        self.counts: Counter[tuple[str, int]] = Counter()
        self.truth: dict[str, str] = {}  # contact id -> person key, for generated contacts
        # Called after each API answer: lets a test change contacts while a client is in the middle of reading.
        self.after_request: Callable[[LoggedRequest], None] | None = None
        self.enrichments: dict[str, dict[str, Any]] = {}  # webhook_result request id -> payload
        self.webhook_delay = 0.5  # seconds before an enrichment result is delivered to its webhook_url
        self.deliveries: list[tuple[str, int]] = []  # (webhook_url, HTTP status or 0) of every delivery try
        self.pending_deliveries, self._deliveries_out = trio.open_memory_channel[tuple[str, dict[str, Any]]](1000)

    # --- admin, in process ---------------------------------------------------------------------------

    def now_iso(self) -> str:
        return apollo_time(self.clock())

    def add_contacts(self, contacts: Iterable[Mapping[str, Any]]) -> int:
        """Save (or replace, by id) contacts; missing documented keys are filled, timestamps default to now."""
        now = self.clock()
        return self.book.upsert(complete_contact(dict(c), now=now) for c in contacts)

    def generate(self, spec: GeneratorSpec) -> GeneratedContacts:
        generated = generate_contacts(spec)
        self.book.upsert(generated.contacts)
        self.truth.update(generated.person_of)
        return generated

    def update_contact(self, contact_id: str, **changes: Any) -> dict[str, Any]:
        """Change a contact as a user would in Apollo: ``updated_at`` moves to now unless given."""
        contact = dict(self.book.by_id[contact_id])
        contact.update(changes)
        if "updated_at" not in changes:
            contact["updated_at"] = self.now_iso()
        self.book.upsert([contact])
        return contact

    def remove_contact(self, contact_id: str) -> bool:
        return self.book.remove(contact_id)

    def _apply_churn(self) -> None:
        rng = self._churn_rng
        for _ in range(self.churn.edits):
            if self.book.by_id:
                self.update_contact(rng.choice(sorted(self.book.by_id)), title=f"Edited {rng.getrandbits(32):08x}")
        for _ in range(self.churn.deletes):
            if self.book.by_id:
                self.remove_contact(rng.choice(sorted(self.book.by_id)))

    def fail_next(self, count: int = 1, status: int = 500, body: Any = None, *, endpoint: str | None = None,
                  hang: bool = False) -> None:
        """The next ``count`` API requests (to ``endpoint``, or any) answer ``status`` with ``body`` (Apollo's
        5xx body by default), or never answer when ``hang``."""
        for _ in range(count):
            self.faults.append(Fault(status, SERVER_ERROR if body is None else body, hang, endpoint))

    def set_limits(self, endpoint: str, limits: Limits) -> None:
        self.quota.limits[endpoint] = limits

    def requests(self, endpoint: str | None = None) -> list[LoggedRequest]:
        return [r for r in self.log if endpoint is None or r.endpoint == endpoint]

    def _take_fault(self, template: str) -> Fault | None:
        for fault in self.faults:
            if fault.endpoint is None or fault.endpoint == template:
                self.faults.remove(fault)
                return fault
        return None
