"""Apollo's API routes as the fake serves them, under both ``/api/v1/`` and the legacy ``/v1/`` prefix."""

from __future__ import annotations

import re
from typing import Any

from halosync.plugin import Request
from halosync_apollo.fake.enrichment import people_match
from halosync_apollo.fake.search import InvalidSearch, parse_query
from halosync_apollo.fake.state import ApolloState

PREFIXES = ("/api/v1/", "/v1/")
_WEBHOOK_RESULT = re.compile(r"^webhook_result/[^/]+$")


def endpoint_of(path: str) -> str | None:
    """``contacts/search`` for ``/api/v1/contacts/search`` or ``/v1/contacts/search``; None off the API."""
    for prefix in PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix):].rstrip("/")
    return None


def template_of(method: str, endpoint: str) -> str | None:
    """The route an endpoint belongs to (quotas and scopes are per route), or None when there is none."""
    if method == "GET" and endpoint == "auth/health":
        return endpoint
    if method == "POST" and endpoint in ("contacts/search", "people/match"):
        return endpoint
    if method == "GET" and _WEBHOOK_RESULT.match(endpoint):
        return "webhook_result"
    return None


def answer(fake: ApolloState, request: Request, template: str, endpoint: str) -> tuple[int, Any]:
    if template == "auth/health":
        return 200, {"healthy": True, "is_logged_in": True}
    try:
        body = request.json()
    except ValueError:
        return 422, {"error": "Invalid parameters", "error_detail": "the body is not valid JSON"}
    if template == "contacts/search":
        try:
            return 200, fake.book.search(parse_query({} if body is None else body, fake.display_limit))
        except InvalidSearch as exc:
            return 422, exc.body
    if template == "people/match":
        return people_match(fake, body)
    if template == "webhook_result":
        result = fake.enrichments.get(endpoint.split("/", 1)[1])
        return (200, result) if result is not None else (404, {"error": "Record not found."})
    return 404, {"error": "Not found"}
