"""The Lusha source: contact lists polled whole and diffed against the last poll.

Lusha's ``GET /v3/contacts/tables/{id}/entities?page=&size=`` has no "updated since" filter and promises no order
(the fake shuffles it when the list changes, and on purpose per request), so every poll reads each configured list
page by page and compares it with the cursor (``cursor.py``):

- a member whose content hash is new or changed is staged; an unchanged one is not;
- a member seen twice in one poll (pages shift when the order changes) is staged at most once;
- when a pass ends with fewer distinct members seen than Lusha's ``total``, the list is read again (up to
  ``MAX_PASSES`` passes) so that a member the shifting pages hid is still found;
- a member a *complete* poll (every one of ``total`` seen) no longer finds has left the list: it is dropped from
  the cursor, counted in ``last_poll["removed"]`` and logged. Its record in the sink is left alone (a list
  membership is not a deletion), and if it comes back it is staged again;
- a member who opted out through the webhook is on halosync's suppression list (``webhook.py``), which keeps
  it out of every sink; one listed in a ``lusha-opt-outs.json`` left by an earlier version (``optouts.py``, read
  once, never written) is staged with the do-not-contact signal instead.

Every page's ``SourcePage`` carries the cursor after it, committed with its leads, so a crash resumes at the next
page of the same pass and neither loses a member nor mistakes an unseen one for removed.

Each list read costs Lusha credits per row exported: keep ``interval`` as long as the lists' freshness allows.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from pathlib import Path
from typing import Any

import httpx
from loguru import logger

from halosync.plugin import CheckResult, Lead, ProviderError, RateWindow, Rejected, SourcePage
from halosync_lusha.client import PROVIDER, LushaClient
from halosync_lusha.cursor import Cursor, Run
from halosync_lusha.mapping import content_hash, entity_id, to_lead
from halosync_lusha.optouts import OptOuts, OptOutStore
from halosync_lusha.settings import LushaSettings

ROUTE = "contacts/tables/entities"
FIRST_PAGE = 0  # ASSUMED: Lusha's paged APIs count pages from 0
MAX_PASSES = 3


def entities_path(list_id: str) -> str:
    return f"/v3/contacts/tables/{list_id}/entities"


class LushaSource:
    name = "lusha"

    def __init__(self, settings: LushaSettings, state_dir: Path, *, clock: Callable[[], float] = time.time,
                 transport: httpx.AsyncBaseTransport | None = None, backoff_base: float = 1.0) -> None:
        self.settings = settings
        self.client = LushaClient(settings, clock=clock, transport=transport, backoff_base=backoff_base)
        self.optouts = OptOutStore.in_dir(state_dir)
        self._legacy: OptOuts | None = None
        self.last_poll: dict[str, int] = {}

    # --- Source protocol -------------------------------------------------------------------------------

    async def pull(self, cursor: str | None, *, full: bool = False) -> AsyncIterator[SourcePage]:
        """Every configured list, read whole; the members added or changed since the last poll are staged.
        ``full`` forgets the last poll: every member is staged again."""
        state = Cursor() if full else Cursor.decode(cursor)
        for gone in [lid for lid in state.members if lid not in self.settings.list_ids]:
            logger.info("lusha: list {} is no longer in plugins.lusha.list_ids; forgetting its members", gone)
            del state.members[gone]
        if state.run is not None and state.run.list_id not in self.settings.list_ids:
            state.run, state.done = None, []
        self.last_poll = dict.fromkeys(("added", "changed", "unchanged", "removed", "rejected", "passes"), 0)
        for list_id in self.settings.list_ids:
            if list_id in state.done:
                continue
            if state.run is None or state.run.list_id != list_id:
                state.run = Run(list_id, FIRST_PAGE)
            async with aclosing(self._read_list(state, state.run)) as pages:
                async for page in pages:
                    yield page
            state.done.append(list_id)
        state.run, state.done = None, []
        logger.info("lusha: poll done: {added} added, {changed} changed, {unchanged} unchanged, {removed} left "
                    "their lists, {rejected} rejected", **self.last_poll)
        yield SourcePage([], state.encode())  # the poll is complete: the next one starts from the first list

    async def _read_list(self, state: Cursor, run: Run) -> AsyncGenerator[SourcePage, None]:
        list_id, size = run.list_id, self.settings.page_size
        members = state.members.setdefault(list_id, {})
        total: int | None = None
        while True:
            data = await self.client.get(entities_path(list_id), {"page": run.page, "size": size}, route=ROUTE)
            entities, total = _entities_of(data, list_id)
            opted = self._legacy_optouts()
            leads: list[Lead] = []
            rejected: list[Rejected] = []
            for entity in entities:
                ident = entity_id(entity)
                if ident is not None and ident in run.seen:
                    continue  # already read in this poll: the order shifted between pages
                email = _email_of(entity)
                item = to_lead(entity, list_id, opted_out=opted.covers(ident, email))
                if ident is None:
                    rejected.append(item if isinstance(item, Rejected) else Rejected(None, "no id", {}))
                    self.last_poll["rejected"] += 1
                    continue
                run.seen.add(ident)
                digest = content_hash(item)
                old = members.get(ident)
                if old == digest:
                    self.last_poll["unchanged"] += 1
                    continue
                members[ident] = digest
                self.last_poll["changed" if old is not None else "added"] += 1
                if isinstance(item, Rejected):
                    rejected.append(item)
                    self.last_poll["rejected"] += 1
                else:
                    leads.append(item)
            if state.size() > self.settings.max_entities:
                raise ProviderError(PROVIDER, f"the lists hold more than {self.settings.max_entities:,} members "
                                    "(plugins.lusha.max_entities), which bounds what the cursor remembers; raise it "
                                    "or sync fewer or smaller lists")
            run.page += 1
            last = not entities or len(entities) < size or (total is not None and (run.page - FIRST_PAGE) * size
                                                            >= total)
            if last and total is not None and len(run.seen) < total and run.passes < MAX_PASSES:
                logger.info("lusha: list {}: a pass saw {} of {} members (the order changed while paging); "
                            "reading it again", list_id, len(run.seen), total)
                run.passes += 1
                run.page = FIRST_PAGE
                last = False
            if last:
                self.last_poll["passes"] += run.passes
                self._settle(state, run, total)
            yield SourcePage(leads, state.encode(), rejected)
            if last:
                return

    def _settle(self, state: Cursor, run: Run, total: int | None) -> None:
        """End of a list: a member not seen by a complete poll has left it."""
        members = state.members[run.list_id]
        if total is not None and len(run.seen) < total:
            logger.warning("lusha: list {}: {} passes saw {} of its {} members; none is taken for removed this "
                           "poll, and the rest are read at the next one", run.list_id, run.passes, len(run.seen),
                           total)
            return
        gone = [ident for ident in members if ident not in run.seen]
        for ident in gone:
            del members[ident]
        if gone:
            self.last_poll["removed"] += len(gone)
            logger.info("lusha: list {}: {} member(s) left the list (their records in the sinks stay)", run.list_id,
                        len(gone))

    def _legacy_optouts(self) -> OptOuts:
        if self._legacy is None:  # the file is never written now: read once (it raises when unreadable)
            self._legacy = self.optouts.load()
            if self._legacy.ids or self._legacy.emails:
                logger.info("lusha: {} (from an earlier version) holds {} contact ids and {} e-mail digests of "
                            "opt-outs; those members keep the do-not-contact signal", self.optouts.path,
                            len(self._legacy.ids), len(self._legacy.emails))
        return self._legacy

    async def checks(self) -> list[CheckResult]:
        results = []
        for list_id in self.settings.list_ids:
            try:
                data = await self.client.get(entities_path(list_id), {"page": FIRST_PAGE, "size": 1}, route=ROUTE)
                _, total = _entities_of(data, list_id)
            except ProviderError as exc:
                results.append(CheckResult(f"lusha.list.{list_id}", "fail", str(exc), _hint(exc)))
                if exc.status == 401:
                    return results
                continue
            results.append(CheckResult(f"lusha.list.{list_id}", "pass",
                                       f"{self.client.host} serves list {list_id} ({total} members)"))
        for window in self.rate_limits():
            if window.limit and window.remaining is not None and window.remaining < window.limit * 0.1:
                results.append(CheckResult(f"lusha.quota.{window.window}", "warn",
                                           f"{window.remaining} of {window.limit} requests left this {window.window}",
                                           "pulls wait for the window to reset; a bigger Lusha plan raises it"))
        return results

    def rate_limits(self) -> list[RateWindow]:
        return self.client.rate_windows()

    async def aclose(self) -> None:
        await self.client.aclose()


def _email_of(entity: Any) -> str | None:
    emails = entity.get("emailAddresses") if isinstance(entity, dict) else None
    if isinstance(emails, list):
        for item in emails:
            if isinstance(item, dict) and isinstance(item.get("email"), str):
                return str(item["email"])
    return None


def _entities_of(data: Any, list_id: str) -> tuple[list[Any], int | None]:
    """The members of one page and the list's total. ASSUMED shape: ``{"data": [...], "total": N}`` (also read:
    ``entities`` for the list and ``pagination.total`` / ``totalCount`` for the total)."""
    if isinstance(data, dict):
        entities = data.get("data", data.get("entities"))
        if isinstance(entities, list):
            pagination = data.get("pagination")
            total = data.get("total", data.get("totalCount"))
            if total is None and isinstance(pagination, dict):
                total = pagination.get("total")
            return entities, total if isinstance(total, int) and not isinstance(total, bool) else None
    raise ProviderError(PROVIDER, f"list {list_id}: Lusha answered without a list of members; it may have changed "
                        "its API: report this to halosync_lusha with the answer logged at debug level")


def _hint(exc: ProviderError) -> str:
    if exc.status == 401:
        return "set plugins.lusha.api_key to the key in Lusha (Settings > API)"
    if exc.status == 403:
        return "the plan has no API access to contact lists (Premium or Scale)"
    if exc.status == 404:
        return "check plugins.lusha.list_ids: the id is in the list's URL in Lusha"
    return "check plugins.lusha.base_url and the network; see the message"
