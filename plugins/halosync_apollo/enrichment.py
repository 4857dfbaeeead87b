"""Enrichment callbacks (``enrichment_webhooks = true``): phone numbers Apollo delivers later to a webhook_url.

Apollo does not sign its webhooks. So each request's ``webhook_url`` carries an unguessable token: a random nonce
and an HMAC of it under a key derived from the API key (``?token=NONCE.MAC``). The verifier recomputes the MAC
and compares in constant time, so it needs no table of issued tokens and keeps working across restarts, while
nobody without the API key can forge one. A verified delivery is still only a claim: before using it, ``confirm``
fetches Apollo's own record (``GET webhook_result/{request_id}``) and accepts the result only if it matches.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from halosync.plugin import ProviderError, Verification, WebhookRequest
from halosync_apollo.client import PROVIDER, ApolloClient


class EnrichmentTokens:
    def __init__(self, api_key: str) -> None:
        self._key = hashlib.sha256(b"halosync/apollo/enrichment-webhook\0" + api_key.encode()).digest()

    def _mac(self, nonce: str) -> str:
        return hmac.new(self._key, nonce.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self) -> str:
        nonce = secrets.token_urlsafe(16)
        return f"{nonce}.{self._mac(nonce)}"

    def valid(self, token: str) -> bool:
        nonce, _, mac = token.partition(".")
        return bool(nonce) and hmac.compare_digest(mac.encode(), self._mac(nonce).encode())


class EnrichmentVerifier:
    """``POST /webhooks/apollo``: accepts a delivery whose URL carries a token this daemon issued."""

    plugin = "apollo"

    def __init__(self, tokens: EnrichmentTokens) -> None:
        self.tokens = tokens

    def verify(self, request: WebhookRequest) -> Verification:
        token = request.query.get("token", "")
        if not token:
            return Verification(False, "no token in the callback URL: Apollo deliveries carry the ?token= that "
                                "halosync put in the webhook_url", status=401)
        if not self.tokens.valid(token):
            return Verification(False, "the token in the callback URL was not issued by this daemon (or for "
                                "another API key)", status=401)
        try:
            body = json.loads(request.body)
        except ValueError:
            return Verification(False, "the body is not JSON", status=400)
        request_id = body.get("request_id") if isinstance(body, dict) else None
        return Verification(True, "the callback URL carries a token this daemon issued",
                            delivery_id=str(request_id) if request_id else None)


class ApolloEnrichment:
    """Asks Apollo for a person's phone numbers by webhook, and confirms what arrives."""

    def __init__(self, client: ApolloClient, tokens: EnrichmentTokens, public_base_url: str) -> None:
        if not public_base_url:
            raise ProviderError(PROVIDER, "enrichment_webhooks needs plugins.apollo.public_base_url: the https URL "
                                "at which Apollo reaches this daemon's /webhooks/apollo")
        self.client = client
        self.tokens = tokens
        self.public_base_url = public_base_url.rstrip("/")

    def callback_url(self) -> str:
        return f"{self.public_base_url}/webhooks/apollo?token={quote(self.tokens.issue())}"

    async def request_phone(self, *, email: str | None = None, contact_id: str | None = None) -> str | None:
        """Start a phone enrichment; returns Apollo's request id, or None when Apollo matched nobody."""
        body: dict[str, Any] = {"reveal_phone_number": True, "webhook_url": self.callback_url()}
        if contact_id:
            body["id"] = contact_id
        if email:
            body["email"] = email
        answer = await self.client.call("POST", "people/match", body)
        if not isinstance(answer, dict) or answer.get("person") is None:
            return None
        request_id = answer.get("request_id")
        return str(request_id) if request_id else None

    async def confirm(self, delivered: Mapping[str, Any]) -> dict[str, Any]:
        """Apollo's own record of a delivered result; raises when the delivery does not match it."""
        request_id = delivered.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise ProviderError(PROVIDER, "an enrichment delivery without a request_id cannot be confirmed; ignored")
        record = await self.client.call("GET", f"webhook_result/{quote(request_id, safe='')}",
                                        route="webhook_result")
        if not isinstance(record, dict) or record.get("people") != delivered.get("people"):
            raise ProviderError(PROVIDER, f"the enrichment delivered for request {request_id} does not match "
                                "Apollo's record of it; the delivery was ignored")
        return record
