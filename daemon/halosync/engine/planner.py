"""Planning, the pipeline's fourth step (pull -> staging -> identity -> planner -> outbox -> workers -> links):
staged leads become intended writes.

``process_pending`` takes the oldest pending staged leads and, in the caller's transaction:

1. resolves each lead to its local identities (``halosync.engine.identity``);
2. plans the writes per sink: a create when the identity has no record there yet (one per identity: duplicates join
   the pending create), an update with only the fields that change (``ConflictPolicy``) when it has one, and a
   link from the source record to an existing sink record right away;
3. records every decision as lineage and marks the staged rows processed, review or dead (table staged_lead).

A ``PlanReport`` collects the same plan for a dry run, whose transaction is rolled back. Opportunities are not
planned here: a person's opportunity is planned when its create settles (``halosync.engine.opportunities``); a dry
run counts the ones its new people would get.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from halosync.engine.conflict import ConflictPolicy, present
from halosync.engine.identity import Item, Resolver, Staged
from halosync.engine.index import chunks, tuples
from halosync.engine.ledger import Ledger
from halosync.engine.links import LinkIntent, link_planned
from halosync.engine.matching import LeadKeys, Matcher
from halosync.engine.outbox_rows import Creates, create_key, new_row, update_key, update_payload
from halosync.engine.sql import PLANNER_LOCK_SQL, insert_rows, update_rows
from halosync.engine.suppression import RULE as SUPPRESSED
from halosync.engine.suppression import SuppressionRules, minimal_payload
from halosync.model import Lead
from halosync.store.models import MirrorRecord, Outbox, StagedLead

REPORT_LIMIT = 1000  # entries kept per list of a dry-run plan (the counts stay exact)


@dataclass
class PlanSettings:
    sinks: Mapping[str, tuple[str, ...]]  # sink name -> the kinds it writes
    matchers: Sequence[Matcher]
    policy: ConflictPolicy = field(default_factory=ConflictPolicy)
    strip_plus_tags: bool = True
    suppression: SuppressionRules | None = None  # issue 16: who is never written (None: no check at all)


@dataclass
class PlanReport:
    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("creates", "updates", "merges", "reviews", "unchanged", "dead", "opportunities", "suppressed"), 0))

    def add(self, what: str, entry: dict[str, Any]) -> None:
        self.counts[what] += 1
        bucket: list[dict[str, Any]] = getattr(self, what)
        if len(bucket) < REPORT_LIMIT:
            bucket.append(entry)

    def as_dict(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "creates": self.creates, "updates": self.updates,
                "merges": self.merges, "reviews": self.reviews}


def process_pending(settings: PlanSettings, limit: int, ledger: Ledger, report: PlanReport | None = None,
                    *, lock: bool = False) -> int:
    """Match and plan up to ``limit`` pending staged leads; returns how many were taken."""
    if lock:  # PostgreSQL with several daemons: one matcher at a time, or two could create the same identity
        StagedLead._meta.database.execute_sql(PLANNER_LOCK_SQL)
    rows = [Staged(*row) for row in tuples(StagedLead.select(
        StagedLead.id, StagedLead.source, StagedLead.source_id, StagedLead.revision, StagedLead.payload).where(
        StagedLead.state == "pending").order_by(StagedLead.id).limit(limit))]
    if rows:
        _BatchPlanner(settings, ledger, report).run(rows)
    return len(rows)


class _BatchPlanner:
    def __init__(self, settings: PlanSettings, ledger: Ledger, report: PlanReport | None) -> None:
        self.s = settings
        self.ledger = ledger
        self.report = report
        self.now = time.time()
        self.identity = Resolver(list(settings.sinks), settings.matchers, self.now)
        self.index = self.identity.index
        self.known: dict[tuple[str, str, str], tuple[dict[str, Any], float | None]] = {}  # mirror fields
        self.links: list[LinkIntent] = []
        self.processed: list[dict[str, Any]] = []

    def run(self, rows: list[Staged]) -> None:
        items: list[Item] = []
        parsed: list[tuple[Staged, Lead, LeadKeys]] = []
        for row in rows:
            try:
                lead = Lead.from_dict(row.payload)
                keys = LeadKeys.of(lead, strip_plus_tags=self.s.strip_plus_tags)
            except (KeyError, TypeError, ValueError) as exc:
                self._dead(row, f"malformed lead: {type(exc).__name__}: {exc}; fix the record at the source")
                continue
            parsed.append((row, lead, keys))
        suppressed = self.s.suppression.check(lead for _, lead, _ in parsed) if self.s.suppression else {}
        for row, lead, keys in parsed:
            why = suppressed.get((lead.source, lead.source_id))
            if why is not None:
                self._suppressed(row, lead, why)
                continue
            if not keys.identifies_person:
                self._dead(row, "the lead has no email, LinkedIn URL or name that could identify the person; "
                                "fix the record at the source")
                continue
            items.append(Item(row, lead, keys))
        self.identity.resolve(items)
        self.creates = self._load_creates(items)
        self._load_known(items)
        for item in items:
            if item.review is not None:
                self._to_review(item)
                continue
            self.ledger.trace(item.lead.source, item.lead.source_id, "matched",
                              **{k: d.describe() | {"entity_id": item.entity(k)}
                                 for k, d in item.decisions.items()})
            for sink, kinds in self.s.sinks.items():
                self._plan_sink(item, sink, kinds)
            self.processed.append({"id": item.row.id, "state": "processed", "processed_at": self.now,
                                   "person_id": item.person_id,
                                   "company_id": item.company.entity_id if item.company else None,
                                   "rule": item.decisions["person"].rule})
        for i in link_planned(self.links, self.ledger, self.now):
            if self.report is None or i.kind != "person":
                continue
            if i.merged:
                self.report.add("merges", {"sink": i.sink, "kind": i.kind, "sink_id": i.sink_id,
                                           "source": i.source, "source_id": i.source_id})
            elif not i.diff:
                self.report.counts["unchanged"] += 1
        update_rows(StagedLead, "id", self.processed)

    # --- planning ----------------------------------------------------------------------------------

    def _load_creates(self, items: list[Item]) -> Creates:
        """The create rows that already exist for the batch's identities."""
        keys = []
        for item in items:
            for sink in self.s.sinks:
                if item.company is not None:
                    keys.append(create_key(sink, "company", item.company.entity_id))
                if item.person_id is not None:
                    keys.append(create_key(sink, "person", item.person_id))
        return Creates(keys)

    def _plan_sink(self, item: Item, sink: str, kinds: tuple[str, ...]) -> None:
        if item.company is not None and item.lead.company is not None and "company" in kinds:
            self._plan_entity(item, sink, "company", item.company.entity_id, item.lead.company.values(), None)
        if "person" in kinds and item.person_id is not None:
            parent = item.company.entity_id if item.company is not None and "company" in kinds else None
            self._plan_entity(item, sink, "person", item.person_id, item.lead.person.values(), parent)

    def _plan_entity(self, item: Item, sink: str, kind: str, entity_id: int, values: dict[str, Any],
                     parent: int | None) -> None:
        lead, row = item.lead, item.row
        src = present(values)
        sink_id = self.index.refs[kind].get(entity_id, {}).get(sink)
        if sink_id is None:
            self._plan_create(item, sink, kind, entity_id, src, parent)
            return
        known, refreshed_at = self.known.get((sink, kind, sink_id), ({}, None))
        newer = lead.updated_at is not None and refreshed_at is not None and \
            lead.updated_at.timestamp() > float(known.get("updated_at_epoch") or refreshed_at)
        diff = self.s.policy.diff(kind, src, known, source_newer=newer)
        if diff:
            insert_rows(Outbox, [new_row(update_key(sink, kind, entity_id, f"{row.id}.{row.revision}"), sink, kind,
                                         "update", entity_id, lead.source, lead.source_id,
                                         update_payload(diff, sink_id, row.id), self.now)], ignore_conflicts=True)
            known.update({k: v[1] for k, v in diff.items()})  # a duplicate later in the batch sees it sent
            if self.report is not None:
                self.report.add("updates", {"sink": sink, "kind": kind, "sink_id": sink_id, "diff": diff,
                                            "source": lead.source, "source_id": lead.source_id})
        self.links.append(LinkIntent(lead.source, lead.source_id, sink, kind, entity_id, sink_id, diff,
                                     adopted=kind in item.adopted))

    def _load_known(self, items: list[Item]) -> None:
        """The mirror's copy of every existing sink record the batch may update (what diffs are taken against)."""
        wanted: dict[tuple[str, str], set[str]] = {}
        for item in items:
            for kind, entity_id in (("company", item.company.entity_id if item.company else None),
                                    ("person", item.person_id)):
                for sink, sink_id in self.index.refs[kind].get(entity_id or 0, {}).items():
                    wanted.setdefault((sink, kind), set()).add(sink_id)
        for (sink, kind), ids in wanted.items():
            for part in chunks(sorted(ids)):
                query = MirrorRecord.select(MirrorRecord.sink_id, MirrorRecord.fields, MirrorRecord.refreshed_at).where(
                    MirrorRecord.sink == sink, MirrorRecord.kind == kind, MirrorRecord.sink_id.in_(part))
                for sink_id, fields, refreshed_at in tuples(query):
                    self.known[(sink, kind, sink_id)] = (dict(fields or {}), refreshed_at)

    def _plan_create(self, item: Item, sink: str, kind: str, entity_id: int, src: dict[str, Any],
                     parent: int | None) -> None:
        lead, row = item.lead, item.row
        key = create_key(sink, kind, entity_id)
        is_new = key not in self.creates
        outbox_id, action = self.creates.plan(new_row(key, sink, kind, "create", entity_id, lead.source,
                                                      lead.source_id, {"fields": src, "staged_id": row.id}, self.now,
                                                      parent=parent), row.id, self.now)
        self.ledger.trace(lead.source, lead.source_id, "planned", sink=sink, kind=kind, action=action,
                          outbox_id=outbox_id, fields=src)
        if self.report is not None and is_new and kind == "person" and \
                "opportunity" in self.s.sinks.get(sink, ()):
            # Planned once this create settles (``halosync.engine.opportunities``); a dry run counts it here.
            self.report.counts["opportunities"] += 1
        if self.report is not None:
            entry = {"sink": sink, "kind": kind, "entity_id": entity_id, "source": lead.source,
                     "source_id": lead.source_id}
            self.report.add("creates" if action == "create" else "merges", entry | ({"fields": src} if action ==
                                                                                     "create" else {}))

    # --- outcomes other than a plan ----------------------------------------------------------------

    def _to_review(self, item: Item) -> None:
        decision = item.review
        assert decision is not None
        lead = item.lead
        StagedLead.update(state="review", processed_at=self.now, rule=decision.rule).where(
            StagedLead.id == item.row.id).execute()
        self.ledger.trace(lead.source, lead.source_id, "review", reason=decision.reason or "ambiguous match",
                          decision=decision.describe())
        self.ledger.count("review")
        if self.report is not None:
            self.report.add("reviews", {"source": lead.source, "source_id": lead.source_id,
                                        "reason": decision.reason, "rule": decision.rule})

    def _suppressed(self, row: Staged, lead: Lead, why: dict[str, Any]) -> None:
        """Issue 16: a suppressed lead is written nowhere, and keeps nothing about the person."""
        StagedLead.update(state=SUPPRESSED, processed_at=self.now, rule=SUPPRESSED, person_id=None, company_id=None,
                          payload=minimal_payload(lead)).where(StagedLead.id == row.id).execute()
        self.ledger.trace(lead.source, lead.source_id, SUPPRESSED, rule=SUPPRESSED, **why)
        self.ledger.count(SUPPRESSED)
        if self.report is not None:
            self.report.counts["suppressed"] += 1

    def _dead(self, row: Staged, reason: str) -> None:
        StagedLead.update(state="dead", processed_at=self.now).where(StagedLead.id == row.id).execute()
        self.ledger.dead_letter("match", reason, source=row.source, source_id=row.source_id,
                                payload={"staged_id": row.id})
        if self.report is not None:
            self.report.counts["dead"] += 1
