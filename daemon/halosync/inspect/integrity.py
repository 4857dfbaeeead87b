"""The integrity checks of ``integrity [--repair]``, on the store (and the sinks, when they are at hand).

    links_point_to_existing_records     every link's sink record exists (asked of the sink, by listing, within
                                        SINK_SHARE of its request window; the rest looked up in the sink mirror)
    one_link_per_source_record          no source record linked twice to one sink and kind
    one_source_record_per_sink_record   no two source records on one sink record unless merged on purpose
    no_outbox_stuck_in_flight           no outbox row claimed long ago and never finished
    cursor_not_ahead_of_committed_work  no source cursor that moved without any staged lead behind it
    schema_version                      the database schema is the one this version expects

``--repair`` fixes what is safe: a link whose record the sink (or the mirror, by a deletion it saw) says is gone
is dropped with its sink reference, so the lead is written again; a stuck in-flight row goes back to pending
with ``reconcile`` set (the sink is asked before it is written again). Everything else is reported for a person.
The document is ``{"ok", "checks": [{"name", "ok", "problems", "repaired", "details": [...]}]}``; ``ok`` says
whether any problem is left after repair.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import peewee as pw
import trio

from halosync.contracts import Sink
from halosync.daemon.failures import describe
from halosync.engine.pull import closing
from halosync.inspect.queries import fetch, id_of, row_id
from halosync.store.gateway import Store
from halosync.store.models import (
    LineageEvent,
    Link,
    MirrorRecord,
    MirrorState,
    Outbox,
    SinkRef,
    SourceCursor,
    StagedLead,
)

MAX_DETAILS = 100
SINK_SHARE = 0.25  # of a sink's smallest request window, the most integrity spends asking it
DEFAULT_BUDGET = 60  # requests, for a sink that reports no window
ONE_BY_ONE = 20  # this many links or fewer are read one by one rather than by listing
STUCK_AFTER_SECONDS = 900.0


@dataclass
class Check:
    name: str
    problems: int = 0
    repaired: int = 0
    details: list[dict[str, Any]] = field(default_factory=list)

    def problem(self, detail: dict[str, Any], *, repaired: bool = False) -> None:
        self.problems += 1
        self.repaired += repaired
        if len(self.details) < MAX_DETAILS:
            self.details.append({**detail, "repaired": repaired})

    def note(self, text: str) -> None:
        self.details.append({"note": text})

    def document(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.problems == self.repaired, "problems": self.problems,
                "repaired": self.repaired, "details": self.details}


async def run_checks(store: Store, sinks: Mapping[str, Sink] | None = None, *, repair: bool = False,
                     fetch_timeout: float = 30.0, stuck_after: float = STUCK_AFTER_SECONDS) -> dict[str, Any]:
    checks = [
        await _links_exist(store, sinks or {}, repair, fetch_timeout),
        await store.run(_one_link_per_source_record),
        await store.run(_one_source_per_sink_record),
        await store.transaction(_stuck_in_flight, repair, stuck_after),
        await store.run(_cursor_not_ahead),
        await store.run(_schema_version, store),
    ]
    documents = [c.document() for c in checks]
    return {"ok": all(d["ok"] for d in documents), "checks": documents}


# --- links point to existing records -------------------------------------------------------------------
#
# The sink is asked by listing its records (a page is one request), never one request per link: with 5,000 links
# that is 50 pages of 100 instead of 5,000 reads. It spends at most SINK_SHARE of the sink's smallest request
# window (DEFAULT_BUDGET when the sink reports none); what the budget does not reach is checked against the
# mirror, and the report says so with the mirror's age. A few links (at most ONE_BY_ONE) are read one by one.


@dataclass
class Budget:
    """The requests integrity may spend on one sink, and what it has spent."""

    allowed: int
    why: str
    spent: int = 0

    @classmethod
    def of(cls, sink: Sink) -> Budget:
        try:
            windows = [w for w in sink.rate_limits() if w.limit]
        except Exception:  # a plugin bug must not stop the checks; the default budget applies
            windows = []
        if not windows:
            return cls(DEFAULT_BUDGET, f"{DEFAULT_BUDGET} requests (the sink reports no request window)")
        window = min(windows, key=lambda w: w.limit or 0)
        allowed = max(1, int((window.limit or 0) * SINK_SHARE))
        return cls(allowed, f"{allowed} requests ({SINK_SHARE:.0%} of {window.limit} per {window.window})")

    @property
    def left(self) -> int:
        return max(0, self.allowed - self.spent)


async def _links_exist(store: Store, sinks: Mapping[str, Sink], repair: bool, fetch_timeout: float) -> Check:
    check = Check("links_point_to_existing_records")
    groups = await store.run(lambda: fetch(Link.select(Link.sink, Link.kind).distinct().tuples()))
    budgets = {name: Budget.of(sink) for name, sink in sinks.items()}
    for sink_name, kind in groups:
        ids = await store.run(_linked_ids, sink_name, kind)
        sink, budget = sinks.get(sink_name), budgets.get(sink_name)
        age = await store.run(_mirror_age, sink_name, kind)
        missing: set[str] = set()
        unverified = list(ids)  # not answered by the sink: checked against the mirror
        if sink is None or budget is None:
            check.note(f"{sink_name} {kind}: the sink is not at hand; {len(ids)} link(s) checked against the mirror "
                       f"({age})")
        else:
            try:
                missing, unverified = await _ask_sink(sink, kind, ids, budget, fetch_timeout)
            except Exception as exc:  # any failure of the sink: the mirror answers, and the report says why
                check.note(f"{sink_name} {kind}: could not ask the sink ({_reason(exc, fetch_timeout)}); "
                           f"{len(ids)} link(s) checked against the mirror ({age})")
            else:
                if unverified:
                    check.note(f"{sink_name} {kind}: the sink answered for {len(ids) - len(unverified)} of {len(ids)} "
                               f"link(s) within the budget of {budget.why}; the other {len(unverified)} were checked "
                               f"against the mirror ({age})")
        from_mirror = await store.run(_missing_in_mirror, sink_name, kind, unverified, check) if unverified else set()
        for sink_id in sorted(missing | from_mirror):
            # Only a sink's own answer, or a deletion the mirror saw, is sure enough to drop a link on.
            sure = sink_id in missing or await store.run(_mirror_says_deleted, sink_name, kind, sink_id)
            fixed = repair and sure and await store.transaction(_drop_links, sink_name, kind, sink_id)
            check.problem({"sink": sink_name, "kind": kind, "sink_id": sink_id,
                           "problem": "linked sink record does not exist" + ("" if sure else " in the mirror")},
                          repaired=bool(fixed))
    for name, budget in budgets.items():
        if budget.spent:
            check.note(f"{name}: asked with {budget.spent} request(s) of the budget of {budget.why}")
    return check


def _linked_ids(sink: str, kind: str) -> list[str]:
    query = Link.select(Link.sink_id).where((Link.sink == sink) & (Link.kind == kind)).distinct().tuples()
    return [sink_id for (sink_id,) in fetch(query)]


async def _ask_sink(sink: Sink, kind: Any, ids: list[str], budget: Budget,
                    fetch_timeout: float) -> tuple[set[str], list[str]]:
    """(links the sink says are gone, links it was not asked about within the budget)."""
    if not ids:
        return set(), []
    if len(ids) <= min(ONE_BY_ONE, budget.left):
        budget.spent += len(ids)  # one read each
        with trio.fail_after(fetch_timeout * len(ids)):
            found = await sink.fetch(kind, ids)
        return {i for i in ids if i not in found or found[i].deleted}, []
    seen: set[str] = set()
    complete = False
    async with closing(sink.list_records(kind, since=None)) as pages:
        while budget.left > 0:
            budget.spent += 1  # one listing page, one request
            with trio.fail_after(fetch_timeout):
                page = await anext(pages, None)
            if page is None:
                complete = True
                break
            seen.update(r.sink_id for r in page.records if not r.deleted)
    if complete:
        return {i for i in ids if i not in seen}, []
    # A listing cut short proves only what it saw; the rest is the mirror's to answer.
    return set(), [i for i in ids if i not in seen]


def _reason(exc: BaseException, fetch_timeout: float) -> str:
    """Why the sink could not answer, in words (a TooSlowError has no message of its own)."""
    if isinstance(exc, trio.TooSlowError):
        return f"no answer within {fetch_timeout:g} s"
    return describe(exc)


def _mirror_age(sink: str, kind: str) -> str:
    state = MirrorState.get_or_none((MirrorState.sink == sink) & (MirrorState.kind == kind))
    if state is None or not state.refreshed_at:
        return "the mirror was never refreshed"
    return f"mirror refreshed {time.time() - state.refreshed_at:.0f} s ago; deletions show there only after a full " \
           "listing"


def _missing_in_mirror(sink: str, kind: str, ids: list[str], check: Check) -> set[str]:
    base = (MirrorRecord.sink == sink) & (MirrorRecord.kind == kind)
    if not MirrorRecord.select().where(base).exists():
        check.note(f"{sink} {kind}: the sink mirror is empty; {len(ids)} link(s) not verified")
        return set()
    present: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        query = MirrorRecord.select(MirrorRecord.sink_id).where(
            base & MirrorRecord.sink_id.in_(chunk) & (MirrorRecord.deleted == False))  # noqa: E712
        present.update(r for (r,) in fetch(query.tuples()))
    return set(ids) - present


def _mirror_says_deleted(sink: str, kind: str, sink_id: str) -> bool:
    return bool(MirrorRecord.select().where((MirrorRecord.sink == sink) & (MirrorRecord.kind == kind) &
                                            (MirrorRecord.sink_id == sink_id) & (MirrorRecord.deleted == True))  # noqa: E712
                .exists())


def _drop_links(sink: str, kind: str, sink_id: str) -> bool:
    where = (Link.sink == sink) & (Link.kind == kind) & (Link.sink_id == sink_id)
    for link in Link.select().where(where):
        LineageEvent.create(source=link.source, source_id=link.source_id, stage="integrity.repair",
                            detail={"action": "link dropped", "sink": sink, "kind": kind, "sink_id": sink_id,
                                    "reason": "the sink record no longer exists"})
    Link.delete().where(where).execute()
    SinkRef.delete().where((SinkRef.sink == sink) & (SinkRef.kind == kind) & (SinkRef.sink_id == sink_id)).execute()
    return True


# --- uniqueness of links ---------------------------------------------------------------------------------


def _one_link_per_source_record() -> Check:
    check = Check("one_link_per_source_record")
    count = pw.fn.COUNT(id_of(Link))
    rows = fetch(Link.select(Link.source, Link.source_id, Link.sink, Link.kind, count)
                 .group_by(Link.source, Link.source_id, Link.sink, Link.kind).having(count > 1).tuples())
    for source, source_id, sink, kind, count in rows:
        check.problem({"source": source, "source_id": source_id, "sink": sink, "kind": kind, "links": int(count),
                       "problem": "one source record linked to several sink records; merge them in the sink"})
    return check


def _one_source_per_sink_record() -> Check:
    check = Check("one_source_record_per_sink_record")
    unmerged = pw.fn.SUM(pw.Case(None, [(Link.merged == False, 1)], 0))  # noqa: E712
    rows = fetch(Link.select(Link.sink, Link.kind, Link.sink_id).group_by(Link.sink, Link.kind, Link.sink_id)
            .having(unmerged > 1).tuples())
    for sink, kind, sink_id in rows:
        sources = [f"{s}:{i}" for s, i in fetch(Link.select(Link.source, Link.source_id).where(
            (Link.sink == sink) & (Link.kind == kind) & (Link.sink_id == sink_id)).tuples())]
        check.problem({"sink": sink, "kind": kind, "sink_id": sink_id, "sources": sources,
                       "problem": "several source records on one sink record without a merge decision"})
    return check


# --- outbox, cursors, schema ------------------------------------------------------------------------------


def _stuck_in_flight(repair: bool, stuck_after: float) -> Check:
    check = Check("no_outbox_stuck_in_flight")
    cutoff = time.time() - stuck_after
    rows = Outbox.select().where((Outbox.state == "in_flight") &
                                 (Outbox.claimed_at.is_null() | (Outbox.claimed_at < cutoff)))
    for row in rows:
        if repair:
            # reconcile: an attempt may have reached the sink; the engine asks before writing again.
            Outbox.update(state="pending", claimed_by=None, claimed_at=None, next_attempt_at=0.0, reconcile=True,
                          updated_at=time.time()).where(id_of(Outbox) == row_id(row)).execute()
        check.problem({"outbox_id": row_id(row), "sink": row.sink, "kind": row.kind, "claimed_by": row.claimed_by,
                       "claimed_at": row.claimed_at, "problem": f"in flight for more than {stuck_after:g} s"},
                      repaired=repair)
    return check


def _cursor_not_ahead() -> Check:
    check = Check("cursor_not_ahead_of_committed_work")
    for cursor in SourceCursor.select().where(SourceCursor.cursor.is_null(False)):
        if not StagedLead.select().where(StagedLead.source == cursor.source).exists():
            check.problem({"source": cursor.source, "cursor_updated_at": cursor.updated_at,
                           "problem": "the cursor moved but no lead of this source is staged; "
                                      "run `halosyncctl sync --source NAME --full` to pull it again"})
    return check


def _schema_version(store: Store) -> Check:
    from halosync.store.migrations_runner import Migrations

    check = Check("schema_version")
    migrations = Migrations(store)
    current, latest = migrations.current(), migrations.latest()
    if current != latest:
        check.problem({"current": current, "expected": latest,
                       "problem": "the database schema is not the one this version expects; run `halosync migrate up`"
                       if current < latest else "the database is newer than this halosync; upgrade halosync"})
    else:
        check.details.append({"current": current, "expected": latest})
    return check
