"""Listing HaloPSA's clients, users and opportunities for the daemon's mirror, in large pages.

A full listing goes through the collection in id order, oldest first; every page's watermark is the highest id
seen so far, so an interrupted listing resumes cheaply. An incremental one (``since`` = a watermark) reads the
newest pages until it reaches records it has seen, and yields them oldest first; only its last page moves the
watermark (the others repeat ``since``), so an interruption never skips a record. HaloPSA has no "modified
since" filter for these collections: changes to old records are picked up by the daemon's periodic full
refresh and by HaloPSA's webhooks.

HaloPSA may cut a page below the size asked for (opportunities at 100); the end of a listing is the record count
it reports, or an empty page, never a short page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from halosync.contracts import EntityKind, MirrorPage
from halosync_halopsa.lookup import Lookup
from halosync_halopsa.records import ENDPOINTS, to_sink_record

MAX_PAGES = 100_000  # a bound on any loop over pages; far beyond any real instance


async def list_records(lookup: Lookup, kind: EntityKind, since: str | None) -> AsyncIterator[MirrorPage]:
    size = min(lookup.page_size, ENDPOINTS[kind].max_page_size or lookup.page_size)
    if since is None or not since.isdigit():
        async for page in _full(lookup, kind, size):
            yield page
    else:
        async for page in _newer_than(lookup, kind, size, int(since)):
            yield page


async def _full(lookup: Lookup, kind: EntityKind, size: int) -> AsyncIterator[MirrorPage]:
    seen, highest = 0, 0
    for page_no in range(1, MAX_PAGES):
        records, total = await lookup.page(kind, page_no, size, order="id")
        if not records:
            break
        seen += len(records)
        highest = max(highest, *(int(r["id"]) for r in records))
        yield MirrorPage([to_sink_record(kind, r) for r in records], watermark=str(highest))
        if seen >= total:
            break


async def _newer_than(lookup: Lookup, kind: EntityKind, size: int, since: int) -> AsyncIterator[MirrorPage]:
    pending: list[MirrorPage] = []
    highest = since
    for page_no in range(1, MAX_PAGES):
        records, _ = await lookup.page(kind, page_no, size, order="id", orderdesc="true")
        newer = [r for r in records if int(r["id"]) > since]
        highest = max(highest, *(int(r["id"]) for r in newer), 0)
        done = len(newer) < len(records) or not records
        if newer:
            pending.append(MirrorPage([to_sink_record(kind, r) for r in reversed(newer)], watermark=str(since)))
        if done:
            break
    if not pending:
        yield MirrorPage([], watermark=str(highest))
        return
    for page in reversed(pending[1:]):
        yield page
    last = pending[0]
    yield MirrorPage(last.records, watermark=str(highest))
