"""The candidates a batch of leads is matched against, fetched from the store in a few queries per batch.

``BatchIndex`` implements ``CandidateIndex`` over two sources: local identities (company/person tables) and the
sinks' mirrors (mirror_record), each mirror record mapped to the local identity it is bound to (sink_ref). Lookups
are dictionary reads; identities created while the batch is matched are added, so two duplicates in one batch
resolve to one identity. Runs inside a database thread.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal, NamedTuple, TypeVar

from halosync.engine.matching import Candidate, CompanyIdentity
from halosync.engine.sql import select_in
from halosync.store.models import Company, MirrorRecord, Person, SinkRef

CHUNK = 500
T = TypeVar("T")


def chunks(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for v in values:
        batch.append(v)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def tuples(query: Any) -> Iterator[tuple[Any, ...]]:
    """Rows of a peewee select as plain tuples (cheaper than model instances, and typed as such)."""
    return iter(query.tuples())


class MirrorKeys(NamedTuple):
    """What matching reads of a mirror record."""

    id: int
    sink: str
    sink_id: str
    domain_key: str | None
    name_key: str | None
    email_key: str | None
    linkedin_key: str | None


def scoped_name(name: str, scope: int | str) -> str:
    """A person's name key within one company (a local company id, or a sink's company record id)."""
    return f"{name}#{scope}"


class BatchIndex:
    def __init__(self, sinks: Sequence[str]) -> None:
        self.sinks = tuple(sinks)
        self._companies: dict[str, defaultdict[str, list[Candidate]]] = {
            "domain": defaultdict(list), "name": defaultdict(list)}
        self._people: dict[str, defaultdict[str, list[Candidate]]] = {
            "email": defaultdict(list), "linkedin": defaultdict(list), "name": defaultdict(list)}
        # entity id -> {sink: sink_id}, per kind; filled for every identity the batch touches
        self.refs: dict[str, dict[int, dict[str, str]]] = {"company": {}, "person": {}}
        self._mirror_bound: dict[tuple[str, str, str], int] = {}  # (sink, kind, sink_id) -> entity id

    # --- CandidateIndex ----------------------------------------------------------------------------

    def companies_by(self, rule: Literal["domain", "name"], key: str) -> list[Candidate]:
        return list(self._companies[rule].get(key, ()))

    def people_by(self, rule: Literal["email", "linkedin", "name"], key: str,
                  company: CompanyIdentity | None = None) -> list[Candidate]:
        if rule != "name":
            return list(self._people[rule].get(key, ()))
        if company is None:
            return []
        found = list(self._people["name"].get(scoped_name(key, company.entity_id), ()))
        for sink, sink_id in company.sink_ids.items():
            found += [c for c in self._people["name"].get(scoped_name(key, sink_id), ()) if c.sink == sink]
        return found

    # --- loading -----------------------------------------------------------------------------------

    def load_companies(self, domains: set[str], names: set[str], names_without_domain: set[str]) -> None:
        """Companies by domain; by name only those that could match by name: any of a name whose lead has no
        domain, else only those without a domain (a company with another domain is another company). Many
        companies share a name ("Acme"), so loading them all would grow with the store."""
        rows: dict[int, tuple[Any, ...]] = {}
        columns = ("id", "domain_key", "name_key")
        lookups = (("domain_key", domains, ()), ("name_key", names_without_domain, ()),
                   ("name_key", names - names_without_domain, ("domain_key",)))
        for key, values, null in lookups:
            for row in select_in(Company, columns, key, sorted(values), null=null):
                rows[row[0]] = row
        for entity_id, domain_key, name_key in rows.values():
            self.add_company(entity_id, domain_key, name_key)
        self._load_refs("company", list(rows))
        for rec in self._mirror("company", *lookups):
            cand = Candidate("mirror", self._bound("company", rec), rec.sink, rec.sink_id, domain=rec.domain_key)
            if rec.domain_key:
                self._companies["domain"][rec.domain_key].append(cand)
            if rec.name_key:
                self._companies["name"][rec.name_key].append(cand)

    def load_people(self, emails: set[str], linkedins: set[str], names: set[str]) -> None:
        """``names`` are scoped names (``scoped_name``), for local ids and sink record ids alike."""
        rows: dict[int, tuple[Any, ...]] = {}
        lookups: tuple[tuple[str, set[str], tuple[str, ...]], ...] = (
            ("email_key", emails, ()), ("linkedin_key", linkedins, ()), ("name_key", names, ()))
        for key, values, _ in lookups:
            for row in select_in(Person, ("id", "email_key", "linkedin_key", "name_key"), key, sorted(values)):
                rows[row[0]] = row
        for entity_id, email_key, linkedin_key, name_key in rows.values():
            self.add_person(entity_id, email_key, linkedin_key, name_key)
        self._load_refs("person", list(rows))
        for rec in self._mirror("person", *lookups):
            cand = Candidate("mirror", self._bound("person", rec), rec.sink, rec.sink_id, email=rec.email_key,
                             linkedin=rec.linkedin_key)
            for rule, value in (("email", rec.email_key), ("linkedin", rec.linkedin_key), ("name", rec.name_key)):
                if value:
                    self._people[rule][value].append(cand)

    def _mirror(self, kind: str, *lookups: tuple[str, set[str], tuple[str, ...]]) -> list[MirrorKeys]:
        """The live mirror records whose ``key`` column is one of the values (and ``null`` columns NULL); their
        keys only: matching never needs their fields."""
        found: dict[int, MirrorKeys] = {}
        for sink in self.sinks:
            for key, values, null in lookups:
                for row in select_in(MirrorRecord, MirrorKeys._fields, key, sorted(values),
                                     {"sink": sink, "kind": kind, "deleted": False}, null=null):
                    found[row[0]] = MirrorKeys(*row)
        self._bind_mirror(kind, list(found.values()))
        return list(found.values())

    def _bind_mirror(self, kind: str, records: list[MirrorKeys]) -> None:
        for sink in self.sinks:
            ids = [r.sink_id for r in records if r.sink == sink]
            for entity_id, sink_id in select_in(SinkRef, ("entity_id", "sink_id"), "sink_id", ids,
                                                {"sink": sink, "kind": kind}):
                self._mirror_bound[(sink, kind, sink_id)] = entity_id

    def _bound(self, kind: str, rec: MirrorKeys) -> int | None:
        return self._mirror_bound.get((rec.sink, kind, rec.sink_id))

    def _load_refs(self, kind: str, entity_ids: list[int]) -> None:
        """Sink ids of the entities, sink by sink: (sink, kind, entity_id) leads the index; without the sink, each
        batch read the whole table, and planning slowed as the store grew."""
        refs = self.refs[kind]
        for sink in self.sinks:
            for entity_id, sink_id in select_in(SinkRef, ("entity_id", "sink_id"), "entity_id", entity_ids,
                                                {"sink": sink, "kind": kind}):
                refs.setdefault(entity_id, {})[sink] = sink_id

    # --- identities decided during the batch --------------------------------------------------------

    def add_company(self, entity_id: int, domain: str | None, name: str | None) -> None:
        cand = Candidate("local", entity_id, domain=domain)
        if domain:
            self._companies["domain"][domain].append(cand)
        if name:
            self._companies["name"][name].append(cand)
        self.refs["company"].setdefault(entity_id, {})

    def add_person(self, entity_id: int, email: str | None, linkedin: str | None, name: str | None) -> None:
        cand = Candidate("local", entity_id, email=email, linkedin=linkedin)
        for rule, key in (("email", email), ("linkedin", linkedin), ("name", name)):
            if key:
                self._people[rule][key].append(cand)
        self.refs["person"].setdefault(entity_id, {})

    def bind(self, kind: str, entity_id: int, sink: str, sink_id: str) -> None:
        self.refs[kind].setdefault(entity_id, {})[sink] = sink_id
        for table in (self._companies if kind == "company" else self._people).values():
            for cands in table.values():
                for cand in cands:
                    if cand.origin == "mirror" and cand.sink == sink and cand.sink_id == sink_id:
                        cand.entity_id = entity_id
