"""The Apollo source: an incremental pull of the team's contacts in ``contact_updated_at`` order.

Apollo has no "updated since" filter and shows at most 50,000 records of any search (100 per page x 500 pages).
So the pull walks windows of update days (``contact_updated_at_range``, UTC days): it pages through contacts
sorted by ``contact_updated_at`` ascending from the cursor's day, skips what the cursor says is already staged,
and when a window reaches the display limit it starts a new window at the day of the last contact seen. If a
single day holds more than the limit past the cursor, that day is read newest-first down to the cursor (which
reaches a further 50,000) and emitted oldest-first; more than that in one day cannot be reached by date and is
reported with what to do. Days before today are read first (up to yesterday), then today's contacts: the two
need different defences against contacts edited while the pull reads (see ``pages.py``).

Each ``SourcePage`` carries the position after its last lead; the engine commits the page's leads and that cursor
together, so a crash resumes after the last staged page, never past an unstaged lead. Ties on ``updated_at``
are ordered by id (as Apollo pages them), which the cursor's (updated_at, id) position relies on. The cursor also
remembers its place within its day, so a poll reads from the cursor's page instead of re-reading the whole day.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from loguru import logger

from halosync.contracts import CheckResult, RateWindow, Rejected, SourcePage
from halosync.errors import ProviderError
from halosync.model import Lead
from halosync_apollo.client import PROVIDER, ApolloClient
from halosync_apollo.cursor import Position
from halosync_apollo.enrichment import ApolloEnrichment, EnrichmentTokens
from halosync_apollo.mapping import contact_to_lead
from halosync_apollo.pages import Walk, key_of, last_page, next_page, plan_page, stage, starts_at_or_before
from halosync_apollo.settings import ApolloSettings

SEARCH = "contacts/search"
DISPLAY_LIMIT = 50_000
CLOCK_SLACK = 3600.0


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
        # "Today" starts an hour early, so that a contact edited during the pull lands after the first range even
        # if Apollo's clock is somewhat behind ours around midnight.
        today = datetime.fromtimestamp(self.client.clock() - CLOCK_SLACK, UTC).date().isoformat()
        walk = Walk(position=start, floor=start.day if start else None)
        # Days before today first: a contact edited during the pull leaves that range (its updated_at becomes
        # now), so a changed total_entries gives away a shift and pages need not overlap. Then today's contacts,
        # where edits stay in range, with every page overlapping the position (see pages.py).
        if walk.floor is None or walk.floor < today:
            async with aclosing(self._days(walk, _day_before(today), overlap=False)) as pages:
                async for page in pages:
                    yield page
        walk.floor = max(today, start.day if start else today)
        async with aclosing(self._days(walk, None, overlap=True)) as pages:
            async for page in pages:
                yield page

    async def _days(self, walk: Walk, ceiling: str | None, *, overlap: bool) -> AsyncGenerator[SourcePage, None]:
        """Every contact updated from ``walk.floor`` to ``ceiling`` (inclusive; None: no end), a window of at most
        one display limit at a time."""
        while ceiling is None or walk.floor is None or walk.floor <= ceiling:
            async with aclosing(self._window(walk, ceiling, overlap)) as pages:
                async for page in pages:
                    yield page
            if walk.finished:
                return
            # The window stopped at the display limit; it read nothing when the cursor itself sits there.
            floor = walk.last_seen.day if walk.last_seen is not None else walk.floor
            assert floor is not None  # a window from no floor starts at page 1, which is within the limit
            if floor == walk.floor:
                logger.info("apollo: more than {} contacts updated on {} past the cursor; reading it newest first",
                            self.display_limit, floor)
                async with aclosing(self._crowded_day(walk, floor)) as pages:
                    async for page in pages:
                        yield page
                floor = _day_after(floor)
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

    async def _window(self, walk: Walk, ceiling: str | None, overlap: bool) -> AsyncGenerator[SourcePage, None]:
        per_page = self.settings.per_page
        expected = walk.begin_window()
        # Plan pages that overlap the position (instead of plain next pages) where the list may have moved: always
        # for today's contacts, and on resuming mid-list from the cursor's hint (contacts may have left since).
        suspect = overlap or expected >= 0
        known_total: int | None = None
        while True:
            sequential = not suspect and (expected + 1) % per_page == 0
            plan = next_page(expected, per_page, self.display_limit) if sequential else plan_page(
                expected, per_page, self.display_limit)
            if plan is None:
                return  # the display limit: the caller goes on with a window starting at a later day
            page_no, size = plan
            data = await self._search(page_no, size, walk.floor, ceiling, ascending=True)
            if data is None:
                continue  # Apollo's display limit is lower than we knew; plan again within it
            contacts, total = data
            start = (page_no - 1) * size
            _check_range(contacts, walk.floor, ceiling)
            if sequential and total != known_total and known_total is not None:
                # The list changed since the last page: a contact before us may have left it and the rest moved
                # up. Read this stretch again with a page that overlaps what is staged.
                suspect, known_total = True, total
                continue
            if not sequential and expected >= 0 and not starts_at_or_before(contacts, walk.position):
                # Contacts before the position were edited or deleted since it was read, so the list moved up
                # under us: step back until a page starts at or before the position again.
                expected = max(-1, min(expected, start) - per_page)
                continue
            known_total, suspect = total, overlap or total is None
            page, expected = stage(contacts, walk, start, expected)
            if page is not None:
                yield page
            if last_page(contacts, start, size, total):
                walk.finished = True
                return

    async def _crowded_day(self, walk: Walk, day: str) -> AsyncGenerator[SourcePage, None]:
        """Read ``day`` newest first down to the cursor, then emit it oldest first (at most one display limit of
        leads, held in memory until the day is complete). Pages overlap on the last contact read, found by id
        since ties may come in any order; a page without it means the list moved, and the read steps back."""
        per_page = self.settings.per_page
        collected: dict[str, tuple[Position, Lead]] = {}
        frontier: tuple[str, int] | None = None  # id and index of the last contact read
        while True:
            plan = plan_page(frontier[1] if frontier else -1, per_page, self.display_limit)
            data = await self._search(plan[0], plan[1], day, day, ascending=False) if plan else None
            if plan is None or data is None:
                raise self._beyond_reach(day)
            contacts, total = data
            start = (plan[0] - 1) * plan[1]
            ids = [c.get("id") if isinstance(c, dict) else None for c in contacts]
            if frontier is not None and frontier[0] not in ids:
                frontier = (frontier[0], start - per_page) if start > per_page else None
                continue
            reached = False
            for index, raw in enumerate(contacts, start=start):
                item = contact_to_lead(raw)
                key = key_of(item) if isinstance(item, Lead) else None
                if not isinstance(item, Lead) or key is None:  # under a day filter every contact has a time
                    if isinstance(item, Rejected) and (frontier is None or index > frontier[1]):
                        walk.rejected.append(item)
                    continue
                frontier = (item.source_id, index)
                if walk.position is None or key > walk.position:
                    collected[item.source_id] = (key, item)
                # Ties may come in any order, so only a strictly older timestamp proves the rest is staged.
                reached = reached or (walk.position is not None and key.updated_at < walk.position.updated_at)
            if reached or last_page(contacts, start, plan[1], total):
                break
        ordered = sorted(collected.values(), key=lambda pair: pair[0])
        for at in range(0, len(ordered), per_page):
            chunk = ordered[at:at + per_page]
            walk.position = chunk[-1][0]
            yield SourcePage([lead for _, lead in chunk], walk.position.encode(), walk.take_rejected())

    def _beyond_reach(self, day: str) -> ProviderError:
        return ProviderError(PROVIDER, f"more than {2 * self.display_limit:,} contacts were updated on {day} after "
                             f"the cursor and Apollo shows at most {self.display_limit:,} per search, so the rest "
                             "cannot be reached by date. Narrow the pull with label_ids or stage_ids in "
                             "[plugins.apollo].")

    async def _search(self, page: int, per_page: int, day_min: str | None, day_max: str | None, *,
                      ascending: bool) -> tuple[list[Any], int | None] | None:
        """One page of the search and its ``total_entries``, or None when Apollo refuses the page as past its
        display limit (which is then learned)."""
        body: dict[str, Any] = {"sort_by_field": "contact_updated_at", "sort_ascending": ascending,
                                "page": page, "per_page": per_page}
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
                self.display_limit = min(self.display_limit, (page - 1) * per_page)
                return None
            raise
        return _contacts_of(data)


def _contacts_of(data: Any) -> tuple[list[Any], int | None]:
    if not isinstance(data, dict) or not isinstance(data.get("contacts"), list):
        raise ProviderError(PROVIDER, "contacts/search answered without a contacts list; Apollo may have changed its "
                            "API: report this with the answer logged at debug level")
    pagination = data.get("pagination")
    total = pagination.get("total_entries") if isinstance(pagination, dict) else None
    return data["contacts"], total if isinstance(total, int) else None


def _check_range(contacts: list[Any], floor: str | None, ceiling: str | None) -> None:
    """The day filter is not in Apollo's reference (only seen working): fail loudly if it is ever ignored, since
    windows would then never advance."""
    for raw in contacts[:1] + contacts[-1:]:
        day = str(raw.get("updated_at") or "")[:10] if isinstance(raw, dict) else ""
        if day and ((floor and day < floor) or (ceiling and day > ceiling)):
            raise ProviderError(PROVIDER, f"contacts/search ignored contact_updated_at_range ({floor}..{ceiling}) and "
                                f"returned a contact updated on {day}; the incremental pull relies on it. Report this "
                                "(Apollo changed its API).")


def _day_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


def _day_after(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _hint(exc: ProviderError) -> str:
    if exc.status == 401:
        return "set plugins.apollo.api_key to a master API key from Apollo (Settings > Integrations > API)"
    if exc.status == 403:
        return "the key lacks access to contacts/search, or the plan is not a paid plan"
    return "check plugins.apollo.base_url and the network; see the message"
