"""The outbox, the pipeline's fifth step (pull -> staging -> identity -> planner -> outbox -> workers -> links): one
row per intended sink write; the store is the queue. Rows are created through ``outbox_rows``; this module claims,
settles, retries and dead-letters them.

Workers ``claim`` a batch of rows that share a sink, kind and action (companies before people: a person create is
claimable only once its company has a sink record; opportunities last, planned only once their person has one:
see ``opportunities``), write them, and ``settle`` the results in one transaction: the
row's state, the sink_ref and links of a create, the mirror's copy of what was written, lineage and totals. A row
whose write may have reached the sink (a crash in flight, a timeout) is marked ``reconcile`` so its next attempt
first asks the sink whether the record exists. On PostgreSQL rows are claimed with FOR UPDATE SKIP LOCKED so
several daemons can share one queue.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, cast

import peewee as pw
from loguru import logger

from halosync.contracts import EntityKind, LeadEvent, SinkRecord, WriteOp, WriteResult
from halosync.engine import existing, mirror, opportunities
from halosync.engine.conflict import ConflictPolicy
from halosync.engine.index import chunks, tuples
from halosync.engine.ledger import Ledger
from halosync.engine.links import link_leads
from halosync.engine.sql import PLANNER_LOCK_SQL, insert_rows, select_in
from halosync.ha.leases import exited_here
from halosync.model import Lead
from halosync.provider.backoff import exponential
from halosync.store.models import Outbox, SinkRef, StagedLead

Action = Literal["create", "update"]
LIVE_WORKERS: set[str] = set()  # worker ids of the engines running in this process
GROUPS = (("company", "create"), ("company", "update"), ("person", "create"), ("person", "update"),
          ("opportunity", "create"))


@dataclass
class RetryPolicy:
    max_attempts: int = 8
    base: float = 5.0
    cap: float = 900.0

    def delay(self, attempts: int) -> float:
        ceiling = exponential(max(0, attempts - 1), base=self.base, cap=self.cap)
        return ceiling * random.uniform(0.5, 1.0)


@dataclass
class Batch:
    sink: str
    kind: str
    action: str
    rows: list[Outbox]
    ops: list[WriteOp] = field(default_factory=list)
    kinds: tuple[str, ...] = ()  # what the sink writes (a person create plans an opportunity when it has one)
    claim: tuple[str, float] = ("", 0.0)  # (worker, claimed_at): whose claim this is, to tell it from a later one

    @property
    def reconcile_ops(self) -> list[WriteOp]:
        keys = {r.key for r in self.rows if r.reconcile and r.action == "create"}
        return [op for op in self.ops if op.key in keys]


def claim(sink: str, kinds: Sequence[str], limit: int, worker: str, *, skip_locked: bool,
          people_first: bool = False, policy: ConflictPolicy | None = None,
          ledger: Ledger | None = None) -> Batch | None:
    """Take up to ``limit`` ready rows of the first group that has any; they become in_flight. Companies come
    first, except for ``people_first`` workers: while a large pull keeps bringing new companies in small batches,
    people whose company is already written must not starve. A create whose identity has meanwhile got a record
    in the sink is not claimed: it becomes an update of that record (``existing``), in this transaction, recorded
    in ``ledger`` (flushed here when the caller passes none)."""
    now = time.time()
    own = ledger is None
    ledger = ledger or Ledger()
    batch = None
    for kind, action in (GROUPS[2:] + GROUPS[:2]) if people_first else GROUPS:
        if kind in kinds:
            batch = _claim_group(sink, kind, action, kinds, limit, worker, skip_locked, policy, ledger, now)
            if batch is not None:
                break
    if own:
        ledger.flush()
    return batch


def _claim_group(sink: str, kind: str, action: str, kinds: Sequence[str], limit: int, worker: str,
                 skip_locked: bool, policy: ConflictPolicy | None, ledger: Ledger, now: float) -> Batch | None:
    while True:  # until a batch, or no ready row: rows diverted to updates leave room for others
        query = Outbox.select().where(Outbox.state == "pending", Outbox.sink == sink, Outbox.kind == kind,
                                      Outbox.action == action, Outbox.next_attempt_at <= now)
        if kind == "person" and action == "create" and "company" in kinds:
            parent_ready = SinkRef.select(SinkRef.id).where(
                SinkRef.sink == sink, SinkRef.kind == "company", SinkRef.entity_id == Outbox.parent_entity_id)
            query = query.where(Outbox.parent_entity_id.is_null() | pw.fn.EXISTS(parent_ready))
        query = query.order_by(Outbox.id).limit(limit)
        if skip_locked:
            query = query.for_update(skip_locked=True)
        rows = list(query)
        if not rows:
            return None
        if action == "create":
            records = existing.records_of(sink, kind, [r.entity_id for r in rows])
            if records:
                existing.divert([r for r in rows if r.entity_id in records], records, policy or ConflictPolicy(),
                                ledger, now)
                rows = [r for r in rows if r.entity_id not in records]
                if not rows:
                    continue
        Outbox.update(state="in_flight", attempts=Outbox.attempts + 1, claimed_by=worker, claimed_at=now,
                      updated_at=now).where(Outbox.id.in_([r.id for r in rows])).execute()
        for r in rows:
            r.attempts += 1
        batch = Batch(sink, kind, action, rows, kinds=tuple(kinds), claim=(worker, now))
        batch.ops = _ops(batch)
        if kind == opportunities.KIND:
            batch.ops = opportunities.with_people(sink, rows, batch.ops)
        return batch


def _ops(batch: Batch) -> list[WriteOp]:
    staged_ids = [r.payload.get("staged_id") for r in batch.rows if r.payload.get("staged_id")]
    leads: dict[int, Lead] = {}
    for sid, payload in select_in(StagedLead, ("id", "payload"), "id", staged_ids):
        leads[sid] = Lead.from_dict(payload)
    parent_ids = [r.parent_entity_id for r in batch.rows if r.parent_entity_id]
    parents: dict[int, str] = dict(select_in(SinkRef, ("entity_id", "sink_id"), "entity_id", parent_ids,
                                             {"sink": batch.sink, "kind": "company"}))
    return [WriteOp(key=r.key, kind=cast(EntityKind, r.kind), action=cast(Action, r.action),
                    fields=r.payload.get("fields", {}),
                    sink_id=r.payload.get("sink_id"), parent_id=parents.get(r.parent_entity_id or 0),
                    lead=leads.get(r.payload.get("staged_id") or 0)) for r in batch.rows]


def settle(batch: Batch, results: dict[str, tuple[WriteResult, str]], policy: RetryPolicy, ledger: Ledger,
           *, lock: bool = False, postpone_until: float = 0.0, conflicts: ConflictPolicy | None = None) -> None:
    """Record each row's result: ``results[key] = (result, how)`` with how in ok | found | failed | postponed
    (a rate limit: the row waits until ``postpone_until`` and the attempt does not count) | exists (a create
    not sent: its identity got a record meanwhile, whose id the result carries; it becomes an update)."""
    if lock:
        Outbox._meta.database.execute_sql(PLANNER_LOCK_SQL)
    now = time.time()
    ours = still_claimed(batch)
    if len(ours) < len(batch.rows):
        _claim_lapsed(batch, ours, results, ledger)
    done: list[tuple[Outbox, WriteOp, str]] = []
    postponed: list[Outbox] = []
    diverted: dict[int, str] = {}
    for row, op in zip(batch.rows, batch.ops, strict=True):
        if row.id not in ours:
            continue
        result, how = results[row.key]
        trace = {"sink": batch.sink, "kind": batch.kind, "action": batch.action, "outbox_id": row.id,
                 "attempt": row.attempts}
        source, source_id = row.source or "", row.source_id or ""
        if how == "exists":
            diverted[row.entity_id] = str(result.sink_id)
        elif how == "postponed":
            postponed.append(row)
        elif result.ok:
            done.append((row, op, str(result.sink_id)))
            ledger.trace(source, source_id, "write", outcome=how, sink_id=result.sink_id, **trace)
        elif not result.retryable:
            ledger.trace(source, source_id, "write", outcome="rejected", error=result.error, **trace)
            kill(row, f"{batch.sink} refused the {batch.kind}: {result.error}", ledger, now)
        elif row.attempts >= policy.max_attempts:
            ledger.trace(source, source_id, "write", outcome="retry", error=result.error, **trace)
            kill(row, f"gave up after {row.attempts} attempts: {result.error}", ledger, now)
        else:
            ledger.trace(source, source_id, "write", outcome="retry", error=result.error, **trace)
            due = now + policy.delay(row.attempts)
            ledger.due_again(due)
            Outbox.update(state="pending", next_attempt_at=due,
                          last_error=result.error, reconcile=row.reconcile or row.action == "create",
                          claimed_by=None, updated_at=now).where(Outbox.id == row.id).execute()
    if diverted:  # the record the check before the write saw, or the one the identity has by now
        records = {**diverted, **existing.records_of(batch.sink, batch.kind, list(diverted))}
        existing.divert([r for r in batch.rows if r.id in ours and r.entity_id in diverted], records,
                        conflicts or ConflictPolicy(), ledger, now)
    if postponed:
        ledger.due_again(postpone_until)
    for part in chunks([row.id for row in postponed]):
        error = results[postponed[0].key][0].error
        Outbox.update(state="pending", attempts=Outbox.attempts - 1, next_attempt_at=postpone_until,
                      last_error=error, claimed_by=None, updated_at=now).where(Outbox.id.in_(part)).execute()
    if done:
        for part in chunks([row.id for row, _, _ in done]):
            Outbox.update(state="done", last_error=None, reconcile=False, updated_at=now).where(
                Outbox.id.in_(part)).execute()
        if batch.action == "update":
            _updated(batch, done, ledger, now)
        elif batch.kind == opportunities.KIND:
            opportunities.created(batch.sink, done, ledger, now)
        else:
            _created(batch, done, ledger, now)
            if batch.kind == "person" and opportunities.KIND in batch.kinds:
                opportunities.plan(batch.sink, done, ledger, now)


def still_claimed(batch: Batch) -> set[int]:
    """The batch's rows still in flight under its own claim. The others were released while it was written (the
    daemon stopped heartbeating: frozen, cut off) and may be claimed again, or settled already: this batch must
    not settle them a second time, nor write them. A settle repeated after a commit cut off finds none."""
    worker, claimed_at = batch.claim
    ids = [row.id for row in batch.rows]
    if not worker:
        return set(ids)
    return {row_id for (row_id,) in tuples(Outbox.select(Outbox.id).where(
        Outbox.id.in_(ids), Outbox.state == "in_flight", Outbox.claimed_by == worker,
        Outbox.claimed_at == claimed_at))}


def _claim_lapsed(batch: Batch, ours: set[int], results: dict[str, tuple[WriteResult, str]], ledger: Ledger) -> None:
    lost = [row for row in batch.rows if row.id not in ours]
    written = [row for row in lost if row.key in results and results[row.key][1] == "ok"]
    logger.warning("{}: {} of {} {} {}(s) are no longer under this batch's claim: settled already (by a commit "
                   "whose answer was lost), or released while this daemon stopped heartbeating and claimed by "
                   "another; left as they are{}", batch.sink, len(lost), len(batch.rows), batch.action, batch.kind,
                   f" (that daemon checks the sink for the {len(written)} record(s) written here before it writes)"
                   if written else "")
    for row in lost:
        how = results.get(row.key, (None, "not written"))[1]
        ledger.trace(row.source or "", row.source_id or "", "write", outcome="claim lapsed", sink=batch.sink,
                     kind=batch.kind, action=batch.action, outbox_id=row.id, written=how == "ok")


def _updated(batch: Batch, done: list[tuple[Outbox, WriteOp, str]], ledger: Ledger, now: float) -> None:
    company = batch.kind == "company"
    for row, op, sink_id in done:
        mirror.note_written(batch.sink, batch.kind, sink_id, dict(op.fields), op.parent_id, now)
        ledger.count("companies_updated" if company else "updated")
        if not company:
            ledger.events.append(("synced", LeadEvent(row.source or "", row.source_id or "", batch.sink,
                                                      "updated", sink_id)))


def _created(batch: Batch, done: list[tuple[Outbox, WriteOp, str]], ledger: Ledger, now: float) -> None:
    """New sink records: their sink_refs, the mirror's copy, and a link from every source record behind them
    (the first is the record's origin; the others are duplicates merged into it)."""
    company = batch.kind == "company"
    insert_rows(SinkRef, [{"sink": batch.sink, "kind": batch.kind, "entity_id": row.entity_id, "sink_id": sid,
                           "created_at": now} for row, _, sid in done], ignore_conflicts=True)
    mirror.upsert(batch.sink, [SinkRecord(cast(EntityKind, batch.kind), sid, dict(op.fields), op.parent_id)
                               for _, op, sid in done], now)
    ledger.count("companies_created" if company else "created", len(done))
    # An identity that got a record between the check before the write and now keeps that one (its sink_ref
    # stands); the record just made is a twin, said in the lineage so an operator can merge it in the sink.
    actual = existing.records_of(batch.sink, batch.kind, [row.entity_id for row, _, _ in done])
    for row, _, sid in done:
        kept = actual.get(row.entity_id, sid)
        if kept != sid:
            logger.warning("{}: {} {} was created while its identity got {} by another path; the new record is a "
                           "twin to merge in the sink", batch.sink, batch.kind, sid, kept)
            ledger.trace(row.source or "", row.source_id or "", "twin", sink=batch.sink, kind=batch.kind,
                         sink_id=sid, kept=kept, outbox_id=row.id)
    link_leads(batch.sink, batch.kind, {row.entity_id: actual.get(row.entity_id, sid) for row, _, sid in done},
               ledger, now)


def kill(row: Outbox, reason: str, ledger: Ledger, now: float) -> None:
    """The row becomes a dead letter; a company create takes the person creates waiting on it along."""
    Outbox.update(state="dead", last_error=reason, claimed_by=None, updated_at=now).where(
        Outbox.id == row.id).execute()
    ledger.dead_letter("write", reason, source=row.source, source_id=row.source_id, sink=row.sink,
                       outbox_id=row.id, attempts=row.attempts,
                       payload={"kind": row.kind, "action": row.action, "fields": row.payload.get("fields")})
    if row.kind == "company" and row.action == "create":
        for child in Outbox.select().where(Outbox.sink == row.sink, Outbox.parent_entity_id == row.entity_id,
                                           Outbox.state == "pending", Outbox.kind == "person"):
            kill(child, f"its company could not be written ({reason})", ledger, now)


def release_stale(older_than: float | None, host: str, gone: Sequence[str] = ()) -> int:
    """In-flight rows of a daemon that died go back to pending, to be reconciled against the sink before they are
    written again: all of them (SQLite, ``older_than`` None: one daemon per store), or on PostgreSQL those of a
    process on this host that no longer exists, those of ``gone`` daemons (issue 18: their heartbeat in the store
    stopped) and those claimed before ``older_than``."""
    query = Outbox.update(state="pending", claimed_by=None, reconcile=True, updated_at=time.time()).where(
        Outbox.state == "in_flight")
    if older_than is not None:
        claimers = [c for (c,) in tuples(Outbox.select(Outbox.claimed_by).distinct().where(
            Outbox.state == "in_flight")) if c]
        dead = [c for c in claimers if _gone(c, host) or c in gone]
        query = query.where((Outbox.claimed_at < older_than) | Outbox.claimed_by.in_(dead or [""]))
    return int(query.execute())


def _gone(claimer: str, host: str) -> bool:
    """Whether the worker id ``host:pid:nonce`` names a process of this host that has exited."""
    return exited_here(claimer, host, LIVE_WORKERS)


def found_result(op: WriteOp, record: SinkRecord) -> WriteResult:
    return WriteResult(op.key, sink_id=record.sink_id)


def unfinished() -> int:
    """Rows still to be written, and staged leads not yet planned (for ``run --once``)."""
    return int(Outbox.select().where(Outbox.state.in_(["pending", "in_flight"])).count()
               + StagedLead.select().where(StagedLead.state == "pending").count())
