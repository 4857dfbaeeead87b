"""Enrichment callbacks: the fake Apollo delivers phone numbers to the webhook_url later; only deliveries carrying a
token this daemon issued pass, and a delivery is used only once Apollo's own record confirms it."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import pytest
import trio

from halosync.contracts import Verification, WebhookRequest
from halosync.errors import ProviderError
from halosync.provider.asgi import Receive, Scope, Send, lifespan, read_request, respond, serve
from halosync_apollo.enrichment import EnrichmentTokens, EnrichmentVerifier
from halosync_apollo.fake import FakeApollo
from halosync_apollo.settings import ApolloSettings
from halosync_apollo.source import ApolloSource
from tests.apollo.conftest import KEY


class Receiver:
    """Stands in for the daemon's ``POST /webhooks/apollo``: verifies, then keeps what passed."""

    def __init__(self, verifier: EnrichmentVerifier) -> None:
        self.verifier = verifier
        self.accepted: list[dict[str, Any]] = []
        self.refused: list[Verification] = []
        self.arrived = trio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        request = await read_request(scope, receive)
        verdict = self.verifier.verify(WebhookRequest("apollo", request.headers, request.query, request.body,
                                                      time.time()))
        if verdict.ok:
            self.accepted.append(json.loads(request.body))
            self.arrived.set()
            await respond(send, 202, {"accepted": True})
        else:
            self.refused.append(verdict)
            await respond(send, verdict.status, {"error": verdict.reason})


async def test_a_phone_enrichment_arrives_by_webhook_and_is_confirmed(fake: FakeApollo, fake_url: str,
                                                                      nursery: trio.Nursery) -> None:
    fake.webhook_delay = 0.01
    fake.add_contacts([{"id": "c1", "email": "grace@navy.example", "first_name": "Grace",
                        "phone_numbers": [{"sanitized_number": "+12025550101", "type": "mobile", "position": 0}]}])
    receiver = Receiver(EnrichmentVerifier(EnrichmentTokens(KEY)))
    public_url: str = await nursery.start(serve, receiver)
    source = ApolloSource(ApolloSettings(api_key=KEY, base_url=fake_url, enrichment_webhooks=True,
                                         public_base_url=public_url))
    assert source.enrichment is not None

    request_id = await source.enrichment.request_phone(email="GRACE@navy.example")
    with trio.fail_after(10):
        await receiver.arrived.wait()
    (delivered,) = receiver.accepted
    confirmed = await source.enrichment.confirm(delivered)

    assert delivered["request_id"] == request_id
    assert confirmed["people"][0]["phone_numbers"][0]["sanitized_number"] == "+12025550101"
    with pytest.raises(ProviderError, match="does not match Apollo's record"):
        await source.enrichment.confirm({**delivered, "people": [{"id": "c1", "phone_numbers": [
            {"sanitized_number": "+19005550000"}]}]})
    await source.aclose()


def test_only_tokens_this_daemon_issued_for_this_key_pass() -> None:
    tokens = EnrichmentTokens(KEY)
    verifier = EnrichmentVerifier(tokens)
    token = tokens.issue()

    def delivery(query: dict[str, str], body: bytes = b'{"request_id": "r1"}') -> Verification:
        return verifier.verify(WebhookRequest("apollo", {}, query, body, 0.0))

    good = delivery({"token": token})
    assert good.ok and good.delivery_id == "r1"
    assert not delivery({}).ok and delivery({}).status == 401
    forged = token.split(".")[0] + "." + "0" * 32
    assert not delivery({"token": forged}).ok
    assert not EnrichmentVerifier(EnrichmentTokens("another-key")).verify(
        WebhookRequest("apollo", {}, {"token": token}, b"{}", 0.0)).ok
    assert delivery({"token": token}, b"not json").status == 400
    assert tokens.issue() != token  # one per request


def test_enrichment_without_a_public_url_is_a_clear_error() -> None:
    settings = replace(ApolloSettings(api_key=KEY, base_url="https://api.apollo.io"), enrichment_webhooks=True)
    with pytest.raises(ProviderError, match=r"needs plugins\.apollo\.public_base_url"):
        ApolloSource(settings)
