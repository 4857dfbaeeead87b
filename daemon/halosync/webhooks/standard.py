"""Standard Webhooks (https://www.standardwebhooks.com): HMAC-SHA256 signatures with a timestamp tolerance.

A delivery carries three headers::

    webhook-id         the delivery's unique id (a retry keeps it: that is how duplicates are recognised)
    webhook-timestamp  UNIX seconds when it was signed
    webhook-signature  space-separated "v1,<base64 HMAC-SHA256 of '{id}.{timestamp}.{body}'>" entries

The secret is ``whsec_<base64 key>``. Several signatures in the header and several configured secrets are accepted,
so a sender and a receiver can rotate keys one after the other without losing a delivery. Signatures are compared
in constant time; a timestamp more than ``tolerance`` seconds away from now is a replay and is refused.
(``svix-*`` header names, the same scheme under its original name, are accepted too.)

``StandardWebhookVerifier`` is a ``WebhookVerifier`` any plugin can use; ``signed_headers`` signs a delivery (for
senders, tests and the documentation). ``explain`` answers ``POST /webhooks/test``: what was signed, which secrets
were tried (by fingerprint) and why it matched or not. It never reveals the expected signature: that would let
anyone who can reach the listener forge deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from halosync.contracts import Verification, WebhookRequest

TOLERANCE_SECONDS = 300.0
SECRET_PREFIX = "whsec_"
_HEADER_PREFIXES = ("webhook-", "svix-")
# The standard alphabet with any run of padding at the end (the reference tolerates too much or too little).
_BASE64 = re.compile(r"[A-Za-z0-9+/]*=*")


class SecretFormatError(ValueError):
    """A configured secret is not ``whsec_<base64>``; the message never contains the secret."""


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret, read as the reference implementation reads it.

    The prefix is optional and the padding may be missing or off (the reference appends ``==`` before decoding),
    and a key of any non-empty length is taken: the sender chooses the key, and refusing one the sender's library
    accepts would only drop its deliveries. Unlike the reference, a character outside the base64 alphabet is an
    error rather than silently skipped, so a mistyped secret is reported instead of yielding some other key.
    """
    text = secret.strip().removeprefix(SECRET_PREFIX)
    if not _BASE64.fullmatch(text):
        raise SecretFormatError(
            "is not whsec_ followed by base64; copy the secret exactly as the sender shows it")
    data = text.rstrip("=")
    if len(data) % 4 == 1:  # one character too many or too few: no padding makes that whole bytes
        raise SecretFormatError(
            f"has {len(data)} base64 characters, which is not a whole number of bytes; the secret was cut or "
            "extended when copied: copy it again exactly as the sender shows it")
    key = base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
    if not key:
        raise SecretFormatError("holds no key after whsec_; copy the whole secret as the sender shows it")
    return key


def fingerprint(key: bytes) -> str:
    """A short, non-reversible name for a key, so an operator can tell which secret is which."""
    return "sha256:" + hashlib.sha256(key).hexdigest()[:8]


def new_secret() -> str:
    """A fresh random secret in the ``whsec_`` format."""
    return SECRET_PREFIX + base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes[:8]).decode()


def signature(key: bytes, delivery_id: str, timestamp: int | str, body: bytes) -> str:
    """``v1,<base64>`` for one delivery."""
    digest = hmac.new(key, f"{delivery_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str | Sequence[str], body: bytes, *, delivery_id: str | None = None,
                   timestamp: int | None = None) -> dict[str, str]:
    """The three headers of a signed delivery; several secrets give several signatures (key rotation)."""
    secrets = [secret] if isinstance(secret, str) else list(secret)
    msg_id = delivery_id or f"msg_{uuid.uuid4().hex}"
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": " ".join(signature(decode_secret(s), msg_id, ts, body) for s in secrets),
    }


@dataclass
class SignatureCheck:
    """The whole reasoning of one check; ``verify`` keeps ``ok``/``reason``/``status``, ``explain`` shows it all."""

    ok: bool = False
    reason: str = ""
    status: int = 401
    delivery_id: str | None = None
    timestamp: int | None = None
    age_seconds: float | None = None
    signed_bytes: int = 0
    signed_sha256: str = ""
    signatures: list[dict[str, Any]] = field(default_factory=list)


class StandardWebhookVerifier:
    """A ``WebhookVerifier`` for Standard Webhooks deliveries to ``POST /webhooks/{plugin}``."""

    def __init__(self, plugin: str, secrets: Sequence[str], *, tolerance: float = TOLERANCE_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self.plugin = plugin
        self.keys = [decode_secret(s) for s in secrets]
        self.tolerance = tolerance
        self.clock = clock

    def verify(self, request: WebhookRequest) -> Verification:
        result = self.check(request.headers, request.body)
        return Verification(result.ok, result.reason, result.delivery_id, result.status)

    def explain(self, request: WebhookRequest) -> dict[str, Any]:
        result = self.check(request.headers, request.body)
        return {
            "plugin": self.plugin,
            "ok": result.ok,
            "status": 202 if result.ok else result.status,
            "reason": result.reason,
            "delivery_id": result.delivery_id,
            "timestamp": {"value": result.timestamp, "age_seconds": result.age_seconds,
                          "tolerance_seconds": self.tolerance},
            "signed_content": {"format": "{webhook-id}.{webhook-timestamp}.{body}", "bytes": result.signed_bytes,
                               "sha256": result.signed_sha256},
            "signatures": result.signatures,
            "secrets": [{"index": i, "fingerprint": fingerprint(k)} for i, k in enumerate(self.keys)],
        }

    def check(self, headers: Mapping[str, str], body: bytes) -> SignatureCheck:
        out = SignatureCheck()
        msg_id, raw_ts, raw_sigs = (_header(headers, name) for name in ("id", "timestamp", "signature"))
        missing = [n for n, v in (("id", msg_id), ("timestamp", raw_ts), ("signature", raw_sigs)) if not v]
        if missing:
            out.status = 400
            out.reason = "missing header(s) " + ", ".join(f"webhook-{n}" for n in missing)
            return out
        assert msg_id is not None and raw_ts is not None and raw_sigs is not None
        out.delivery_id = msg_id
        try:
            out.timestamp = int(raw_ts)
        except ValueError:
            out.status, out.reason = 400, f"webhook-timestamp {raw_ts[:32]!r} is not whole UNIX seconds"
            return out
        signed = f"{msg_id}.{out.timestamp}.".encode() + body
        out.signed_bytes, out.signed_sha256 = len(signed), hashlib.sha256(signed).hexdigest()
        out.age_seconds = round(self.clock() - out.timestamp, 3)
        if not self.keys:
            out.reason = "no secret is configured for this plugin; set its secrets"
            return out
        expected = [hmac.new(k, signed, hashlib.sha256).digest() for k in self.keys]
        matched = self._compare(raw_sigs, expected, out)
        if abs(out.age_seconds) > self.tolerance:
            when = "old" if out.age_seconds > 0 else "in the future"
            out.reason = (f"timestamp is {abs(out.age_seconds):.0f} s {when}, beyond the tolerance of "
                          f"{self.tolerance:.0f} s: a replay, or the sender's clock is wrong")
        elif not out.signatures:
            out.status, out.reason = 400, "webhook-signature has no v1,<base64> entry"
        elif matched is None:
            out.reason = (f"none of {len(out.signatures)} signature(s) matches any of {len(self.keys)} secret(s): "
                          "the secret differs from the sender's, or the body was changed on the way")
        else:
            out.ok, out.status = True, 202
            out.reason = f"signature {matched[0]} matches secret {matched[1]} ({fingerprint(self.keys[matched[1]])})"
        return out

    @staticmethod
    def _compare(raw: str, expected: list[bytes], out: SignatureCheck) -> tuple[int, int] | None:
        matched: tuple[int, int] | None = None
        for index, entry in enumerate(raw.split()):
            version, _, value = entry.partition(",")
            if version != "v1":
                continue  # other schemes (v1a: asymmetric) are not ours to check
            try:
                given = base64.b64decode(value, validate=True)
            except ValueError:
                out.signatures.append({"index": index, "version": version, "valid_base64": False, "matches": None})
                continue
            # Every secret is compared, matched or not, so the time taken says nothing about which one matched.
            hits = [hmac.compare_digest(given, e) for e in expected]
            secret = next((i for i, hit in enumerate(hits) if hit), None)
            out.signatures.append({"index": index, "version": version, "valid_base64": True,
                                   "matches": secret is not None, "secret": secret})
            if secret is not None and matched is None:
                matched = (index, secret)
        return matched


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for prefix in _HEADER_PREFIXES:
        value = headers.get(prefix + name)
        if value:
            return value.strip()
    return None
