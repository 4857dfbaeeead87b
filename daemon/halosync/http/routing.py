"""The listener's small request/answer vocabulary: handlers return an ``Answer`` or raise ``HTTPError``; the app
turns both into a response. ``read_body`` enforces http.max_body_bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from halosync.provider.asgi import Receive, Scope

# Past the cap the rest of the body is still read and thrown away, up to this many times the cap, so that the
# sender reads our 413 instead of a connection reset in the middle of its upload.
DRAIN_FACTOR = 8


@dataclass
class Answer:
    status: int
    body: Any = b""  # bytes, str, or anything JSON-encodable
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None


class HTTPError(Exception):
    """An answer that is a refusal: ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def headers_of(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def query_of(scope: Scope) -> dict[str, str]:
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))


async def read_body(scope: Scope, receive: Receive, max_body: int) -> tuple[bytes, dict[str, str], dict[str, str]]:
    """The whole body with the request's headers and query; HTTPError(413) past ``max_body`` bytes."""
    headers = headers_of(scope)
    chunks: list[bytes] = []
    size = 0
    declared = headers.get("content-length", "")
    too_large = declared.isdigit() and int(declared) > max_body
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise HTTPError(400, "the client went away before sending the whole body")
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        too_large = too_large or size > max_body
        if not too_large:
            chunks.append(chunk)
        if not message.get("more_body") or size > DRAIN_FACTOR * max_body:
            break
    if too_large:
        raise HTTPError(413, f"the body is larger than http.max_body_bytes ({max_body} bytes)")
    return b"".join(chunks), headers, query_of(scope)
