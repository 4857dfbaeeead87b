"""A Lusha list entity as a halosync lead, and the content hash that tells a changed member from an unchanged one.

The entity shape (camelCase, nested ``emailAddresses``/``phoneNumbers``/``company``/``location``/``socialLinks``) is
ASSUMED from Lusha's person API; the list-entities answer is not documented field by field. Unknown fields are
kept in ``raw`` and ignored; a record without an id, or that is not an object, is ``Rejected`` with a reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from halosync.plugin import Company, Lead, Person, Rejected

SOURCE = "lusha"
OPTED_OUT_STATUS = "do_not_contact"  # in [suppression] email_statuses by default (issue 16)
OPTED_OUT_LABEL = "lusha:opted-out"


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _first(items: Any, key: str, prefer: tuple[str, ...], kind_key: str) -> str | None:
    if not isinstance(items, list):
        return None
    usable = [i for i in items if isinstance(i, Mapping) and _text(i.get(key))]
    for kind in prefer:
        for item in usable:
            if str(item.get(kind_key) or "").lower() == kind:
                return _text(item.get(key))
    return _text(usable[0].get(key)) if usable else None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _object(parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = parent.get(key)
    return value if isinstance(value, Mapping) else {}


def entity_id(entity: Any) -> str | None:
    return _text(entity.get("id")) if isinstance(entity, Mapping) else None


def to_lead(entity: Any, list_id: str, *, opted_out: bool = False) -> Lead | Rejected:
    """The lead for one list member (``opted_out``: the person asked not to be contacted, so the lead carries
    the do-not-contact signal the suppression list acts on)."""
    if not isinstance(entity, Mapping):
        return Rejected(None, f"list {list_id}: a member that is not a JSON object ({type(entity).__name__})")
    ident = entity_id(entity)
    if ident is None:
        return Rejected(None, f"list {list_id}: a member without an id; Lusha may have changed its API",
                        dict(entity))
    location, social = _object(entity, "location"), _object(entity, "socialLinks")
    emails, phones = entity.get("emailAddresses"), entity.get("phoneNumbers")
    email = _first(emails, "email", ("work", "professional"), "emailType")
    status = OPTED_OUT_STATUS if opted_out else _first(emails, "emailConfidence", ("work",), "emailType")
    person = Person(
        first_name=_text(entity.get("firstName")), last_name=_text(entity.get("lastName")),
        full_name=_text(entity.get("fullName")), title=_text(entity.get("jobTitle")), email=email,
        email_status=status,
        phone=_first(phones, "number", ("direct", "work"), "phoneType"),
        mobile=_first([p for p in phones if isinstance(p, Mapping) and p.get("phoneType") == "mobile"]
                      if isinstance(phones, list) else None, "number", ("mobile",), "phoneType"),
        linkedin_url=_text(social.get("linkedin")), city=_text(location.get("city")),
        state=_text(location.get("state")), country=_text(location.get("country")),
    )
    raw_company = entity.get("company")
    company = None
    if isinstance(raw_company, Mapping) and (_text(raw_company.get("name")) or _text(raw_company.get("domain"))):
        place = _object(raw_company, "location")
        company = Company(name=_text(raw_company.get("name")), domain=_text(raw_company.get("domain")),
                          website=_text(raw_company.get("website")),
                          linkedin_url=_text(raw_company.get("linkedinUrl")), city=_text(place.get("city")),
                          country=_text(place.get("country")), source_id=_text(raw_company.get("id")))
    if not (email or person.linkedin_url or person.display_name):
        return Rejected(ident, f"list {list_id}: member {ident} has no e-mail, LinkedIn URL or name, so it cannot "
                        "be matched to anyone; complete the contact in Lusha", dict(entity))
    labels = (OPTED_OUT_LABEL,) if opted_out else ()  # not the list: a member of two lists is one lead
    return Lead(SOURCE, ident, person, company, updated_at=_time(entity.get("updatedAt")),
                created_at=_time(entity.get("addedAt")), labels=labels, raw=dict(entity))


def content_hash(item: Lead | Rejected) -> str:
    """16 hex digits over what halosync takes from a member: a change elsewhere (Lusha's own bookkeeping fields)
    does not stage the lead again. A rejected member hashes its raw record, so fixing it in Lusha re-reads it."""
    if isinstance(item, Rejected):
        data: Any = {"rejected": dict(item.raw)}
    else:
        data = {"p": item.person.values(), "c": item.company.values() if item.company else None,
                "l": list(item.labels)}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
