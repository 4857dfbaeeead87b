"""Links, the pipeline's last step (pull -> staging -> identity -> planner -> outbox -> workers -> links): from
source records to the sink record their identity got, written in the transaction that learned it. The only writer
of table link, and the only place merges are counted.

Three moments write them:

- ``link_planned``: the planner planned a lead against a sink record its identity already has (an update, or
  nothing to change); a link is a merge when that record existed before this source record (adopted from the
  mirror, or linked to another one).
- ``link_leads``: a create that succeeded, and a create that found its identity already had a record
  (``existing``), both end the same way: every staged lead resolved to the identity that has no link in that sink
  yet gets one. The first lead of a new record is its origin; the others, and every lead of a record that was there
  before, are merges.
- ``link_opportunities``: an opportunity written, linked from the source record whose person create planned it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from halosync.contracts import LeadEvent, WriteOp
from halosync.engine.index import chunks, tuples
from halosync.engine.ledger import Ledger
from halosync.engine.sql import insert_rows, select_in
from halosync.store.models import Link, Outbox, StagedLead


@dataclass
class LinkIntent:
    """A source record planned against an existing sink record (``link_planned`` says whether it merged)."""

    source: str
    source_id: str
    sink: str
    kind: str
    entity_id: int
    sink_id: str
    diff: dict[str, list[Any]]
    adopted: bool  # the identity's record in this sink came from the mirror in this batch
    merged: bool = False


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


def link_planned(intents: list[LinkIntent], ledger: Ledger, now: float) -> list[LinkIntent]:
    """Link source records to the existing sink records they were planned against; returns ``intents`` with
    ``merged`` set. A link is a merge when the sink record existed before this source record: adopted from the
    mirror, or linked to another one."""
    if not intents:
        return intents
    linked: set[tuple[str, str, str, str]] = set()
    taken: set[tuple[str, str, str]] = set()
    # Every lookup names the leading columns of an index: (source, source_id, ...) and (sink, kind, sink_id).
    for source in {i.source for i in intents}:
        linked.update(select_in(Link, ("source", "source_id", "sink", "kind"), "source_id", sorted(
            {i.source_id for i in intents if i.source == source}), {"source": source}))
    for sink, kind in {(i.sink, i.kind) for i in intents}:
        taken.update(select_in(Link, ("sink", "kind", "sink_id"), "sink_id", sorted(
            {i.sink_id for i in intents if (i.sink, i.kind) == (sink, kind)}), {"sink": sink, "kind": kind}))
    rows: list[dict[str, Any]] = []
    for i in intents:
        if (i.source, i.source_id, i.sink, i.kind) not in linked:
            i.merged = i.adopted or (i.sink, i.kind, i.sink_id) in taken
            linked.add((i.source, i.source_id, i.sink, i.kind))
            taken.add((i.sink, i.kind, i.sink_id))
            rows.append({"source": i.source, "source_id": i.source_id, "sink": i.sink, "kind": i.kind,
                         "sink_id": i.sink_id, "entity_id": i.entity_id, "merged": i.merged, "created_at": now})
            ledger.trace(i.source, i.source_id, "linked", sink=i.sink, kind=i.kind, sink_id=i.sink_id,
                         merged=i.merged)
        action = "merge" if i.merged else "update" if i.diff else "none"
        ledger.trace(i.source, i.source_id, "planned", sink=i.sink, kind=i.kind, action=action, diff=i.diff)
        if i.kind != "person":
            continue
        if i.merged:
            ledger.count("merged")
            ledger.events.append(("synced", LeadEvent(i.source, i.source_id, i.sink, "merged", i.sink_id)))
        elif not i.diff:
            ledger.count("skipped")
            ledger.events.append(("synced", LeadEvent(i.source, i.source_id, i.sink, "skipped", i.sink_id)))
    insert_rows(Link, rows, ignore_conflicts=True)
    return intents


def link_opportunities(sink: str, kind: str, done: Sequence[tuple[Outbox, WriteOp, str]], ledger: Ledger,
                       now: float) -> None:
    """Opportunities written: a link from the source record behind each (the one whose person create planned it;
    duplicates merged into that person share the person's links)."""
    rows = []
    for row, _, sid in done:
        source, source_id = row.source or "", row.source_id or ""
        rows.append({"source": source, "source_id": source_id, "sink": sink, "kind": kind, "sink_id": sid,
                     "entity_id": row.entity_id, "merged": False, "created_at": now})
        ledger.trace(source, source_id, "linked", sink=sink, kind=kind, sink_id=sid, merged=False)
    insert_rows(Link, rows, ignore_conflicts=True)
