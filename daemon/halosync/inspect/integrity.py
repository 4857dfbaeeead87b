"""The integrity checks of ``integrity [--repair]``, on the store (and the sinks, when they are at hand).

    links_point_to_existing_records     every link's sink record exists (asked of the sink when one is given,
                                        else looked up in the sink mirror)
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
from halosync.errors import ProviderError
from halosync.inspect.queries import fetch, id_of, row_id
from halosync.store.gateway import Store
from halosync.store.models import LineageEvent, Link, MirrorRecord, Outbox, SinkRef, SourceCursor, StagedLead

MAX_DETAILS = 100
FETCH_CHUNK = 100
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


async def _links_exist(store: Store, sinks: Mapping[str, Sink], repair: bool, fetch_timeout: float) -> Check:
    check = Check("links_point_to_existing_records")
    groups = await store.run(lambda: fetch(Link.select(Link.sink, Link.kind).distinct().tuples()))
    for sink_name, kind in groups:
        ids = await store.run(_linked_ids, sink_name, kind)
        sink = sinks.get(sink_name)
        missing: set[str] | None = None
        if sink is not None:
            try:
                missing = await _missing_in_sink(sink, kind, ids, fetch_timeout)
            except (ProviderError, trio.TooSlowError) as exc:
                check.note(f"{sink_name}: could not ask the sink ({exc or 'timed out'}); checked against the mirror")
        verified_by_sink = missing is not None
        if missing is None:
            missing = await store.run(_missing_in_mirror, sink_name, kind, ids, check)
        assert missing is not None
        for sink_id in sorted(missing):
            # Only a sink's own answer, or a deletion the mirror saw, is sure enough to drop a link on.
            sure = verified_by_sink or await store.run(_mirror_says_deleted, sink_name, kind, sink_id)
            fixed = repair and sure and await store.transaction(_drop_links, sink_name, kind, sink_id)
            check.problem({"sink": sink_name, "kind": kind, "sink_id": sink_id,
                           "problem": "linked sink record does not exist" + ("" if sure else " in the mirror")},
                          repaired=bool(fixed))
    return check


def _linked_ids(sink: str, kind: str) -> list[str]:
    query = Link.select(Link.sink_id).where((Link.sink == sink) & (Link.kind == kind)).distinct().tuples()
    return [sink_id for (sink_id,) in fetch(query)]


async def _missing_in_sink(sink: Sink, kind: Any, ids: list[str], fetch_timeout: float) -> set[str]:
    missing: set[str] = set()
    for start in range(0, len(ids), FETCH_CHUNK):
        chunk = ids[start:start + FETCH_CHUNK]
        with trio.fail_after(fetch_timeout):
            found = await sink.fetch(kind, chunk)
        missing.update(i for i in chunk if i not in found or found[i].deleted)
    return missing


def _missing_in_mirror(sink: str, kind: str, ids: list[str], check: Check) -> set[str]:
    base = (MirrorRecord.sink == sink) & (MirrorRecord.kind == kind)
    if not MirrorRecord.select().where(base).exists():
        check.note(f"{sink} {kind}: the sink mirror is empty and the sink is not at hand; links not verified")
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
