"""The HaloPSA object a write op becomes: mapped fields, links (client, site, user, ticket type), custom fields.

An opportunity is linked to its user (``user_id``, from the op's ``person_id``) and its client (``client_id``, from
``parent_id``; the writer adds the client's main site as ``site_id``). A person without a company has no client
halosync knows, so its opportunity carries the user alone."""

from __future__ import annotations

from typing import Any

from halosync.contracts import WriteOp
from halosync_halopsa.customfields import CustomFields
from halosync_halopsa.settings import HaloSettings
from halosync_halopsa.templates import OBJECTS, mapped


class Unwritable(Exception):
    """The op cannot become a HaloPSA object (a missing link); the message says why and what to do."""


def payload(op: WriteOp, settings: HaloSettings, custom: CustomFields) -> dict[str, Any]:
    """The object to POST for ``op``, without ``site_id`` (the writer adds it: it may need a lookup)."""
    obj = OBJECTS[op.kind]
    body: dict[str, Any] = mapped(settings.templates(obj), op)
    if op.action == "update":
        if not op.sink_id:
            raise Unwritable("an update needs the HaloPSA id of the record (sink_id)")
        body["id"] = _int(op.sink_id, "sink_id")
    if op.kind in ("person", "opportunity") and op.parent_id:
        body["client_id"] = _int(op.parent_id, "parent_id")
    if op.kind == "opportunity" and op.action == "create":
        if not settings.opportunity_tickettype_id:
            raise Unwritable("set plugins.halopsa.opportunity_tickettype_id to the ticket type of opportunities")
        body["tickettype_id"] = settings.opportunity_tickettype_id
        if not op.person_id:  # the daemon plans an opportunity only once its person's user exists
            raise Unwritable("an opportunity needs the HaloPSA id of its user (person_id)")
        body["user_id"] = _int(op.person_id, "person_id")  # also what finds it again (records.identity)
    if op.kind == "person" and op.action == "create" and not op.parent_id and not settings.default_site_id:
        raise Unwritable("a HaloPSA user needs a site and this person has no company; set "
                         "plugins.halopsa.default_site_id to the site such people belong to")
    values = custom.values(obj, op)
    if values:
        body["customfields"] = values
    return body


def _int(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise Unwritable(f"{what} {value!r} is not a HaloPSA id") from None
