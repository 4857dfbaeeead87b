"""Apollo contact -> canonical lead: every documented field lands where sinks and the matcher look for it."""

from __future__ import annotations

from datetime import UTC, datetime

from halosync.contracts import Rejected
from halosync.model import Lead
from halosync_apollo.fake.shape import complete_contact, phone_number
from halosync_apollo.mapping import contact_to_lead

CONTACT = complete_contact({
    "id": "66a1b2c3d4e5f60718293a4b", "first_name": "Grace", "last_name": "Hopper", "name": "Grace Hopper",
    "title": "CTO", "email": "grace@navy.example", "email_status": "verified",
    "linkedin_url": "http://www.linkedin.com/in/grace-hopper", "city": "Arlington", "state": "Virginia",
    "country": "United States", "label_ids": ["L1", "L2"], "sanitized_phone": "+12025550101",
    "phone_numbers": [phone_number("+12025550199", "work_direct", 1, raw="(202) 555-0199"),
                      phone_number("+12025550101", "mobile", 0)],
    "organization_id": "org-1",
    "organization": {"id": "org-1", "name": "US Navy", "website_url": "http://www.navy.example",
                     "linkedin_url": "http://www.linkedin.com/company/us-navy", "primary_domain": "navy.example",
                     "phone": "+1 202-555-0100", "primary_phone": {"sanitized_number": "+12025550100"}},
    "account": {"id": "acc-1", "name": "US Navy (account)", "domain": "navy.example"},
    "created_at": "2024-01-02T03:04:05.678Z", "updated_at": "2025-06-07T08:09:10.111Z",
}, now=0)


def test_a_full_contact_maps_to_person_company_labels_times_and_raw() -> None:
    lead = contact_to_lead(CONTACT)

    assert isinstance(lead, Lead)
    assert (lead.source, lead.source_id) == ("apollo", "66a1b2c3d4e5f60718293a4b")
    p = lead.person
    assert (p.first_name, p.last_name, p.full_name, p.title) == ("Grace", "Hopper", "Grace Hopper", "CTO")
    assert (p.email, p.email_status) == ("grace@navy.example", "verified")
    assert (p.phone, p.mobile) == ("+12025550199", "+12025550101")
    assert (p.linkedin_url, p.city, p.state, p.country) == (
        "http://www.linkedin.com/in/grace-hopper", "Arlington", "Virginia", "United States")
    c = lead.company
    assert c is not None
    assert (c.name, c.domain, c.website, c.linkedin_url, c.phone, c.source_id) == (
        "US Navy", "navy.example", "http://www.navy.example", "http://www.linkedin.com/company/us-navy",
        "+12025550100", "org-1")
    assert lead.labels == ("L1", "L2")
    assert lead.updated_at == datetime(2025, 6, 7, 8, 9, 10, 111000, tzinfo=UTC)
    assert lead.created_at == datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert lead.raw["id"] == CONTACT["id"]
    assert Lead.from_dict(lead.to_dict()) == lead  # survives staging


def test_the_account_stands_in_for_a_missing_organization() -> None:
    lead = contact_to_lead({**CONTACT, "organization": None, "phone_numbers": []})

    assert isinstance(lead, Lead) and lead.company is not None
    assert (lead.company.name, lead.company.domain, lead.company.linkedin_url) == (
        "US Navy (account)", "navy.example", None)
    assert (lead.person.phone, lead.person.mobile) == ("+12025550101", None)  # sanitized_phone as the fallback


def test_a_contact_without_email_name_or_company_is_still_a_lead() -> None:
    lead = contact_to_lead({"id": 42, "email": "  ", "updated_at": "bad date"})

    assert isinstance(lead, Lead)
    assert lead.source_id == "42" and lead.person.email is None and lead.person.display_name == ""
    assert lead.company is None and lead.updated_at is None


def test_only_unidentifiable_records_are_rejected_with_a_reason() -> None:
    assert contact_to_lead(["not", "an", "object"]) == Rejected(
        None, "an Apollo contact must be a JSON object, got list", {"value": "['not', 'an', 'object']"})
    rejected = contact_to_lead({"first_name": "Nobody"})
    assert isinstance(rejected, Rejected) and rejected.reason == "the Apollo contact has no id"


def test_a_do_not_call_number_is_not_carried() -> None:
    """Issue 16: Apollo's ``dnc_status`` on a number keeps that number out of the lead (and so out of HaloPSA)."""
    numbers = [phone_number("+12025550199", "work_direct", 1), phone_number("+12025550101", "mobile", 0)]
    numbers[1]["dnc_status"] = "dnc"
    lead = contact_to_lead({**CONTACT, "phone_numbers": numbers, "sanitized_phone": "+12025550101"})
    assert isinstance(lead, Lead)
    assert (lead.person.phone, lead.person.mobile) == ("+12025550199", None)
    numbers[0]["dnc_status"] = "not_dnc"  # a clear value keeps the number
    numbers[1]["dnc_status"] = None
    lead = contact_to_lead({**CONTACT, "phone_numbers": numbers})
    assert isinstance(lead, Lead) and lead.person.mobile == "+12025550101"
    only = [phone_number("+12025550101", "mobile", 0)]
    only[0]["dnc_status"] = "federal_dnc"
    lead = contact_to_lead({**CONTACT, "phone_numbers": only, "sanitized_phone": "+12025550101"})
    assert isinstance(lead, Lead) and (lead.person.phone, lead.person.mobile) == (None, None)
