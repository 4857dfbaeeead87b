"""Standard Webhooks signatures: the reference vector, tolerance, rotation and malformed input."""

from __future__ import annotations

import pytest

from halosync.contracts import WebhookRequest
from halosync.webhooks.standard import (
    SecretFormatError,
    StandardWebhookVerifier,
    decode_secret,
    new_secret,
    signature,
    signed_headers,
)

# The example published with the Standard Webhooks / Svix reference libraries.
REF_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
REF_ID, REF_TS, REF_BODY = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
REF_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def request(headers: dict[str, str], body: bytes = REF_BODY) -> WebhookRequest:
    return WebhookRequest("webhook", headers, {}, body, 0.0)


def verifier(*secrets: str, now: float = REF_TS) -> StandardWebhookVerifier:
    return StandardWebhookVerifier("webhook", list(secrets or [REF_SECRET]), clock=lambda: now)


def ref_headers(sig: str = REF_SIGNATURE, ts: int = REF_TS) -> dict[str, str]:
    return {"webhook-id": REF_ID, "webhook-timestamp": str(ts), "webhook-signature": sig}


def test_reference_vector() -> None:
    assert signature(decode_secret(REF_SECRET), REF_ID, REF_TS, REF_BODY) == REF_SIGNATURE
    result = verifier().verify(request(ref_headers()))
    assert result.ok and result.delivery_id == REF_ID


def test_svix_header_names_are_the_same_scheme() -> None:
    headers = {k.replace("webhook-", "svix-"): v for k, v in ref_headers().items()}
    assert verifier().verify(request(headers)).ok


@pytest.mark.parametrize(("skew", "ok"), [(-299, True), (299, True), (-301, False), (301, False), (-3600, False)])
def test_timestamp_tolerance(skew: int, ok: bool) -> None:
    v = verifier(now=REF_TS - skew)  # the clock moved, the signature did not: a replay when too far apart
    result = v.verify(request(ref_headers()))
    assert result.ok is ok
    if not ok:
        assert result.status == 401 and "tolerance" in result.reason


def test_changed_body_or_wrong_secret_is_401() -> None:
    assert verifier().verify(request(ref_headers(), body=b'{"test": 1}')).status == 401
    other = verifier(new_secret()).verify(request(ref_headers()))
    assert not other.ok and other.status == 401 and "none of 1 signature(s)" in other.reason


def test_rotation_several_secrets_and_several_signatures() -> None:
    old, new = REF_SECRET, new_secret()
    # The receiver knows both keys while the sender moves over: either signature alone is enough.
    assert verifier(new, old).verify(request(ref_headers())).ok
    both = signed_headers([new, old], REF_BODY, delivery_id=REF_ID, timestamp=REF_TS)
    assert len(both["webhook-signature"].split()) == 2
    assert verifier(new).verify(request(both)).ok
    assert verifier(old).verify(request(both)).ok
    assert not verifier(new_secret()).verify(request(both)).ok


@pytest.mark.parametrize(("headers", "words"), [
    ({"webhook-timestamp": str(REF_TS), "webhook-signature": REF_SIGNATURE}, "webhook-id"),
    ({"webhook-id": REF_ID, "webhook-signature": REF_SIGNATURE}, "webhook-timestamp"),
    ({"webhook-id": REF_ID, "webhook-timestamp": str(REF_TS)}, "webhook-signature"),
    (ref_headers(ts=0) | {"webhook-timestamp": "yesterday"}, "not whole UNIX seconds"),
    (ref_headers(sig="v1a,abc"), "no v1,<base64> entry"),
])
def test_malformed_is_400(headers: dict[str, str], words: str) -> None:
    result = verifier().verify(request(headers))
    assert not result.ok and result.status == 400 and words in result.reason


def test_signature_that_is_not_base64_does_not_match() -> None:
    result = verifier().verify(request(ref_headers(sig="v1,@@@ " + REF_SIGNATURE)))
    assert result.ok  # the second entry matches; the unreadable first one is skipped


@pytest.mark.parametrize(("secret", "words"), [
    ("whsec_not base64!", "is not whsec_ followed by base64"),
    ("whsec_bm90-dXJs_c2FmZQ", "is not whsec_ followed by base64"),  # URL-safe base64 is another alphabet
    ("whsec_c2hvcnQ=c2hvcnQ=", "is not whsec_ followed by base64"),  # padding inside: two secrets pasted together
    ("whsec_YWJjZ", "not a whole number of bytes"),
    ("whsec_", "holds no key"),
    ("whsec_==", "holds no key"),
])
def test_bad_secrets_are_refused_without_echoing_them(secret: str, words: str) -> None:
    with pytest.raises(SecretFormatError) as info:
        decode_secret(secret)
    assert words in str(info.value)
    if secret.removeprefix("whsec_").strip("="):
        assert secret.removeprefix("whsec_") not in str(info.value)


@pytest.mark.parametrize(("secret", "key"), [
    ("whsec_c2hvcnQ=", b"short"),  # 5 bytes: short, but the sender's library signs with it
    ("whsec_c2hvcnQ", b"short"),  # unpadded, as some senders print it
    ("c2hvcnQ", b"short"),  # the prefix is optional
    ("whsec_YQ", b"a"),
    ("whsec_YQ=====", b"a"),  # too much padding is tolerated, as by the reference
    ("  whsec_YWI=\n", b"ab"),  # pasted with surrounding whitespace
])
def test_secrets_the_reference_accepts_are_accepted(secret: str, key: bytes) -> None:
    assert decode_secret(secret) == key


def test_explain_never_reveals_the_expected_signature() -> None:
    tampered = request(ref_headers(), body=b'{"test": 1}')
    expected_for_tampered = signature(decode_secret(REF_SECRET), REF_ID, REF_TS, b'{"test": 1}')
    explanation = verifier().explain(tampered)
    assert explanation["ok"] is False and explanation["status"] == 401
    assert explanation["signatures"] == [{"index": 0, "version": "v1", "valid_base64": True, "matches": False,
                                          "secret": None}]
    assert explanation["secrets"][0]["fingerprint"].startswith("sha256:")
    assert expected_for_tampered.removeprefix("v1,") not in repr(explanation)
    assert explanation["signed_content"]["bytes"] == len(f"{REF_ID}.{REF_TS}.".encode()) + len(b'{"test": 1}')
