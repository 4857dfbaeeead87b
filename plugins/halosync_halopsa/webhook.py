"""HaloPSA's own outgoing webhooks (``POST /webhooks/halopsa``): verified, then read into mirror records.

HaloPSA does not sign deliveries: a webhook authenticates with Basic credentials (or, through some setups, a
Bearer token) configured on the webhook in HaloPSA, so that is what is checked, in constant time. The delivery id
is the payload's ``id`` (a GUID), for de-duplication.

A delivery about a client or a user (``{"event": "client updated", "object_id": 42, "client": {...}}``) becomes a
record for the sink mirror, so a change people make in HaloPSA is matched against before the next listing; a
deletion (``"user deleted"``) unlinks the record. Other events (tickets, ...) carry nothing for halosync.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from typing import Any

from halosync.contracts import EntityKind, SinkRecord, Verification, WebhookContent, WebhookRequest
from halosync.errors import LeadError
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
            payload = json.loads(request.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return Verification(False, "credentials match, but the body is not JSON", status=400)
        delivery = payload.get("id") if isinstance(payload, dict) else None
        if not delivery:
            return Verification(False, "credentials match, but the payload has no id", status=400)
        return Verification(True, "credentials match", delivery_id=str(delivery), status=200)

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
            payload = json.loads(request.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise LeadError("the HaloPSA webhook body is not JSON") from None
        if not isinstance(payload, dict):
            raise LeadError("the HaloPSA webhook body is not a JSON object")
        records = [r for r in (_record(payload, key, kind) for key, kind in OBJECT_KEYS.items()) if r is not None]
        return WebhookContent(sink=PROVIDER, records=records) if records else WebhookContent()


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
