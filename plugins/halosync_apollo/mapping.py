"""Apollo contact (as ``contacts/search`` returns it) -> the canonical ``Lead``.

Records without an email or a name are still leads: the matcher decides what to do with them. Only records that
cannot be identified (not an object, no id) are rejected, with the reason.

Apollo's do-not-contact signals (issue 16; docs/personal-data.md): ``email_status`` and ``label_ids`` are carried
as they are (``person.email_status``, ``labels``), and the core's ``[suppression] email_statuses`` and ``labels``
decide; a phone number Apollo marks do-not-call (``phone_numbers[].dnc_status`` set to anything but a clear value)
is not carried at all, so it never reaches HaloPSA.
"""

from __future__ import annotations

from typing import Any

from halosync.plugin import Company, Lead, Person, Rejected
from halosync_apollo.cursor import parse_time

SOURCE = "apollo"
MOBILE_TYPES = frozenset({"mobile"})
# dnc_status values that mean the number may be called; any other non-empty value means do not call.
DNC_CLEAR = frozenset({"", "none", "null", "clear", "not_dnc", "no", "false", "ok", "callable"})


def contact_to_lead(contact: object) -> Lead | Rejected:
    if not isinstance(contact, dict):  # JSON objects decode to dicts
        return Rejected(None, f"an Apollo contact must be a JSON object, got {type(contact).__name__}",
                        {"value": repr(contact)[:500]})
    get = contact.get
    contact_id = get("id")
    if not isinstance(contact_id, str | int) or isinstance(contact_id, bool) or str(contact_id).strip() == "":
        return Rejected(None, "the Apollo contact has no id", dict(contact))
    phone, mobile = _phones(contact)
    person = Person(
        first_name=_text(get("first_name")),
        last_name=_text(get("last_name")),
        full_name=_text(get("name")),
        title=_text(get("title")),
        email=_text(get("email")),
        email_status=_text(get("email_status")),
        phone=phone,
        mobile=mobile,
        linkedin_url=_text(get("linkedin_url")),
        city=_text(get("city")),
        state=_text(get("state")),
        country=_text(get("country")),
    )
    labels = get("label_ids")
    return Lead(
        source=SOURCE,
        source_id=str(contact_id).strip(),
        person=person,
        company=_company(contact),
        updated_at=parse_time(get("updated_at")),
        created_at=parse_time(get("created_at")),
        labels=tuple(str(x) for x in labels) if isinstance(labels, list) else (),
        raw=contact,
    )


def _text(value: Any) -> str | None:
    """A trimmed non-empty string, or None (Apollo sends null, "" and padded values alike)."""
    if value is None:
        return None
    text = value.strip() if type(value) is str else str(value).strip()
    return text or None


def _first(*values: Any) -> str | None:
    for value in values:
        text = _text(value)
        if text is not None:
            return text
    return None


def _phones(contact: dict[str, Any]) -> tuple[str | None, str | None]:
    """(phone, mobile) from ``phone_numbers`` in Apollo's order (sanitized E.164), falling back on
    ``sanitized_phone`` for the phone."""
    phone = mobile = None
    numbers = contact.get("phone_numbers")
    for entry in sorted(numbers if isinstance(numbers, list) else [], key=_position):
        if not isinstance(entry, dict) or _do_not_call(entry.get("dnc_status")):
            continue
        number = _first(entry.get("sanitized_number"), entry.get("raw_number"))
        if number is None:
            continue
        if entry.get("type") in MOBILE_TYPES:
            mobile = mobile or number
        else:
            phone = phone or number
    if phone is None and mobile is None and not _any_do_not_call(numbers):
        phone = _text(contact.get("sanitized_phone"))  # (Apollo's copy of the first number: not when that is DNC)
    return phone, mobile


def _do_not_call(status: Any) -> bool:
    if status is None or status is False:
        return False
    return status is True or str(status).strip().casefold() not in DNC_CLEAR


def _any_do_not_call(numbers: Any) -> bool:
    return isinstance(numbers, list) and any(isinstance(e, dict) and _do_not_call(e.get("dnc_status"))
                                             for e in numbers)


def _position(entry: Any) -> int:
    value = entry.get("position") if isinstance(entry, dict) else None
    return value if isinstance(value, int) else 1_000


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _company(contact: dict[str, Any]) -> Company | None:
    org, account = _object(contact.get("organization")), _object(contact.get("account"))
    name = _first(org.get("name"), account.get("name"), contact.get("organization_name"))
    domain = _first(org.get("primary_domain"), account.get("primary_domain"), account.get("domain"))
    website = _first(org.get("website_url"), account.get("website_url"))
    if not (name or domain or website):
        return None
    return Company(
        name=name,
        domain=domain,
        website=website,
        linkedin_url=_text(org.get("linkedin_url")),
        phone=_first(_object(org.get("primary_phone")).get("sanitized_number"), org.get("phone")),
        source_id=_first(contact.get("organization_id"), org.get("id"), contact.get("account_id")),
    )
