"""HaloPSA records as halosync sees them: which endpoint holds a kind, how a record reads in canonical names,
and the identity a record and an intended write share (so a write can be found again after the fact)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from halosync.plugin import EntityKind, SinkRecord


@dataclass(frozen=True)
class Endpoint:
    kind: EntityKind
    route: str  # as the API documents it (paths are case-insensitive)
    list_key: str
    max_page_size: int | None = None


ENDPOINTS: dict[EntityKind, Endpoint] = {
    "company": Endpoint("company", "/api/Client", "clients"),
    "person": Endpoint("person", "/api/Users", "users"),
    "opportunity": Endpoint("opportunity", "/api/Opportunities", "tickets", max_page_size=100),
}
# HaloPSA field -> canonical field, for reading records back (the mirror, find, fetch).
CANONICAL: dict[EntityKind, dict[str, str]] = {
    "company": {"name": "name", "website": "website", "domain": "domain"},
    "person": {"firstname": "first_name", "surname": "last_name", "name": "full_name", "emailaddress": "email",
               "phonenumber": "phone", "mobilenumber": "mobile", "title": "title"},
    "opportunity": {"summary": "name", "oppemailaddress": "email", "oppcontactname": "full_name",
                    "oppcompanyname": "company_name"},
}


def to_sink_record(kind: EntityKind, record: Mapping[str, Any]) -> SinkRecord:
    fields = {canonical: record[halo] for halo, canonical in CANONICAL[kind].items() if record.get(halo) not in
              (None, "")}
    if kind == "company" and not fields.get("domain") and fields.get("website"):
        fields["domain"] = domain_of(str(fields["website"]))
    parent = record.get("client_id")
    return SinkRecord(kind, str(record["id"]), fields, parent_id=str(parent) if parent else None)


def domain_of(website: str) -> str:
    host = urlsplit(website if "//" in website else f"//{website}").hostname or ""
    return host.removeprefix("www.")


def identity(kind: EntityKind, record: Mapping[str, Any]) -> str | None:
    """What makes a record recognisable among its neighbours, from the HaloPSA fields halosync writes: a client
    by name; a user by e-mail and name together (people do share mailboxes: a lookup by e-mail alone after a
    crash would hand one person the other's user); an opportunity by its user (halosync writes one per user it
    creates, and the summary need not tell two people of one name apart), or, without one, by summary within its
    client."""
    if kind == "company":
        return _norm(record.get("name"))
    if kind == "person":  # not the client: a user put on a default site gets that site's client from HaloPSA
        email = _norm(record.get("emailaddress"))
        name = _norm(f"{record.get('firstname') or ''} {record.get('surname') or ''}") or _norm(record.get("name"))
        return "|".join(part for part in (email, name) if part) or None
    if record.get("user_id"):
        return f"user:{int(record['user_id'])}"
    summary = _norm(record.get("summary"))
    return f"{summary}@{record.get('client_id') or ''}" if summary else None


def _norm(value: Any) -> str:
    return " ".join(str(value or "").lower().split())
