"""Apollo contact (as ``contacts/search`` returns it) -> the canonical ``Lead``.

Records without an email or a name are still leads: the matcher decides what to do with them. Only records that
cannot be identified (not an object, no id) are rejected, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from halosync.contracts import Rejected
from halosync.model import Company, Lead, Person
from halosync_apollo.cursor import parse_time

SOURCE = "apollo"
MOBILE_TYPES = frozenset({"mobile"})


def contact_to_lead(contact: object) -> Lead | Rejected:
    if not isinstance(contact, Mapping):
        return Rejected(None, f"an Apollo contact must be a JSON object, got {type(contact).__name__}",
                        {"value": repr(contact)[:500]})
    contact_id = contact.get("id")
    if not isinstance(contact_id, str | int) or isinstance(contact_id, bool) or str(contact_id).strip() == "":
        return Rejected(None, "the Apollo contact has no id", dict(contact))
    phone, mobile = _phones(contact)
    person = Person(
        first_name=_text(contact.get("first_name")),
        last_name=_text(contact.get("last_name")),
        full_name=_text(contact.get("name")),
        title=_text(contact.get("title")),
        email=_text(contact.get("email")),
        email_status=_text(contact.get("email_status")),
        phone=phone,
        mobile=mobile,
        linkedin_url=_text(contact.get("linkedin_url")),
        city=_text(contact.get("city")),
        state=_text(contact.get("state")),
        country=_text(contact.get("country")),
    )
    labels = contact.get("label_ids")
    return Lead(
        source=SOURCE,
        source_id=str(contact_id).strip(),
        person=person,
        company=_company(contact),
        updated_at=parse_time(contact.get("updated_at")),
        created_at=parse_time(contact.get("created_at")),
        labels=tuple(str(x) for x in labels) if isinstance(labels, list) else (),
        raw=contact,
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _phones(contact: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(phone, mobile) from ``phone_numbers`` in Apollo's order (sanitized E.164), falling back on
    ``sanitized_phone`` for the phone."""
    phone = mobile = None
    numbers = contact.get("phone_numbers")
    for entry in sorted(numbers if isinstance(numbers, list) else [], key=_position):
        if not isinstance(entry, Mapping):
            continue
        number = _text(entry.get("sanitized_number")) or _text(entry.get("raw_number"))
        if number is None:
            continue
        if entry.get("type") in MOBILE_TYPES:
            mobile = mobile or number
        else:
            phone = phone or number
    if phone is None and mobile is None:
        phone = _text(contact.get("sanitized_phone"))
    return phone, mobile


def _position(entry: Any) -> int:
    value = entry.get("position") if isinstance(entry, Mapping) else None
    return value if isinstance(value, int) else 1_000


def _company(contact: Mapping[str, Any]) -> Company | None:
    org = contact.get("organization") if isinstance(contact.get("organization"), Mapping) else {}
    account = contact.get("account") if isinstance(contact.get("account"), Mapping) else {}
    assert isinstance(org, Mapping) and isinstance(account, Mapping)
    primary_phone = org.get("primary_phone") if isinstance(org.get("primary_phone"), Mapping) else {}
    assert isinstance(primary_phone, Mapping)
    company = Company(
        name=_text(org.get("name")) or _text(account.get("name")) or _text(contact.get("organization_name")),
        domain=_text(org.get("primary_domain")) or _text(account.get("primary_domain")) or _text(account.get("domain")),
        website=_text(org.get("website_url")) or _text(account.get("website_url")),
        linkedin_url=_text(org.get("linkedin_url")),
        phone=_text(primary_phone.get("sanitized_number")) or _text(org.get("phone")),
        source_id=_text(contact.get("organization_id")) or _text(org.get("id")) or _text(contact.get("account_id")),
    )
    if not (company.name or company.domain or company.website):
        return None
    return company
