"""Identity, the pipeline's third step (pull -> staging -> identity -> planner -> outbox -> workers -> links):
which local company and person each staged lead of a batch is, in the caller's transaction.

``Resolver.resolve`` matches each lead's company, then its person (``Matcher``s over a ``BatchIndex`` of the store
and the mirror), records every decision on the lead's ``Item``, creates local identities for new ones (tables
company and person) and adopts sink records found in the mirror (sink_ref). Identities created in the batch are
added to the index, so two duplicates in one batch resolve to one identity. What to write follows in ``planner``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import peewee as pw

from halosync.engine.conflict import present
from halosync.engine.index import BatchIndex, scoped_name
from halosync.engine.matching import Candidate, CompanyIdentity, Decision, LeadKeys, Matcher
from halosync.engine.sql import insert_one
from halosync.model import Lead
from halosync.store.models import Company, Person, SinkRef


class Staged(NamedTuple):
    """What planning reads of a staged lead (plain tuples: a model instance per row costs more than its SQL)."""

    id: int
    source: str
    source_id: str
    revision: int
    payload: dict[str, Any]


@dataclass
class Item:
    """A staged lead on its way through identity and planning."""

    row: Staged
    lead: Lead
    keys: LeadKeys
    company: CompanyIdentity | None = None
    person_id: int | None = None
    decisions: dict[str, Decision] = field(default_factory=dict)
    adopted: set[str] = field(default_factory=set)  # kinds whose sink record came from the mirror
    review: Decision | None = None

    def entity(self, kind: str) -> int | None:
        return self.person_id if kind == "person" else self.company.entity_id if self.company else None


class Resolver:
    def __init__(self, sinks: Sequence[str], matchers: Sequence[Matcher], now: float) -> None:
        self.sinks = sinks
        self.matchers = matchers
        self.now = now
        self.index = BatchIndex(list(sinks))

    def resolve(self, items: list[Item]) -> None:
        """Companies first (a person's name is scoped by its company), each kind's candidates in a few queries."""
        self.index.load_companies({i.keys.domain for i in items if i.keys.domain},
                                  {i.keys.company_name for i in items if i.keys.company_name},
                                  {i.keys.company_name for i in items if i.keys.company_name and not i.keys.domain})
        for item in items:
            if item.keys.has_company:
                self._resolve_company(item)
        self.index.load_people({i.keys.email for i in items if i.keys.email},
                               {i.keys.linkedin for i in items if i.keys.linkedin},
                               {n for i in items for n in self._scoped_names(i)})
        for item in items:
            if item.review is None:
                self._resolve_person(item)

    def _decide(self, kind: str, item: Item) -> Decision:
        for matcher in self.matchers:
            if kind == "company":
                decision = matcher.match_company(item.keys, self.index)
            else:
                decision = matcher.match_person(item.keys, item.company, self.index)
            if decision is not None:
                return decision
        return Decision("new", "new", inputs=item.keys.inputs())

    def _resolve_company(self, item: Item) -> None:
        keys, company = item.keys, item.lead.company
        decision = item.decisions["company"] = self._decide("company", item)
        if decision.outcome == "review":
            item.review = decision
            return
        cand = decision.candidate
        if cand is not None and cand.entity_id is not None:
            entity_id = cand.entity_id
            if keys.domain and cand.domain is None:  # learned the domain: later leads match on it
                Company.update(domain_key=keys.domain).where(Company.id == entity_id,
                                                             Company.domain_key.is_null()).execute()
                self.index.add_company(entity_id, keys.domain, None)
        else:
            entity_id = insert_one(Company, {"name": company.name if company else None, "domain_key": keys.domain,
                                             "name_key": keys.company_name,
                                             "fields": present(company.values()) if company else {},
                                             "created_at": self.now})
            self.index.add_company(entity_id, keys.domain, keys.company_name)
            if cand is not None and cand.sink and cand.sink_id:  # an existing sink record: adopt it
                self._adopt("company", entity_id, cand.sink, cand.sink_id)
                item.adopted.add("company")
        self._adopt_in_other_sinks(item, "company", entity_id)
        item.company = CompanyIdentity(entity_id, self.index.refs["company"].get(entity_id, {}))

    def _scoped_names(self, item: Item) -> list[str]:
        if not item.keys.name or item.company is None:
            return []
        scopes: list[int | str] = [item.company.entity_id, *item.company.sink_ids.values()]
        return [scoped_name(item.keys.name, s) for s in scopes]

    def _resolve_person(self, item: Item) -> None:
        keys = item.keys
        decision = item.decisions["person"] = self._decide("person", item)
        if decision.outcome == "review":
            item.review = decision
            return
        cand = decision.candidate
        name_key = scoped_name(keys.name, item.company.entity_id) if keys.name and item.company else None
        if cand is not None and cand.entity_id is not None:
            item.person_id = cand.entity_id
            if (keys.email and cand.email is None) or (keys.linkedin and cand.linkedin is None):
                Person.update(email_key=pw.fn.COALESCE(Person.email_key, keys.email),
                              linkedin_key=pw.fn.COALESCE(Person.linkedin_key, keys.linkedin)).where(
                    Person.id == cand.entity_id).execute()
                cand.email, cand.linkedin = cand.email or keys.email, cand.linkedin or keys.linkedin
                self.index.add_person(cand.entity_id, keys.email if cand.email == keys.email else None,
                                      keys.linkedin if cand.linkedin == keys.linkedin else None, None)
            self._adopt_in_other_sinks(item, "person", cand.entity_id)
            return
        item.person_id = insert_one(Person, {"company": item.company.entity_id if item.company else None,
                                             "email_key": keys.email, "linkedin_key": keys.linkedin,
                                             "name_key": name_key, "fields": present(item.lead.person.values()),
                                             "created_at": self.now})
        self.index.add_person(item.person_id, keys.email, keys.linkedin, name_key)
        if cand is not None and cand.sink and cand.sink_id:
            self._adopt("person", item.person_id, cand.sink, cand.sink_id)
            item.adopted.add("person")
        self._adopt_in_other_sinks(item, "person", item.person_id)

    def _adopt_in_other_sinks(self, item: Item, kind: str, entity_id: int) -> None:
        """The decision named one candidate; a sink in which the identity has no record yet (another sink, or one
        added since) may hold one under the same strong key: adopt it there rather than create it again. Only a
        single unbound record of that sink is taken; anything less certain is created as before."""
        refs = self.index.refs[kind].get(entity_id, {})
        for sink in self.sinks:
            if sink in refs:
                continue
            for found in self._strong_candidates(item, kind):
                ids = {c.sink_id for c in found
                       if c.origin == "mirror" and c.sink == sink and c.sink_id and c.entity_id is None}
                if ids:
                    if len(ids) == 1:
                        self._adopt(kind, entity_id, sink, ids.pop())
                        item.adopted.add(kind)
                    break

    def _strong_candidates(self, item: Item, kind: str) -> Iterator[list[Candidate]]:
        keys = item.keys
        if kind == "company":
            if keys.domain:
                yield self.index.companies_by("domain", keys.domain)
            elif keys.company_name:  # no domain on either side: the name is all there is
                yield [c for c in self.index.companies_by("name", keys.company_name) if c.domain is None]
            return
        if keys.email:
            yield self.index.people_by("email", keys.email)
        if keys.linkedin:
            yield self.index.people_by("linkedin", keys.linkedin)
        if keys.name and item.company is not None:
            yield self.index.people_by("name", keys.name, item.company)

    def _adopt(self, kind: str, entity_id: int, sink: str, sink_id: str) -> None:
        SinkRef.insert(sink=sink, kind=kind, entity_id=entity_id, sink_id=sink_id,
                       created_at=self.now).on_conflict_ignore().execute()
        self.index.bind(kind, entity_id, sink, sink_id)
