"""GET on a fake HaloPSA collection: filters, search, order and paging, answered in HaloPSA's envelopes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from halosync_halopsa.fake.resources import Answer, Resource, render
from halosync_halopsa.fake.state import FakeHalo

INT_PARAMS = ("page_size", "page_no", "count", "client_id", "site_id", "user_id", "tickettype_id")


def list_records(halo: FakeHalo, resource: Resource, query: Mapping[str, str]) -> Answer:
    q = {k.lower(): v for k, v in query.items()}
    ints: dict[str, int] = {}
    for name in INT_PARAMS:
        if q.get(name, "") != "":
            try:
                ints[name] = int(q[name])
            except ValueError:
                return 400, {name: f"The value '{q[name]}' is not valid."}
    rows = list(halo.tables[resource.name].rows.values())
    if resource.list_key is None:  # lookups answer every record as a plain array
        return 200, [render(halo, resource, r, custom=False) for r in rows]

    if not _flag(q, "includeinactive"):
        rows = [r for r in rows if not r.get("inactive")]
    for name in ("client_id", "site_id", "user_id", "tickettype_id"):
        if name in ints:
            rows = [r for r in rows if r.get(name) == ints[name]]
    search = q.get("search", "").strip().lower()
    if search:
        fields = ("name",) if _flag(q, "search_name_only") else resource.search_fields
        rows = [r for r in rows if any(search in str(r.get(f) or "").lower() for f in fields)]
    for param, field in (("search_oppemailaddress", "oppemailaddress"), ("search_oppcompanyname", "oppcompanyname")):
        if q.get(param):
            rows = [r for r in rows if q[param].lower() in str(r.get(field) or "").lower()]

    order = q.get("order", "").lower()
    descending = _flag(q, "orderdesc")
    if order and order != "id":
        rows.sort(key=lambda r: (r.get(order) is None, str(r.get(order) or "").lower()), reverse=descending)
    elif descending:
        rows.reverse()

    total = len(rows)
    envelope: dict[str, Any] = {}
    if _flag(q, "pageinate"):
        cap = min(halo.settings.max_page_size, resource.max_page_size or halo.settings.max_page_size)
        asked = max(1, ints.get("page_size", 50))
        size = min(asked, cap)
        page = max(1, ints.get("page_no", 1))
        start = (page - 1) * (asked if halo.settings.page_offset == "asked" else size)
        rows = rows[start: start + size]
        envelope = {"page_no": page, "page_size": size}
    elif "count" in ints:
        rows = rows[: ints["count"]]

    if _flag(q, "idonly"):
        records: list[dict[str, Any]] = [{"id": r["id"]} for r in rows]
    else:
        wanted = {int(x) for x in q.get("include_custom_fields", "").split(",") if x.strip().isdigit()}
        records = [render(halo, resource, r, custom=wanted or False) for r in rows]
    if halo.settings.record_count:
        envelope["record_count"] = total
    return 200, {**envelope, resource.list_key: records}


def _flag(q: Mapping[str, str], name: str) -> bool:
    return q.get(name, "").lower() in ("true", "1", "yes")
