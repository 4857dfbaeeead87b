"""HaloPSA's own webhooks: Basic or Bearer credentials compared in constant time (HaloPSA does not sign)."""

from __future__ import annotations

import base64
import json

import pytest

from halosync.contracts import WebhookContent, WebhookRequest
from halosync.errors import LeadError
from halosync_halopsa.webhook import HaloWebhookVerifier
from tests.halopsa.conftest import halo_settings

BODY = json.dumps({"id": "6f1c0e0a-0c8e-4c5e-9a55-3c2b7f0e9d11", "event": "client updated", "object_id": 42}).encode()


def request(authorization: str | None, body: bytes = BODY) -> WebhookRequest:
    headers = {"authorization": authorization} if authorization else {}
    return WebhookRequest("halopsa", headers, {}, body, 0.0)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_credentials() -> None:
    verifier = HaloWebhookVerifier(halo_settings("https://x", webhook_username="halo", webhook_password="pw-1"))
    ok = verifier.verify(request(basic("halo", "pw-1")))
    assert ok.ok and ok.delivery_id == "6f1c0e0a-0c8e-4c5e-9a55-3c2b7f0e9d11"
    wrong = verifier.verify(request(basic("halo", "pw-2")))
    assert (wrong.ok, wrong.status) == (False, 401) and "Basic" in wrong.reason and "pw-1" not in wrong.reason
    assert not verifier.verify(request(None)).ok
    assert not verifier.verify(request("Basic !!not-base64")).ok


def test_bearer_token_and_malformed_body() -> None:
    verifier = HaloWebhookVerifier(halo_settings("https://x", webhook_token="tok-123"))
    assert verifier.verify(request("Bearer tok-123")).ok
    assert not verifier.verify(request("Bearer tok-124")).ok
    malformed = verifier.verify(request("Bearer tok-123", b"{not json"))
    assert (malformed.ok, malformed.status) == (False, 400)


def test_without_configured_credentials_nothing_is_accepted() -> None:
    verdict = HaloWebhookVerifier(halo_settings("https://x")).verify(request("Bearer anything"))
    assert not verdict.ok and "webhook_token" in verdict.reason


def parse(payload: dict[str, object] | list[dict[str, object]]) -> WebhookContent:
    verifier = HaloWebhookVerifier(halo_settings("https://x", webhook_token="tok-123"))
    return verifier.parse(WebhookRequest("halopsa", {}, {}, json.dumps(payload).encode(), 0.0))


def test_client_and_user_changes_become_mirror_records() -> None:
    content = parse({"id": "g-1", "event": "user updated", "object_id": 7,
                     "user": {"id": 7, "client_id": 3, "name": "Ada Lovelace", "emailaddress": "ada@new.example"}})
    assert content.sink == "halopsa"
    (record,) = content.records
    assert (record.kind, record.sink_id, record.parent_id) == ("person", "7", "3")
    assert record.fields["email"] == "ada@new.example" and not record.deleted
    (gone,) = parse({"id": "g-2", "event": "client deleted", "object_id": 3}).records
    assert (gone.kind, gone.sink_id, gone.deleted) == ("company", "3", True)


def test_other_events_carry_nothing_and_garbage_is_refused() -> None:
    assert parse({"id": "g-3", "event": "ticket status changed", "object_id": 4242, "ticket": {"id": 4242}}) == \
        WebhookContent()
    verifier = HaloWebhookVerifier(halo_settings("https://x", webhook_token="tok-123"))
    with pytest.raises(LeadError, match="not JSON"):
        verifier.parse(WebhookRequest("halopsa", {}, {}, b"<xml/>", 0.0))


def test_a_batched_delivery_is_an_array_of_events_read_in_order() -> None:
    batch = [{"id": "g-4", "event": "user updated", "object_id": 7, "user": {"id": 7, "client_id": 3, "name": "Ada"}},
             {"id": "g-5", "event": "ticket status changed", "object_id": 4242},
             {"id": "g-6", "event": "user deleted", "object_id": 7}]
    verifier = HaloWebhookVerifier(halo_settings("https://x", webhook_token="tok-123"))
    verdict = verifier.verify(request("Bearer tok-123", json.dumps(batch).encode()))
    assert verdict.ok and verdict.delivery_id == "g-4,g-5,g-6"  # the same batch again is the same delivery
    updated, deleted = parse(batch).records
    assert (updated.sink_id, updated.fields["full_name"], updated.deleted) == ("7", "Ada", False)
    assert (deleted.sink_id, deleted.deleted) == ("7", True)
    big = [{"id": f"6f1c0e0a-0c8e-4c5e-9a55-{n:012d}", "event": "client updated"} for n in range(100)]
    digest = verifier.verify(request("Bearer tok-123", json.dumps(big).encode())).delivery_id
    assert digest is not None and digest.startswith("batch-") and len(digest) < 80


@pytest.mark.parametrize("body", [[], [{"id": "g-7"}, "junk"], [{"event": "user updated"}], 42])
def test_a_batch_that_is_not_one_is_refused(body: object) -> None:
    verifier = HaloWebhookVerifier(halo_settings("https://x", webhook_token="tok-123"))
    verdict = verifier.verify(request("Bearer tok-123", json.dumps(body).encode()))
    assert (verdict.ok, verdict.status) == (False, 400)
