"""The listener's access log: one line per HTTP request (``access.log`` in ``daemon.log_dir``).

    203.0.113.7 "POST /webhooks/halopsa" 202 58 B 4.1 ms "HaloPSA-Webhooks/1.0" forwarded=198.51.100.2

Who asked (the peer address, and X-Forwarded-For as the proxy reported it: shown, not trusted), what (method and
path; a query string is shown as ``?...``, since it may carry a token), the answer (status, body bytes) and how long
it took. Request bodies and headers other than User-Agent and X-Forwarded-For are never logged. In JSON
(``log_format = "json"``) each field is its own key. Without ``log_dir`` the lines go to the main log at debug.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from halosync.log import access_logger
from halosync.provider.asgi import ASGIApp, Receive, Scope, Send

MAX_SHOWN = 200  # characters of a path or a header a caller chose


def _clean(value: str) -> str:
    text = "".join(c if c.isprintable() else "?" for c in value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return _clean(value.decode("latin-1"))
    return ""


class AccessLog:
    """ASGI middleware around the listener's app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answer = {"status": 0, "bytes": 0}

        async def counted(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = int(message["status"])
            elif message["type"] == "http.response.body":
                answer["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            self._log(scope, answer["status"], answer["bytes"], time.perf_counter() - started)

    @staticmethod
    def _log(scope: Scope, status: int, size: int, seconds: float) -> None:
        client = scope.get("client")
        peer = client[0] if client else "-"
        path = _clean(scope.get("path") or "/") + ("?..." if scope.get("query_string") else "")
        agent, forwarded = _header(scope, b"user-agent"), _header(scope, b"x-forwarded-for")
        access_logger().bind(client=peer, method=scope["method"], path=path, status=status, bytes=size,
                             ms=round(seconds * 1000, 1), user_agent=agent, forwarded=forwarded or None).info(
            '{} "{} {}" {} {} B {:.1f} ms "{}"{}', peer, scope["method"], path, status or "-", size, seconds * 1000,
            agent or "-", f" forwarded={forwarded}" if forwarded else "")
