"""The Apollo source: an incremental pull of the team's contacts in ``contact_updated_at`` order.

Apollo has no documented "updated since" filter, shows at most 50,000 records of any search (100 per page x 500
pages), orders contacts that share an ``updated_at`` however it likes (differently on each request), and has no
delete signal. So:

- The cursor is a boundary timestamp plus the ids staged at it (``cursor.py``); every request starts just before
  the boundary's tie group and reads it whole again, de-duplicated by id; a group larger than a page is read in
  passes until a count proves it whole (``scan.py``, ``pages.py``). Repeats are harmless: staging leaves a lead
  whose content did not change alone.
- ``contact_updated_at_range`` (undocumented, UTC days) is used only after a probe proved that Apollo honours it
  (once per source start, i.e. per daemon start or reload; also re-checked on every answer). With it, the pull
  reads windows ``[day, ...)`` and starts a new window at the boundary's day when one reaches the display limit;
  a single UTC day holding more than 50,000 contacts past the cursor cannot be reached and raises
  ``IncompletePull``. Without it (the fallback), the pull scans the whole sorted list: it reaches 50,000 contacts
  past page 1 and raises ``IncompletePull`` beyond that (narrow the pull with label_ids or stage_ids).
- Deleted contacts are never seen (Apollo sends no signal and a deleted contact simply stops appearing). A
  deletion in Apollo therefore means nothing for HaloPSA: the user and client made for it stay, with their link.
  Only a full pull (``halosyncctl sync --source apollo --full``) reads every contact again.

Each ``SourcePage`` carries the boundary after its leads; the engine commits them together, so a crash resumes
at the last committed boundary and re-reads its group, never past an unstaged lead.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
from loguru import logger

from halosync.plugin import CheckResult, IncompletePull, ProviderError, RateWindow, SharedQuotas, SourcePage
from halosync_apollo.client import PROVIDER, ApolloClient
from halosync_apollo.cursor import Boundary
from halosync_apollo.enrichment import ApolloEnrichment, EnrichmentTokens
from halosync_apollo.scan import ListScan, ScanState
from halosync_apollo.settings import ApolloSettings

SEARCH = "contacts/search"
DISPLAY_LIMIT = 50_000
STRETCH_TRIES = 2  # an unproven stretch is read once more before the pull fails


class RangeIgnored(Exception):
    """An answer held a contact outside ``contact_updated_at_range``: Apollo ignores it (now)."""


class ApolloSource:
    name = "apollo"

    def __init__(self, settings: ApolloSettings, *, clock: Callable[[], float] = time.time,
                 transport: httpx.AsyncBaseTransport | None = None, backoff_base: float = 0.5,
                 shared: SharedQuotas | None = None) -> None:
        self.settings = settings
        self.client = ApolloClient(settings, clock=clock, transport=transport, backoff_base=backoff_base,
                                   shared=shared)
        self.display_limit = DISPLAY_LIMIT  # lowered if Apollo answers "over threshold" earlier
        self.range_honoured: bool | None = None  # the probe's verdict on contact_updated_at_range; None: not yet
        # Phone enrichment by webhook (optional feature): None unless enrichment_webhooks is on.
        self.enrichment = ApolloEnrichment(self.client, EnrichmentTokens(settings.api_key), settings.public_base_url) \
            if settings.enrichment_webhooks else None

    # --- Source protocol -------------------------------------------------------------------------------

    async def pull(self, cursor: str | None, *, full: bool = False) -> AsyncIterator[SourcePage]:
        """Every contact updated at or after the cursor's boundary (all of them when ``full``), oldest first.

        Complete whatever order Apollo gives tied contacts and while contacts are edited or deleted: a contact
        that exists for the whole pull is staged at least once, an edited one in its state at some point of the
        pull (or the next pull, if edited after the pull read past it). A stretch that cannot be proven complete
        is read again once; then the pull raises ``IncompletePull`` naming the boundary, after committing what it
        staged. Deleted contacts are not noticed (Apollo has no delete signal) and nothing is deleted in HaloPSA.
        """
        boundary = None if full else Boundary.decode(cursor)
        state = ScanState.from_cursor(boundary)
        if self.range_honoured is None:
            self.range_honoured = await self._probe()
        for attempt in range(1, STRETCH_TRIES + 1):
            try:
                async with aclosing(self._walk(state, boundary)) as pages:
                    async for page in pages:
                        yield page
                return
            except RangeIgnored:
                logger.warning("apollo: contacts/search stopped honouring contact_updated_at_range; the pull goes on "
                               "over the whole sorted list (it reaches {:,} contacts past the cursor)",
                               self.display_limit)
                self.range_honoured = False
            except IncompletePull as exc:
                if attempt == STRETCH_TRIES:
                    raise
                logger.warning("apollo: {}; reading that stretch again", exc)
            boundary = None  # the state holds the boundary now; its rank hint belongs to the list just read

    async def _walk(self, state: ScanState, boundary: Boundary | None) -> AsyncGenerator[SourcePage, None]:
        hint = boundary.rank_in("day" if self.range_honoured else "all") - 1 if boundary else -1
        if not self.range_honoured:
            scan = ListScan(partial(self._search, None), self.settings.per_page, lambda: self.display_limit,
                            "all", "the whole contact list (contact_updated_at_range is ignored)")
            async with aclosing(scan.scan(state, hint)) as pages:
                async for page in pages:
                    yield page
            if state.reached_limit:
                raise IncompletePull(PROVIDER, f"Apollo ignores contact_updated_at_range, so a search reaches only "
                                     f"{self.display_limit:,} contacts, and more than that are updated at or after "
                                     f"{state.at}. The pull staged what it reached; narrow it with label_ids or "
                                     "stage_ids in [plugins.apollo] so that each part holds fewer.",
                                     range_from=state.at)
            return
        while True:
            floor = state.at[:10] if state.at else None
            state.day_start = 0 if floor else None
            scan = ListScan(partial(self._search, floor), self.settings.per_page, lambda: self.display_limit,
                            "day", f"contacts updated from {floor or 'the start'}")
            async with aclosing(scan.scan(state, hint)) as pages:
                async for page in pages:
                    yield page
            if not state.reached_limit:
                return
            assert state.at is not None  # a window that reached the limit has read something
            if state.at[:10] == floor:
                raise IncompletePull(PROVIDER, f"more than {self.display_limit:,} contacts were updated on {floor} "
                                     f"at or after {state.at} and Apollo shows at most {self.display_limit:,} per "
                                     "search, so the rest of that day cannot be reached by date. Narrow the pull with "
                                     "label_ids or stage_ids in [plugins.apollo].", range_from=state.at)
            # The next window starts at the boundary's day, where the boundary group sits this far in.
            day_start = state.day_start
            hint = state.group_start - day_start - 1 if day_start is not None and state.group_start >= 0 else -1

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


    # --- searching -------------------------------------------------------------------------------------

    async def _probe(self) -> bool:
        """Whether Apollo honours ``contact_updated_at_range``: ask for contacts updated from the day after
        tomorrow; any answer proves the filter ignored. (With no contacts at all, the range is used and every
        answer is still checked.)"""
        future = (datetime.fromtimestamp(self.client.clock(), UTC) + timedelta(days=2)).date().isoformat()
        data = await self.client.call("POST", SEARCH, self._body(1, 1, future))
        contacts, _ = _contacts_of(data)
        honoured = not contacts
        if honoured:
            logger.info("apollo: contacts/search honours contact_updated_at_range; pulls read windows of days")
        else:
            logger.warning("apollo: contacts/search ignores contact_updated_at_range (it is not in Apollo's API "
                           "reference); pulls scan the whole sorted list and reach at most {:,} contacts past the "
                           "cursor", self.display_limit)
        return honoured

    def _body(self, page: int, per_page: int, day_min: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"sort_by_field": "contact_updated_at", "sort_ascending": True,
                                "page": page, "per_page": per_page}
        if day_min:
            body["contact_updated_at_range"] = {"min": day_min}
        if self.settings.label_ids:
            body["contact_label_ids"] = list(self.settings.label_ids)
        if self.settings.stage_ids:
            body["contact_stage_ids"] = list(self.settings.stage_ids)
        if self.settings.keywords:
            body["q_keywords"] = self.settings.keywords
        return body

    async def _search(self, day_min: str | None, page: int, per_page: int) -> tuple[list[Any], int | None] | None:
        """One page of the search and its ``total_entries``, or None when Apollo refuses the page as past its
        display limit (which is then learned)."""
        try:
            data = await self.client.call("POST", SEARCH, self._body(page, per_page, day_min))
        except ProviderError as exc:
            if exc.status == 422 and "over threshold" in str(exc) and page > 1:
                self.display_limit = min(self.display_limit, (page - 1) * per_page)
                return None
            raise
        contacts, total = _contacts_of(data)
        if day_min and any(str(c.get("updated_at") or "9")[:10] < day_min for c in contacts if isinstance(c, dict)):
            raise RangeIgnored(day_min)
        return contacts, total


def _contacts_of(data: Any) -> tuple[list[Any], int | None]:
    if not isinstance(data, dict) or not isinstance(data.get("contacts"), list):
        raise ProviderError(PROVIDER, "contacts/search answered without a contacts list; Apollo may have changed its "
                            "API: report this with the answer logged at debug level")
    pagination = data.get("pagination")
    total = pagination.get("total_entries") if isinstance(pagination, dict) else None
    return data["contacts"], total if isinstance(total, int) else None


def _hint(exc: ProviderError) -> str:
    if exc.status == 401:
        return "set plugins.apollo.api_key to a master API key from Apollo (Settings > Integrations > API)"
    if exc.status == 403:
        return "the key lacks access to contacts/search, or the plan is not a paid plan"
    return "check plugins.apollo.base_url and the network; see the message"
