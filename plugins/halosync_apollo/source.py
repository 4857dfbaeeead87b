"""The Apollo source: an incremental pull of the team's contacts in ``contact_updated_at`` order.

Apollo has no "updated since" filter and shows at most 50,000 records of any search (100 per page x 500 pages).
So the pull walks windows of update days (``contact_updated_at_range.min``, UTC days): it pages through contacts
sorted by ``contact_updated_at`` ascending from the cursor's day, skips what the cursor says is already staged,
and when a window reaches the display limit it starts a new window at the day of the last contact seen. If a
single day holds more than the limit past the cursor, that day is read newest-first down to the cursor (which
reaches a further 50,000) and emitted oldest-first; more than that in one day cannot be reached by date and is
reported with what to do.

Each ``SourcePage`` carries the position after its last lead; the engine commits the page's leads and that cursor
together, so a crash resumes after the last staged page, never past an unstaged lead. Ties on ``updated_at``
are ordered by id (as Apollo pages them), which the cursor's (updated_at, id) position relies on.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from loguru import logger

from halosync.contracts import CheckResult, RateWindow, Rejected, SourcePage
from halosync.errors import ProviderError
from halosync.model import Lead
from halosync_apollo.client import PROVIDER, ApolloClient
from halosync_apollo.cursor import Position, canonical
from halosync_apollo.enrichment import ApolloEnrichment, EnrichmentTokens
from halosync_apollo.mapping import contact_to_lead
from halosync_apollo.settings import ApolloSettings

SEARCH = "contacts/search"
DISPLAY_LIMIT = 50_000


@dataclass
class _Walk:
    """Where a pull is: the staged position, the current window's first day, and the last record seen."""

    position: Position | None
    floor: str | None
    last_seen: Position | None = None
    day: str | None = None  # the update day of the records being read, and where it starts in the window
    day_start: int = 0
    finished: bool = False
    rejected: list[Rejected] = field(default_factory=list)


class ApolloSource:
    name = "apollo"

    def __init__(self, settings: ApolloSettings, *, clock: Callable[[], float] = time.time,
                 transport: httpx.AsyncBaseTransport | None = None, backoff_base: float = 0.5) -> None:
        self.settings = settings
        self.client = ApolloClient(settings, clock=clock, transport=transport, backoff_base=backoff_base)
        self.display_limit = DISPLAY_LIMIT  # lowered if Apollo answers "over threshold" earlier
        # Phone enrichment by webhook (optional feature): None unless enrichment_webhooks is on.
        self.enrichment = ApolloEnrichment(self.client, EnrichmentTokens(settings.api_key), settings.public_base_url) \
            if settings.enrichment_webhooks else None

    # --- Source protocol -------------------------------------------------------------------------------

    async def pull(self, cursor: str | None, *, full: bool = False) -> AsyncIterator[SourcePage]:
        start = None if full else Position.decode(cursor)
        walk = _Walk(position=start, floor=start.day if start else None)
        while True:
            async with aclosing(self._window(walk)) as pages:
                async for page in pages:
                    yield page
            if walk.finished:
                return
            assert walk.last_seen is not None  # a window that stopped at the limit has seen records
            floor = walk.last_seen.day
            if floor == walk.floor:
                logger.info("apollo: more than {} contacts updated on {} past the cursor; reading it newest first",
                            self.display_limit, floor)
                async with aclosing(self._crowded_day(walk, floor)) as pages:
                    async for page in pages:
                        yield page
                floor = (date.fromisoformat(floor) + timedelta(days=1)).isoformat()
            walk.floor = floor

    async def checks(self) -> list[CheckResult]:
        results = []
        try:
            await self.client.call("GET", "auth/health")
            results.append(CheckResult("apollo.auth", "pass", f"{self.client.host} accepted the API key"))
            data = await self.client.call("POST", SEARCH, {"page": 1, "per_page": 1})
            total = (data.get("pagination") or {}).get("total_entries") if isinstance(data, dict) else None
            results.append(CheckResult("apollo.contacts", "pass", f"contacts/search answers ({total} contacts)"))
        except ProviderError as exc:
            name = "apollo.auth" if not results else "apollo.contacts"
            results.append(CheckResult(name, "fail", str(exc), _hint(exc)))
            return results
        for window in self.rate_limits():
            if window.limit and window.remaining is not None and window.remaining < window.limit * 0.1:
                results.append(CheckResult(f"apollo.quota.{window.window}", "warn",
                                           f"{window.remaining} of {window.limit} requests left this {window.window}",
                                           "pulls will wait for the window to reset; a bigger plan raises it"))
        return results

    def rate_limits(self) -> list[RateWindow]:
        return self.client.rate_windows()

    async def aclose(self) -> None:
        await self.client.aclose()

    # --- walking windows -------------------------------------------------------------------------------

    async def _window(self, walk: _Walk) -> AsyncGenerator[SourcePage, None]:
        per_page = self.settings.per_page
        page_no = self._resume_page(walk)
        walk.last_seen = None
        walk.day, walk.day_start = walk.floor, 0
        while True:
            data = await self._search(page_no, walk.floor, None, ascending=True)
            if data is None:  # Apollo's display limit came before we expected it (now learned)
                if walk.last_seen is None and page_no > 1:
                    page_no = 1  # it was the resume hint that pointed past it
                    continue
                return
            contacts, total_pages = data
            if page_no > 1 and walk.last_seen is None and not _starts_at_or_before(contacts, walk.position):
                # Contacts staged before were changed or deleted since, so the hint overshoots: start the day over.
                page_no = 1
                continue
            page = self._stage(contacts, walk, (page_no - 1) * per_page)
            if page is not None:
                yield page
            if _last_page(contacts, page_no, total_pages, per_page):
                walk.finished = True
                return
            if (page_no + 1) * per_page > self.display_limit:
                return
            page_no += 1

    def _resume_page(self, walk: _Walk) -> int:
        """The page holding the cursor's contact, when the cursor knows its place in its day (``skip``), so a
        poll does not re-read the whole day it stopped in."""
        position, per_page = walk.position, self.settings.per_page
        if position is None or position.skip <= 0 or position.day != walk.floor:
            return 1
        page = (position.skip - 1) // per_page + 1
        return page if page * per_page <= self.display_limit else 1

    async def _crowded_day(self, walk: _Walk, day: str) -> AsyncGenerator[SourcePage, None]:
        """Read ``day`` newest first down to the cursor, then emit it oldest first (it is at most one display
        limit of leads, held in memory until the day is complete)."""
        per_page = self.settings.per_page
        collected: dict[str, tuple[Position, Lead]] = {}
        page_no = 1
        while True:
            data = await self._search(page_no, day, day, ascending=False)
            if data is None:
                raise self._beyond_reach(day)
            contacts, total_pages = data
            reached = False
            for raw in contacts:
                item = contact_to_lead(raw)
                if isinstance(item, Rejected):
                    walk.rejected.append(item)
                    continue
                key = _key(item)
                if key is None:  # cannot happen under a day filter; nothing to place it by
                    continue
                if walk.position is None or key > walk.position:
                    collected[item.source_id] = (key, item)
                # Ties may come in any order, so only a strictly older timestamp proves the rest is staged.
                reached = reached or (walk.position is not None and key.updated_at < walk.position.updated_at)
            if reached or _last_page(contacts, page_no, total_pages, per_page):
                break
            if (page_no + 1) * per_page > self.display_limit:
                raise self._beyond_reach(day)
            page_no += 1
        ordered = sorted(collected.values(), key=lambda pair: pair[0])
        for at in range(0, len(ordered), per_page):
            chunk = ordered[at:at + per_page]
            walk.position = chunk[-1][0]
            yield SourcePage([lead for _, lead in chunk], walk.position.encode(), self._take_rejected(walk))

    def _beyond_reach(self, day: str) -> ProviderError:
        return ProviderError(PROVIDER, f"more than {2 * self.display_limit:,} contacts were updated on {day} after "
                             f"the cursor and Apollo shows at most {self.display_limit:,} per search, so the rest "
                             "cannot be reached by date. Narrow the pull with label_ids or stage_ids in "
                             "[plugins.apollo].")

    def _stage(self, contacts: list[Any], walk: _Walk, first_index: int) -> SourcePage | None:
        """The page of leads in ``contacts`` that are past the cursor; advances the walk. ``first_index`` is the
        place of ``contacts[0]`` in the window's result list."""
        leads = []
        for index, raw in enumerate(contacts, start=first_index):
            item = contact_to_lead(raw)
            if isinstance(item, Rejected):
                walk.rejected.append(item)
                continue
            key = _key(item)
            if key is not None:
                if walk.last_seen is not None and key < walk.last_seen:
                    logger.warning("apollo: contacts/search returned {} after {}, out of order", key, walk.last_seen)
                walk.last_seen = key
                if key.day != walk.day:
                    walk.day, walk.day_start = key.day, index
                if walk.position is not None and key <= walk.position:
                    continue  # staged by an earlier page or pull
                walk.position = Position(key.updated_at, key.id, skip=index - walk.day_start + 1)
            leads.append(item)
        rejected = self._take_rejected(walk)
        if not leads and not rejected:
            return None
        return SourcePage(leads, walk.position.encode() if walk.position else None, rejected)

    @staticmethod
    def _take_rejected(walk: _Walk) -> list[Rejected]:
        taken, walk.rejected = walk.rejected, []
        return taken

    async def _search(self, page: int, day_min: str | None, day_max: str | None, *,
                      ascending: bool) -> tuple[list[Any], int | None] | None:
        """One page of the search, or None when Apollo refuses the page as past its display limit."""
        body: dict[str, Any] = {"sort_by_field": "contact_updated_at", "sort_ascending": ascending,
                                "page": page, "per_page": self.settings.per_page}
        if day_min or day_max:
            body["contact_updated_at_range"] = {k: v for k, v in (("min", day_min), ("max", day_max)) if v}
        if self.settings.label_ids:
            body["contact_label_ids"] = list(self.settings.label_ids)
        if self.settings.stage_ids:
            body["contact_stage_ids"] = list(self.settings.stage_ids)
        if self.settings.keywords:
            body["q_keywords"] = self.settings.keywords
        try:
            data = await self.client.call("POST", SEARCH, body)
        except ProviderError as exc:
            if exc.status == 422 and "over threshold" in str(exc) and page > 1:
                self.display_limit = min(self.display_limit, (page - 1) * self.settings.per_page)
                return None
            raise
        return _contacts_of(data)


def _contacts_of(data: Any) -> tuple[list[Any], int | None]:
    if not isinstance(data, dict) or not isinstance(data.get("contacts"), list):
        raise ProviderError(PROVIDER, "contacts/search answered without a contacts list; Apollo may have changed its "
                            "API: report this with the answer logged at debug level")
    pagination = data.get("pagination") if isinstance(data.get("pagination"), dict) else {}
    assert isinstance(pagination, dict)
    total_pages = pagination.get("total_pages")
    return data["contacts"], total_pages if isinstance(total_pages, int) else None


def _last_page(contacts: list[Any], page_no: int, total_pages: int | None, per_page: int) -> bool:
    """Whether this was the last page; without ``total_pages`` only a short page says so."""
    if not contacts:
        return True
    return page_no >= total_pages if total_pages is not None else len(contacts) < per_page


def _starts_at_or_before(contacts: list[Any], position: Position | None) -> bool:
    """Whether a page begins with a contact at or before ``position`` (so no unstaged contact precedes it)."""
    first = contact_to_lead(contacts[0]) if contacts else None
    key = _key(first) if isinstance(first, Lead) else None
    return key is not None and position is not None and key <= position


def _key(lead: Lead) -> Position | None:
    return Position(canonical(lead.updated_at), lead.source_id) if lead.updated_at else None


def _hint(exc: ProviderError) -> str:
    if exc.status == 401:
        return "set plugins.apollo.api_key to a master API key from Apollo (Settings > Integrations > API)"
    if exc.status == 403:
        return "the key lacks access to contacts/search, or the plan is not a paid plan"
    return "check plugins.apollo.base_url and the network; see the message"
