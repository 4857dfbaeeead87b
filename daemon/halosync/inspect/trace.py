"""``trace QUERY``: what happened to a lead, from the store alone.

QUERY is an email address (found by its normalised form too: ``ada@example.com`` finds ``Ada+news@example.com``),
a source id (``123`` or ``apollo:123``) or a sink id (``61``, or ``halopsa:user:61`` / ``halopsa:client:61`` to
say which record of which sink). A bare id may name several things (HaloPSA client 61 and user 61 are two
records): every lead says in ``matched_by`` how the query found it. Every source record it names is shown
with its staged state, its lineage events in order (match decision and rule, plans, write attempts, links,
dead letters, retries), its outbox rows and its links, and the opportunity of the person it belongs to (planned
when that person was created in a sink; a duplicate lead shows the one its person got through the first lead).
Lineage ``detail`` dicts are shown as the engine wrote them; nothing here depends on their inner shape beyond
``summary``'s best effort.
"""

from __future__ import annotations

from typing import Any

import peewee as pw

from halosync.engine.normalize import email_key
from halosync.engine.opportunities import of_person
from halosync.inspect.queries import fetch, id_of, row_id
from halosync.store.models import DeadLetter, LineageEvent, Link, Outbox, Person, SinkRef, StagedLead

MAX_LEADS = 20


# What a sink calls its records, as an operator types them in a query: ``halopsa:user:61``.
KIND_ALIASES = {"person": "person", "user": "person", "contact": "person", "people": "person", "users": "person",
                "company": "company", "client": "company", "organization": "company", "clients": "company",
                "opportunity": "opportunity", "opp": "opportunity"}


class _Found:
    """(source, source_id) -> the ways the query found it, most likely first."""

    def __init__(self) -> None:
        self.reasons: dict[tuple[str, str], list[str]] = {}

    def add(self, pairs: Any, reason: str) -> None:
        for source, source_id in fetch(pairs):
            if source is None:
                continue
            reasons = self.reasons.setdefault((source, source_id), [])
            if reason not in reasons:
                reasons.append(reason)


def find_records(query: str) -> list[tuple[str, str]]:
    """The (source, source_id) pairs QUERY names, most likely first."""
    return list(find_with_reasons(query))


def find_with_reasons(query: str) -> dict[tuple[str, str], list[str]]:
    """The (source, source_id) pairs QUERY names, most likely first, each with how it was found."""
    q = query.strip()
    found = _Found()
    parts = q.split(":")
    if len(parts) == 3 and parts[1].lower() in KIND_ALIASES:  # SINK:KIND:ID, one record of one sink
        sink, kind, sink_id = parts[0], KIND_ALIASES[parts[1].lower()], parts[2]
        _by_sink_record(found, sink_id, sink=sink, kind=kind)
        return dict(list(found.reasons.items())[:MAX_LEADS])
    if ":" in q:
        source, _, source_id = q.partition(":")
        where = (StagedLead.source == source) & (StagedLead.source_id == source_id)
        found.add(StagedLead.select(StagedLead.source, StagedLead.source_id).where(where).tuples(),
                  f"source record {source}:{source_id}")
        found.add(LineageEvent.select(LineageEvent.source, LineageEvent.source_id).distinct()
                  .where((LineageEvent.source == source) & (LineageEvent.source_id == source_id)).tuples(),
                  f"source record {source}:{source_id}")
    by_source_id = StagedLead.select(StagedLead.source, StagedLead.source_id).where(StagedLead.source_id == q)
    for source, source_id in fetch(by_source_id.tuples()):
        found.add([(source, source_id)], f"source record {source}:{source_id}")
    _by_sink_record(found, q)
    for pairs in (Outbox.select(Outbox.source, Outbox.source_id).where(Outbox.source_id == q).tuples(),
                  DeadLetter.select(DeadLetter.source, DeadLetter.source_id)
                  .where((DeadLetter.source_id == q) & DeadLetter.source.is_null(False)).tuples(),
                  LineageEvent.select(LineageEvent.source, LineageEvent.source_id).distinct()
                  .where(LineageEvent.source_id == q).tuples()):
        for source, source_id in fetch(pairs):
            found.add([(source, source_id)], f"source record {source}:{source_id}")
    if "@" in q:
        _by_email(found, q)
    return dict(list(found.reasons.items())[:MAX_LEADS])


def _by_sink_record(found: _Found, sink_id: str, *, sink: str | None = None, kind: str | None = None) -> None:
    """The leads linked to sink records with this id (of one sink and kind when given), each saying which record:
    HaloPSA's client 61 and user 61 are different records."""
    query = Link.select(Link.source, Link.source_id, Link.sink, Link.kind).where(Link.sink_id == sink_id)
    if sink is not None:
        query = query.where(Link.sink == sink)
    if kind is not None and kind != "opportunity":
        query = query.where(Link.kind == kind)
    if kind in (None, "opportunity"):
        _by_opportunity(found, sink_id, sink)
    if kind == "opportunity":
        return
    for source, source_id, link_sink, link_kind in fetch(query.order_by(Link.kind.desc(), id_of(Link)).tuples()):
        found.add([(source, source_id)], f"{link_sink} {link_kind} {sink_id}")


def _by_opportunity(found: _Found, sink_id: str, sink: str | None) -> None:
    refs = SinkRef.select(SinkRef.sink, SinkRef.entity_id).where(
        (SinkRef.kind == "opportunity") & (SinkRef.sink_id == sink_id))
    if sink is not None:
        refs = refs.where(SinkRef.sink == sink)
    for ref_sink, entity_id in fetch(refs.tuples()):
        leads = StagedLead.select(StagedLead.source, StagedLead.source_id).where(StagedLead.person_id == entity_id)
        found.add(leads.tuples(), f"{ref_sink} opportunity {sink_id}")


def _by_email(found: _Found, q: str) -> None:
    needle = q.lower()
    candidates = (StagedLead.select(StagedLead.source, StagedLead.source_id, StagedLead.payload)
                  .where(pw.fn.LOWER(StagedLead.payload).contains(needle)).limit(MAX_LEADS * 5))
    found.add([(c.source, c.source_id) for c in candidates if _email_of(c.payload) == needle], f"email {needle}")
    # The mailbox the address reaches, as the matcher keys people: Ada+news@Example.com is ada@example.com.
    keys = {k for k in (email_key(q), email_key(q, strip_plus_tags=False)) if k}
    if keys:
        people = Person.select(Person.id).where(Person.email_key.in_(sorted(keys)))
        leads = StagedLead.select(StagedLead.source, StagedLead.source_id).where(StagedLead.person_id.in_(people))
        found.add(leads.order_by(StagedLead.id).limit(MAX_LEADS).tuples(),
                  f"email {' or '.join(sorted(keys))} (normalised)")


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
    return {"query": query, "leads": [trace_record(s, i) | {"matched_by": reasons}
                                      for (s, i), reasons in find_with_reasons(query).items()]}


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
