"""The rule matcher: ordered rules over normalised keys; ambiguity goes to review, never to a guess.

Companies: ``domain`` (normalised domain), then ``name`` (normalised name without legal suffixes; a candidate whose
domain differs from the lead's is a different company). People: ``email`` (not for role addresses), ``linkedin``
(canonical profile URL; an email whose owner has a different profile is a shared mailbox and decides nothing),
``name_company`` (same name at the same resolved company, unless email or LinkedIn say
otherwise). Rule order is configurable (``[match] person_rules`` / ``company_rules``).

Within one rule, a local identity (one the daemon already decided on) is preferred over the sink's mirror, so
earlier decisions stay put; two or more candidates of the same origin are ambiguous.

It lives in the core because the engine falls back to it when no matcher plugin is loaded (``[plugins] block``
may leave none), so matching never silently stops; the built-in matcher plugin (``halosync_builtin.matcher``)
offers the same class, loaded through the entry points like any third-party plugin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from halosync.config.schema import COMPANY_MATCH_RULES, PERSON_MATCH_RULES
from halosync.engine.matching import Candidate, CandidateIndex, CompanyIdentity, Decision, LeadKeys


class RuleMatcher:
    """By default every rule there is, in order (``PERSON_MATCH_RULES``, ``COMPANY_MATCH_RULES``): their one home
    is the config schema, which also checks and defaults the ``[match]`` table."""

    name = "rules"

    def __init__(self, person_rules: Sequence[str] = PERSON_MATCH_RULES,
                 company_rules: Sequence[str] = COMPANY_MATCH_RULES) -> None:
        self.person_rules = tuple(person_rules)
        self.company_rules = tuple(company_rules)

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> RuleMatcher:
        """The matcher the ``[match]`` table configures; a rule list left out (or empty) keeps the default order."""
        return cls(section.get("person_rules") or PERSON_MATCH_RULES,
                   section.get("company_rules") or COMPANY_MATCH_RULES)

    def match_company(self, keys: LeadKeys, index: CandidateIndex) -> Decision | None:
        inputs: dict[str, object] = {"domain": keys.domain, "company_name": keys.company_name}
        for rule in self.company_rules:
            if rule == "domain" and keys.domain:
                found = index.companies_by("domain", keys.domain)
            elif rule == "name" and keys.company_name:
                found = [c for c in index.companies_by("name", keys.company_name)
                         if not _differ(c.domain, keys.domain)]
            else:
                continue
            decision = _pick(found, rule, inputs)
            if decision is not None:
                return decision
        return Decision("new", "new", inputs=inputs)

    def match_person(self, keys: LeadKeys, company: CompanyIdentity | None,
                     index: CandidateIndex) -> Decision | None:
        inputs = keys.inputs()
        if company is not None:
            inputs["company_entity_id"] = company.entity_id
        decided: Decision | None = None
        for rule in self.person_rules:
            if rule == "email" and keys.email:
                found = index.people_by("email", keys.email)
                # Same address, different LinkedIn profile: a shared mailbox (firstname@ at a small company),
                # not the same person. The address then identifies no one; the other rules decide.
                shared = [c for c in found if _differ(c.linkedin, keys.linkedin)]
                if shared:
                    inputs["email_shared_with"] = [c.describe() for c in shared]
                    found = [c for c in found if c not in shared]
            elif rule == "linkedin" and keys.linkedin:
                found = index.people_by("linkedin", keys.linkedin)
            elif rule == "name_company" and keys.name and company is not None:
                # A name is weak evidence: a different email or profile means a namesake, not the same person.
                found = [c for c in index.people_by("name", keys.name, company)
                         if not _differ(c.email, keys.email) and not _differ(c.linkedin, keys.linkedin)]
            else:
                continue
            decision = _pick(found, rule, inputs)
            if decision is None:
                continue
            if decision.outcome == "review":
                return decision
            if decided is None:
                decided = decision
                if rule != "email":
                    break  # only email is cross-checked against the LinkedIn profile
            elif decision.candidate is not None and decided.candidate is not None \
                    and decision.candidate.identity != decided.candidate.identity:
                return Decision("review", f"{decided.rule}+{rule}", inputs=inputs,
                                candidates=[decided.candidate, decision.candidate],
                                reason="email and LinkedIn profile point at different people")
            else:
                break
        return decided or Decision("new", "new", inputs=inputs)


def _differ(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a != b


def _pick(found: list[Candidate], rule: str, inputs: Mapping[str, object]) -> Decision | None:
    """One identity among the candidates (local ones first), a review when several, None when none."""
    for origin in ("local", "mirror"):
        group: dict[tuple[object, ...], Candidate] = {}
        for cand in found:
            if (cand.origin == origin) or (origin == "local" and cand.entity_id is not None):
                group.setdefault(cand.identity, cand)
        if len(group) == 1:
            return Decision("match", rule, candidate=next(iter(group.values())), inputs=dict(inputs))
        if len(group) > 1:
            return Decision("review", rule, inputs=dict(inputs), candidates=list(group.values()),
                            reason=f"{len(group)} candidates match by {rule}")
    return None
