"""Field mapping: HaloPSA fields filled from template strings over the lead (``"{first_name} {last_name}"``).

Each HaloPSA object (client, user, opportunity) has a default mapping that needs no configuration; the
``[plugins.halopsa.fields.<object>]`` table overrides keys (``""`` removes one), and
``[plugins.halopsa.custom_fields.<object>]`` fills custom fields by name (``CFApolloId = "{source_id}"``).

Template variables are the canonical lead fields: a company's own fields for a client; a person's fields, the
company's fields prefixed ``company_`` and ``full_name`` (the display name) for a user or an opportunity; and
``source`` / ``source_id`` everywhere. A value that renders empty is not sent: halosync never blanks a value.
A number or a boolean instead of a template is a constant set when the record is created (``is_account = false``,
``customertype = 2``: new clients as prospects).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any, Literal

from halosync.plugin import COMPANY_FIELDS, PERSON_FIELDS, EntityKind, WriteOp

HaloObject = Literal["client", "user", "opportunity"]
Template = str | int | float | bool
OBJECTS: dict[EntityKind, HaloObject] = {"company": "client", "person": "user", "opportunity": "opportunity"}

DEFAULT_FIELDS: dict[HaloObject, dict[str, str]] = {
    "client": {"name": "{name}", "website": "{website}", "domain": "{domain}"},
    "user": {
        "name": "{full_name}", "firstname": "{first_name}", "surname": "{last_name}", "emailaddress": "{email}",
        "phonenumber": "{phone}", "mobilenumber": "{mobile}", "title": "{title}",
    },
    "opportunity": {
        "summary": "{full_name} - {company_name}", "oppcontactname": "{full_name}", "oppcompanyname": "{company_name}",
        "oppemailaddress": "{email}", "opptel": "{phone}", "oppjobtitle": "{title}", "oppcountry": "{country}",
    },
}
# Set by the sink itself from the op's links; a mapping may not override them.
RESERVED = frozenset({"id", "client_id", "site_id", "user_id", "tickettype_id", "customfields"})

_COMMON = ("source", "source_id")
VARIABLES: dict[HaloObject, frozenset[str]] = {
    "client": frozenset((*COMPANY_FIELDS, *_COMMON)),
    "user": frozenset((*PERSON_FIELDS, *(f"company_{f}" for f in COMPANY_FIELDS), *_COMMON)),
}
VARIABLES["opportunity"] = VARIABLES["user"]
_FORMATTER = string.Formatter()
_EDGES = " -–,|:/"


def variables(template: str) -> set[str]:
    """The names a template refers to. Raises ValueError for a malformed template."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in _FORMATTER.parse(template) if name}


def check_template(obj: HaloObject, template: Any) -> str | None:
    """None when ``template`` is a usable template for ``obj``, else the reason."""
    if isinstance(template, bool | int | float):
        return None  # a constant
    if not isinstance(template, str):
        return f"must be a template string (or a number or true/false), not {type(template).__name__}"
    try:
        names = variables(template)
    except ValueError as exc:
        return f"is not a valid template ({exc}); write variables as {{name}} and a literal brace as {{{{"
    unknown = sorted(names - VARIABLES[obj])
    if unknown:
        return f"unknown variable {{{unknown[0]}}}; known: {', '.join(sorted(VARIABLES[obj]))}"
    return None


def render(template: str, context: Mapping[str, Any]) -> str:
    values = _Blank({k: v for k, v in context.items() if v is not None})
    text = _FORMATTER.vformat(template, (), values)
    text = re.sub(r"\s+", " ", text.replace("()", "")).strip()
    return text.strip(_EDGES)


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def context(op: WriteOp) -> dict[str, Any]:
    """Template variables for ``op``: the lead's values, overridden by the op's own (changed) fields."""
    lead = op.lead
    ctx: dict[str, Any] = {"source": lead.source if lead else None, "source_id": lead.source_id if lead else None}
    company = lead.company.values() if lead and lead.company else {}
    if op.kind == "company":
        ctx.update(company)
    else:
        ctx.update({f"company_{k}": v for k, v in company.items()})
        if lead:
            ctx.update(lead.person.values())
    ctx.update({k: v for k, v in op.fields.items() if v is not None})
    if op.kind != "company":
        names = (ctx.get("first_name"), ctx.get("last_name"))
        ctx["full_name"] = ctx.get("full_name") or " ".join(n for n in names if n) or None
    return ctx


def mapped(templates: Mapping[str, Template], op: WriteOp) -> dict[str, Any]:
    """HaloPSA field values for ``op``. For an update, only fields whose template uses a changed value."""
    ctx = context(op)
    changed = set(op.fields)
    if op.kind != "company" and changed & {"first_name", "last_name"}:
        changed.add("full_name")
    out: dict[str, Any] = {}
    for field, template in templates.items():
        if not isinstance(template, str):  # a constant, set on create only
            if op.action == "create":
                out[field] = template
            continue
        if op.action == "update" and not variables(template) & changed:
            continue
        value = render(template, ctx)
        if value:
            out[field] = value
    return out
