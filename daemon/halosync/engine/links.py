"""Links from source records to the sink record their identity got, written in the transaction that learned it.

A create that succeeded, and a create that found its identity already had a record (``existing``), both end the
same way: every staged lead resolved to the identity that has no link in that sink yet gets one. The first lead of
a new record is its origin; the others, and every lead of a record that was there before, are merges.
"""

from __future__ import annotations

from typing import Any

from halosync.engine.index import chunks, tuples
from halosync.engine.ledger import Ledger
from halosync.engine.sql import insert_rows
from halosync.plugin.host import LeadEvent
from halosync.store.models import Link, StagedLead


def link_leads(sink: str, kind: str, sink_of: dict[int, str], ledger: Ledger, now: float, *,
               existed: bool = False) -> int:
    """Link the leads of each entity in ``sink_of`` (entity id -> sink id); ``existed``: the records were there
    before this write (found by another path), so no lead is their origin. Returns the links written."""
    company = kind == "company"
    owner = StagedLead.company_id if company else StagedLead.person_id
    leads: list[tuple[Any, ...]] = []
    for part in chunks(list(sink_of)):
        leads += tuples(StagedLead.select(StagedLead.source, StagedLead.source_id, owner).where(
            owner.in_(part)).order_by(StagedLead.id))
    linked: set[tuple[str, str]] = set()
    for source in {lead[0] for lead in leads}:  # (source, source_id, ...) leads the index: queries use it
        for part in chunks([lead[1] for lead in leads if lead[0] == source]):
            linked.update(tuples(Link.select(Link.source, Link.source_id).where(
                Link.source == source, Link.source_id.in_(part), Link.sink == sink, Link.kind == kind)))
    first: set[int] = set()
    if existed:  # a record someone else's link or an adoption got first: every new link is a merge
        first = set(sink_of)
    rows = []
    for source, source_id, entity_id in leads:
        if (source, source_id) in linked:
            continue
        sink_id, merged = sink_of[entity_id], entity_id in first
        first.add(entity_id)
        rows.append({"source": source, "source_id": source_id, "sink": sink, "kind": kind,
                     "sink_id": sink_id, "entity_id": entity_id, "merged": merged, "created_at": now})
        ledger.trace(source, source_id, "linked", sink=sink, kind=kind, sink_id=sink_id, merged=merged)
        if not company:
            if merged:
                ledger.count("merged")
            ledger.events.append(("synced", LeadEvent(source, source_id, sink,
                                                      "merged" if merged else "created", sink_id)))
    insert_rows(Link, rows, ignore_conflicts=True)
    return len(rows)
