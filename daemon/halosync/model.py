"""The canonical lead: what every source produces and every sink consumes.

Immutable dataclasses, JSON round-trippable (``to_dict`` / ``from_dict``), so a staged lead survives a restart
exactly as it was pulled. Field names are the canonical names that sink field mappings and conflict
strategies refer to (``person.email``, ``company.domain``...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

PERSON_FIELDS = (
    "first_name", "last_name", "full_name", "title", "email", "email_status", "phone", "mobile",
    "linkedin_url", "city", "state", "country",
)
COMPANY_FIELDS = ("name", "domain", "website", "linkedin_url", "phone", "city", "country")


@dataclass(frozen=True, slots=True)
class Person:
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    title: str | None = None
    email: str | None = None
    email_status: str | None = None
    phone: str | None = None
    mobile: str | None = None
    linkedin_url: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None

    @property
    def display_name(self) -> str:
        if self.full_name:
            return self.full_name
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    def values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class Company:
    name: str | None = None
    domain: str | None = None
    website: str | None = None
    linkedin_url: str | None = None
    phone: str | None = None
    city: str | None = None
    country: str | None = None
    source_id: str | None = None

    def values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "source_id"}


@dataclass(frozen=True, slots=True)
class Lead:
    """One lead as a source saw it. ``(source, source_id)`` identifies it; ``raw`` is kept for ``trace``."""

    source: str
    source_id: str
    person: Person
    company: Company | None = None
    updated_at: datetime | None = None
    created_at: datetime | None = None
    labels: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "source_id": self.source_id,
            "person": asdict(self.person),
            "company": asdict(self.company) if self.company else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "labels": list(self.labels),
            "raw": dict(self.raw),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Lead:
        company = d.get("company")
        return cls(
            source=d["source"],
            source_id=str(d["source_id"]),
            person=Person(**d.get("person") or {}),
            company=Company(**company) if company else None,
            updated_at=_dt(d.get("updated_at")),
            created_at=_dt(d.get("created_at")),
            labels=tuple(d.get("labels") or ()),
            raw=d.get("raw") or {},
        )


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
