"""The HaloPSA object a write op becomes: mapped fields, links (client, site, user, ticket type), custom fields.

An opportunity is linked to its user (``user_id``, from the op's ``person_id``) and its client (``client_id``, from
``parent_id``; the writer adds the client's main site as ``site_id``). A person without a company has no client
halosync knows, so its opportunity carries the user alone."""

from __future__ import annotations

import re
from typing import Any

from halosync.plugin import WriteOp
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
        body["id"] = halo_id(op.sink_id, "sink_id")
    if op.kind in ("person", "opportunity") and op.parent_id:
        body["client_id"] = halo_id(op.parent_id, "parent_id")
    if op.kind == "opportunity" and op.action == "create":
        if not settings.opportunity_tickettype_id:
            raise Unwritable("set plugins.halopsa.opportunity_tickettype_id to the ticket type of opportunities")
        body["tickettype_id"] = settings.opportunity_tickettype_id
        if not op.person_id:  # the daemon plans an opportunity only once its person's user exists
            raise Unwritable("an opportunity needs the HaloPSA id of its user (person_id)")
        body["user_id"] = halo_id(op.person_id, "person_id")  # also what finds it again (records.identity)
    if op.kind == "person" and op.action == "create" and not op.parent_id and not settings.default_site_id:
        raise Unwritable("a HaloPSA user needs a site and this person has no company; set "
                         "plugins.halopsa.default_site_id to the site such people belong to")
    values = custom.values(obj, op)
    if values:
        body["customfields"] = values
    return body


_WHOLE = re.compile(r"\s*(\d+)(?:\.0*)?\s*")


def halo_id(value: object, what: str) -> int:
    """A HaloPSA id as the integer HaloPSA insists on (it refuses ``95.0``). Ids come back from JSON columns and
    mirror rows as ``95``, ``95.0`` or ``"95.0"``; all are 95. Anything else is not an id."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and (match := _WHOLE.fullmatch(value)):
        number = int(match[1])
    if number is None or number < 1:
        raise Unwritable(f"{what} {value!r} is not a HaloPSA id (a whole number from 1)")
    return number
