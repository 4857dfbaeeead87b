"""``POST people/match`` with ``reveal_phone_number`` and a ``webhook_url``, as the fake serves it.

Apollo answers the match at once (without the phone numbers), then delivers the phone numbers later by POSTing to
the ``webhook_url``, unsigned, and may retry. The result can also be fetched with ``GET webhook_result/{id}``.
The fake delivers from a task started by the ASGI lifespan, after ``webhook_delay`` seconds, up to three tries.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import trio

from halosync_apollo.fake.state import ApolloState

MATCH_PARAMS = frozenset({
    "id", "email", "hashed_email", "first_name", "last_name", "name", "organization_name", "domain", "linkedin_url",
    "reveal_personal_emails", "reveal_phone_number", "run_waterfall_email", "run_waterfall_phone", "webhook_url",
})
NEEDS_WEBHOOK = "Please add a valid 'webhook_url' parameter when using 'reveal_phone_number'"
PERSON_KEYS = ("id", "first_name", "last_name", "name", "title", "linkedin_url", "email", "email_status", "city",
               "state", "country", "organization")


def people_match(fake: ApolloState, body: Any) -> tuple[int, Any]:
    if not isinstance(body, dict):
        return 422, {"error": "Invalid parameters", "error_detail": "the body must be a JSON object"}
    unknown = sorted(set(body) - MATCH_PARAMS)
    if unknown:
        return 422, {"error": "Invalid parameters", "error_detail": f"unknown parameter(s): {', '.join(unknown)}"}
    webhook_url = body.get("webhook_url")
    if body.get("reveal_phone_number") and not (isinstance(webhook_url, str) and webhook_url.startswith("http")):
        return 400, {"error": NEEDS_WEBHOOK}
    contact = _find(fake, body)
    if contact is None:
        return 200, {"person": None}
    answer: dict[str, Any] = {"person": {k: contact.get(k) for k in PERSON_KEYS}}
    if body.get("reveal_phone_number"):
        request_id = secrets.token_hex(12)
        payload = {
            "status": "success", "request_id": request_id, "total_requested_enrichments": 1,
            "unique_enriched_records": 1, "missing_records": 0, "credits_consumed": 1,
            "people": [{"id": contact["id"], "status": "success", "phone_numbers": contact.get("phone_numbers") or []}],
        }
        fake.enrichments[request_id] = payload
        fake.pending_deliveries.send_nowait((str(webhook_url), payload))
        answer["request_id"] = request_id
    return 200, answer


def _find(fake: ApolloState, body: dict[str, Any]) -> dict[str, Any] | None:
    if body.get("id") in fake.book.by_id:
        return fake.book.by_id[body["id"]]
    email = str(body.get("email") or "").lower()
    linkedin = str(body.get("linkedin_url") or "").lower().rstrip("/")
    for contact in fake.book.by_id.values():
        if email and str(contact.get("email") or "").lower() == email:
            return contact
        if linkedin and str(contact.get("linkedin_url") or "").lower().rstrip("/") == linkedin:
            return contact
    return None


async def deliver_webhooks(fake: ApolloState, receive: trio.MemoryReceiveChannel[tuple[str, dict[str, Any]]]) -> None:
    """Deliver queued enrichment results, as Apollo does: later, unsigned, retried a few times."""
    async with httpx.AsyncClient(timeout=10) as client:
        async for url, payload in receive:
            await trio.sleep(fake.webhook_delay)
            for attempt in range(3):
                try:
                    answer = await client.post(url, json=payload)
                except httpx.HTTPError:
                    status = 0
                else:
                    status = answer.status_code
                fake.deliveries.append((url, status))
                if 200 <= status < 300:
                    break
                await trio.sleep(2.0 ** attempt)
