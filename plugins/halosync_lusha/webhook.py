"""Lusha's signed webhooks at ``POST /webhooks/lusha``: verification, and what a delivery means for halosync.

Signature (providers/lusha.md): ``X-Lusha-Signature`` = hex HMAC-SHA256 over ``X-Lusha-Timestamp + "." + body``
with the account's one webhook secret. ASSUMED where the docs are silent: the timestamp is UNIX seconds
(milliseconds are accepted too), the signature may be prefixed ``sha256=``, the delivery id is in
``X-Lusha-Delivery-Id`` (or the body's ``id``), and the body is ``{"id", "type", "data": {...}}``.

- A missing header or an unreadable timestamp is 400; a signature that does not match, or a timestamp further
  than ``webhook_tolerance`` from now (a replay), is 401. Nothing is stored either way.
- ``contact.opt_out`` (the free opt-out webhook): the person goes on halosync's suppression list (issue 16) as
  the provider id ``lusha:ID`` and, when the event carries one, the e-mail address (``WebhookContent.suppress``).
  The core adds them when it marks the delivery processed and cancels the writes already queued for the person;
  every later poll that brings them back is suppressed (rule ``suppressed``) and reaches no sink.
- Signal events (job change, promotion, company events) carry no list membership; they are accepted and
  acknowledged, and their contact is picked up by the next poll of the lists it is on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from loguru import logger

from halosync.plugin import LeadError, Suppression, Verification, WebhookContent, WebhookRequest, email_key
from halosync_lusha.mapping import SOURCE

SIGNATURE = "x-lusha-signature"
TIMESTAMP = "x-lusha-timestamp"
DELIVERY = "x-lusha-delivery-id"
OPT_OUT_EVENTS = frozenset({"contact.opt_out", "contact.optout", "contact_opt_out", "opt_out"})
OPT_OUT_REASON = "opted out through Lusha (contact opt-out webhook)"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The hex signature Lusha sends for ``body`` at ``timestamp``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _seconds(raw: str) -> float | None:
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value / 1000.0 if value > 1e11 else value  # milliseconds


class LushaWebhooks:
    """Both halves of the webhook contract for ``plugin = "lusha"``: ``verify`` at the door, ``parse`` later."""

    plugin = "lusha"

    def __init__(self, secret: str, *, tolerance: float = 300.0) -> None:
        self._secret = secret
        self.tolerance = tolerance

    def verify(self, request: WebhookRequest) -> Verification:
        signature = request.headers.get(SIGNATURE, "").strip()
        stamp = request.headers.get(TIMESTAMP, "").strip()
        if not signature or not stamp:
            missing = " and ".join(n for n, v in ((SIGNATURE, signature), (TIMESTAMP, stamp)) if not v)
            return Verification(False, f"the delivery has no {missing} header; it is not from Lusha", status=400)
        sent = _seconds(stamp)
        if sent is None:
            return Verification(False, f"{TIMESTAMP} {stamp[:40]!r} is not a UNIX time", status=400)
        if signature.lower().startswith("sha256="):
            signature = signature[len("sha256="):]
        expected = sign(self._secret, stamp, request.body)
        if not hmac.compare_digest(expected, signature.lower()):
            return Verification(False, "X-Lusha-Signature does not match the body: check plugins.lusha."
                                "webhook_secret against the secret in Lusha's webhook settings", status=401)
        skew = request.received_at - sent
        if abs(skew) > self.tolerance:
            return Verification(False, f"{TIMESTAMP} is {abs(skew):.0f} s {'old' if skew > 0 else 'ahead'} (more "
                                f"than plugins.lusha.webhook_tolerance, {self.tolerance:g} s): a replay, or a "
                                "clock that is wrong", status=401)
        return Verification(True, "X-Lusha-Signature matches", delivery_id=_delivery_id(request))

    def parse(self, request: WebhookRequest) -> WebhookContent:
        try:
            body: Any = json.loads(request.body)
        except ValueError as exc:
            raise LeadError(f"the Lusha delivery is not JSON ({exc}); nothing was staged") from None
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            raise LeadError("the Lusha delivery has no event type; nothing was staged")
        kind = body["type"].strip().lower()
        data: dict[str, Any] = body["data"] if isinstance(body.get("data"), dict) else {}
        if kind not in OPT_OUT_EVENTS:
            logger.debug("lusha: webhook event {} acknowledged; its contact is read at the next poll", kind)
            return WebhookContent()
        contact: dict[str, Any] = data["contact"] if isinstance(data.get("contact"), dict) else data
        ident = contact.get("contactId", contact.get("id"))
        ident = str(ident).strip() if isinstance(ident, str | int) and str(ident).strip() else None
        raw_email = contact.get("email")
        # An address halosync cannot read is left out rather than failing the delivery: the id still suppresses.
        email = raw_email.strip() if isinstance(raw_email, str) and email_key(raw_email) else None
        if ident is None and email is None:
            raise LeadError("a Lusha opt-out without a contact id or a valid e-mail cannot be applied; find the "
                            "person and add them with `halosyncctl suppress add`")
        suppress = [Suppression("provider_id", f"{SOURCE}:{ident}", OPT_OUT_REASON)] if ident is not None else []
        if email is not None:
            suppress.append(Suppression("email", email, OPT_OUT_REASON))
        logger.info("lusha: contact {} opted out; it goes on the suppression list", ident or "(by e-mail)")
        return WebhookContent(suppress=suppress)


def _delivery_id(request: WebhookRequest) -> str | None:
    header = request.headers.get(DELIVERY)
    if header:
        return header.strip()
    try:
        body = json.loads(request.body)
    except ValueError:
        return None
    value = body.get("id") if isinstance(body, dict) else None
    return str(value) if isinstance(value, str | int) else None
