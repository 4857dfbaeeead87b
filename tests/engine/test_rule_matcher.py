"""The built-in rule matcher on its own, over a small hand-made candidate index."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from halosync.engine.matching import Candidate, CompanyIdentity, LeadKeys
from halosync.engine.rules import RuleMatcher
from halosync.model import Company, Lead, Person


@dataclass
class DictIndex:
    companies: dict[tuple[str, str], list[Candidate]] = field(default_factory=dict)
    people: dict[tuple[str, str], list[Candidate]] = field(default_factory=dict)

    def companies_by(self, rule: Literal["domain", "name"], key: str) -> list[Candidate]:
        return self.companies.get((rule, key), [])

    def people_by(self, rule: Literal["email", "linkedin", "name"], key: str,
                  company: CompanyIdentity | None = None) -> list[Candidate]:
        if rule == "name":
            return self.people.get((rule, f"{key}#{company.entity_id if company else ''}"), [])
        return self.people.get((rule, key), [])


def keys(email: str | None = None, linkedin: str | None = None, first: str = "Jane", last: str = "Doe",
         company: str | None = "Acme Inc", domain: str | None = "acme.com") -> LeadKeys:
    lead = Lead("t", "1", Person(first_name=first, last_name=last, email=email, linkedin_url=linkedin),
                Company(name=company, domain=domain) if company or domain else None)
    return LeadKeys.of(lead)


def local(entity_id: int, **kw: str | None) -> Candidate:
    return Candidate("local", entity_id, **kw)


ACME = CompanyIdentity(1)


def test_role_address_never_identifies_a_person() -> None:
    index = DictIndex(people={("email", "info@acme.com"): [local(7, email="info@acme.com")]})
    decision = RuleMatcher().match_person(keys(email="info@acme.com", first="Bob"), ACME, index)
    assert decision is not None and decision.outcome == "new"
    assert decision.inputs["role_address"] is True and decision.inputs["email"] is None


def test_email_then_linkedin_then_name_at_the_same_company() -> None:
    jane = local(7, email="jane@acme.com", linkedin="in/jane")
    index = DictIndex(people={("email", "jane@acme.com"): [jane], ("linkedin", "in/jane"): [jane],
                              ("name", "jane doe#1"): [jane]})
    m = RuleMatcher()
    by_email = m.match_person(keys(email="Jane+x@ACME.com"), ACME, index)
    by_linkedin = m.match_person(keys(linkedin="https://uk.linkedin.com/in/JANE/"), ACME, index)
    by_name = m.match_person(keys(), ACME, index)
    assert [d.rule if d else None for d in (by_email, by_linkedin, by_name)] == ["email", "linkedin", "name_company"]
    assert all(d is not None and d.candidate is jane for d in (by_email, by_linkedin, by_name))
    # a namesake elsewhere, or one with another email, is someone else
    assert m.match_person(keys(), CompanyIdentity(2), index).outcome == "new"  # type: ignore[union-attr]
    assert m.match_person(keys(email="jdoe@acme.com"), ACME, index).outcome == "new"  # type: ignore[union-attr]


def test_two_candidates_go_to_review_not_a_guess() -> None:
    index = DictIndex(people={("linkedin", "in/jane"): [local(7), local(8)]})
    decision = RuleMatcher().match_person(keys(linkedin="linkedin.com/in/jane"), ACME, index)
    assert decision is not None and decision.outcome == "review" and len(decision.candidates) == 2


def test_email_and_linkedin_pointing_at_different_people_is_reviewed() -> None:
    index = DictIndex(people={("email", "jane@acme.com"): [local(7, email="jane@acme.com")],
                              ("linkedin", "in/jane"): [local(8, linkedin="in/jane")]})
    decision = RuleMatcher().match_person(keys(email="jane@acme.com", linkedin="linkedin.com/in/jane"), ACME, index)
    assert decision is not None and decision.outcome == "review"


def test_local_identity_preferred_over_the_mirror() -> None:
    mirror = Candidate("mirror", None, "halopsa", "42")
    index = DictIndex(people={("email", "jane@acme.com"): [mirror, local(7)]})
    decision = RuleMatcher().match_person(keys(email="jane@acme.com"), ACME, index)
    assert decision is not None and decision.candidate is not None and decision.candidate.entity_id == 7


def test_companies_by_domain_then_name_unless_the_domains_differ() -> None:
    acme = local(1, domain="acme.com")
    index = DictIndex(companies={("domain", "acme.com"): [acme], ("name", "acme"): [acme]})
    m = RuleMatcher()
    assert m.match_company(keys(company="ACME GmbH", domain="https://www.acme.com/x"), index).rule == "domain"  # type: ignore[union-attr]
    assert m.match_company(keys(company="Acme, Inc.", domain=None), index).rule == "name"  # type: ignore[union-attr]
    assert m.match_company(keys(company="Acme", domain="acme.io"), index).outcome == "new"  # type: ignore[union-attr]


def test_rule_order_is_configurable() -> None:
    jane, other = local(7, email="jane@acme.com"), local(8, linkedin="in/jane")
    index = DictIndex(people={("email", "jane@acme.com"): [jane], ("linkedin", "in/jane"): [other]})
    decision = RuleMatcher(person_rules=["linkedin"]).match_person(
        keys(email="jane@acme.com", linkedin="linkedin.com/in/jane"), ACME, index)
    assert decision is not None and decision.candidate is other


def test_the_match_table_sets_the_rule_order_and_an_absent_list_keeps_the_default() -> None:
    configured = RuleMatcher.from_config({"person_rules": ["linkedin", "email"], "company_rules": []})
    assert configured.person_rules == ("linkedin", "email")
    assert configured.company_rules == ("domain", "name")
    assert RuleMatcher.from_config({}).person_rules == ("email", "linkedin", "name_company")
