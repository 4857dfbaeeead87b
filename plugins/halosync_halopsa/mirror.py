"""Listing HaloPSA's clients, users and opportunities for the daemon's mirror, in large pages.

HaloPSA has no "modified since" filter for these collections, so the watermark (opaque to the daemon) is
``<highest id seen>@<epoch of the last full listing>``:

- a full listing goes through the collection in id order, oldest first; every page's watermark carries the
  highest id so far, so an interrupted listing resumes cheaply. It runs when there is no watermark, and again
  once ``mirror_full_refresh`` seconds have passed since the last one, to pick up records people changed;
- in between, an incremental listing reads the newest pages until it reaches ids it has seen and yields them
  oldest first; only its last page moves the watermark (the others repeat ``since``), so an interruption never
  skips a record. HaloPSA's webhooks can bring changes sooner.

HaloPSA may cut a page below the size asked for (opportunities at 100); the end of a listing is the record count
it reports, or an empty page, never a short page.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from halosync.contracts import EntityKind, MirrorPage
from halosync_halopsa.lookup import MAX_PAGES, Lookup
from halosync_halopsa.records import ENDPOINTS, to_sink_record


def parse_watermark(mark: str | None) -> tuple[int, float] | None:
    """``"2500@1764430000"`` -> ``(2500, 1764430000.0)``; None for anything else."""
    highest, _, full_at = (mark or "").partition("@")
    try:
        return int(highest), float(full_at or 0)
    except ValueError:
        return None


async def list_records(lookup: Lookup, kind: EntityKind, since: str | None,
                       full_every: float) -> AsyncIterator[MirrorPage]:
    size = min(lookup.page_size, ENDPOINTS[kind].max_page_size or lookup.page_size)
    mark = parse_watermark(since)
    now = time.time()
    if mark is None or now - mark[1] >= full_every:
        async for page in _full(lookup, kind, size, now):
            yield page
    else:
        async for page in _newer_than(lookup, kind, size, *mark):
            yield page


async def _full(lookup: Lookup, kind: EntityKind, size: int, started: float) -> AsyncIterator[MirrorPage]:
    highest = 0
    async for records in lookup.pages(kind, size, order="id"):
        highest = max(highest, *(int(r["id"]) for r in records))
        yield MirrorPage([to_sink_record(kind, r) for r in records], watermark=f"{highest}@{started:.0f}")


async def _newer_than(lookup: Lookup, kind: EntityKind, size: int, since: int,
                      full_at: float) -> AsyncIterator[MirrorPage]:
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
