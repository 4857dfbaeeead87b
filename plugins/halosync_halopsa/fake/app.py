"""The fake HaloPSA as an ASGI app: discovery, the token endpoint, Bearer auth, rate limit, faults and routing.

Every request to ``/api`` and ``/auth`` counts in the rolling window (refused ones do not) and is logged. Paths
are case-insensitive, as on the real instance. ``/_fake/...`` is the fake's own admin surface (stats, seeding,
settings) for out-of-process use; it is neither rate limited nor logged.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any
from urllib.parse import parse_qsl

import trio

from halosync.plugin import ASGIApp, Receive, Request, Scope, Send, lifespan, read_request, respond, serve
from halosync_halopsa.fake.listing import list_records
from halosync_halopsa.fake.resources import RESOURCES, Answer, Resource, delete, get_one, post
from halosync_halopsa.fake.state import FakeHalo, FakeSettings, Token

SCOPE_FAMILY = {"client": "customers", "site": "customers", "users": "customers", "opportunities": "crm",
                "tickets": "tickets", "actions": "tickets", "fieldinfo": "admin", "tickettype": "admin"}
LABELS = {"client": "Clients", "site": "Sites", "users": "Users", "opportunities": "Opportunities",
          "tickets": "Tickets", "actions": "Actions", "fieldinfo": "Custom Fields", "tickettype": "Ticket Types"}


def make_app(halo: FakeHalo) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        request = await read_request(scope, receive)
        path = request.path.rstrip("/").lower() or "/"
        if path.startswith("/_fake/"):
            await respond(send, *_admin(halo, request, path))
            return
        route, resource, record_id = _route(path)
        agent, params = request.headers.get("user-agent", ""), tuple(k.lower() for k in request.query)

        def log(status: int, items: int = 0, *, answered: bool = True) -> None:
            halo.record(request.method, route, status, items, answered=answered, user_agent=agent, params=params)

        if halo.settings.latency:
            await trio.sleep(halo.settings.latency)
        fault = halo.take_fault(request.method, route)
        if fault == "429" or not halo.admit():
            log(429)
            await respond(send, 429, halo.rate_message)  # no Retry-After, no rate headers: as HaloPSA answers
            return
        if fault in ("500", "503"):
            log(int(fault))
            await respond(send, int(fault), {"ClassName": "System.Exception", "Message": "An error has occurred."})
            return
        if fault == "hang":  # nothing is done, and the answer comes (if ever) after the client gave up
            log(504)
            await trio.sleep(halo.settings.hang_seconds)
            await respond(send, 504, "Gateway Timeout")
            return
        status, body = _dispatch(halo, request, path, resource, record_id)
        items = len(request.json()) if request.method == "POST" and status == 201 and resource else 0
        log(status, items, answered=fault != "lost")
        if fault in ("lost", "slow") and request.method == "POST":
            # The work is done; the answer is held back (for good, or for a while): a client killed or timing
            # out now leaves a write in doubt. The stats count such writes while their answer is held.
            halo.writes_in_flight += 1
            halo.writes_held += 1
            try:
                await trio.sleep(halo.settings.hang_seconds if fault == "lost" else halo.settings.slow_seconds)
            finally:
                halo.writes_in_flight -= 1
        elif fault in ("lost", "slow"):
            await trio.sleep(halo.settings.hang_seconds if fault == "lost" else halo.settings.slow_seconds)
        await respond(send, status, body)

    return app


async def serve_fake(halo: FakeHalo, host: str = "127.0.0.1", port: int = 0, *,
                     task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
    """Serve ``halo`` until cancelled: ``url = await nursery.start(serve_fake, halo)``."""
    await serve(make_app(halo), host, port, graceful_timeout=0.5, task_status=task_status)


def _route(path: str) -> tuple[str, Resource | None, int | None]:
    """The route template, resource and id of a path; id -1 for an id that is not an integer (``/Users/95.0``),
    which HaloPSA refuses with a 400."""
    parts = path.split("/")
    if len(parts) >= 3 and parts[1] == "api" and parts[2] in RESOURCES:
        resource = RESOURCES[parts[2]]
        if len(parts) == 4:
            return f"/api/{resource.name}/{{id}}", resource, int(parts[3]) if parts[3].isdigit() else -1
        if len(parts) == 3:
            return f"/api/{resource.name}", resource, None
    return path, None, None


def _dispatch(halo: FakeHalo, request: Request, path: str, resource: Resource | None, record_id: int | None) -> Answer:
    if path == "/api/authinfo" and request.method == "GET":
        base = f"http://{request.headers.get('host', '127.0.0.1')}"
        return 200, {"auth_url": f"{base}/auth", "tenant_id": halo.settings.tenant, "ntlm_enabled": False}
    if path == "/auth/token":
        return _token(halo, request) if request.method == "POST" else (405, "")
    if resource is None:
        return 404, {"ClassName": "System.Web.Http.HttpException", "Message": f"No resource at {request.path}"}
    denied = _authorise(halo, request, resource)
    if denied is not None:
        return denied
    if record_id == -1:
        return 400, {"id": f"The value '{path.rsplit('/', 1)[-1]}' is not valid for Int32."}
    if request.method == "GET":
        return list_records(halo, resource, request.query) if record_id is None else get_one(halo, resource, record_id)
    if request.method == "POST" and record_id is None:
        try:
            body = request.json()
        except ValueError:
            return 400, {"$": "The request body is not valid JSON."}
        return post(halo, resource, body)
    if request.method == "DELETE" and record_id is not None:
        return delete(halo, resource, record_id)
    return 405, {"Message": f"The requested resource does not support http method '{request.method}'."}


def _token(halo: FakeHalo, request: Request) -> Answer:
    form = dict(parse_qsl(request.body.decode("latin-1")))
    settings = halo.settings
    if settings.tenant and request.query.get("tenant") != settings.tenant:
        return 400, {"error": "invalid_request", "error_description": "unknown or missing tenant"}
    if form.get("grant_type") != "client_credentials":
        return 400, {"error": "unsupported_grant_type"}
    if not (secrets.compare_digest(form.get("client_id", ""), settings.client_id)
            and secrets.compare_digest(form.get("client_secret", ""), settings.client_secret)):
        return 401, {"error": "invalid_client"}
    requested = frozenset(form.get("scope", "all").split() or ["all"])
    if "all" not in settings.scopes and not requested <= set(settings.scopes):
        return 400, {"error": "invalid_scope"}
    token = secrets.token_urlsafe(24)
    halo.tokens[token] = Token(settings.client_id, requested, halo.clock() + settings.token_lifetime)
    return 200, {"access_token": token, "token_type": "Bearer", "expires_in": int(settings.token_lifetime),
                 "scope": " ".join(sorted(requested)), "id_token": secrets.token_urlsafe(16)}


def _authorise(halo: FakeHalo, request: Request, resource: Resource) -> Answer | None:
    header = request.headers.get("authorization", "")
    token = halo.tokens.get(header[7:]) if header.lower().startswith("bearer ") else None
    if token is None or token.expires_at <= halo.clock():
        return 401, ""
    family = SCOPE_FAMILY[resource.name]
    reading = request.method == "GET"
    allowed = {"all", f"edit:{family}"} | ({f"read:{family}"} if reading else set())
    if reading and family == "admin":  # lookups (custom field and ticket type definitions) any token may read
        allowed = set(token.scopes) | {"all"}
    if not allowed & token.scopes:
        return 403, {"error": "insufficient_scope", "Message": f"The token's scope does not allow "
                     f"{'reading' if reading else 'changing'} {LABELS[resource.name]}."}
    if resource.name in halo.settings.denied:
        return 403, {"ClassName": "HaloAuthorisationException",
                     "Message": f"You do not have permission to access {LABELS[resource.name]}."}
    return None


def _admin(halo: FakeHalo, request: Request, path: str) -> tuple[int, Any]:
    if path == "/_fake/stats":
        return 200, halo.stats()
    if path == "/_fake/expire_tokens" and request.method == "POST":
        halo.expire_tokens()
        return 200, {}
    if path == "/_fake/settings" and request.method == "POST":
        known = {f.name for f in dataclasses.fields(FakeSettings)}
        changes = {k: v for k, v in (request.json() or {}).items() if k in known}
        if "denied" in changes:
            changes["denied"] = frozenset(changes["denied"])
        if "scopes" in changes:
            changes["scopes"] = tuple(changes["scopes"])
        halo.settings = dataclasses.replace(halo.settings, **changes)
        return 200, dataclasses.asdict(halo.settings) | {"denied": sorted(halo.settings.denied),
                                                         "client_secret": "********"}
    if path == "/_fake/seed" and request.method == "POST":
        return 200, seed(halo, request.json() or {})
    return 404, {"Message": "unknown admin route"}


def seed(halo: FakeHalo, data: dict[str, Any]) -> dict[str, Any]:
    """Seed records as people would have created them: ``{"clients": [{"name", ..., "users": [{...}]}],
    "fields": [{"name", "usage", "type"}]}``. Answers the ids created."""
    created: dict[str, list[int]] = {"clients": [], "users": [], "fields": []}
    for spec in data.get("fields", []):
        created["fields"].append(halo.add_field(spec["name"], usage=int(spec["usage"]), type=int(spec.get("type", 0)))
                                 ["id"])
    for spec in data.get("clients", []):
        users = spec.pop("users", [])
        client = halo.add_client(spec.pop("name"), **spec)
        created["clients"].append(client["id"])
        created["users"] += [halo.add_user(client["id"], **user)["id"] for user in users]
    return created
