"""Lusha's signed webhooks: X-Lusha-Signature over timestamp + "." + body, good / bad / stale / missing, through the
daemon's real HTTP route (a refused delivery is a 4xx and nothing is stored), and the opt-out event read as a request
to suppress the person (the e-mail and the provider id), with an old opt-out file still honoured."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import halosync_lusha.plugin
from halosync.plugin import LeadError, Suppression, WebhookRequest
from halosync_lusha.fake import FakeLusha, opt_out_event, send_webhook, signed_headers
from halosync_lusha.mapping import OPTED_OUT_LABEL, OPTED_OUT_STATUS
from halosync_lusha.optouts import FILE_NAME, email_digest
from halosync_lusha.source import LushaSource
from halosync_lusha.webhook import LushaWebhooks, sign
from tests.http.harness import config_text, running_daemon
from tests.lusha.conftest import LIST, pull_all

SECRET = "lusha-account-webhook-secret"


def request(body: bytes, headers: dict[str, str], received_at: float | None = None) -> WebhookRequest:
    return WebhookRequest("lusha", {k.lower(): v for k, v in headers.items()}, {}, body,
                          time.time() if received_at is None else received_at)


@pytest.fixture
def hooks() -> LushaWebhooks:
    return LushaWebhooks(SECRET, tolerance=300)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    assert sign("k", "1700000000", b"{}") == hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()


def test_a_good_signature_passes_with_the_delivery_id(hooks: LushaWebhooks) -> None:
    body = json.dumps(opt_out_event("lc_1")).encode()
    result = hooks.verify(request(body, signed_headers(SECRET, body, delivery_id="dlv_42")))
    assert result.ok and result.delivery_id == "dlv_42"
    prefixed = signed_headers(SECRET, body)
    prefixed["x-lusha-signature"] = "sha256=" + prefixed["x-lusha-signature"]
    assert hooks.verify(request(body, prefixed)).ok


@pytest.mark.parametrize(("change", "status", "words"), [
    ("tampered", 401, "does not match"),
    ("wrong secret", 401, "does not match"),
    ("stale", 401, "s old"),
    ("future", 401, "s ahead"),
    ("no signature", 400, "no x-lusha-signature"),
    ("no timestamp", 400, "x-lusha-timestamp"),
    ("garbled timestamp", 400, "not a UNIX time"),
])
def test_a_bad_delivery_is_refused_saying_why(hooks: LushaWebhooks, change: str, status: int, words: str) -> None:
    body = json.dumps(opt_out_event("lc_1")).encode()
    now = time.time()
    headers = signed_headers("not-the-secret" if change == "wrong secret" else SECRET, body,
                             timestamp=now - 900 if change == "stale" else now + 900 if change == "future" else now)
    if change == "tampered":
        body = body.replace(b"lc_1", b"lc_2")
    if change == "no signature":
        del headers["x-lusha-signature"]
    if change == "no timestamp":
        del headers["x-lusha-timestamp"]
    if change == "garbled timestamp":
        headers["x-lusha-timestamp"] = "yesterday"
    result = hooks.verify(request(body, headers, now))
    assert (result.ok, result.status) == (False, status)
    assert words in result.reason


def test_an_opt_out_asks_to_suppress_the_provider_id_and_the_email(hooks: LushaWebhooks, tmp_path: Path) -> None:
    body = json.dumps(opt_out_event("lc_7", "Ada@Example.com")).encode()
    content = hooks.parse(request(body, {}))
    reason = "opted out through Lusha (contact opt-out webhook)"
    assert list(content.suppress) == [Suppression("provider_id", "lusha:lc_7", reason),
                                      Suppression("email", "Ada@Example.com", reason)]
    assert content.leads == () and not (tmp_path / FILE_NAME).exists()  # nothing staged, no file of its own
    # an address that is not one is left out; the id alone still suppresses
    bad = hooks.parse(request(json.dumps(opt_out_event("lc_8", "not-an-address")).encode(), {}))
    assert [s.kind for s in bad.suppress] == ["provider_id"]


def test_signal_events_are_acknowledged_and_stage_nothing(hooks: LushaWebhooks) -> None:
    body = json.dumps({"id": "e1", "type": "signal.job_change", "data": {"contactId": "lc_1"}}).encode()
    assert hooks.parse(request(body, {})).leads == ()


@pytest.mark.parametrize(("body", "words"), [
    (b"not json", "not JSON"), (b"{}", "no event type"),
    (json.dumps({"type": "contact.opt_out", "data": {}}).encode(), "halosyncctl suppress add"),
])
def test_an_unusable_delivery_is_a_dead_letter_with_a_reason(hooks: LushaWebhooks, body: bytes, words: str) -> None:
    with pytest.raises(LeadError, match=words):
        hooks.parse(request(body, {}))


async def test_an_opt_out_file_of_an_earlier_version_still_gives_its_members_the_signal(
        fake: FakeLusha, make_source: Callable[..., LushaSource], tmp_path: Path) -> None:
    members = fake.create_list(LIST, 5)
    by_email = fake.contacts[members[3]]["emailAddresses"][0]["email"]
    (tmp_path / FILE_NAME).write_text(json.dumps({"ids": [members[2]], "emails": [email_digest(by_email)]}))
    source = make_source()
    first = await pull_all(source)
    signalled = {lead.source_id: (lead.person.email_status, lead.labels) for lead in first.leads
                 if lead.person.email_status == OPTED_OUT_STATUS}
    assert signalled == {members[2]: (OPTED_OUT_STATUS, (OPTED_OUT_LABEL,)),
                         members[3]: (OPTED_OUT_STATUS, (OPTED_OUT_LABEL,))}
    fake.edit(members[2], jobTitle="Edited after opting out")
    second = await pull_all(source, first.cursor)
    assert [(lead.source_id, lead.person.email_status) for lead in second.leads] == [(members[2], OPTED_OUT_STATUS)]


def lusha_table(secret: str = SECRET) -> str:
    return f"""
[plugins.lusha]
base_url = "http://127.0.0.1:9"
api_key = "lusha-key"
list_ids = ["{LIST}"]
webhook_secret = "{secret}"
"""


async def test_through_the_route_a_bad_signature_is_401_and_nothing_is_stored(tmp_path: Path) -> None:
    text = config_text(tmp_path, extra=lusha_table())
    async with running_daemon(tmp_path, text, plugins=[("lusha", halosync_lusha.plugin)]) as run:
        assert run.http.url is not None
        url = run.http.url + "/webhooks/lusha"
        event = opt_out_event("lc_9")
        tampered = await send_webhook(url, SECRET, event, tamper=True)
        assert tampered.status_code == 401 and "does not match" in tampered.json()["error"]
        stale = await send_webhook(url, SECRET, event, timestamp=time.time() - 3600)
        assert stale.status_code == 401
        wrong = await send_webhook(url, "guessed", event)
        assert wrong.status_code == 401
        assert await run.inbox() == []
        good = await send_webhook(url, SECRET, event)
        assert good.status_code == 202
        [row] = await run.inbox()
        assert row["plugin"] == "lusha"
