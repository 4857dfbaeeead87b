"""Verifying HaloPSA's own outgoing webhooks (``POST /webhooks/halopsa``).

HaloPSA does not sign deliveries: a webhook authenticates with Basic credentials (or, through some setups, a
Bearer token) configured on the webhook in HaloPSA, so that is what is checked, in constant time. The delivery id
is the payload's ``id`` (a GUID), for de-duplication.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json

from halosync.contracts import Verification, WebhookRequest
from halosync_halopsa.answers import PROVIDER
from halosync_halopsa.settings import HaloSettings


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
