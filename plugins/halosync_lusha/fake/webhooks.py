"""The fake's webhook sender: events signed as Lusha signs them, posted to a receiver over a real socket.

``X-Lusha-Signature`` = hex HMAC-SHA256 over ``X-Lusha-Timestamp + "." + body`` with the account secret; the
timestamp is UNIX seconds and the delivery id travels in ``X-Lusha-Delivery-Id`` (both ASSUMED). The event body
``{"id", "type", "createdAt", "data"}`` and the type ``contact.opt_out`` are ASSUMED too.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx

from halosync_lusha.webhook import sign


def opt_out_event(contact_id: str, email: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"contactId": contact_id}
    if email:
        data["email"] = email
    return {"id": f"evt_{uuid.uuid4().hex[:16]}", "type": "contact.opt_out", "createdAt": time.time(),
            "data": data}


def signed_headers(secret: str, body: bytes, *, timestamp: float | None = None,
                   delivery_id: str | None = None) -> dict[str, str]:
    stamp = str(int(time.time() if timestamp is None else timestamp))
    return {"content-type": "application/json", "x-lusha-timestamp": stamp,
            "x-lusha-signature": sign(secret, stamp, body),
            "x-lusha-delivery-id": delivery_id or f"dlv_{uuid.uuid4().hex[:16]}"}


async def send_webhook(url: str, secret: str, event: dict[str, Any], *, timestamp: float | None = None,
                       tamper: bool = False) -> httpx.Response:
    """POST ``event`` to ``url`` signed with ``secret`` (``tamper``: change the body after signing)."""
    body = json.dumps(event).encode()
    headers = signed_headers(secret, body, timestamp=timestamp, delivery_id=str(event.get("id") or "") or None)
    if tamper:
        body = body.replace(b"}", b' , "x": 1}', 1) if b"}" in body else body + b" "
    async with httpx.AsyncClient(timeout=10.0) as client:
        return await client.post(url, content=body, headers=headers)
