"""The fake's admin routes under ``/__admin/`` (no auth): the in-process admin API over HTTP, for a fake that
runs in another process (``python -m halosync_apollo.fake``), the demo and the crash-safety test.

| route | does |
|---|---|
| ``GET /__admin/stats`` | contact count, requests by endpoint and status, quota usage per window |
| ``GET /__admin/log`` | every logged API request (``?endpoint=contacts/search`` filters) |
| ``GET /__admin/truth`` | generated contact id -> person key (same key: the same human) |
| ``POST /__admin/contacts`` | save contacts (``{"contacts": [...]}`` or a bare list); replaces by id |
| ``PATCH /__admin/contacts/{id}`` | change fields of one contact; ``updated_at`` moves to now unless given |
| ``DELETE /__admin/contacts/{id}`` | remove a contact |
| ``POST /__admin/generate`` | add generated contacts; the body holds ``GeneratorSpec`` fields |
| ``POST /__admin/faults`` | ``{"count", "status", "body", "endpoint", "hang"}``; ``{"latency": s}``; ``{"clear": 1}`` |
| ``POST /__admin/limits`` | ``{"endpoint", "minute", "hour", "day"}`` (null: none), or ``{"endpoint", "plan"}`` |
|                           | (free, basic, professional, organization); daily_spelling, retry_after              |
| ``POST /__admin/behaviour`` | ``{"tie_order": "shuffled"|"id", "honour_range": bool,``                          |
|                             | ``"edits_per_request": n, "deletes_per_request": n}``                             |
| ``POST /__admin/reset_quota`` | forget all usage |
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from halosync.plugin import Request
from halosync_apollo.fake.generator import GeneratorSpec
from halosync_apollo.fake.limits import PLANS, WINDOWS, Limits
from halosync_apollo.fake.state import ApolloState


def handle_admin(fake: ApolloState, request: Request) -> tuple[int, Any]:
    route = request.path.removeprefix("/__admin/").rstrip("/")
    try:
        body = request.json() if request.body else None
    except ValueError:
        return 400, {"error": "the body is not valid JSON"}
    method = request.method
    if method == "GET":
        return _get(fake, route, request.query)
    if route.startswith("contacts/"):
        contact_id = route.split("/", 1)[1]
        if contact_id not in fake.book.by_id:
            return 404, {"error": "Record not found."}
        if method == "PATCH":
            return 200, fake.update_contact(contact_id, **(body or {}))
        if method == "DELETE":
            fake.remove_contact(contact_id)
            return 200, {"deleted": contact_id}
    if method != "POST":
        return 405, {"error": f"{method} is not allowed on /__admin/{route}"}
    if route == "contacts":
        contacts = body.get("contacts", []) if isinstance(body, dict) else body or []
        return 200, {"saved": fake.add_contacts(contacts)}
    if route == "generate":
        names = {f.name for f in fields(GeneratorSpec)}
        given: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in (body or {}).items()
                                 if k in names}
        spec = GeneratorSpec(**given)
        return 200, {"generated": len(fake.generate(spec).contacts)}
    if route == "faults":
        return 200, _faults(fake, body or {})
    if route == "limits":
        return 200, _limits(fake, body or {})
    if route == "behaviour":
        return 200, _behaviour(fake, body or {})
    if route == "reset_quota":
        fake.quota.reset()
        return 200, {"reset": True}
    return 404, {"error": f"no admin route /__admin/{route}"}


def _get(fake: ApolloState, route: str, query: dict[str, str]) -> tuple[int, Any]:
    if route == "stats":
        requests: dict[str, dict[str, int]] = {}
        for (endpoint, status), count in fake.counts.items():
            requests.setdefault(endpoint, {})[str(status)] = count
        endpoints = {e for e, _ in fake.counts}
        usage = {e: {w: fake.quota.usage(e, w) for w, _ in WINDOWS} for e in sorted(endpoints)}
        return 200, {"contacts": len(fake.book.by_id), "requests": requests, "usage": usage}
    if route == "log":
        return 200, [asdict(r) for r in fake.requests(query.get("endpoint"))]
    if route == "truth":
        return 200, fake.truth
    return 404, {"error": f"no admin route /__admin/{route}"}


def _faults(fake: ApolloState, body: dict[str, Any]) -> dict[str, Any]:
    if body.get("clear"):
        fake.faults.clear()
    if "latency" in body:
        fake.latency = float(body["latency"])
    if "count" in body or "status" in body or body.get("hang"):
        fake.fail_next(int(body.get("count", 1)), int(body.get("status", 500)), body.get("body"),
                       endpoint=body.get("endpoint"), hang=bool(body.get("hang")))
    return {"pending_faults": len(fake.faults), "latency": fake.latency}


def _limits(fake: ApolloState, body: dict[str, Any]) -> dict[str, Any]:
    if "endpoint" in body and "plan" in body:
        fake.set_limits(body["endpoint"], PLANS[str(body["plan"]).lower()])
    elif "endpoint" in body:
        fake.set_limits(body["endpoint"], Limits(body.get("minute"), body.get("hour"), body.get("day")))
    if "daily_spelling" in body:
        fake.quota.daily_spelling = body["daily_spelling"]
    if "retry_after" in body:
        fake.retry_after = bool(body["retry_after"])
    return {"limits": {e: asdict(v) for e, v in fake.quota.limits.items()}, "default": asdict(fake.quota.default)}


def _behaviour(fake: ApolloState, body: dict[str, Any]) -> dict[str, Any]:
    """Where Apollo promises nothing, how the fake varies: tie order, the undocumented day filter, churn."""
    if body.get("tie_order") in ("shuffled", "id"):
        fake.book.tie_order = body["tie_order"]
    if "honour_range" in body:
        fake.book.honour_range = bool(body["honour_range"])
        fake.book.version += 1
        fake.book.upsert([])  # orderings cached under the old rule are dropped
    if "edits_per_request" in body:
        fake.churn.edits = int(body["edits_per_request"])
    if "deletes_per_request" in body:
        fake.churn.deletes = int(body["deletes_per_request"])
    return {"tie_order": fake.book.tie_order, "honour_range": fake.book.honour_range,
            "edits_per_request": fake.churn.edits, "deletes_per_request": fake.churn.deletes}
