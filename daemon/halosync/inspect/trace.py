"""``trace QUERY``: what happened to a lead, from the store alone.

QUERY is an email address, a source id (``123`` or ``apollo:123``) or a sink id. Every source record it names is
shown with its staged state, its lineage events in order (match decision and rule, plans, write attempts, links,
dead letters, retries), its outbox rows and its links, and the opportunity of the person it belongs to (planned
when that person was created in a sink; a duplicate lead shows the one its person got through the first lead).
Lineage ``detail`` dicts are shown as the engine wrote them; nothing here depends on their inner shape beyond
``summary``'s best effort.
"""

from __future__ import annotations

from typing import Any

import peewee as pw

from halosync.engine.opportunities import of_person
from halosync.inspect.queries import fetch, id_of, row_id
from halosync.store.models import DeadLetter, LineageEvent, Link, Outbox, StagedLead

MAX_LEADS = 20


def find_records(query: str) -> list[tuple[str, str]]:
    """The (source, source_id) pairs QUERY names, most likely first."""
    q = query.strip()
    found: dict[tuple[str, str], None] = {}

    def add(pairs: Any) -> None:
        for source, source_id in fetch(pairs):
            found.setdefault((source, source_id), None)

    if ":" in q:
        source, _, source_id = q.partition(":")
        add(StagedLead.select(StagedLead.source, StagedLead.source_id)
            .where((StagedLead.source == source) & (StagedLead.source_id == source_id)).tuples())
        add(LineageEvent.select(LineageEvent.source, LineageEvent.source_id).distinct()
            .where((LineageEvent.source == source) & (LineageEvent.source_id == source_id)).tuples())
    add(StagedLead.select(StagedLead.source, StagedLead.source_id).where(StagedLead.source_id == q).tuples())
    add(Link.select(Link.source, Link.source_id).where(Link.sink_id == q).tuples())
    add(Outbox.select(Outbox.source, Outbox.source_id).where(Outbox.source_id == q).tuples())
    add(DeadLetter.select(DeadLetter.source, DeadLetter.source_id)
        .where((DeadLetter.source_id == q) & DeadLetter.source.is_null(False)).tuples())
    add(LineageEvent.select(LineageEvent.source, LineageEvent.source_id).distinct()
        .where(LineageEvent.source_id == q).tuples())
    if "@" in q:
        needle = q.lower()
        candidates = (StagedLead.select(StagedLead.source, StagedLead.source_id, StagedLead.payload)
                      .where(pw.fn.LOWER(StagedLead.payload).contains(needle)).limit(MAX_LEADS * 5))
        add((c.source, c.source_id) for c in candidates if _email_of(c.payload) == needle)
    return [pair for pair in found if pair[0] is not None][:MAX_LEADS]


def _email_of(payload: Any) -> str | None:
    person = payload.get("person") if isinstance(payload, dict) else None
    email = person.get("email") if isinstance(person, dict) else None
    return email.strip().lower() if isinstance(email, str) else None


def _staged(source: str, source_id: str) -> dict[str, Any] | None:
    row = StagedLead.get_or_none((StagedLead.source == source) & (StagedLead.source_id == source_id))
    if row is None:
        return None
    payload: dict[str, Any] = row.payload if isinstance(row.payload, dict) else {}
    person: dict[str, Any] = payload["person"] if isinstance(payload.get("person"), dict) else {}
    company: dict[str, Any] = payload["company"] if isinstance(payload.get("company"), dict) else {}
    name = person.get("full_name") or " ".join(str(p) for p in (person.get("first_name"), person.get("last_name")) if p)
    return {
        "id": row_id(row), "state": row.state, "revision": row.revision, "content_hash": row.content_hash,
        "staged_at": row.staged_at, "processed_at": row.processed_at,
        "person": {"name": name or None, "email": person.get("email"), "title": person.get("title")},
        "company": {"name": company.get("name"), "domain": company.get("domain")},
        "rule": getattr(row, "rule", None),
    }


def trace_record(source: str, source_id: str) -> dict[str, Any]:
    events = (LineageEvent.select().where((LineageEvent.source == source) & (LineageEvent.source_id == source_id))
              .order_by(LineageEvent.at, id_of(LineageEvent)))
    writes = (Outbox.select().where((Outbox.source == source) & (Outbox.source_id == source_id))
              .order_by(Outbox.created_at, id_of(Outbox)))
    links = Link.select().where((Link.source == source) & (Link.source_id == source_id)).order_by(id_of(Link))
    dead = DeadLetter.select().where((DeadLetter.source == source) & (DeadLetter.source_id == source_id))
    person_id = StagedLead.select(StagedLead.person_id).where(
        (StagedLead.source == source) & (StagedLead.source_id == source_id)).scalar()
    return {
        "source": source,
        "source_id": source_id,
        "staged": _staged(source, source_id),
        "events": [{"at": e.at, "stage": e.stage, "detail": e.detail if e.detail is not None else {},
                    "summary": summary(e.stage, e.detail)} for e in events],
        "writes": [{"id": row_id(w), "key": w.key, "sink": w.sink, "kind": w.kind, "action": w.action,
                    "state": w.state, "attempts": w.attempts, "last_error": w.last_error, "created_at": w.created_at,
                    "updated_at": w.updated_at} for w in writes],
        "links": [{"sink": ln.sink, "kind": ln.kind, "sink_id": ln.sink_id, "merged": ln.merged,
                   "created_at": ln.created_at} for ln in links],
        "dead_letters": [{"id": row_id(d), "stage": d.stage, "reason": d.reason, "created_at": d.created_at}
                         for d in dead],
        "opportunities": of_person(person_id) if person_id is not None else [],
    }


def trace(query: str) -> dict[str, Any]:
    return {"query": query, "leads": [trace_record(s, i) for s, i in find_records(query)]}


_SUMMARY_KEYS = ("action", "outcome", "kind", "sink", "sink_id", "rule", "reason", "error", "attempt", "merged", "via")


def summary(stage: str, detail: Any) -> str:
    """One readable line for a lineage event, whatever its detail holds."""
    if not isinstance(detail, dict):
        return "" if detail is None else str(detail)
    parts = [f"{k}={detail[k]}" for k in _SUMMARY_KEYS if detail.get(k) not in (None, "", [], {})]
    for role in ("person", "company"):  # a match decision: {"person": {"outcome", "rule", ...}, ...}
        decision = detail.get(role)
        if isinstance(decision, dict) and (decision.get("outcome") or decision.get("rule")):
            parts.append(f"{role}: {decision.get('outcome', '?')} by {decision.get('rule', '?')}")
    return ", ".join(parts)
