"""The documented shape of an Apollo contact (``POST contacts/search``), and Apollo's timestamp format.

Admin upserts may give only a few fields; ``complete_contact`` fills every documented key the way Apollo does
(``null`` for unknown values, ``[]`` for lists) so the source always sees the real shape.
"""

from __future__ import annotations

import time
from typing import Any

CONTACT_KEYS: dict[str, Any] = {
    "id": None, "first_name": None, "last_name": None, "name": None, "title": None, "linkedin_url": None,
    "email": None, "email_status": None, "contact_stage_id": None, "owner_id": None, "person_id": None,
    "organization_name": None, "organization_id": None, "account_id": None, "present_raw_address": None,
    "city": None, "state": None, "country": None, "time_zone": None, "source": "api", "label_ids": [],
    "typed_custom_fields": {}, "sanitized_phone": None, "phone_numbers": [], "contact_emails": [],
    "created_at": None, "updated_at": None, "account": None, "organization": None,
    "last_activity_date": None, "email_last_opened_at": None, "email_last_clicked_at": None,
}


def apollo_time(epoch: float) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``, as Apollo writes ``created_at``/``updated_at``."""
    millis = round(epoch * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis // 1000)) + f".{millis % 1000:03d}Z"


def complete_contact(partial: dict[str, Any], *, now: float) -> dict[str, Any]:
    """A full contact from ``partial``: documented keys filled, ``name`` derived, timestamps set to ``now``
    when missing. The input is not modified."""
    contact = {**CONTACT_KEYS, "label_ids": [], "typed_custom_fields": {}, "phone_numbers": [], "contact_emails": [],
               **partial}
    if not contact["name"]:
        parts = [str(p) for p in (contact["first_name"], contact["last_name"]) if p]
        contact["name"] = " ".join(parts) or None
    if not contact["created_at"] or not contact["updated_at"]:
        stamp = apollo_time(now)
        contact["created_at"] = contact["created_at"] or stamp
        contact["updated_at"] = contact["updated_at"] or stamp
    return contact


def phone_number(sanitized: str, kind: str, position: int, raw: str | None = None) -> dict[str, Any]:
    """One entry of ``phone_numbers``."""
    return {
        "raw_number": raw or sanitized, "sanitized_number": sanitized, "type": kind, "position": position,
        "status": "no_status", "dnc_status": None, "dnc_other_info": None,
    }
