"""Who a QUERY names, and every row of the store that holds something about them.

QUERY is an e-mail address, a LinkedIn profile URL, a source record (``apollo:ID``, or a bare id) or a sink id.
It names local identities (table ``person``) and source records; from those the rest follows: the source records
resolved to those identities, their staged leads, lineage, links, outbox rows, dead letters, the sink records
behind them (``sink_ref``, ``mirror_record``) and webhook deliveries that mention the person.

Runs in a database thread.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import peewee as pw

from halosync.engine import normalize
from halosync.engine.index import chunks, tuples
from halosync.inspect.trace import find_records
from halosync.store.models import Link, MirrorRecord, Outbox, Person, SinkRef, StagedLead

PERSON_KINDS = ("person", "opportunity")


@dataclass
class Subject:
    query: str
    people: set[int] = field(default_factory=set)  # person.id
    records: set[tuple[str, str]] = field(default_factory=set)  # (source, source_id)
    emails: set[str] = field(default_factory=set)  # as written, lower-cased (to find mentions in free text)
    email_keys: set[str] = field(default_factory=set)
    linkedins: set[str] = field(default_factory=set)  # linkedin keys (in/slug)
    names: set[str] = field(default_factory=set)
    sink_records: set[tuple[str, str]] = field(default_factory=set)  # (sink, sink_id) of person records

    @property
    def found(self) -> bool:
        return bool(self.people or self.records)

    def needles(self) -> list[str]:
        """Strings whose presence in a free-text column (a webhook body, a dead letter) means it is about them."""
        out = {e for e in self.emails | self.email_keys if len(e) > 3}
        out |= {key for key in self.linkedins if len(key) > 4}
        out |= {source_id for _, source_id in self.records if len(source_id) >= 6}
        return sorted(out)


def find(query: str, *, strip_plus_tags: bool = True) -> Subject:
    q = query.strip()
    subject = Subject(q)
    email = normalize.email_key(q, strip_plus_tags=strip_plus_tags) if "@" in q else None
    linkedin = normalize.linkedin_key(q) if "linkedin.com/" in q.lower() else None
    if email:
        subject.email_keys.add(email)
        subject.emails.add(q.lower())
        subject.people.update(p for (p,) in tuples(Person.select(Person.id).where(Person.email_key == email)))
    if linkedin:
        subject.linkedins.add(linkedin)
        subject.people.update(p for (p,) in tuples(Person.select(Person.id).where(Person.linkedin_key == linkedin)))
    if not linkedin:
        subject.records.update(find_records(q))
    wanted: Any = MirrorRecord.sink_id == q
    if email:
        wanted = wanted | (MirrorRecord.email_key == email)
    if linkedin:
        wanted = wanted | (MirrorRecord.linkedin_key == linkedin)
    for (sink, sink_id) in tuples(MirrorRecord.select(MirrorRecord.sink, MirrorRecord.sink_id).where(
            (MirrorRecord.kind == "person") & wanted)):
        subject.sink_records.add((sink, sink_id))
    _close(subject)
    return subject


def _close(subject: Subject) -> None:
    """Follow records -> identities -> records until nothing new turns up (two rounds at most in practice)."""
    for _ in range(4):
        before = (len(subject.people), len(subject.records), len(subject.sink_records))
        for part in chunks(sorted(subject.records), 200):
            for person_id, payload in tuples(StagedLead.select(StagedLead.person_id, StagedLead.payload).where(
                    _pairs(StagedLead, part))):
                if person_id is not None:
                    subject.people.add(person_id)
                _learn(subject, payload)
        for part in chunks(sorted(subject.sink_records)):
            for sink, sink_id in part:
                subject.people.update(e for (e,) in tuples(SinkRef.select(SinkRef.entity_id).where(
                    (SinkRef.sink == sink) & (SinkRef.kind == "person") & (SinkRef.sink_id == sink_id))))
        for ids in chunks(sorted(subject.people)):
            for source, source_id in tuples(StagedLead.select(StagedLead.source, StagedLead.source_id).where(
                    StagedLead.person_id.in_(ids))):
                subject.records.add((source, source_id))
            for source, source_id in tuples(Link.select(Link.source, Link.source_id).where(
                    (Link.kind == "person") & Link.entity_id.in_(ids))):
                subject.records.add((source, source_id))
            for sink, sink_id in tuples(SinkRef.select(SinkRef.sink, SinkRef.sink_id).where(
                    (SinkRef.kind == "person") & SinkRef.entity_id.in_(ids))):
                subject.sink_records.add((sink, sink_id))
            for email_key, linkedin_key, fields in tuples(Person.select(
                    Person.email_key, Person.linkedin_key, Person.fields).where(Person.id.in_(ids))):
                if email_key:
                    subject.email_keys.add(email_key)
                if linkedin_key:
                    subject.linkedins.add(linkedin_key)
                _learn(subject, {"person": fields})
        if (len(subject.people), len(subject.records), len(subject.sink_records)) == before:
            return


def _learn(subject: Subject, payload: Any) -> None:
    person = payload.get("person") if isinstance(payload, dict) else None
    if not isinstance(person, dict):
        return
    email = person.get("email")
    if isinstance(email, str) and email.strip():
        subject.emails.add(email.strip().lower())
        key = normalize.email_key(email)
        if key:
            subject.email_keys.add(key)
    linkedin = normalize.linkedin_key(person.get("linkedin_url")) if isinstance(person.get("linkedin_url"), str) \
        else None
    if linkedin:
        subject.linkedins.add(linkedin)
    for name in (person.get("full_name"), " ".join(str(p) for p in (person.get("first_name"),
                                                                     person.get("last_name")) if p)):
        if isinstance(name, str) and name.strip():
            subject.names.add(name.strip())


def _pairs(model: Any, pairs: Iterable[tuple[str, str]]) -> Any:
    """WHERE (source, source_id) is one of ``pairs``."""
    condition: Any = None
    for source, source_id in pairs:
        one = (model.source == source) & (model.source_id == source_id)
        condition = one if condition is None else condition | one
    return condition if condition is not None else pw.SQL("1 = 0")


def record_condition(model: Any, pairs: Iterable[tuple[str, str]]) -> Any:
    """WHERE (source, source_id) is one of ``pairs``, for any table with those two columns."""
    return _pairs(model, pairs)


def outbox_condition(part_people: list[int], part_records: list[tuple[str, str]]) -> Any:
    """The outbox rows about the person: their person and opportunity writes (a company's row stays)."""
    condition: Any = pw.SQL("1 = 0")
    if part_people:
        condition = Outbox.kind.in_(PERSON_KINDS) & Outbox.entity_id.in_(part_people)
    if part_records:
        condition = condition | (Outbox.kind.in_(PERSON_KINDS) & _pairs(Outbox, part_records))
    return condition


def mentions(column: Any, needles: Iterable[str]) -> Any:
    condition: Any = None
    for needle in needles:
        one = pw.fn.LOWER(column).contains(needle.lower())
        condition = one if condition is None else condition | one
    return condition

