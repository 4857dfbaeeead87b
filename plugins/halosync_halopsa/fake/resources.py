"""The fake HaloPSA's resources: what each accepts, how it validates, pages, searches and answers.

Modelled on the real API (see shared/providers/halopsa.md): POST takes a JSON array in which an object without
``id`` is created and one with ``id`` is updated (partial fields; ``customfields`` replaced whole); a request with
any invalid object is refused whole with an ASP.NET-style dictionary keyed by array path (``{"[3].emailaddress":
"..."}``) and nothing is written; lists answer an envelope (``{"page_no", "page_size", "record_count", "clients"}``)
except the lookups (FieldInfo, TicketType), which answer plain arrays.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from halosync_halopsa.fake.state import FakeHalo, now_iso

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
JSON_TYPES: dict[type, str] = {int: "System.Int32", str: "System.String", bool: "System.Boolean",
                               float: "System.Double", list: "System.Collections.Generic.List`1"}

Errors = dict[str, str]
Answer = tuple[int, Any]


@dataclass(frozen=True)
class Resource:
    name: str  # lower-case path segment and table name
    list_key: str | None  # envelope key; None: a plain array
    fields: Mapping[str, type]  # writable fields and their JSON type
    required: tuple[str, ...] = ()
    search_fields: tuple[str, ...] = ("name",)
    max_page_size: int | None = None  # below the instance-wide cap
    validate: Callable[[FakeHalo, dict[str, Any], dict[str, Any] | None], Errors] | None = None


def _validate_user(halo: FakeHalo, item: dict[str, Any], existing: dict[str, Any] | None) -> Errors:
    errors: Errors = {}
    site_id = item.get("site_id", existing.get("site_id") if existing else None)
    if existing is None and not site_id:
        errors["site_id"] = "The site_id field is required."
    elif site_id and site_id not in halo.tables["site"].rows:
        errors["site_id"] = f"Site {site_id} does not exist."
    email = item.get("emailaddress")
    if email and not EMAIL.match(email):
        errors["emailaddress"] = "The emailaddress field is not a valid e-mail address."
    if existing is None and not any(item.get(k) for k in ("name", "firstname", "surname")):
        errors["name"] = "A user needs a name, or a firstname or surname."
    return errors


def _validate_site(halo: FakeHalo, item: dict[str, Any], existing: dict[str, Any] | None) -> Errors:
    client_id = item.get("client_id")
    if client_id is not None and client_id not in halo.tables["client"].rows:
        return {"client_id": f"Client {client_id} does not exist."}
    return {}


def _validate_opportunity(halo: FakeHalo, item: dict[str, Any], existing: dict[str, Any] | None) -> Errors:
    errors: Errors = {}
    tickettype_id = item.get("tickettype_id")
    if existing is None and not tickettype_id:
        errors["tickettype_id"] = "The tickettype_id field is required."
    elif tickettype_id and tickettype_id not in halo.tables["tickettype"].rows:
        errors["tickettype_id"] = f"Ticket type {tickettype_id} does not exist."
    for key, table in (("client_id", "client"), ("user_id", "users"), ("site_id", "site")):
        if item.get(key) and item[key] not in halo.tables[table].rows:
            errors[key] = f"{table.capitalize()} {item[key]} does not exist."
    email = item.get("oppemailaddress")
    if email and not EMAIL.match(email):
        errors["oppemailaddress"] = "The oppemailaddress field is not a valid e-mail address."
    return errors


def _validate_action(halo: FakeHalo, item: dict[str, Any], existing: dict[str, Any] | None) -> Errors:
    ticket_id = item.get("ticket_id")
    if ticket_id is not None and ticket_id not in halo.tables["tickets"].rows:
        return {"ticket_id": f"Ticket {ticket_id} does not exist."}
    return {}


_CUSTOM: dict[str, type] = {"customfields": list}
RESOURCES: dict[str, Resource] = {r.name: r for r in (
    Resource("client", "clients", {
        "name": str, "website": str, "domain": str, "notes": str, "ref": str, "inactive": bool, "trading_name": str,
        "customertype": int, "is_account": bool, "newclient_sitename": str, **_CUSTOM,
    }, required=("name",)),
    Resource("site", "sites", {"name": str, "client_id": int, "phonenumber": str, "emaildomain": str, **_CUSTOM},
             required=("name", "client_id"), validate=_validate_site),
    Resource("users", "users", {
        "name": str, "firstname": str, "surname": str, "title": str, "emailaddress": str, "email2": str, "email3": str,
        "phonenumber": str, "mobilenumber": str, "site_id": int, "client_id": int, "inactive": bool, "notes": str,
        "other1": str, "other2": str, "other3": str, "other4": str, "other5": str, "third_party_id": str, **_CUSTOM,
    # ``search`` on users reaches names and the main address, never email2/email3 nor custom fields (HaloPSA
    # has no filter on those): finding a user by them takes a listing.
    }, search_fields=("name", "emailaddress", "firstname", "surname"), validate=_validate_user),
    Resource("opportunities", "tickets", {
        "summary": str, "details": str, "tickettype_id": int, "status_id": int, "client_id": int, "site_id": int,
        "user_id": int, "agent_id": int, "oppcontactname": str, "oppcompanyname": str, "oppemailaddress": str,
        "opptel": str, "oppjobtitle": str, "oppcountry": str, "oppvalue": float, "source": int, **_CUSTOM,
    }, required=("summary",), search_fields=("summary",), max_page_size=100, validate=_validate_opportunity),
    # Service tickets (halosync's alert receiver opens them) and their actions (notes), as the real API has them.
    Resource("tickets", "tickets", {
        "summary": str, "details": str, "tickettype_id": int, "status_id": int, "client_id": int, "site_id": int,
        "user_id": int, "agent_id": int, "priority_id": int, **_CUSTOM,
    }, required=("summary",), search_fields=("summary",), max_page_size=100, validate=_validate_opportunity),
    Resource("actions", "actions", {"ticket_id": int, "note": str, "outcome": str, "hiddenfromuser": bool},
             required=("ticket_id",), search_fields=("note",), validate=_validate_action),
    Resource("fieldinfo", None, {"name": str, "label": str, "type": int, "usage": int, "inputtype": int},
             required=("name",)),
    Resource("tickettype", None, {"name": str, "use": str}, required=("name",)),
)}


# --- POST ----------------------------------------------------------------------------------------------


def post(halo: FakeHalo, resource: Resource, body: Any) -> Answer:
    if not isinstance(body, list) or not body:
        return 400, {"$": f"The JSON value could not be converted to System.Collections.Generic.List`1"
                          f"[{resource.name}]. Send a JSON array of objects."}
    errors: Errors = {}
    for index, item in enumerate(body):
        for key, message in _check_item(halo, resource, item).items():
            errors[f"[{index}].{key}" if key else f"[{index}]"] = message
    if errors:
        return 400, errors  # all or nothing: one bad object refuses the whole request
    banned = halo.settings.business_rule_refuses
    if banned and any(banned.lower() in str(item.get("name") or item.get("summary") or "").lower() for item in body):
        # A business rule: plain text, and it does not say which object broke it.
        return 400, f"CODE:APP03/2 A record named like '{banned}' cannot be saved (business rule)."
    table = halo.tables[resource.name]
    written: list[dict[str, Any]] = []
    for item in body:
        values = {k: v for k, v in item.items() if k in resource.fields}
        if "customfields" in values:
            values["customfields"] = _custom_values(halo, values["customfields"])
        if item.get("id"):
            record = table.rows[item["id"]]
            record.update(values)  # partial update; customfields, when sent, replace the whole array
        else:
            record = table.insert({"inactive": False, "datecreated": now_iso(), **values})
            _after_create(halo, resource, record)
        written.append(render(halo, resource, record, custom=True))
    answer = halo.settings.post_answer
    if len(written) == 1 or answer == "first":
        return 201, written[0]
    if answer == "shuffled":
        halo.rng.shuffle(written)
    return 201, "" if answer == "empty" else written


def _check_item(halo: FakeHalo, resource: Resource, item: Any) -> Errors:
    if not isinstance(item, dict):
        return {"": f"The JSON value could not be converted to {resource.name}."}
    errors: Errors = {}
    for key, value in item.items():
        expected = int if key == "id" else resource.fields.get(key)
        if expected is None or value is None:
            continue  # unknown properties are ignored, as ASP.NET model binding does
        ok = isinstance(value, expected) and not (isinstance(value, bool) and expected is not bool)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            errors[key] = f"The JSON value could not be converted to {JSON_TYPES.get(expected, expected.__name__)}."
    if errors:
        return errors
    existing = None
    if item.get("id"):
        existing = halo.tables[resource.name].rows.get(item["id"])
        if existing is None:
            return {"id": f"No {resource.name} record with id {item['id']} exists."}
    else:
        for key in resource.required:
            if item.get(key) in (None, ""):
                errors[key] = f"The {key} field is required."
    errors.update(_check_custom(halo, item.get("customfields")))
    if resource.validate is not None:
        errors.update(resource.validate(halo, item, existing))
    return errors


def _check_custom(halo: FakeHalo, values: Any) -> Errors:
    if values is None:
        return {}
    errors: Errors = {}
    for j, value in enumerate(values):
        if not isinstance(value, dict) or not isinstance(value.get("id"), int):
            errors[f"customfields[{j}]"] = 'A custom field value is {"id": <FieldInfo id>, "value": ...}.'
        elif value["id"] not in halo.tables["fieldinfo"].rows:
            errors[f"customfields[{j}].id"] = f"Custom field {value['id']} does not exist."
    return errors


def _custom_values(halo: FakeHalo, values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    fields = halo.tables["fieldinfo"].rows
    return [{"id": v["id"], "name": fields[v["id"]]["name"], "value": v.get("value")} for v in values]


def _after_create(halo: FakeHalo, resource: Resource, record: dict[str, Any]) -> None:
    if resource.name == "client":  # every client is created with its main site
        site = halo.tables["site"].insert({"name": record.pop("newclient_sitename", None) or "Main",
                                           "client_id": record["id"], "datecreated": now_iso()})
        record["main_site_id"] = site["id"]
    elif resource.name == "users":
        record["client_id"] = halo.tables["site"].rows[record["site_id"]]["client_id"]
        if not record.get("name"):
            record["name"] = " ".join(str(record.get(k) or "") for k in ("firstname", "surname")).strip()
    elif resource.name in ("opportunities", "tickets"):
        record.setdefault("status_id", 1)


# --- GET -----------------------------------------------------------------------------------------------


def render(halo: FakeHalo, resource: Resource, record: dict[str, Any], *, custom: bool | set[int]) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k != "customfields"}
    if custom:
        values = record.get("customfields") or []
        out["customfields"] = [v for v in values if custom is True or v["id"] in custom]
    if resource.name == "users" and record.get("client_id") in halo.tables["client"].rows:
        out["client_name"] = halo.tables["client"].rows[record["client_id"]]["name"]
    return out


def get_one(halo: FakeHalo, resource: Resource, record_id: int) -> Answer:
    record = halo.tables[resource.name].rows.get(record_id)
    if record is None:
        return 404, {"ClassName": "HaloNotFoundException", "Message": f"{resource.name} {record_id} not found"}
    return 200, render(halo, resource, record, custom=True)


def delete(halo: FakeHalo, resource: Resource, record_id: int) -> Answer:
    if resource.name == "users" and record_id in halo.tables["users"].rows and any(
            row.get("user_id") == record_id for name in ("opportunities", "tickets")
            for row in halo.tables[name].rows.values()):
        # As HaloPSA does: a user with tickets or opportunities cannot be deleted (deactivate it instead).
        return 400, {"ClassName": "HaloValidationException",
                     "Message": f"User {record_id} cannot be deleted because tickets or opportunities belong to it."}
    if halo.tables[resource.name].rows.pop(record_id, None) is None:
        return 404, {"ClassName": "HaloNotFoundException", "Message": f"{resource.name} {record_id} not found"}
    return 200, ""
