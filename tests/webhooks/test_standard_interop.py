"""Interoperability with the reference implementation (the ``standardwebhooks`` package, a test-only dependency).

Both directions over generated secrets (padded or not, prefixed or not, 1 to 80 byte keys), ids, timestamps and
bodies: what the reference signs verifies here, what we sign verifies in the reference, and both refuse the same
wrong signatures, stale timestamps and unusable secrets. The reference reads its clock with ``datetime.now``; a
frozen ``datetime`` in its module puts both verifiers at the same instant, so the tolerance's edges are exact.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import standardwebhooks.webhooks as reference
from hypothesis import given
from hypothesis import strategies as st

from halosync.contracts import WebhookRequest
from halosync.webhooks.standard import (
    TOLERANCE_SECONDS,
    SecretFormatError,
    StandardWebhookVerifier,
    decode_secret,
    fingerprint,
    signature,
    signed_headers,
)

NOW = 1_764_000_000  # the instant both verifiers read as "now"


class _FrozenDatetime(datetime):
    """The reference's ``datetime`` with ``now`` fixed at NOW; everything else is the real class."""

    @classmethod
    def now(cls, tz: object = None) -> _FrozenDatetime:
        return cls.fromtimestamp(NOW, tz=UTC)


@pytest.fixture(autouse=True, scope="module")
def frozen_reference_clock() -> Iterator[None]:
    # Module-scoped: hypothesis refuses function-scoped fixtures around @given, and this one never changes.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reference, "datetime", _FrozenDatetime)
        yield


@st.composite
def secrets(draw: st.DrawFn) -> tuple[str, bytes]:
    """A secret as a sender may print it, and the key it holds."""
    key = draw(st.binary(min_size=1, max_size=80))
    text = base64.b64encode(key).decode()
    if draw(st.booleans()):
        text = text.rstrip("=")
    return draw(st.sampled_from(["whsec_", ""])) + text, key


# Header values as an HTTP server hands them over: printable, no whitespace at the ends.
ids = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=40).filter(
    lambda s: s == s.strip())
bodies = st.text(max_size=300)  # the reference takes the body as text: any UTF-8
timestamps = st.integers(min_value=1, max_value=2**34)
within = st.integers(min_value=-int(TOLERANCE_SECONDS), max_value=int(TOLERANCE_SECONDS))
beyond = st.integers(min_value=int(TOLERANCE_SECONDS) + 1, max_value=10**8).flatmap(
    lambda n: st.sampled_from([n, -n]))


def ours(secret: str, headers: dict[str, str], body: str) -> tuple[bool, str]:
    verifier = StandardWebhookVerifier("webhook", [secret], clock=lambda: NOW)
    result = verifier.verify(WebhookRequest("webhook", headers, {}, body.encode(), 0.0))
    return result.ok, result.reason


def theirs(secret: str, headers: dict[str, str], body: str) -> tuple[bool, str]:
    try:
        reference.Webhook(secret).verify(body.encode(), headers, json_parse=False)
    except reference.WebhookVerificationError as exc:
        return False, str(exc)
    return True, ""


def reference_headers(secret: str, msg_id: str, ts: int, body: str) -> dict[str, str]:
    sig = reference.Webhook(secret).sign(msg_id, datetime.fromtimestamp(ts, tz=UTC), body)
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sig}


@given(secrets(), ids, timestamps, bodies)
def test_both_compute_the_same_signature(secret: tuple[str, bytes], msg_id: str, ts: int, body: str) -> None:
    text, key = secret
    assert decode_secret(text) == key
    ref = reference.Webhook(text).sign(msg_id, datetime.fromtimestamp(ts, tz=UTC), body)
    assert signature(key, msg_id, ts, body.encode()) == ref


@given(secrets(), ids, within, bodies)
def test_what_the_reference_signs_verifies_here(secret: tuple[str, bytes], msg_id: str, skew: int,
                                                body: str) -> None:
    headers = reference_headers(secret[0], msg_id, NOW + skew, body)
    assert ours(secret[0], headers, body) == (True, f"signature 0 matches secret 0 ({fingerprint(secret[1])})")


@given(secrets(), ids, within, bodies)
def test_what_we_sign_verifies_in_the_reference(secret: tuple[str, bytes], msg_id: str, skew: int,
                                                body: str) -> None:
    headers = signed_headers(secret[0], body.encode(), delivery_id=msg_id, timestamp=NOW + skew)
    assert theirs(secret[0], headers, body) == (True, "")


@given(st.lists(secrets(), min_size=2, max_size=4, unique_by=lambda s: s[1]), ids, within, bodies)
def test_several_v1_entries_either_way(keys: list[tuple[str, bytes]], msg_id: str, skew: int, body: str) -> None:
    texts = [text for text, _ in keys]
    # Ours with every key signs one entry per key: the reference, knowing any one key, finds its entry.
    ours_signed = signed_headers(texts, body.encode(), delivery_id=msg_id, timestamp=NOW + skew)
    assert all(theirs(text, ours_signed, body)[0] for text in texts)
    # The reference's entries, joined as a rotating sender sends them: ours, knowing any one key, finds its entry.
    entries = [reference_headers(text, msg_id, NOW + skew, body)["webhook-signature"] for text in texts]
    ref_signed = reference_headers(texts[0], msg_id, NOW + skew, body) | {"webhook-signature": " ".join(entries)}
    for position, text in enumerate(texts):
        ok, reason = ours(text, ref_signed, body)
        assert ok and reason.startswith(f"signature {position} matches")


@given(st.lists(secrets(), min_size=2, max_size=2, unique_by=lambda s: s[1]), ids, within, bodies)
def test_both_refuse_a_signature_made_with_another_key(pair: list[tuple[str, bytes]], msg_id: str, skew: int,
                                                       body: str) -> None:
    (signer, _), (receiver, _) = pair
    by_reference = reference_headers(signer, msg_id, NOW + skew, body)
    by_us = signed_headers(signer, body.encode(), delivery_id=msg_id, timestamp=NOW + skew)
    assert by_reference == by_us  # the same delivery, whoever signed it
    assert ours(receiver, by_us, body)[0] is False
    assert theirs(receiver, by_us, body) == (False, "No matching signature found")


@given(secrets(), ids, within, bodies, bodies)
def test_both_refuse_a_changed_body(secret: tuple[str, bytes], msg_id: str, skew: int, body: str,
                                    other: str) -> None:
    if other == body:
        other = body + " "
    headers = signed_headers(secret[0], body.encode(), delivery_id=msg_id, timestamp=NOW + skew)
    assert ours(secret[0], headers, other)[0] is False
    assert theirs(secret[0], headers, other) == (False, "No matching signature found")


@given(secrets(), ids, beyond, bodies)
def test_both_refuse_a_timestamp_beyond_the_tolerance(secret: tuple[str, bytes], msg_id: str, skew: int,
                                                      body: str) -> None:
    # Correctly signed, but signed too long before (or after) now: a replay, whichever side checks it.
    headers = signed_headers(secret[0], body.encode(), delivery_id=msg_id, timestamp=NOW - skew)
    ok, reason = ours(secret[0], headers, body)
    assert not ok and "beyond the tolerance of 300 s" in reason
    assert theirs(secret[0], headers, body) == (False, "Message timestamp too old" if skew > 0
                                                else "Message timestamp too new")


@pytest.mark.parametrize(("skew", "ok"), [(300, True), (-300, True), (301, False), (-301, False)])
def test_both_put_the_tolerance_edge_at_the_same_second(skew: int, ok: bool) -> None:
    secret, body = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", '{"test": 2432232314}'
    headers = signed_headers(secret, body.encode(), delivery_id="msg_edge", timestamp=NOW - skew)
    assert ours(secret, headers, body)[0] is ok
    assert theirs(secret, headers, body)[0] is ok


@pytest.mark.parametrize("secret", ["whsec_", "whsec_==", "", "whsec_YWJjZ"])
def test_both_refuse_secrets_that_hold_no_usable_key(secret: str) -> None:
    with pytest.raises(SecretFormatError):
        decode_secret(secret)
    with pytest.raises((reference.EmptyWebhookSecretError, ValueError)):
        reference.Webhook(secret)
