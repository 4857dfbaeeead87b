"""What a matcher sees and what it answers.

A matcher decides, for one lead, which existing company and person it is, from the lead's normalised keys
(``LeadKeys``) and the candidates the engine offers (``CandidateIndex``: the local identities in the store and the
sink's mirror). It never calls a provider. Matchers come from plugins (``halosync_matchers``); the first one that
returns a decision wins, and the rule matcher (``halosync.engine.rules``) answers when no matcher plugin is loaded.

A ``Decision`` is explainable: the rule that decided, the inputs it looked at, and the candidates it weighed. It is
recorded as the lead's ``matched`` lineage event.

The ``Matcher`` and ``CandidateIndex`` Protocols are contracts (``halosync.contracts``); they are imported here too
so that older code importing them from this module keeps working. Plugins import all of it from ``halosync.plugin``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from halosync.contracts import CandidateIndex, Matcher
from halosync.engine import normalize
from halosync.model import Lead

Outcome = Literal["new", "match", "review"]
Origin = Literal["local", "mirror"]


@dataclass(frozen=True, slots=True)
class LeadKeys:
    email: str | None  # None for a role address: it never identifies a person alone
    role_address: bool
    linkedin: str | None
    name: str | None
    domain: str | None  # the company's
    company_name: str | None

    @classmethod
    def of(cls, lead: Lead, *, strip_plus_tags: bool = True) -> LeadKeys:
        p, c = lead.person, lead.company
        role = normalize.is_role_address(p.email)
        return cls(
            email=None if role else normalize.email_key(p.email, strip_plus_tags=strip_plus_tags),
            role_address=role,
            linkedin=normalize.linkedin_key(p.linkedin_url),
            name=normalize.person_name_key(p.first_name, p.last_name, p.full_name),
            domain=(normalize.domain_key(c.domain) or normalize.domain_key(c.website)) if c else None,
            company_name=normalize.company_name_key(c.name) if c else None,
        )

    @property
    def has_company(self) -> bool:
        return bool(self.domain or self.company_name)

    @property
    def identifies_person(self) -> bool:
        return bool(self.email or self.linkedin or self.name)

    def inputs(self) -> dict[str, Any]:
        return {"email": self.email, "role_address": self.role_address, "linkedin": self.linkedin,
                "name": self.name, "domain": self.domain, "company_name": self.company_name}


@dataclass(slots=True)
class Candidate:
    """A company or person the lead might be: a local identity, or a sink record from the mirror. A mirror record
    already bound to a local identity carries that identity's ``entity_id``."""

    origin: Origin
    entity_id: int | None = None
    sink: str | None = None
    sink_id: str | None = None
    email: str | None = None
    linkedin: str | None = None
    name: str | None = None
    domain: str | None = None

    @property
    def identity(self) -> tuple[Any, ...]:
        return ("local", self.entity_id) if self.entity_id is not None else ("mirror", self.sink, self.sink_id)

    def describe(self) -> dict[str, Any]:
        return {"origin": self.origin, "entity_id": self.entity_id, "sink": self.sink, "sink_id": self.sink_id}


@dataclass(frozen=True, slots=True)
class CompanyIdentity:
    """The company a person's lead resolved to: the local identity and its records in each sink."""

    entity_id: int
    sink_ids: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Decision:
    outcome: Outcome
    rule: str
    candidate: Candidate | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    candidates: list[Candidate] = field(default_factory=list)
    reason: str = ""

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"outcome": self.outcome, "rule": self.rule, "inputs": self.inputs}
        if self.candidate is not None:
            out["candidate"] = self.candidate.describe()
        if self.candidates:
            out["candidates"] = [c.describe() for c in self.candidates]
        if self.reason:
            out["reason"] = self.reason
        return out


__all__ = ["Candidate", "CandidateIndex", "CompanyIdentity", "Decision", "LeadKeys", "Matcher", "Origin", "Outcome"]
