"""From a header row and a row of cells to a lead, or to the reason the row cannot be one.

``find_header`` picks the header row (exports often begin with a title line or blank rows) and the mapping that
fits it best; ``Columns.read`` turns one row into a ``Lead`` or a ``Rejected`` naming ``file:row``.

A lead's ``source_id`` says who the person is, the same in every file: the vendor's own contact id when the export
has one (``zoominfo:1234``), else the normalised e-mail, else the LinkedIn profile, else name and company. So the
same person dropped again, in another file or an edited one, updates one lead instead of making a second.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from halosync.plugin import (
    Company,
    Lead,
    Person,
    Rejected,
    company_name_key,
    domain_key,
    email_key,
    linkedin_key,
    person_name_key,
)
from halosync_files.presets import Mapping, fold

HEADER_SEARCH_ROWS = 20  # a header further down than this is not looked for
MIN_SCORE = 2  # a header row must provide at least two of a mapping's targets
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_EXCEL_EPOCH = datetime(1899, 12, 30, tzinfo=UTC)


class NoHeader(Exception):
    pass


@dataclass(frozen=True)
class Columns:
    """Where each target is in one file's rows: the column indices holding it, preferred first."""

    mapping: Mapping
    header_row: int
    headers: tuple[str, ...]
    where: dict[str, tuple[int, ...]]

    @classmethod
    def build(cls, mapping: Mapping, header_row: int, headers: Sequence[str]) -> Columns:
        folded = [fold(h) for h in headers]
        where: dict[str, tuple[int, ...]] = {}
        for target, names in mapping.folded.items():
            # every column with an accepted name (a duplicated header gives two), in the mapping's order
            idx = tuple(i for name in names for i, h in enumerate(folded) if h == name)
            if idx:
                where[target] = idx
        return cls(mapping, header_row, tuple(h.strip() for h in headers), where)

    def value(self, cells: Sequence[str], target: str) -> str | None:
        for i in self.where.get(target, ()):
            if i < len(cells) and (text := cells[i].strip()):
                return text
        return None

    def values(self, cells: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
        """The row's non-empty targets: person fields, company fields, and the rest (id, created_at)."""
        person: dict[str, Any] = {}
        company: dict[str, Any] = {}
        other: dict[str, str] = {}
        into = (person, company, other)
        n = len(cells)
        for bucket, name, idx in self.plan:
            for i in idx:
                if i < n and (text := cells[i].strip()):
                    into[bucket][name] = text
                    break
        return person, company, other

    @property
    def plan(self) -> tuple[tuple[int, str, tuple[int, ...]], ...]:
        """``where`` split for ``values``: (0 person / 1 company / 2 other, field name, indices)."""
        plan = self.__dict__.get("_plan")
        if plan is None:
            buckets = {"person": 0, "company": 1}
            plan = tuple((buckets.get(t.partition(".")[0], 2), t.partition(".")[2] or t, idx)
                         for t, idx in self.where.items())
            object.__setattr__(self, "_plan", plan)
        return plan

    def read(self, source: str, file: str, number: int, cells: Sequence[str], labels: tuple[str, ...]
             ) -> Lead | Rejected | None:
        """The row as a lead; a ``Rejected`` saying why not; None for a blank row (nothing to report)."""
        if not any(c.strip() for c in cells):
            return None
        where = f"{file}:{number}"
        raw: dict[str, Any] = {"file": file, "row": number,
                               "columns": {h: c for h, c in zip(self.headers, cells, strict=False) if h}}
        person, company, other = self.values(cells)
        email = person.get("email")
        if email is not None:
            email = email.removeprefix("mailto:")
            if not _EMAIL.match(email):
                return Rejected(where, f"{where}: {email!r} is not an e-mail address", raw)
            person["email"] = email
        if "full_name" not in person and ("first_name" in person or "last_name" in person):
            person["full_name"] = " ".join(p for p in (person.get("first_name"), person.get("last_name")) if p)
        if "website" in company and "domain" not in company and (domain := domain_key(company["website"])):
            company["domain"] = domain
        source_id = self._identity(other.get("id"), person, company)
        if source_id is None:
            reason = ("a name alone does not identify a person: the row needs an e-mail, a LinkedIn URL or a company"
                      if person.get("full_name") else "no e-mail, LinkedIn URL or name to identify the person")
            return Rejected(where, f"{where}: {reason}", raw)
        return Lead(source=source, source_id=source_id, person=Person(**person),
                    company=Company(**company) if company else None,
                    created_at=excel_date(other.get("created_at")), labels=labels, raw=raw)

    def _identity(self, vendor_id: str | None, person: dict[str, Any], company: dict[str, Any]) -> str | None:
        if vendor_id:
            return f"{self.mapping.name}:{vendor_id}"
        if person.get("email"):
            return f"email:{email_key(person['email'])}"
        if person.get("linkedin_url") and (key := linkedin_key(person["linkedin_url"])):
            return f"linkedin:{key}"
        name = person_name_key(person.get("first_name"), person.get("last_name"), person.get("full_name"))
        org = company_name_key(company.get("name")) or domain_key(company.get("domain"))
        return f"name:{name}@{org}" if name and org else None


def find_header(rows: Iterable[tuple[int, list[str]]], mappings: Sequence[Mapping], *, forced: str = ""
                ) -> tuple[Columns, list[tuple[int, list[str]]]]:
    """The header row among the first rows, with the best mapping (``forced``: that one); also the rows read past
    the header while looking (none: the header is taken as soon as a row fits)."""
    candidates = [m for m in mappings if not forced or m.name == forced]
    seen: list[str] = []
    for number, cells in rows:
        if number > HEADER_SEARCH_ROWS:
            break
        if not any(c.strip() for c in cells):
            continue
        best = max(candidates, key=lambda m: m.score(cells))
        if best.score(cells) >= MIN_SCORE and _has_identity(best, cells):
            return Columns.build(best, number, cells), []
        seen.append(", ".join(c for c in cells[:6] if c))
    shown = f" (the first rows: {' / '.join(seen[:3])})" if seen else " (the file is empty)"
    which = f"the {forced} mapping" if forced else "any mapping"
    raise NoHeader(f"no header row for {which} in the first {HEADER_SEARCH_ROWS} rows{shown}; "
                   "name the columns in a custom mapping ([plugins.files.mappings.NAME])")


def _has_identity(mapping: Mapping, cells: Sequence[str]) -> bool:
    present = {fold(c) for c in cells}
    return any(h in present for t in ("person.email", "person.linkedin_url", "person.full_name", "person.last_name",
                                      "id") for h in mapping.folded.get(t, ()))


def excel_date(text: str | None) -> datetime | None:
    """A sign-up or export date as exports write them: ISO, an Excel serial day number, or m/d/Y."""
    if not text:
        return None
    try:
        serial = float(text)
    except ValueError:
        pass
    else:
        return _EXCEL_EPOCH + timedelta(days=serial) if 20_000 < serial < 80_000 else None
    for parse in (datetime.fromisoformat, lambda t: datetime.strptime(t, "%m/%d/%Y"),
                  lambda t: datetime.strptime(t, "%m/%d/%Y %H:%M")):
        try:
            found = parse(text)
        except ValueError:
            continue
        return found if found.tzinfo else found.replace(tzinfo=UTC)
    return None
