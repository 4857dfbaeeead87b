"""Every key a HaloPSA user can be recognised by, for finding the user a create in doubt may have made.

A user that halosync created carries what it wrote: an e-mail address (in ``emailaddress``; people move
addresses to ``email2``/``email3`` later), a name at its client, and the configured custom fields, of which the
ones filled from ``{source_id}`` or ``{linkedin_url}`` identify the lead (the Apollo id, the LinkedIn URL). Many
leads have no e-mail (LinkedIn-sourced ones), so no single key will do; HaloPSA cannot filter on custom fields, so
they are compared on rows listed with ``include_custom_fields``.

A record is the one a body became when it agrees on an identifying key and contradicts nothing we wrote: an
identifying custom field equal (the strongest), else an e-mail equal (any of the three, case-insensitive) with no
other name, else the same name at the same client (or site, for a user without one) with no e-mail on one side
and no other identifying field value. Inactive users count: a deactivated user is still the record (created
again, the person would be doubled).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from halosync.plugin import linkedin_key
from halosync_halopsa.customfields import CustomFields
from halosync_halopsa.templates import variables

IDENTIFYING_VARIABLES = frozenset({"source_id", "linkedin_url"})
EMAIL_FIELDS = ("emailaddress", "email2", "email3")


def identifying_fields(custom: CustomFields) -> list[int]:
    """FieldInfo ids of the user custom fields whose template names the lead (``{source_id}``, ``{linkedin_url}``)."""
    templates = custom.configured.get("user", {})
    return sorted(field_id for name, field_id in custom.ids.get("user", {}).items()
                  if isinstance(templates.get(name), str) and variables(str(templates[name])) & IDENTIFYING_VARIABLES)


@dataclass(frozen=True)
class UserKeys:
    emails: frozenset[str]
    name: str
    client_id: int | None
    site_id: int | None  # the scope of a name when there is no client (a person on the default site)
    custom: Mapping[int, str]  # identifying field id -> normalised value

    @classmethod
    def of(cls, record: Mapping[str, Any], fields: Iterable[int]) -> UserKeys:
        wanted = set(fields)
        emails = frozenset(e for e in (_fold(record.get(f)) for f in EMAIL_FIELDS) if e)
        name = _fold(f"{record.get('firstname') or ''} {record.get('surname') or ''}") or _fold(record.get("name"))
        client, site = record.get("client_id"), record.get("site_id")
        custom = {int(v["id"]): _value(v.get("value")) for v in record.get("customfields") or []
                  if isinstance(v, Mapping) and v.get("id") is not None and int(v["id"]) in wanted}
        return cls(emails, name, int(client) if client else None, int(site) if site else None,
                   {k: v for k, v in custom.items() if v})

    def rank(self, record: UserKeys) -> int | None:
        """How surely ``record`` is the user this body became: 0 (an identifying custom field), 1 (e-mail),
        2 (name at the client), or None when it is not (or contradicts what was written)."""
        if self.client_id and record.client_id and self.client_id != record.client_id:
            return None
        shared = self.custom.keys() & record.custom.keys()
        if any(self.custom[f] == record.custom[f] for f in shared):
            return 0
        if self.name and record.name and self.name != record.name:
            return None  # people share mailboxes: another name is another person
        if self.emails & record.emails:
            return 1
        if any(self.custom[f] != record.custom[f] for f in shared):
            return None  # another Apollo id or LinkedIn profile: a namesake
        same_place = record.client_id == self.client_id if self.client_id else bool(
            self.site_id and record.site_id == self.site_id)
        if self.name and self.name == record.name and same_place and not (self.emails and record.emails):
            return 2
        return None


def _fold(value: Any) -> str:
    return " ".join(str(value or "").casefold().split())


def _value(value: Any) -> str:
    text = _fold(value)
    return linkedin_key(text) or text
