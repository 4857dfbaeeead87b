"""Listing HaloPSA's clients, users and opportunities for the daemon's mirror, in large pages.

HaloPSA has no "modified since" filter for these collections, so the watermark (opaque to the daemon) is
``<highest id seen>@<epoch of the last full listing>``:

- a full listing goes through the collection in id order, oldest first; every page's watermark carries the
  highest id so far, so an interrupted listing resumes cheaply. It runs when there is no watermark, and again
  once ``mirror_full_refresh`` seconds have passed since the last one, to pick up records people changed;
- in between, an incremental listing reads the newest pages until it reaches ids it has seen and yields them
  oldest first; only its last page moves the watermark (the others repeat ``since``), so an interruption never
  skips a record. HaloPSA's webhooks can bring changes sooner.

HaloPSA cuts every page at 100 rows whatever ``page_size`` asks for, and whether page N then starts at row
(N-1) x 100 or at (N-1) x the size asked for is undocumented; so a listing never asks for more than 100
(``settings.PAGE_CAP``), and never works out a page count from the size it asked for. It ends at an empty page,
at the record count the instance reports, or at a short page: one with fewer rows than a page before it held
(not fewer than asked: an instance that cuts pages shorter still is followed to its real end).

Inactive clients and users are listed too (``includeinactive=true``, sent by ``Lookup.page``): a lead for a
deactivated contact must match it, not create it again. They are linked and left inactive; see the README.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import aclosing

from loguru import logger

from halosync.plugin import EntityKind, MirrorPage
from halosync_halopsa.lookup import MAX_PAGES, Lookup
from halosync_halopsa.records import ENDPOINTS, to_sink_record
from halosync_halopsa.settings import PAGE_CAP


def parse_watermark(mark: str | None) -> tuple[int, float] | None:
    """``"2500@1764430000"`` -> ``(2500, 1764430000.0)``; None for anything else."""
    highest, _, full_at = (mark or "").partition("@")
    try:
        return int(highest), float(full_at or 0)
    except ValueError:
        return None


async def list_records(lookup: Lookup, kind: EntityKind, since: str | None,
                       full_every: float) -> AsyncGenerator[MirrorPage, None]:
    size = min(lookup.page_size, ENDPOINTS[kind].max_page_size or PAGE_CAP, PAGE_CAP)
    mark = parse_watermark(since)
    now = time.time()
    if mark is None or now - mark[1] >= full_every:
        pages = _full(lookup, kind, size, now)
    else:
        pages = _newer_than(lookup, kind, size, *mark)
    async with aclosing(pages):
        async for page in pages:
            yield page


async def _full(lookup: Lookup, kind: EntityKind, size: int, started: float) -> AsyncGenerator[MirrorPage, None]:
    highest = listed = inactive = fullest = 0
    seen: set[int] = set()
    for page_no in range(1, MAX_PAGES):
        records, total = await lookup.page(kind, page_no, size, order="id")
        fresh = [r for r in records if int(r["id"]) not in seen]  # an instance that ignores page_no repeats
        if not fresh:
            break
        seen.update(int(r["id"]) for r in fresh)
        highest = max(highest, *(int(r["id"]) for r in fresh))
        listed, inactive = listed + len(fresh), inactive + sum(1 for r in fresh if r.get("inactive"))
        yield MirrorPage([to_sink_record(kind, r) for r in fresh], watermark=f"{highest}@{started:.0f}")
        if listed >= total or len(records) < fullest:  # the count is reached, or a page came back short
            break
        fullest = max(fullest, len(records))
    if inactive:
        logger.info("halopsa: the mirror holds {} inactive {} of {}; leads that match them are linked to them (and "
                    "left inactive), not created again", inactive, ENDPOINTS[kind].list_key, listed)


async def _newer_than(lookup: Lookup, kind: EntityKind, size: int, since: int,
                      full_at: float) -> AsyncGenerator[MirrorPage, None]:
    unchanged = f"{since}@{full_at:.0f}"
    pending: list[MirrorPage] = []
    highest = since
    for page_no in range(1, MAX_PAGES):
        records, _ = await lookup.page(kind, page_no, size, order="id", orderdesc="true")
        newer = [r for r in records if int(r["id"]) > since]
        highest = max(highest, *(int(r["id"]) for r in newer), 0)
        if newer:
            pending.append(MirrorPage([to_sink_record(kind, r) for r in reversed(newer)], watermark=unchanged))
        if len(newer) < len(records) or not records:
            break
    if not pending:
        yield MirrorPage([], watermark=unchanged)
        return
    for page in reversed(pending[1:]):
        yield page
    yield MirrorPage(pending[0].records, watermark=f"{highest}@{full_at:.0f}")
