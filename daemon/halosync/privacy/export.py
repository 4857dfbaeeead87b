"""``export-person QUERY``: everything halosync holds about one person, as one JSON document (a subject access
request). The same rows ``forget`` would erase, in full, plus whether and how the person is suppressed."""

from __future__ import annotations

import time
from typing import Any

from halosync.engine import suppression
from halosync.engine.index import chunks
from halosync.privacy.subject import find, mentions, outbox_condition, record_condition
from halosync.store.models import (
    DeadLetter,
    LineageEvent,
    Link,
    MirrorRecord,
    Outbox,
    Person,
    SinkRef,
    StagedLead,
    Suppression,
    WebhookInbox,
)

FORMAT = "halosync.person-export/1"


def _rows(query: Any) -> list[dict[str, Any]]:
    return list(query.dicts())


def export(query: str) -> dict[str, Any]:
    subject = find(query)
    people, records = sorted(subject.people), sorted(subject.records)
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in (
        "people", "staged_leads", "lineage", "links", "outbox", "dead_letters", "sink_refs", "mirror_records",
        "webhook_deliveries")}
    for part in chunks(people):
        out["people"] += _rows(Person.select().where(Person.id.in_(part)))
        out["sink_refs"] += _rows(SinkRef.select().where(SinkRef.kind.in_(("person", "opportunity")) &
                                                         SinkRef.entity_id.in_(part)))
        out["outbox"] += _rows(Outbox.select().where(outbox_condition(part, [])))
    for part_records in chunks(records, 200):
        out["staged_leads"] += _rows(StagedLead.select().where(record_condition(StagedLead, part_records)))
        out["lineage"] += _rows(LineageEvent.select().where(record_condition(LineageEvent, part_records))
                                .order_by(LineageEvent.at))
        out["links"] += _rows(Link.select().where(record_condition(Link, part_records)))
        out["dead_letters"] += _rows(DeadLetter.select().where(record_condition(DeadLetter, part_records)))
        seen = {r["id"] for r in out["outbox"]}
        out["outbox"] += [r for r in _rows(Outbox.select().where(outbox_condition([], part_records)))
                          if r["id"] not in seen]
    for sink, sink_id in sorted(subject.sink_records):
        out["mirror_records"] += _rows(MirrorRecord.select().where(
            (MirrorRecord.sink == sink) & (MirrorRecord.kind == "person") & (MirrorRecord.sink_id == sink_id)))
    needles = subject.needles()
    if needles:
        out["webhook_deliveries"] = _rows(WebhookInbox.select().where(mentions(WebhookInbox.body, needles)))
    return {"format": FORMAT, "generated_at": time.time(), "query": query, "found": subject.found,
            "suppressed": _suppression_of(subject), **out}


def _suppression_of(subject: Any) -> list[dict[str, Any]]:
    """The list entries that match the person (a forgotten entry shows only that it exists)."""
    key = suppression.hash_key()
    entries = [suppression.Entry("email", k) for k in sorted(subject.email_keys)]
    entries += [suppression.Entry("domain", k.rpartition("@")[2]) for k in sorted(subject.email_keys)]
    entries += [suppression.Entry("linkedin", k) for k in sorted(subject.linkedins)]
    entries += [suppression.Entry("source_id", f"{s}:{i}") for s, i in sorted(subject.records)]
    digests = [suppression.digest(key, e.kind, e.key) for e in entries]
    if not digests:
        return []
    return [{"kind": r.kind, "value": r.value, "origin": r.origin, "reason": r.reason, "created_at": r.created_at}
            for r in Suppression.select().where(Suppression.digest.in_(digests))]
