"""HaloPSA's own outgoing webhooks (``POST /webhooks/halopsa``): verified, then read into mirror records.

HaloPSA does not sign deliveries: a webhook authenticates with Basic credentials (or, through some setups, a
Bearer token) configured on the webhook in HaloPSA, so that is what is checked, in constant time. The delivery id
is the payload's ``id`` (a GUID), for de-duplication.

A webhook set to batch (``batch_method``, ``batch_limit``) delivers a JSON array of such events: each is read
in order, and the delivery's id is made of its events' ids, so a redelivered batch is recognised as one.

A delivery about a client or a user (``{"event": "client updated", "object_id": 42, "client": {...}}``) becomes a
record for the sink mirror, so a change people make in HaloPSA is matched against before the next listing; a
deletion (``"user deleted"``) unlinks the record. Other events (tickets, ...) carry nothing for halosync.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from halosync.plugin import EntityKind, LeadError, SinkRecord, Verification, WebhookContent, WebhookRequest
from halosync_halopsa.answers import PROVIDER
from halosync_halopsa.records import to_sink_record
from halosync_halopsa.settings import HaloSettings

OBJECT_KEYS: dict[str, EntityKind] = {"client": "company", "user": "person"}


class HaloWebhookVerifier:
    plugin = PROVIDER

    def __init__(self, settings: HaloSettings) -> None:
        self._basic = (settings.webhook_username, settings.webhook_password) if settings.webhook_username else None
        self._token = settings.webhook_token or None

    def verify(self, request: WebhookRequest) -> Verification:
        if self._basic is None and self._token is None:
            return Verification(False, "no credentials configured for HaloPSA webhooks: set plugins.halopsa."
                                       "webhook_username/webhook_password (Basic) or webhook_token (Bearer)")
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if not self._credentials_match(scheme.lower(), value.strip()):
            expected = " or ".join(x for x, on in (("Basic", self._basic), ("Bearer", self._token)) if on)
            return Verification(False, f"the Authorization header does not carry the configured {expected} "
                                       "credentials; compare them with the webhook's authentication in HaloPSA")
        try:
            events = _events(json.loads(request.body))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return Verification(False, "credentials match, but the body is not JSON", status=400)
        except LeadError as exc:
            return Verification(False, f"credentials match, but {exc}", status=400)
        ids = [str(event.get("id") or "") for event in events]
        if not all(ids):
            return Verification(False, "credentials match, but the payload has no id"
                                + (" on every event" if len(ids) > 1 else ""), status=400)
        return Verification(True, "credentials match", delivery_id=_delivery_id(ids), status=200)

    def _credentials_match(self, scheme: str, value: str) -> bool:
        if scheme == "bearer" and self._token is not None:
            return hmac.compare_digest(value.encode(), self._token.encode())
        if scheme == "basic" and self._basic is not None:
            try:
                given = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                return False
            expected = f"{self._basic[0]}:{self._basic[1]}".encode()
            return hmac.compare_digest(given, expected)
        return False

    def parse(self, request: WebhookRequest) -> WebhookContent:
        try:
            events = _events(json.loads(request.body))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise LeadError("the HaloPSA webhook body is not JSON") from None
        records = [r for event in events for r in (_record(event, key, kind) for key, kind in OBJECT_KEYS.items())
                   if r is not None]
        return WebhookContent(sink=PROVIDER, records=records) if records else WebhookContent()


def _events(payload: Any) -> list[dict[str, Any]]:
    """The events of a delivery: one object, or a batch (a non-empty array of objects)."""
    if isinstance(payload, dict):
        return [payload]
    if isinstance(payload, list) and payload and all(isinstance(event, dict) for event in payload):
        return payload
    raise LeadError("the HaloPSA webhook body is neither an event (a JSON object) nor a batch of them (a non-empty "
                    "JSON array of objects)")


def _delivery_id(ids: list[str]) -> str:
    """One event: its id. A batch: its ids together, digested when long (a batch may hold hundreds)."""
    joined = ",".join(ids)
    return joined if len(ids) == 1 or len(joined) <= 200 else f"batch-{hashlib.sha256(joined.encode()).hexdigest()}"


def _record(payload: dict[str, Any], key: str, kind: EntityKind) -> SinkRecord | None:
    event = str(payload.get("event") or "").lower()
    body = payload.get(key)
    if isinstance(body, dict) and body.get("id"):
        record = to_sink_record(kind, body)
    elif event.startswith(key) and str(payload.get("object_id") or "").isdigit():
        record = SinkRecord(kind, str(payload["object_id"]), {})
    else:
        return None
    if "delet" in event:
        return SinkRecord(kind, record.sink_id, record.fields, parent_id=record.parent_id, deleted=True)
    return record if record.fields else None  # an id alone says nothing to update
