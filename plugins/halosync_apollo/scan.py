"""The scan of one offset-paged list (fixed filters), ascending by ``contact_updated_at``, from a boundary.

Each request starts just before the first contact of the boundary's tie group (see ``pages.py``), so the group is
read whole in one answer and de-duplicated by id; nothing relies on the order of ties. A tie group too large for
one page cannot be read in one consistent answer: it is read in *passes* (every page from the contact before the
group to the first contact after it) until a count proves it whole: two passes in a row that measure the same
group extent (first index ``lo``, end ``hi``) show that no member left or moved in between (members only ever leave,
by an edit or a delete, and an edit of an earlier contact moves ``lo``), so the ids seen in the later passes are all
of it once there are ``hi - lo`` of them. Shuffled ties just need more passes; a bound turns a group that never
adds up into an ``IncompletePull``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from halosync.plugin import IncompletePull, Lead, Rejected, SourcePage
from halosync_apollo.cursor import Boundary
from halosync_apollo.pages import Row, last_page, plan_page, rejected_digest, rows_of, starts_before

# (page, per_page) -> (contacts, total_entries), or None when Apollo's display limit turned out lower (replan)
Fetch = Callable[[int, int], Awaitable[tuple[list[Any], int | None] | None]]
MAX_STEPS_BACK = 40  # requests in a row that found the list moved under them
MAX_PASSES = 24  # passes over one tie group larger than a page


@dataclass
class ScanState:
    """Where a pull is; shared by the windows of one pull."""

    at: str | None = None  # the boundary: every contact updated before it is staged
    seen: set[str] = field(default_factory=set)  # ids staged at exactly ``at``
    complete: bool = False  # every contact at ``at`` is staged
    day_start: int | None = None  # index where the boundary's day starts in the current list
    group_start: int = -1  # index of the boundary group's first contact in the current list (-1: unknown)
    group_end: int = -1  # index just past the boundary group, once a big group is proven whole
    undated: set[str] = field(default_factory=set)  # leads without updated_at, emitted once a pull
    rejected_seen: set[str] = field(default_factory=set)
    reached_limit: bool = False
    requests: int = 0
    yielded: int = 0  # leads and rejected records yielded by this pull so far
    expected: int | None = None  # how many the whole pull should yield, from total_entries (progress only)

    @classmethod
    def from_cursor(cls, boundary: Boundary | None) -> ScanState:
        if boundary is None:
            return cls()
        return cls(at=boundary.at, seen=set(boundary.seen or ()))

    def cursor(self, kind: str) -> str | None:
        if self.at is None:
            return None
        rank = self.group_start - self.day_start if kind == "day" and self.day_start is not None else \
            self.group_start if kind == "all" else -1
        return Boundary(self.at, frozenset(self.seen), rank if self.group_start >= 0 else -1, kind).encode()


class ListScan:
    def __init__(self, fetch: Fetch, per_page: int, display_limit: Callable[[], int], kind: str,
                 describe: str) -> None:
        self.fetch, self.per_page, self.display_limit = fetch, per_page, display_limit
        self.kind = kind  # "day": the list starts at the boundary's day; "all": the unfiltered list
        self.describe = describe  # the list, for messages

    async def scan(self, state: ScanState, expected: int) -> AsyncGenerator[SourcePage, None]:
        """Every contact of the list after the boundary, as pages carrying the cursor. ``expected`` is the index
        of a contact believed to sort before the boundary group (-1: start at offset 0). Sets
        ``state.reached_limit`` when Apollo's display limit stops the list before its end."""
        state.reached_limit = False
        steps_back = 0
        estimated = False
        while True:
            plan = plan_page(expected, self.per_page, self.display_limit())
            if plan is None:
                state.reached_limit = True
                return
            answer = await self._get(state, *plan)
            if answer is None:
                continue
            contacts, total, start = answer
            if not estimated and total is not None:
                # This list holds ``total`` contacts and the scan reads on from ``start``: what this pull should
                # still yield (a re-read tie group makes it a slight overestimate, which the end corrects).
                state.expected, estimated = state.yielded + max(0, total - start), True
            rows = rows_of(contacts, start)
            if not starts_before(rows, start, state.at, state.complete):
                steps_back += 1  # contacts before us were edited or deleted: the list moved up under us
                if steps_back > MAX_STEPS_BACK:
                    raise self._incomplete(state, "the list kept moving under every request")
                expected = max(-1, start - self.per_page * 2 ** min(steps_back - 1, 8))
                continue
            page = self._stage(rows, state)
            if page.leads or page.rejected:
                yield self._page(page, state)
            if last_page(contacts, start, plan[1], total):
                state.complete = True
                return
            # The next request starts at the last contact proven to sort before the (new) boundary group.
            at = state.at or ""
            before = [r.index for r in rows if r.key is not None and (r.key < at or (state.complete and r.key == at))]
            if before and before[-1] > expected:
                expected, steps_back = before[-1], 0
                continue
            # The boundary group fills the page from where we knew it to start: larger than a page can show.
            async with aclosing(self._big_group(state)) as group_pages:
                async for group_page in group_pages:
                    yield group_page
            if state.reached_limit:
                return
            expected, steps_back = state.group_end - 1, 0  # its last member: a page starting there is proven

    def _stage(self, rows: list[Row], state: ScanState) -> SourcePage:
        leads: list[Lead] = []
        rejected: list[Rejected] = []
        previous: str | None = None
        for row in rows:
            if isinstance(row.item, Rejected):
                digest = rejected_digest(row.item)
                if digest not in state.rejected_seen:
                    state.rejected_seen.add(digest)
                    rejected.append(row.item)
            elif row.key is None:
                if row.item.source_id not in state.undated:
                    state.undated.add(row.item.source_id)
                    leads.append(row.item)
            elif state.at is None or row.key > state.at:
                if state.at is None or row.key[:10] != state.at[:10]:
                    # a new day starts here only if the contact before it is on this page (or there is none)
                    state.day_start = row.index if previous is not None or row.index == 0 else None
                state.at, state.seen, state.complete, state.group_start = row.key, {row.item.source_id}, False, \
                    row.index if previous is not None or row.index == 0 else -1
                leads.append(row.item)
            elif row.key == state.at:
                if previous is not None and previous < row.key:
                    state.group_start = row.index  # the group's first contact, as this answer places it
                if row.item.source_id not in state.seen:
                    state.seen.add(row.item.source_id)
                    leads.append(row.item)
            if row.key is not None:
                previous = row.key
        return SourcePage(leads, None, rejected)

    def _page(self, page: SourcePage, state: ScanState) -> SourcePage:
        state.yielded += len(page.leads) + len(page.rejected)
        expected = max(state.expected, state.yielded) if state.expected is not None else None
        return SourcePage(page.leads, state.cursor(self.kind), page.rejected, total=expected)

    async def _get(self, state: ScanState, page: int, size: int) -> tuple[list[Any], int | None, int] | None:
        state.requests += 1
        answer = await self.fetch(page, size)
        return None if answer is None else (answer[0], answer[1], (page - 1) * size)

    # --- a tie group larger than a page ----------------------------------------------------------------

    async def _big_group(self, state: ScanState) -> AsyncGenerator[SourcePage, None]:
        """Read the boundary group in passes until a count proves it whole (see the module docstring)."""
        at = state.at
        assert at is not None
        passes: list[tuple[int, int, set[str]]] = []
        lo_guess = max(state.group_start, 0)
        for _ in range(MAX_PASSES + MAX_STEPS_BACK):
            if len(passes) >= MAX_PASSES:
                break
            result: tuple[int, int, set[str]] | None = None
            async with aclosing(self._group_pass(state, at, lo_guess)) as items:
                async for item in items:
                    if isinstance(item, SourcePage):
                        yield item
                    else:
                        result = item
            if result is None:  # moved under the pass or stopped by the display limit
                if state.reached_limit:
                    return
                lo_guess = max(0, lo_guess - self.per_page)
                continue
            passes.append(result)
            lo, hi, _ = result
            lo_guess = lo
            stable = 1
            while stable < len(passes) and passes[-stable - 1][:2] == (lo, hi):
                stable += 1
            if stable >= 2:
                union = set().union(*(ids for _, _, ids in passes[-stable + 1:]))
                if len(union) >= hi - lo:
                    state.complete, state.group_start, state.group_end = True, lo, hi
                    return
        size = f"{passes[-1][1] - passes[-1][0]:,} " if passes else ""
        raise self._incomplete(state, f"its {size}contacts sharing one updated_at did not add up in "
                               f"{len(passes)} passes over them")

    async def _group_pass(self, state: ScanState, at: str,
                          lo_guess: int) -> AsyncGenerator[SourcePage | tuple[int, int, set[str]], None]:
        """One pass over the group at ``at``: yields pages of newly seen members, then ``(lo, hi, ids seen)``;
        yields no tuple when the list moved (the first page does not start before the group)."""
        plan = plan_page(lo_guess - 1, self.per_page, self.display_limit())
        if plan is None:
            state.reached_limit = True
            return
        page_no, size = plan
        lo: int | None = None
        ids: set[str] = set()
        while True:
            if page_no * size > self.display_limit():
                state.reached_limit = True
                return
            answer = await self._get(state, page_no, size)
            if answer is None:
                return
            contacts, total, start = answer
            rows = rows_of(contacts, start)
            if lo is None and not starts_before(rows, start, at, False):
                return
            fresh: list[Lead] = []
            for row in rows:
                if row.key is None or row.key > at:
                    if lo is None:
                        lo = row.index  # the group is empty now
                    if fresh:
                        yield self._page(SourcePage(fresh, None), state)
                    yield lo, row.index, ids
                    return
                if row.key == at and isinstance(row.item, Lead):
                    lo = row.index if lo is None else lo
                    ids.add(row.item.source_id)
                    if row.item.source_id not in state.seen:
                        state.seen.add(row.item.source_id)
                        fresh.append(row.item)
            if fresh:
                yield self._page(SourcePage(fresh, None), state)
            if last_page(contacts, start, size, total):
                end = start + len(contacts)
                yield (end if lo is None else lo), end, ids
                return
            page_no += 1

    def _incomplete(self, state: ScanState, why: str) -> IncompletePull:
        return IncompletePull("apollo", f"the pull of {self.describe} could not prove it saw every contact from "
                              f"updated_at {state.at or 'the start'}: {why}. Nothing past that point was "
                              "skipped silently; the next poll tries again from there. If this repeats, narrow the "
                              "pull with label_ids or stage_ids in [plugins.apollo].", range_from=state.at)
