"""``forget QUERY``: erase a person's personal data from the store, keeping only what stops them being synced
again (keyed hashes on the suppression list, ``halosync.engine.suppression``).

Removed: their staged leads (the canonical lead and the provider's raw record), lineage, links, person and
opportunity outbox rows, dead letters, the local identity and its sink references, the sink mirror's copy of their
sink records, and webhook deliveries that mention them. Companies stay (they are not a person's data). On SQLite the
deletes run with ``secure_delete`` on (freed bytes are zeroed) and the WAL is checkpointed and truncated afterwards,
so no copy remains in the database file or its WAL. Nothing in a sink is touched here: ``sink_records`` of the
answer is what the caller may erase there (``halosyncctl forget --in-sinks``).
"""

from __future__ import annotations

from typing import Any

import peewee as pw

from halosync.engine import suppression
from halosync.engine.index import chunks, tuples
from halosync.privacy.subject import Subject, find, mentions, outbox_condition, record_condition
from halosync.store.models import (
    DeadLetter,
    LineageEvent,
    Link,
    MirrorRecord,
    Outbox,
    Person,
    SinkRef,
    StagedLead,
    WebhookInbox,
)

TABLES = ("staged_lead", "lineage_event", "link", "outbox", "dead_letter", "sink_ref", "person", "mirror_record",
          "webhook_inbox")


def _execute(db: pw.Database, sql: str) -> Any:
    execute: Any = db.execute_sql  # untyped in peewee
    return execute(sql)


def plan(query: str) -> Subject:
    """Who QUERY names (read only): the caller erases them in the sinks first, when asked, then calls ``erase``."""
    return find(query)


def erase(subject: Subject, db: pw.Database) -> dict[str, Any]:
    """Delete everything ``subject`` names, in the caller's transaction; returns the counts per table and what was
    put on the suppression list."""
    sqlite = isinstance(db, pw.SqliteDatabase)
    if sqlite:
        _execute(db, "PRAGMA secure_delete = ON")
    removed = dict.fromkeys(TABLES, 0)
    people, records = sorted(subject.people), sorted(subject.records)
    outbox_ids: set[int] = set()
    for part in chunks(people):
        outbox_ids.update(i for (i,) in tuples(Outbox.select(Outbox.id).where(outbox_condition(part, []))))
    for part_records in chunks(records, 200):
        outbox_ids.update(i for (i,) in tuples(Outbox.select(Outbox.id).where(outbox_condition([], part_records))))
        removed["staged_lead"] += StagedLead.delete().where(record_condition(StagedLead, part_records)).execute()
        removed["lineage_event"] += LineageEvent.delete().where(record_condition(LineageEvent, part_records)).execute()
        removed["link"] += Link.delete().where(record_condition(Link, part_records) & Link.kind.in_(
            ("person", "opportunity"))).execute()
        removed["dead_letter"] += DeadLetter.delete().where(record_condition(DeadLetter, part_records)).execute()
    for part_ids in chunks(sorted(outbox_ids)):
        removed["dead_letter"] += DeadLetter.delete().where(DeadLetter.outbox_id.in_(part_ids)).execute()
        removed["outbox"] += Outbox.delete().where(Outbox.id.in_(part_ids)).execute()
    for part in chunks(people):
        removed["link"] += Link.delete().where(Link.kind.in_(("person", "opportunity")) &
                                               Link.entity_id.in_(part)).execute()
        removed["sink_ref"] += SinkRef.delete().where(SinkRef.kind.in_(("person", "opportunity")) &
                                                      SinkRef.entity_id.in_(part)).execute()
        removed["person"] += Person.delete().where(Person.id.in_(part)).execute()
    for sink, sink_id in sorted(subject.sink_records):
        removed["mirror_record"] += MirrorRecord.delete().where(
            (MirrorRecord.sink == sink) & (MirrorRecord.kind == "person") & (MirrorRecord.sink_id == sink_id)).execute()
    for part_keys in chunks(sorted(subject.email_keys)):
        removed["mirror_record"] += MirrorRecord.delete().where(
            (MirrorRecord.kind == "person") & MirrorRecord.email_key.in_(part_keys)).execute()
    for part_keys in chunks(sorted(subject.linkedins)):
        removed["mirror_record"] += MirrorRecord.delete().where(
            (MirrorRecord.kind == "person") & MirrorRecord.linkedin_key.in_(part_keys)).execute()
    needles = subject.needles()
    if needles:
        removed["webhook_inbox"] += WebhookInbox.delete().where(mentions(WebhookInbox.body, needles)).execute()
        removed["dead_letter"] += DeadLetter.delete().where(mentions(DeadLetter.payload, needles) |
                                                            mentions(DeadLetter.reason, needles)).execute()
    suppressed = _suppress(subject)
    if sqlite:
        _execute(db, "PRAGMA secure_delete = OFF")
    return {"query_kind": _kind(subject.query), "found": subject.found, "removed": removed,
            "suppressed": suppressed, "sink_records": [{"sink": s, "sink_id": i}
                                                       for s, i in sorted(subject.sink_records)]}


def _suppress(subject: Subject) -> int:
    """The person's keys go on the list as hashes only; plain entries about them lose their plain value."""
    entries = [suppression.Entry("email", k) for k in sorted(subject.email_keys)]
    entries += [suppression.Entry("linkedin", k) for k in sorted(subject.linkedins)]
    entries += [suppression.Entry("source_id", f"{s}:{i}") for s, i in sorted(subject.records)]
    if not entries:
        return 0
    suppression.add(entries, origin="forget", reason="forgotten on request", keep_value=False)
    return len(entries)


def _kind(query: str) -> str:
    """What the query was, in words that do not repeat it (the answer may be logged)."""
    if "linkedin.com/" in query.lower():
        return "linkedin"
    if "@" in query:
        return "email"
    return "record id"


def checkpoint(db: pw.Database) -> dict[str, Any]:
    """After the erasing transaction committed: on SQLite, fold the WAL into the file and truncate it, so the WAL
    keeps no earlier copy of the erased pages. ``busy`` is true when a reader held it back (run it again)."""
    if not isinstance(db, pw.SqliteDatabase):
        return {"checkpointed": False, "reason": "PostgreSQL: deleted rows are gone for every query at once"}
    row = _execute(db, "PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return {"checkpointed": bool(row is not None and row[0] == 0), "busy": bool(row and row[0])}
